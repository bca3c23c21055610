/**
 * Global positions from pairwise displacements: a weighted least-squares fit of every tile's
 * position to the kept links (the normal equations are a graph Laplacian, solved by conjugate
 * gradients with one tile per connected group held fixed), with links whose residual is an outlier
 * removed one at a time (worst first, like BigStitcher). Tiles outside the main group are placed by
 * a stage model: an affine map fitted from the registered tiles' nominal → registered positions,
 * corrected locally by how far the tile's registered neighbours sit from it (a smooth systematic
 * error, such as thermal drift, is shared by neighbours; their random errors are not, and neither
 * is the tile's own). Pure and deterministic: the same table gives the same bits.
 */
import { solveLaplacian } from './multigrid';

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
  /** Tiles placed by the model: its expected error in pixels (see Model.predictionRms); undefined when nothing was registered. */
  uncertainty?: number;
}

export interface SolveOptions {
  /** A link is an outlier when its residual exceeds both this many times the mean residual... */
  outlierFactor: number;
  /** ...and this many pixels. */
  outlierPixels: number;
}

const DEFAULT_SOLVE: SolveOptions = { outlierFactor: 3.5, outlierPixels: 2 };

export interface Model {
  /** The affine stage model: registered y = y[0] + y[1]·nominal y + y[2]·nominal x; likewise x. */
  y: [number, number, number];
  x: [number, number, number];
  /** Its step scales, y[1] and x[2] (≠ 1: a systematic stage step error). */
  scaleY: number;
  scaleX: number;
  /** Tiles it was fitted from (0: identity, nothing registered). */
  fittedFrom: number;
  /** RMS distance of the registered tiles from the affine model, in pixels. */
  residualRms: number;
  /**
   * RMS error of predicting each registered tile from the model and its registered neighbours
   * alone, as if it were blank: the uncertainty of a modelled tile. Small when the stage error is
   * systematic; about the stage's random error when it is not (no method can do better then).
   */
  predictionRms: number;
}

export interface Solution {
  tiles: TilePlacement[];
  model: Model;
  outliersRemoved: number;
}

/** Groups of tiles joined by kept links (union-find), each sorted, the groups by first tile. */
function components(n: number, links: readonly Link[]): number[][] {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    let root = i;
    while (parent[root] !== root) root = parent[root];
    while (parent[i] !== root) { const next = parent[i]; parent[i] = root; i = next; }
    return root;
  };
  for (const l of links) if (l.status === 'kept') {
    const ra = find(l.a), rb = find(l.b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const root = find(i);
    let g = groups.get(root);
    if (!g) groups.set(root, (g = []));
    g.push(i);
  }
  return [...groups.values()];
}

/**
 * Solves one group: minimise Σ w (p_b - p_a - rel)² per axis with the group's first tile fixed.
 * The start: the measurements integrated along a breadth-first tree from that tile (already
 * within the measurements' noise of the answer). Then conjugate gradients with a multigrid
 * preconditioner on the Laplacian's normal equations (multigrid.ts), until the residual is 1e-10
 * of the right-hand side. Writes the group's positions into py and px.
 */
