/**
 * The registration report as a picture a person reads at a glance (SVG text): every tile at its
 * registered position, every candidate pair a line between tile centres: kept links coloured by
 * their residual (a fixed scale, legend below), rejected links dashed with the reason, modelled
 * tiles hatched with their uncertainty. Each link and tile carries data-* attributes and a
 * <title> (the tooltip), so the picture can be checked against the pair table. Pure.
 */
import { escapeXml } from '../core/xml';
import type { RegisterReport } from './run';

/** Residual bins (px) and their colours, lowest first: green (≪ 1 px) to red (disagrees). */
export const RESIDUAL_SCALE: ReadonlyArray<{ below: number; colour: string; label: string }> = [
  { below: 0.1, colour: '#1a9850', label: '< 0.1 px' },
  { below: 0.25, colour: '#91cf60', label: '0.1–0.25' },
  { below: 0.5, colour: '#fee08b', label: '0.25–0.5' },
  { below: 1, colour: '#fc8d59', label: '0.5–1' },
  { below: Infinity, colour: '#d73027', label: '≥ 1 px' },
];

/** How rejected links are drawn, by reason. */
export const REJECTED_STYLE: Record<'low-ncc' | 'no-candidate' | 'outlier', { colour: string; dash: string; label: string }> = {
  'low-ncc': { colour: '#9e9e9e', dash: '6 4', label: 'rejected: NCC below the threshold' },
  'no-candidate': { colour: '#9e9e9e', dash: '2 3', label: 'rejected: no candidate within --max-shift' },
  outlier: { colour: '#7b1fa2', dash: '6 4', label: 'rejected: outlier in the global solve' },
};

export function residualColour(residual: number): string {
  return RESIDUAL_SCALE.find((b) => residual < b.below)!.colour;
}

const f = (v: number) => Number(v.toFixed(1)).toString();

