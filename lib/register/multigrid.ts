/**
 * The global solve's linear algebra: a weighted graph Laplacian with one node held fixed (SPD once
 * that node's row and column are gone), solved by conjugate gradients preconditioned with an
 * aggregation multigrid V-cycle. A grid of 100,000 tiles needs thousands of Jacobi-preconditioned
 * CG iterations (the error that is left is smooth, spread over the whole grid); with the V-cycle
 * it needs tens. Plain aggregation: neighbours merge into aggregates, the coarse matrix is the
 * aggregated graph's Laplacian (Galerkin, piecewise-constant interpolation); symmetric
 * Gauss-Seidel smoothing; the coarsest level is solved exactly (dense Cholesky). Pure and
 * deterministic.
 */

interface Level {
  n: number;
  /** Off-diagonal part in CSR: A[i][col] = -val (Laplacian weights). */
  rowStart: Int32Array;
  col: Int32Array;
  val: Float64Array;
  diag: Float64Array;
  /** Aggregate of each node on the next level (undefined on the coarsest). */
  aggregate?: Int32Array;
  /** Coarsest level: dense Cholesky factor (row-major lower triangle). */
  cholesky?: Float64Array;
  /** Scratch: residual here, and the next level's right-hand side and correction. */
  scratch?: { residual: Float64Array; rc: Float64Array; zc: Float64Array };
}

/** A level from an edge list (i, j, w), i != j; repeated edges are summed; `extra` adds to the diagonal. */
function level(n: number, ea: Int32Array, eb: Int32Array, ew: Float64Array, extra: Float64Array): Level {
  // Edges bucketed by their smaller end (counting sort), then each bucket sorted by the other end
  // and repeats summed.
  const e = ea.length, start = new Int32Array(n + 1);
  for (let k = 0; k < e; k++) start[Math.min(ea[k], eb[k]) + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const fillAt = start.slice(0, n), other = new Int32Array(e), weight = new Float64Array(e);
  for (let k = 0; k < e; k++) {
    const a = Math.min(ea[k], eb[k]), at = fillAt[a]++;
    other[at] = Math.max(ea[k], eb[k]);
    weight[at] = ew[k];
  }
  const ua: number[] = [], ub: number[] = [], uw: number[] = [];
  for (let a = 0; a < n; a++) {
    const from = start[a], to = start[a + 1];
    // Insertion sort: a bucket holds a node's few neighbours.
    for (let i = from + 1; i < to; i++) {
      const o = other[i], w = weight[i];
      let j = i - 1;
      while (j >= from && other[j] > o) { other[j + 1] = other[j]; weight[j + 1] = weight[j]; j--; }
      other[j + 1] = o;
      weight[j + 1] = w;
    }
    for (let i = from; i < to; i++) {
      if (i > from && other[i] === other[i - 1]) uw[uw.length - 1] += weight[i];
      else { ua.push(a); ub.push(other[i]); uw.push(weight[i]); }
    }
  }
  const count = new Int32Array(n + 1), diag = Float64Array.from(extra);
  for (let k = 0; k < ua.length; k++) {
    count[ua[k] + 1]++; count[ub[k] + 1]++;
    diag[ua[k]] += uw[k]; diag[ub[k]] += uw[k];
  }
  for (let i = 0; i < n; i++) count[i + 1] += count[i];
  const fill = count.slice(0, n), col = new Int32Array(count[n]), val = new Float64Array(count[n]);
  for (let k = 0; k < ua.length; k++) {
    col[fill[ua[k]]] = ub[k]; val[fill[ua[k]]++] = uw[k];
    col[fill[ub[k]]] = ua[k]; val[fill[ub[k]]++] = uw[k];
  }
  return { n, rowStart: count, col, val, diag };
}

/** Greedy aggregation: a node and its free neighbours; then leftovers join a neighbour's aggregate, or stand alone. */
function aggregateNodes(l: Level): { aggregate: Int32Array; count: number } {
  const aggregate = new Int32Array(l.n).fill(-1);
  let count = 0;
  for (let i = 0; i < l.n; i++) {
    if (aggregate[i] >= 0) continue;
    let free = true;
    for (let q = l.rowStart[i]; q < l.rowStart[i + 1] && free; q++) if (aggregate[l.col[q]] >= 0) free = false;
    if (!free) continue;
    aggregate[i] = count;
    for (let q = l.rowStart[i]; q < l.rowStart[i + 1]; q++) aggregate[l.col[q]] = count;
    count++;
  }
  const first = aggregate.slice();
  for (let i = 0; i < l.n; i++) {
    if (first[i] >= 0) continue;
    // The aggregate of the most strongly connected neighbour that had one after the first pass.
    let best = -1, strongest = 0;
    for (let q = l.rowStart[i]; q < l.rowStart[i + 1]; q++) if (first[l.col[q]] >= 0 && l.val[q] > strongest) { strongest = l.val[q]; best = first[l.col[q]]; }
    aggregate[i] = best >= 0 ? best : count++;
  }
  return { aggregate, count };
}

function denseCholesky(l: Level): Float64Array {
  const n = l.n, a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    a[i * n + i] = l.diag[i];
    for (let q = l.rowStart[i]; q < l.rowStart[i + 1]; q++) a[i * n + l.col[q]] -= l.val[q];
  }
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
    a[j * n + j] = Math.sqrt(Math.max(d, 1e-300));
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / a[j * n + j];
    }
  }
  return a;
}