function solveGroup(group: readonly number[], links: readonly Link[], relY: (l: Link) => number, relX: (l: Link) => number, py: Float64Array, px: Float64Array, local: Int32Array): void {
  const m = group.length, e = links.length;
  group.forEach((t, k) => (local[t] = k));
  const la = new Int32Array(e), lb = new Int32Array(e), w = new Float64Array(e), ry = new Float64Array(e), rx = new Float64Array(e);
  const degree = new Int32Array(m + 1);
  links.forEach((l, k) => {
    la[k] = local[l.a]; lb[k] = local[l.b]; w[k] = Math.max(l.ncc, 1e-3); ry[k] = relY(l); rx[k] = relX(l);
    degree[la[k] + 1]++; degree[lb[k] + 1]++;
  });
  // Adjacency (CSR of link indices) for the tree start.
  for (let i = 0; i < m; i++) degree[i + 1] += degree[i];
  const adjacency = new Int32Array(2 * e), fill = degree.slice(0, m);
  for (let k = 0; k < e; k++) { adjacency[fill[la[k]]++] = k; adjacency[fill[lb[k]]++] = k; }
  const y = new Float64Array(m), x = new Float64Array(m), reached = new Uint8Array(m), queue = new Int32Array(m);
  y[0] = py[group[0]]; x[0] = px[group[0]]; reached[0] = 1;
  for (let head = 0, tail = 1; head < tail; head++) {
    const i = queue[head];
    for (let q = degree[i]; q < degree[i + 1]; q++) {
      const k = adjacency[q], j = la[k] === i ? lb[k] : la[k], sign = la[k] === i ? 1 : -1;
      if (reached[j]) continue;
      reached[j] = 1;
      y[j] = y[i] + sign * ry[k];
      x[j] = x[i] + sign * rx[k];
      queue[tail++] = j;
    }
  }
  solveLaplacian(m, la, lb, w, 0, [ry, rx], [y, x]);
  group.forEach((t, k) => { py[t] = y[k]; px[t] = x[k]; });
}

/**
 * Least-squares registered = c[0] + c[1]·ny + c[2]·nx; a term whose nominal coordinate does not
 * vary (one grid row or column) keeps its default (`own`: 1 for the axis's own coordinate, else 0;
 * own 0: both 0).
 */
