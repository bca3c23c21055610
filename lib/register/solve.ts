/**
 * Global positions from pairwise displacements: a weighted least-squares fit of every tile's
 * position to the kept links (the normal equations are a graph Laplacian, solved by conjugate
 * gradients with one tile per connected group held fixed), with links whose residual is an outlier
 * removed one at a time (worst first, like BigStitcher). Tiles outside the main group are placed by
 * a linear model fitted from the registered tiles' nominal → registered positions. Pure and
 * deterministic: the same table gives the same bits.
 */

export interface Link {
  a: number;
  b: number;
  /** Measured (B - A) minus nominal (B - A), per axis. */
  dy: number;
  dx: number;
  ncc: number;
  /** Still in the fit; rejected links keep why. */
  status: LinkStatus;
  residual: number;
}

export type LinkStatus = 'kept' | 'low-ncc' | 'no-candidate' | 'outlier';

export type TileStatus = 'registered' | 'registered-group' | 'modelled';

export interface TilePlacement {
  y: number;
  x: number;
  status: TileStatus;
  /** Why a tile is not in the main registered group. */
  reason?: string;
}

export interface SolveOptions {
  /** A link is an outlier when its residual exceeds both this many times the mean residual... */
  outlierFactor: number;
  /** ...and this many pixels. */
  outlierPixels: number;
}

export const DEFAULT_SOLVE: SolveOptions = { outlierFactor: 3.5, outlierPixels: 2 };

export interface Model {
  /** registered = scale * nominal + offset, per axis */
  scaleY: number; offsetY: number; scaleX: number; offsetX: number;
  /** Tiles it was fitted from (0: identity, nothing registered). */
  fittedFrom: number;
}

export interface Solution {
  tiles: TilePlacement[];
  model: Model;
  outliersRemoved: number;
}

/** Groups of tiles joined by kept links (union-find), each sorted, the groups by first tile. */
export function components(n: number, links: readonly Link[]): number[][] {
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  for (const l of links) if (l.status === 'kept') {
    const [ra, rb] = [find(l.a), find(l.b)];
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const root = find(i);
    if (!groups.has(root)) groups.set(root, []);
    groups.get(root)!.push(i);
  }
  return [...groups.values()];
}

/**
 * Solves one axis for one group: minimise Σ w (p_b - p_a - rel)² with p[anchor] fixed, by
 * Jacobi-preconditioned conjugate gradients on the Laplacian's normal equations (in place in p).
 */
function solveAxis(group: number[], links: readonly Link[], rel: (l: Link) => number, p: Float64Array): void {
  const anchor = group[0];
  const inGroup = new Set(group);
  const groupLinks = links.filter((l) => l.status === 'kept' && inGroup.has(l.a));
  const weight = (l: Link) => Math.max(l.ncc, 1e-3);
  const b = new Float64Array(p.length), diag = new Float64Array(p.length);
  for (const l of groupLinks) {
    const w = weight(l);
    b[l.b] += w * rel(l);
    b[l.a] -= w * rel(l);
    diag[l.a] += w;
    diag[l.b] += w;
  }
  const apply = (v: Float64Array, out: Float64Array) => {
    for (const i of group) out[i] = 0;
    for (const l of groupLinks) {
      const f = weight(l) * (v[l.b] - v[l.a]);
      out[l.b] += f;
      out[l.a] -= f;
    }
    out[anchor] = 0;
  };
  const r = new Float64Array(p.length), z = new Float64Array(p.length), d = new Float64Array(p.length), q = new Float64Array(p.length);
  apply(p, q);
  for (const i of group) r[i] = i === anchor ? 0 : b[i] - q[i];
  const precondition = () => { for (const i of group) z[i] = i === anchor ? 0 : r[i] / diag[i]; };
  precondition();
  for (const i of group) d[i] = z[i];
  let rz = 0, bb = 0;
  for (const i of group) { rz += r[i] * z[i]; bb += b[i] * b[i]; }
  const tolerance = 1e-24 * Math.max(bb, 1);
  for (let iteration = 0; iteration < 20 * group.length + 100; iteration++) {
    let rr = 0;
    for (const i of group) rr += r[i] * r[i];
    if (rr <= tolerance) break;
    apply(d, q);
    let dq = 0;
    for (const i of group) dq += d[i] * q[i];
    if (!(dq > 0)) break;
    const alpha = rz / dq;
    for (const i of group) { p[i] += alpha * d[i]; r[i] -= alpha * q[i]; }
    precondition();
    let rzNext = 0;
    for (const i of group) rzNext += r[i] * z[i];
    const beta = rzNext / rz;
    rz = rzNext;
    for (const i of group) d[i] = z[i] + beta * d[i];
  }
}

