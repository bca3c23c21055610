/**
 * verify's tile map (docs/verify.md), pure: each tile a rectangle at its placed position, scaled so
 * the canvas's longer side is about 1600 px, filled by its verdict, with a legend below. As SVG
 * text, or as RGB pixels for a PNG (io/sinks/tile-map.ts writes either).
 */
import { escapeXml } from './xml';

export type MapStatus = 'ok' | 'missing' | 'wrong';
export interface MapTile { index: number; y: number; x: number; height: number; width: number; status: MapStatus }

/** The canvas's longer side on the map, px. */
export const MAP_SIDE = 1600;
export const MAP_COLOURS: Readonly<Record<MapStatus, readonly [number, number, number]>> = {
  ok: [49, 163, 84], // green
  missing: [37, 37, 37], // near black: a hole
  wrong: [222, 45, 38], // red
};
const STATUSES: readonly MapStatus[] = ['ok', 'missing', 'wrong'];
const LEGEND_HEIGHT = 32;
const LEGEND_MIN_WIDTH = 640;
const LEGEND_SPACING = 210;

export interface MapLayout {
  /** Map pixels per canvas pixel. */
  scale: number;
  /** The whole image (map and legend). */
  width: number;
  height: number;
  /** The map's part: rows [0, mapHeight). */
  mapHeight: number;
  /** Each tile's rectangle on the map, [x0, y0, x1, y1) in map pixels (at least 1 px each way). */
  rects: Array<[number, number, number, number]>;
}

export function mapLayout(tiles: readonly MapTile[], canvas: readonly [number, number], side = MAP_SIDE): MapLayout {
  const [height, width] = canvas;
  const scale = side / Math.max(1, height, width);
  const mapWidth = Math.max(1, Math.round(width * scale)), mapHeight = Math.max(1, Math.round(height * scale));
  const rects = tiles.map((t): [number, number, number, number] => {
    const x0 = Math.round(t.x * scale), y0 = Math.round(t.y * scale);
    return [x0, y0, Math.max(x0 + 1, Math.round((t.x + t.width) * scale)), Math.max(y0 + 1, Math.round((t.y + t.height) * scale))];
  });
  return { scale, width: Math.max(mapWidth, LEGEND_MIN_WIDTH), height: mapHeight + LEGEND_HEIGHT, mapHeight, rects };
}

/** Drawing order: ok first, failures last, so a failed tile is never hidden under an ok neighbour's overlap. */
function drawOrder(tiles: readonly MapTile[]): number[] {
  return tiles.map((_, i) => i).sort((a, b) => STATUSES.indexOf(tiles[a].status) - STATUSES.indexOf(tiles[b].status) || a - b);
}

function counts(tiles: readonly MapTile[]): Record<MapStatus, number> {
  const c = { ok: 0, missing: 0, wrong: 0 };
  for (const t of tiles) c[t.status]++;
  return c;
}

const hex = (rgb: readonly number[]) => `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
const darker = (rgb: readonly number[]) => rgb.map((v) => Math.round(v * 0.6));

/** The map as an SVG document; each tile's rect carries data-tile and data-status. */
export function tileMapSvg(tiles: readonly MapTile[], canvas: readonly [number, number], title: string): string {
  const layout = mapLayout(tiles, canvas);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${layout.width}" height="${layout.height}" fill="#ffffff"/>`,
    `<g id="tiles" font-family="sans-serif" text-anchor="middle" dominant-baseline="central">`,
  ];
  for (const i of drawOrder(tiles)) {
    const t = tiles[i];
    const [x0, y0, x1, y1] = layout.rects[i];
    const fill = MAP_COLOURS[t.status];
    lines.push(`<rect data-tile="${t.index}" data-status="${t.status}" x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" ` +
      `fill="${hex(fill)}" fill-opacity="0.85" stroke="${hex(darker(fill))}" stroke-width="1"><title>tile ${t.index}: ${t.status}</title></rect>`);
    const size = Math.min(x1 - x0, y1 - y0);
    if (size >= 16) {
      lines.push(`<text x="${(x0 + x1) / 2}" y="${(y0 + y1) / 2}" font-size="${Math.min(24, Math.floor(size / 3))}" fill="#ffffff">${t.index}</text>`);
    }
  }
  lines.push('</g>', `<g id="legend" font-family="sans-serif" font-size="14" dominant-baseline="central">`);
  const c = counts(tiles);
  const y = layout.mapHeight + LEGEND_HEIGHT / 2;
  STATUSES.forEach((s, k) => {
    const x = 8 + k * LEGEND_SPACING;
    lines.push(`<rect data-legend="${s}" x="${x}" y="${y - 7}" width="14" height="14" fill="${hex(MAP_COLOURS[s])}"/>`,
      `<text x="${x + 20}" y="${y}" fill="#000000">${s} (${c[s]})</text>`);
  });
  lines.push('</g>', '</svg>', '');
  return lines.join('\n');
}