const COARSEST = 256;
const COARSE_SCALE = 2.2;

/** The hierarchy for the Laplacian of (ea, eb, ew) on n nodes with node `fixed` held: unknowns are the other nodes. */
function hierarchy(n: number, ea: Int32Array, eb: Int32Array, ew: Float64Array, fixed: number): { levels: Level[]; unknown: Int32Array } {
  // Unknowns: every node but the fixed one; its links become diagonal terms of their other end.
  const unknown = new Int32Array(n);
  for (let i = 0, u = 0; i < n; i++) unknown[i] = i === fixed ? -1 : u++;
  const extra = new Float64Array(n - 1);
  const a: number[] = [], b: number[] = [], w: number[] = [];
  for (let k = 0; k < ea.length; k++) {
    const ua = unknown[ea[k]], ub = unknown[eb[k]];
    if (ua < 0 && ub >= 0) extra[ub] += ew[k];
    else if (ub < 0 && ua >= 0) extra[ua] += ew[k];
    else if (ua >= 0 && ub >= 0 && ua !== ub) { a.push(ua); b.push(ub); w.push(ew[k]); }
  }
  const levels = [level(n - 1, Int32Array.from(a), Int32Array.from(b), Float64Array.from(w), extra)];
  for (;;) {
    const l = levels[levels.length - 1];
    if (l.n <= COARSEST) break;
    const { aggregate, count } = aggregateNodes(l);
    // Coarsening stalled (no edges left to merge along): solve this level densely if small enough, else stop here.
    if (count > 0.9 * l.n) break;
    l.aggregate = aggregate;
    const ca: number[] = [], cb: number[] = [], cw: number[] = [];
    const cextra = new Float64Array(count);
    for (let i = 0; i < l.n; i++) {
      // Diagonal excess over the off-diagonal sum (the fixed node's links) carries over.
      let off = 0;
      for (let q = l.rowStart[i]; q < l.rowStart[i + 1]; q++) {
        off += l.val[q];
        const j = l.col[q];
        if (j > i && aggregate[i] !== aggregate[j]) { ca.push(aggregate[i]); cb.push(aggregate[j]); cw.push(l.val[q]); }
      }
      cextra[aggregate[i]] += l.diag[i] - off;
    }
    levels.push(level(count, Int32Array.from(ca), Int32Array.from(cb), Float64Array.from(cw), cextra));
  }
  const last = levels[levels.length - 1];
  if (last.n <= 4 * COARSEST) last.cholesky = denseCholesky(last);
  return { levels, unknown };
}

function gaussSeidel(l: Level, r: Float64Array, z: Float64Array, backward: boolean): void {
  for (let s = 0; s < l.n; s++) {
    const i = backward ? l.n - 1 - s : s;
    let v = r[i];
    for (let q = l.rowStart[i]; q < l.rowStart[i + 1]; q++) v += l.val[q] * z[l.col[q]];
    z[i] = v / l.diag[i];
  }
}

function multiply(l: Level, v: Float64Array, out: Float64Array): void {
  for (let i = 0; i < l.n; i++) {
    let s = l.diag[i] * v[i];
    for (let q = l.rowStart[i]; q < l.rowStart[i + 1]; q++) s -= l.val[q] * v[l.col[q]];
    out[i] = s;
  }
}