function fitAffine(ny: number[], nx: number[], registered: number[], own: 0 | 1 | 2): [number, number, number] {
  const n = registered.length;
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / n;
  const my = mean(ny), mx = mean(nx), mr = mean(registered);
  const cols = [ny.map((v) => v - my), nx.map((v) => v - mx)];
  const r = registered.map((v) => v - mr);
  const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
  const coef = [own === 1 ? 1 : 0, own === 2 ? 1 : 0];
  const free = [0, 1].filter((k) => dot(cols[k], cols[k]) > 1e-9 * n);
  if (free.length === 2) {
    const [a, b, c] = [dot(cols[0], cols[0]), dot(cols[0], cols[1]), dot(cols[1], cols[1])];
    const [u, v] = [dot(cols[0], r), dot(cols[1], r)], det = a * c - b * b;
    if (Math.abs(det) > 1e-12 * a * c) {
      coef[0] = (c * u - b * v) / det;
      coef[1] = (a * v - b * u) / det;
    } else coef[0] = u / a;
  } else if (free.length === 1) {
    const k = free[0], other = 1 - k;
    // The fixed term's part comes off first.
    const rest = r.map((v, i) => v - coef[other] * cols[other][i]);
    coef[k] = dot(cols[k], rest) / dot(cols[k], cols[k]);
  }
  return [mr - coef[0] * my - coef[1] * mx, coef[0], coef[1]];
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
  const residual = (l: Link) => {
    const ey = py[l.b] - py[l.a] - relY(l), ex = px[l.b] - px[l.a] - relX(l);
    return Math.sqrt(ey * ey + ex * ex);
  };
  const local = new Int32Array(n);
  for (;;) {
    groups = components(n, links);
    for (let i = 0; i < n; i++) { py[i] = nominal[i][0]; px[i] = nominal[i][1]; }
    const groupOf = new Int32Array(n);
    groups.forEach((g, k) => { for (const i of g) groupOf[i] = k; });
    const byGroup: Link[][] = groups.map(() => []);
    for (const l of links) if (l.status === 'kept') byGroup[groupOf[l.a]].push(l);
    groups.forEach((g, k) => { if (g.length > 1) solveGroup(g, byGroup[k], relY, relX, py, px, local); });
    const kept = links.filter((l) => l.status === 'kept');
    if (kept.length === 0) break;
    let sum = 0;
    for (const l of kept) {
      l.residual = residual(l);
      sum += l.residual;
    }
    const mean = sum / kept.length;
    // Outliers: links whose residual is over outlierFactor x the mean and outlierPixels, and the
    // worst among the kept links of both their tiles (a wrong link also pulls its neighbours'
    // residuals up; the worst one around is the culprit). All such links go at once, then solve
    // again: BigStitcher's one-at-a-time rule, for every part of a large grid in the same round.
    const worstAt = new Float64Array(n);
    for (const l of kept) { worstAt[l.a] = Math.max(worstAt[l.a], l.residual); worstAt[l.b] = Math.max(worstAt[l.b], l.residual); }
    const out = kept.filter((l) => l.residual > options.outlierFactor * mean && l.residual > options.outlierPixels &&
      l.residual >= worstAt[l.a] && l.residual >= worstAt[l.b]);
    if (out.length === 0) break;
    for (const l of out) l.status = 'outlier';
    outliersRemoved += out.length;
  }
  // The main group: the largest (the first of equals).
  const main = groups.reduce((best, g) => (g.length > best.length ? g : best), groups[0]);
  const registered = main.length > 1 ? main : [];
  const inMain = new Uint8Array(n);
  for (const i of registered) inMain[i] = 1;
  const ny = registered.map((i) => nominal[i][0]), nx = registered.map((i) => nominal[i][1]);
  const cy = registered.length ? fitAffine(ny, nx, registered.map((i) => py[i]), 1) : [0, 1, 0] as [number, number, number];
  const cx = registered.length ? fitAffine(ny, nx, registered.map((i) => px[i]), 2) : [0, 0, 1] as [number, number, number];
  const affine = (i: number): [number, number] => [cy[0] + cy[1] * nominal[i][0] + cy[2] * nominal[i][1], cx[0] + cx[1] * nominal[i][0] + cx[2] * nominal[i][1]];
  // Candidate-pair neighbours (every link, whatever its status), in link order: deterministic.
  const neighbourStart = new Int32Array(n + 1);
  for (const l of links) { neighbourStart[l.a + 1]++; neighbourStart[l.b + 1]++; }
  for (let i = 0; i < n; i++) neighbourStart[i + 1] += neighbourStart[i];
  const neighbourFill = neighbourStart.slice(0, n), neighbour = new Int32Array(neighbourStart[n]);
  for (const l of links) { neighbour[neighbourFill[l.a]++] = l.b; neighbour[neighbourFill[l.b]++] = l.a; }
  // Each tile's deviation from the affine model (meaningful for registered tiles).
  const devY = new Float64Array(n), devX = new Float64Array(n);
  for (let i = 0; i < n; i++) { devY[i] = py[i] - (cy[0] + cy[1] * nominal[i][0] + cy[2] * nominal[i][1]); devX[i] = px[i] - (cx[0] + cx[1] * nominal[i][0] + cx[2] * nominal[i][1]); }
  /**
   * The model's position for tile i: affine, plus the deviation from it of the registered tiles
   * around i (within two links), as a plane fitted to them and read at i (the mean when fewer than
   * four): a smooth systematic error is interpolated, a tile's own random error is not known.
   */
  const stamp = new Int32Array(n).fill(-1);
  const ring = new Int32Array(n), around = new Int32Array(n);
  const predict = (i: number): { y: number; x: number; from: number } => {
    stamp[i] = i;
    let ringStart = 0, ringEnd = 1, count = 0;
    ring[0] = i;
    for (let depth = 0; depth < 2; depth++) {
      const end = ringEnd;
      for (let r = ringStart; r < end; r++) for (let q = neighbourStart[ring[r]]; q < neighbourStart[ring[r] + 1]; q++) {
        const k = neighbour[q];
        if (stamp[k] === i) continue;
        stamp[k] = i;
        ring[ringEnd++] = k;
        if (inMain[k]) around[count++] = k;
      }
      ringStart = end;
    }
    const [ay, ax] = affine(i);
    if (count === 0) return { y: ay, x: ax, from: 0 };
    return { y: ay + planeAt(i, around, count, devY), x: ax + planeAt(i, around, count, devX), from: count };
  };
  /** A plane through the deviations of `count` tiles around i (nominal offsets from i), read at i; their mean when fewer than four or collinear. */
  const planeAt = (i: number, tiles: Int32Array, count: number, dev: Float64Array): number => {
    let mu = 0, mv = 0, md = 0;
    for (let k = 0; k < count; k++) { const t = tiles[k]; mu += nominal[t][0] - nominal[i][0]; mv += nominal[t][1] - nominal[i][1]; md += dev[t]; }
    mu /= count; mv /= count; md /= count;
    if (count < 4) return md;
    let suu = 0, suv = 0, svv = 0, sud = 0, svd = 0;
    for (let k = 0; k < count; k++) {
      const t = tiles[k], u = nominal[t][0] - nominal[i][0] - mu, v = nominal[t][1] - nominal[i][1] - mv, d = dev[t] - md;
      suu += u * u; suv += u * v; svv += v * v; sud += u * d; svd += v * d;
    }
    const det = suu * svv - suv * suv;
    if (!(det > 1e-9 * (suu * svv + 1e-300))) {
      // Collinear neighbours: a line along the direction that varies (or the mean).
      if (suu > 1e-9 * count) return md - (sud / suu) * mu;
      if (svv > 1e-9 * count) return md - (svd / svv) * mv;
      return md;
    }
    const a = (svv * sud - suv * svd) / det, b = (suu * svd - suv * sud) / det;
    return md - a * mu - b * mv;
  };
  const rms = (values: number[], fallback: number) => (values.length ? Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length) : fallback);
  const residualRms = rms(registered.map((i) => { const [ay, ax] = affine(i); return Math.hypot(py[i] - ay, px[i] - ax); }), 0);
  const predictionErrors: number[] = [];
  for (const i of registered) {
    const p = predict(i);
    if (p.from) predictionErrors.push(Math.hypot(py[i] - p.y, px[i] - p.x));
  }
  const predictionRms = rms(predictionErrors, residualRms);
  const model: Model = { y: cy, x: cx, scaleY: cy[1], scaleX: cx[2], fittedFrom: registered.length, residualRms, predictionRms };
  const tiles: TilePlacement[] = new Array(n);
  for (const g of groups) {
    if (g === main && registered.length) {
      for (const i of g) tiles[i] = { y: py[i], x: px[i], status: 'registered' };
    } else if (g.length > 1) {
      // A group linked only among itself: keep its inner layout, place it where the model says on average.
      let sy = 0, sx = 0;
      for (const i of g) { const p = predict(i); sy += p.y - py[i]; sx += p.x - px[i]; }
      for (const i of g) {
        tiles[i] = { y: py[i] + sy / g.length, x: px[i] + sx / g.length, status: 'registered-group', uncertainty: registered.length ? predictionRms : undefined,
          reason: `linked only to ${g.length - 1} other tile(s) outside the main group; the group placed by the model` };
      }
    } else {
      const i = g[0];
      const mine = links.filter((l) => l.a === i || l.b === i);
      const why = mine.length === 0 ? 'no overlapping neighbour' :
        `no kept link (${mine.map((l) => `${l.a}-${l.b} ${l.status}`).join(', ')})`;
      const p = predict(i);
      // Nothing registered: no stage model, the nominal position, and no uncertainty to give.
      tiles[i] = { y: p.y, x: p.x, status: 'modelled', reason: registered.length ? why : `${why}; nothing registered to fit a stage model from: nominal position`,
        uncertainty: registered.length ? (p.from ? predictionRms : residualRms) : undefined };
    }
  }
  for (const l of links) l.residual = Math.hypot(tiles[l.b].y - tiles[l.a].y - relY(l), tiles[l.b].x - tiles[l.a].x - relX(l));
  return { tiles, model, outliersRemoved };
}