/**
 * 5 x 7 glyphs for the PNG legend's words and counts: the PNG has no font to draw text with, and
 * these few characters are all its legend needs.
 */
const GLYPHS: Record<string, string> = {
  o: '00000 00000 01110 10001 10001 10001 01110', k: '10000 10000 10010 10100 11000 10100 10010',
  m: '00000 00000 11010 10101 10101 10101 10101', i: '00100 00000 01100 00100 00100 00100 01110',
  s: '00000 00000 01111 10000 01110 00001 11110', n: '00000 00000 10110 11001 10001 10001 10001',
  g: '00000 00000 01111 10001 01111 00001 01110', w: '00000 00000 10001 10001 10101 10101 01010',
  r: '00000 00000 10110 11001 10000 10000 10000', '(': '00010 00100 01000 01000 01000 00100 00010',
  ')': '01000 00100 00010 00010 00010 00100 01000', ' ': '00000 00000 00000 00000 00000 00000 00000',
  0: '01110 10001 10011 10101 11001 10001 01110', 1: '00100 01100 00100 00100 00100 00100 01110',
  2: '01110 10001 00001 00010 00100 01000 11111', 3: '11110 00001 00001 01110 00001 00001 11110',
  4: '00010 00110 01010 10010 11111 00010 00010', 5: '11111 10000 11110 00001 00001 10001 01110',
  6: '00110 01000 10000 11110 10001 10001 01110', 7: '11111 00001 00010 00100 01000 01000 01000',
  8: '01110 10001 10001 01110 10001 10001 01110', 9: '01110 10001 10001 01111 00001 00010 01100',
};

/** The map as RGB pixels (3 bytes a pixel, row-major), white background. */
export function tileMapRgb(tiles: readonly MapTile[], canvas: readonly [number, number]): { width: number; height: number; rgb: Uint8Array } {
  const layout = mapLayout(tiles, canvas);
  const { width, height } = layout;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  const fill = (x0: number, y0: number, x1: number, y1: number, colour: readonly number[]) => {
    for (let y = Math.max(0, y0); y < Math.min(height, y1); y++) {
      for (let x = Math.max(0, x0); x < Math.min(width, x1); x++) rgb.set(colour, (y * width + x) * 3);
    }
  };
  for (const i of drawOrder(tiles)) {
    const [x0, y0, x1, y1] = layout.rects[i];
    const colour = MAP_COLOURS[tiles[i].status];
    fill(x0, y0, x1, y1, darker(colour));
    fill(x0 + 1, y0 + 1, x1 - 1, y1 - 1, colour);
  }
  const text = (s: string, x: number, y: number) => {
    for (const ch of s) {
      const rows = GLYPHS[ch].split(' ');
      rows.forEach((row, r) => [...row].forEach((bit, c) => { if (bit === '1') fill(x + 2 * c, y + 2 * r, x + 2 * c + 2, y + 2 * r + 2, [0, 0, 0]); }));
      x += 12;
    }
  };
  const c = counts(tiles);
  const y = layout.mapHeight + LEGEND_HEIGHT / 2;
  STATUSES.forEach((s, k) => {
    const x = 8 + k * LEGEND_SPACING;
    fill(x, y - 7, x + 14, y + 7, MAP_COLOURS[s]);
    text(`${s} (${c[s]})`, x + 20, y - 7);
  });
  return { width, height, rgb };
}