/** z = V-cycle(r) on level k (z zeroed first). Symmetric: a valid CG preconditioner. */
function vcycle(levels: Level[], k: number, r: Float64Array, z: Float64Array): void {
  const l = levels[k];
  z.fill(0);
  if (l.cholesky) {
    const n = l.n, a = l.cholesky;
    for (let i = 0; i < n; i++) { let s = r[i]; for (let j = 0; j < i; j++) s -= a[i * n + j] * z[j]; z[i] = s / a[i * n + i]; }
    for (let i = n - 1; i >= 0; i--) { let s = z[i]; for (let j = i + 1; j < n; j++) s -= a[j * n + i] * z[j]; z[i] = s / a[i * n + i]; }
    return;
  }
  if (!l.aggregate) {
    // No coarser level and too big to factor: symmetric Gauss-Seidel alone.
    gaussSeidel(l, r, z, false);
    gaussSeidel(l, r, z, true);
    return;
  }
  gaussSeidel(l, r, z, false);
  const coarse = levels[k + 1];
  l.scratch ??= { residual: new Float64Array(l.n), rc: new Float64Array(coarse.n), zc: new Float64Array(coarse.n) };
  const { residual, rc, zc } = l.scratch;
  multiply(l, z, residual);
  rc.fill(0);
  for (let i = 0; i < l.n; i++) rc[l.aggregate[i]] += r[i] - residual[i];
  vcycle(levels, k + 1, rc, zc);
  // Piecewise-constant interpolation undershoots smooth errors: the coarse correction is scaled up
  // (a constant keeps the cycle symmetric).
  for (let i = 0; i < l.n; i++) z[i] += COARSE_SCALE * zc[l.aggregate[i]];
  gaussSeidel(l, r, z, true);
}

/**
 * Minimises Σ w_k (p[eb_k] - p[ea_k] - rel_k)² over p with p[fixed] kept, for each right-hand
 * side `rels` (one per axis), starting from `starts` (updated in place), until the residual is
 * `tolerance` of the right-hand side's norm. Returns the iterations each took.
 */
export function solveLaplacian(n: number, ea: Int32Array, eb: Int32Array, ew: Float64Array, fixed: number,
  rels: Float64Array[], starts: Float64Array[], tolerance = 1e-10): number[] {
  const { levels, unknown } = hierarchy(n, ea, eb, ew, fixed);
  const top = levels[0], m = top.n;
  return rels.map((rel, axis) => {
    const p = starts[axis];
    // b = Σ w rel (e_b - e_a) minus what the fixed node's known position contributes.
    const b = new Float64Array(m);
    for (let k = 0; k < ea.length; k++) {
      const ua = unknown[ea[k]], ub = unknown[eb[k]], f = ew[k] * rel[k];
      if (ub >= 0) b[ub] += f + (ua < 0 ? ew[k] * p[fixed] : 0);
      if (ua >= 0) b[ua] -= f - (ub < 0 ? ew[k] * p[fixed] : 0);
    }
    const x = new Float64Array(m);
    for (let i = 0; i < n; i++) if (unknown[i] >= 0) x[unknown[i]] = p[i];
    const r = new Float64Array(m), z = new Float64Array(m), d = new Float64Array(m), q = new Float64Array(m);
    multiply(top, x, q);
    let bb = 0;
    for (let i = 0; i < m; i++) { r[i] = b[i] - q[i]; bb += b[i] * b[i]; }
    vcycle(levels, 0, r, z);
    d.set(z);
    let rz = 0;
    for (let i = 0; i < m; i++) rz += r[i] * z[i];
    const stop = tolerance * tolerance * Math.max(bb, 1e-300);
    let iteration = 0;
    for (; iteration < 1000; iteration++) {
      let rr = 0;
      for (let i = 0; i < m; i++) rr += r[i] * r[i];
      if (rr <= stop) break;
      multiply(top, d, q);
      let dq = 0;
      for (let i = 0; i < m; i++) dq += d[i] * q[i];
      if (!(dq > 0)) break;
      const alpha = rz / dq;
      for (let i = 0; i < m; i++) { x[i] += alpha * d[i]; r[i] -= alpha * q[i]; }
      vcycle(levels, 0, r, z);
      let rzNext = 0;
      for (let i = 0; i < m; i++) rzNext += r[i] * z[i];
      const beta = rzNext / rz;
      rz = rzNext;
      for (let i = 0; i < m; i++) d[i] = z[i] + beta * d[i];
    }
    for (let i = 0; i < n; i++) if (unknown[i] >= 0) p[i] = x[unknown[i]];
    return iteration;
  });
}
