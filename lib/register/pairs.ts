/** Which tile pairs to register, the strips each pair reads, and how the work is split over ranks. Pure. */
import { csrRow } from '../core/overlap';
import { intersect, type Rect } from '../core/geometry';
import type { StitchPlan } from '../core/plan';

export interface PairJob {
  /** Tile indices, a < b for real pairs. */
  a: number;
  b: number;
  /** Strips in each tile's own pixel coordinates: rows [y0,y1) x cols [x0,x1). */
  stripA: Rect;
  stripB: Rect;
  /** Strip B's origin minus strip A's origin in nominal canvas coordinates. */
  offset: [number, number];
  /** Fewest overlapping pixels a candidate shift must keep (a tenth of the nominal overlap, at least 256). */
  minOverlap: number;
  /** Pixels read and correlated: what balancing weighs. */
  cost: number;
}

function clip(r: Rect, to: Rect): Rect | null {
  return intersect(r, to);
}

/** A pair's strips: each tile's pixels over the nominal overlap grown by maxShift on every side. */
function pairJob(a: Rect & { index: number }, b: Rect & { index: number }, overlap: Rect, maxShift: number): PairJob {
  const grown = { y: overlap.y - maxShift, x: overlap.x - maxShift, height: overlap.height + 2 * maxShift, width: overlap.width + 2 * maxShift };
  const sa = clip(grown, a)!, sb = clip(grown, b)!;
  return {
    a: a.index, b: b.index,
    stripA: { y: sa.y - a.y, x: sa.x - a.x, height: sa.height, width: sa.width },
    stripB: { y: sb.y - b.y, x: sb.x - b.x, height: sb.height, width: sb.width },
    offset: [sb.y - sa.y, sb.x - sa.x],
    minOverlap: Math.max(256, Math.round(0.1 * overlap.height * overlap.width)),
    cost: sa.height * sa.width + sb.height * sb.width,
  };
}

/**
 * Every pair of tiles whose nominal rectangles overlap along at least half a tile side (edge
 * neighbours; from the plan's covering lists), sorted by (a, b). Corner-only overlaps are too small
 * for a match to be trusted, and would raise the null pairs' threshold for everyone.
 */
export function candidatePairs(plan: StitchPlan, maxShift: number): PairJob[] {
  const jobs: PairJob[] = [];
  plan.planned.forEach((tile, k) => {
    for (const order of csrRow(plan.covering, k)) {
      const other = plan.planned[order];
      if (other.index <= tile.index) continue;
      const overlap = intersect(tile, other);
      if (overlap && (2 * overlap.height >= tile.height || 2 * overlap.width >= tile.width)) jobs.push(pairJob(tile, other, overlap, maxShift));
    }
  });
  return jobs.sort((p, q) => p.a - q.a || p.b - q.b);
}

/**
 * Null pairs: tiles that do not overlap, read with the strips of real pairs (cycled in order), to
 * learn how high an NCC chance alone reaches. A fixed seed: the same sample on every rank and run.
 */
export function nullPairs(plan: StitchPlan, real: PairJob[], count: number, seed = 12345): PairJob[] {
  const tiles = [...plan.planned].sort((p, q) => p.index - q.index);
  const n = tiles.length;
  if (real.length === 0 || n < 3) return [];
  const neighbours = new Set(real.map((p) => `${p.a},${p.b}`));
  let s = seed >>> 0;
  const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const jobs: PairJob[] = [];
  for (let attempt = 0; jobs.length < count && attempt < 20 * count; attempt++) {
    const a = Math.floor(random() * n), b = Math.floor(random() * n);
    if (a === b || neighbours.has(`${Math.min(a, b)},${Math.max(a, b)}`)) continue;
    const template = real[jobs.length % real.length];
    jobs.push({ ...template, a, b });
  }
  return jobs;
}

/** Splits jobs over ranks by cost (largest first to the least-loaded rank, lowest rank on ties): job indices per rank. */
export function balance(jobs: readonly PairJob[], ranks: number): number[][] {
  const order = jobs.map((_, i) => i).sort((i, j) => jobs[j].cost - jobs[i].cost || i - j);
  const load = new Array<number>(ranks).fill(0);
  const owned: number[][] = Array.from({ length: ranks }, () => []);
  for (const i of order) {
    let best = 0;
    for (let r = 1; r < ranks; r++) if (load[r] < load[best]) best = r;
    owned[best].push(i);
    load[best] += jobs[i].cost;
  }
  for (const list of owned) list.sort((i, j) => i - j);
  return owned;
}