/** Least-squares registered = scale·nominal + offset on one axis; scale 1 when the nominal does not vary. */
function fitAxis(nominal: number[], registered: number[]): [number, number] {
  const n = nominal.length;
  const mn = nominal.reduce((s, v) => s + v, 0) / n, mr = registered.reduce((s, v) => s + v, 0) / n;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) { sxx += (nominal[i] - mn) ** 2; sxy += (nominal[i] - mn) * (registered[i] - mr); }
  const scale = sxx > 1e-9 * n ? sxy / sxx : 1;
  return [scale, mr - scale * mn];
}

/**
 * Positions for `nominal.length` tiles from `links` (their status and residual are updated). The
 * returned positions keep the nominal frame; callers shift them to their canvas origin.
 */
export function solvePositions(nominal: ReadonlyArray<readonly [number, number]>, links: Link[], options: SolveOptions = DEFAULT_SOLVE): Solution {
  const n = nominal.length;
  const py = new Float64Array(n), px = new Float64Array(n);
  let outliersRemoved = 0;
  let groups: number[][];
  const relY = (l: Link) => nominal[l.b][0] - nominal[l.a][0] + l.dy;
  const relX = (l: Link) => nominal[l.b][1] - nominal[l.a][1] + l.dx;
  const residual = (l: Link) => Math.hypot(py[l.b] - py[l.a] - relY(l), px[l.b] - px[l.a] - relX(l));
  for (;;) {
    groups = components(n, links);
    for (let i = 0; i < n; i++) { py[i] = nominal[i][0]; px[i] = nominal[i][1]; }
    for (const g of groups) if (g.length > 1) {
      // Start every tile of the group at its nominal position, shifted with the anchor.
      solveAxis(g, links, relY, py);
      solveAxis(g, links, relX, px);
    }
    const kept = links.filter((l) => l.status === 'kept');
    if (kept.length === 0) break;
    let worst: Link | undefined, sum = 0;
    for (const l of kept) {
      l.residual = residual(l);
      sum += l.residual;
      if (!worst || l.residual > worst.residual) worst = l;
    }
    const mean = sum / kept.length;
    if (worst!.residual > options.outlierFactor * mean && worst!.residual > options.outlierPixels) {
      worst!.status = 'outlier';
      outliersRemoved++;
      continue;
    }
    break;
  }
  // The main group: the largest (the first of equals).
  const main = groups.reduce((best, g) => (g.length > best.length ? g : best), groups[0]);
  const registered = main.length > 1 ? main : [];
  const [scaleY, offsetY] = registered.length ? fitAxis(registered.map((i) => nominal[i][0]), registered.map((i) => py[i])) : [1, 0];
  const [scaleX, offsetX] = registered.length ? fitAxis(registered.map((i) => nominal[i][1]), registered.map((i) => px[i])) : [1, 0];
  const model: Model = { scaleY, offsetY, scaleX, offsetX, fittedFrom: registered.length };
  const tiles: TilePlacement[] = new Array(n);
  for (const g of groups) {
    if (g === main && registered.length) {
      for (const i of g) tiles[i] = { y: py[i], x: px[i], status: 'registered' };
    } else if (g.length > 1) {
      // A group linked only among itself: keep its inner layout, place it where the model says on average.
      let sy = 0, sx = 0;
      for (const i of g) { sy += scaleY * nominal[i][0] + offsetY - py[i]; sx += scaleX * nominal[i][1] + offsetX - px[i]; }
      for (const i of g) tiles[i] = { y: py[i] + sy / g.length, x: px[i] + sx / g.length, status: 'registered-group', reason: `linked only to ${g.length - 1} other tile(s) outside the main group; the group placed by the model` };
    } else {
      const i = g[0];
      const mine = links.filter((l) => l.a === i || l.b === i);
      const why = mine.length === 0 ? 'no overlapping neighbour' :
        `no kept link (${mine.map((l) => `${l.a}-${l.b} ${l.status}`).join(', ')})`;
      tiles[i] = { y: scaleY * nominal[i][0] + offsetY, x: scaleX * nominal[i][1] + offsetX, status: 'modelled', reason: why };
    }
  }
  for (const l of links) l.residual = Math.hypot(tiles[l.b].y - tiles[l.a].y - relY(l), tiles[l.b].x - tiles[l.a].x - relX(l));
  return { tiles, model, outliersRemoved };
}