export function registrationPicture(r: RegisterReport, options: { width?: number } = {}): string {
  const drawWidth = options.width ?? 1000, margin = 20;
  const [canvasH, canvasW] = r.canvas;
  const scale = drawWidth / Math.max(canvasW, 1);
  const drawHeight = canvasH * scale;
  const [tileH, tileW] = r.tileSize;
  const legendTop = margin + 40 + drawHeight + 20;
  const height = legendTop + 150;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${drawWidth + 2 * margin}" height="${f(height)}" viewBox="0 0 ${drawWidth + 2 * margin} ${f(height)}" font-family="sans-serif" font-size="12">`);
  out.push('<defs><pattern id="modelled" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">' +
    '<rect width="6" height="6" fill="#fff3e0"/><line x1="0" y1="0" x2="0" y2="6" stroke="#ef6c00" stroke-width="2"/></pattern></defs>');
  out.push('<rect width="100%" height="100%" fill="white"/>');
  const s = r.status, p = r.pairs;
  out.push(`<text x="${margin}" y="${margin + 4}" font-size="14" font-weight="bold">${escapeXml(`register ${r.input.split('/').pop()}: ${r.tiles} tiles, ${s.registered} registered, ${s['registered-group']} in separate groups, ${s.modelled} modelled`)}</text>`);
  out.push(`<text x="${margin}" y="${margin + 22}">${escapeXml(`${p.kept}/${p.total} pairs kept (${p.lowNcc} below NCC ${r.nccThreshold.value.toFixed(3)}, ${p.noCandidate} without a candidate, ${p.outlier} outliers); modelled tiles ±${r.model.predictionRms.toFixed(2)} px`)}</text>`);
  const top = margin + 40;
  const X = (x: number) => f(margin + x * scale), Y = (y: number) => f(top + y * scale);
  const tiles = r.tileTable;
  out.push('<g id="tiles">');
  for (const t of tiles) {
    const fill = t.status === 'modelled' ? 'url(#modelled)' : t.status === 'registered-group' ? '#e3f2fd' : '#f5f5f5';
    const stroke = t.status === 'modelled' ? '#ef6c00' : t.status === 'registered-group' ? '#1565c0' : '#bdbdbd';
    const tip = `tile ${t.index}: ${t.status}${t.reason ? `: ${t.reason}` : ''}${t.uncertainty !== undefined ? ` (±${t.uncertainty.toFixed(2)} px)` : ''}`;
    out.push(`<rect class="tile" data-index="${t.index}" data-status="${t.status}" x="${X(t.x)}" y="${Y(t.y)}" width="${f(tileW * scale)}" height="${f(tileH * scale)}" fill="${fill}" fill-opacity="0.8" stroke="${stroke}" stroke-width="0.8"><title>${escapeXml(tip)}</title></rect>`);
  }
  out.push('</g><g id="links" stroke-linecap="round">');
  const centre = (i: number) => [tiles[i].y + tileH / 2, tiles[i].x + tileW / 2];
  const width = Math.max(1, Math.min(3, 0.08 * Math.min(tileH, tileW) * scale));
  for (const l of r.pairTable) {
    const [ya, xa] = centre(l.a), [yb, xb] = centre(l.b);
    const style = l.status === 'kept' ? `stroke="${residualColour(l.residual)}" stroke-width="${f(width)}"`
      : `stroke="${REJECTED_STYLE[l.status].colour}" stroke-width="${f(Math.max(1, width / 2))}" stroke-dasharray="${REJECTED_STYLE[l.status].dash}"`;
    const tip = `${l.a}-${l.b}: ${l.status}, NCC ${l.ncc.toFixed(3)}, residual ${l.residual.toFixed(3)} px, shift (${l.dy.toFixed(2)}, ${l.dx.toFixed(2)})`;
    out.push(`<line class="link" data-a="${l.a}" data-b="${l.b}" data-status="${l.status}" data-residual="${l.residual}" x1="${X(xa)}" y1="${Y(ya)}" x2="${X(xb)}" y2="${Y(yb)}" ${style}><title>${escapeXml(tip)}</title></line>`);
  }
  out.push('</g>');
  // Labels only where they fit: modelled tiles always (they are what a reader looks for).
  const labelled = tiles.filter((t) => t.status !== 'registered' || tileW * scale >= 40);
  out.push('<g id="labels" text-anchor="middle" font-size="10">');
  for (const t of labelled) {
    const text = t.status === 'registered' ? `${t.index}` : `${t.index} ${t.status === 'modelled' ? 'modelled' : 'group'}${t.uncertainty === undefined ? '' : ` ±${t.uncertainty.toFixed(1)}`}`;
    out.push(`<text x="${X(t.x + tileW / 2)}" y="${Y(t.y + tileH / 2)}" dy="-3">${escapeXml(text)}</text>`);
  }
  out.push('</g><g id="legend">');
  out.push(`<text x="${margin}" y="${f(legendTop)}" font-weight="bold">kept link: residual (distance between the pair's measured shift and the solved positions)</text>`);
  RESIDUAL_SCALE.forEach((b, k) => {
    const x = margin + k * 110;
    out.push(`<rect class="legend-residual" data-colour="${b.colour}" x="${x}" y="${f(legendTop + 8)}" width="30" height="12" fill="${b.colour}"/><text x="${x + 36}" y="${f(legendTop + 18)}">${escapeXml(b.label)}</text>`);
  });
  Object.values(REJECTED_STYLE).forEach((st, k) => {
    const y = legendTop + 42 + k * 18;
    out.push(`<line x1="${margin}" y1="${f(y - 4)}" x2="${margin + 40}" y2="${f(y - 4)}" stroke="${st.colour}" stroke-width="2" stroke-dasharray="${st.dash}"/><text x="${margin + 48}" y="${f(y)}">${escapeXml(st.label)}</text>`);
  });
  const y = legendTop + 42 + 3 * 18;
  out.push(`<rect x="${margin}" y="${f(y - 11)}" width="40" height="14" fill="url(#modelled)" stroke="#ef6c00"/><text x="${margin + 48}" y="${f(y)}">${escapeXml('modelled tile (no kept link): placed by the stage model, ± its uncertainty')}</text>`);
  out.push(`<rect x="${margin}" y="${f(y + 7)}" width="40" height="14" fill="#e3f2fd" stroke="#1565c0"/><text x="${margin + 48}" y="${f(y + 18)}">${escapeXml('tiles linked only among themselves (a separate group), placed as a whole by the model')}</text>`);
  out.push('</g></svg>');
  return `${out.join('\n')}\n`;
}
