/**
 * register: every tile's position from its overlaps. Candidate pairs come from the plan (nominal
 * rectangles that overlap); the pairs, plus null pairs of tiles that do not overlap (to learn the
 * NCC chance reaches), are split over the ranks by work; each rank reads only its pairs' strips and
 * registers them natively (phase correlation + NCC); the table is summed over ranks, then rank 0
 * solves the positions and broadcasts them: the same bits for any number of ranks.
 */
import { planStitch, type StitchPlan } from '../core/plan';
import { expected, UsageError } from '../errors';
import { openTileSource, type TileSource } from '../io/sources';
import { readLayoutFile } from '../io/layout-file';
import { native } from '../runtime/addon';
import { openFile, type H5File } from '../runtime/hdf5';
import { initMpi, type Mpi } from '../runtime/mpi';
import { balance, candidatePairs, nullPairs, type PairJob } from './pairs';
import { solvePositions, type Link, type LinkStatus, type Model, type TileStatus } from './solve';
import { checkNewOutput } from '../io/output-path';

export interface RegisterOptions {
  input: string;
  /** POSITIONS.h5 to write; undefined: none (`stitch --register` stores the result with its output). */
  output?: string;
  force?: boolean;
  tilesPath?: string;
  layoutPath?: string;
  layoutFile?: string;
  overlap?: [number, number];
  /** Nominal positions instead of a grid: a dataset in INPUT, or the positions themselves. */
  positionsPath?: string;
  positions?: Array<[number, number]>;
  /** Largest deviation from the nominal relative position, per axis, in pixels. Default: a tenth of the smaller tile side (at least 8). */
  maxShift?: number;
  /** Correlation peaks examined per pair. Default 5. */
  peaks?: number;
  /** NCC a link needs; default: from the null pairs (see nccThreshold). */
  minNcc?: number;
  /** Null pairs sampled. Default: as many as real pairs, 30 to 100. */
  nullPairs?: number;
}

export interface PairRecord {
  a: number; b: number; dy: number; dx: number; ncc: number; residual: number; status: LinkStatus;
}

export interface TileRecord { index: number; y: number; x: number; status: TileStatus; reason?: string; uncertainty?: number }

export interface RegisterReport {
  command: 'register';
  input: string;
  /** The positions file, or null (stitch --register: stored with the stitched output). */
  output: string | null;
  ranks: number;
  tiles: number;
  tileSize: [number, number];
  maxShift: number;
  nccThreshold: { value: number; source: string; nullPairs: number; nullNcc: { median: number; p99: number; max: number } | null };
  pairs: { total: number; kept: number; lowNcc: number; noCandidate: number; outlier: number };
  status: Record<TileStatus, number>;
  model: Model;
  canvas: [number, number];
  /**
   * pairs: the pair phase (wall); read, register: the busiest rank's strip reads and native
   * registration, which splits into fft (windowing, transforms, cross-power spectrum, peak search)
   * and ncc (scoring candidates, hill-climb, sub-pixel); solve: rank 0's global solve.
   */
  seconds: { total: number; pairs: number; read: number; register: number; fft: number; ncc: number; solve: number };
  /** Pairs registered: real ones, and null ones (for the NCC threshold). */
  jobs: { real: number; null: number };
  /** Pairs (real and null) registered per second on the busiest rank. */
  pairsPerSecondPerRank: number;
  tileTable: TileRecord[];
  pairTable: PairRecord[];
}

const STATUS_CODES: LinkStatus[] = ['kept', 'low-ncc', 'no-candidate', 'outlier'];
const TILE_CODES: TileStatus[] = ['registered', 'registered-group', 'modelled'];
/** Fields per pair in the summed table: dy, dx, ncc, overlap, candidates. */
const FIELDS = 5;
/** The floor under the data-driven threshold: below it a match is never trusted. */
const MIN_NCC_FLOOR = 0.1;

function quantile(sorted: number[], q: number): number {
  const at = q * (sorted.length - 1), lo = Math.floor(at), hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** Registers every job this rank owns into `table` (FIELDS per job); returns [read, register, fft, ncc] seconds. */
function registerJobs(source: TileSource, jobs: readonly PairJob[], mine: number[], table: Float64Array, maxShift: number, peaks: number): [number, number, number, number] {
  const addon = native();
  let readSeconds = 0, registerSeconds = 0, fftSeconds = 0, nccSeconds = 0;
  for (const i of mine) {
    const t0 = performance.now();
    const j = jobs[i];
    const sa = j.stripA, sb = j.stripB;
    // Copies: readRegion may hand back one reused buffer.
    const a = source.readRegion(j.a, sa.y, sa.y + sa.height, sa.x, sa.x + sa.width).slice();
    const b = source.readRegion(j.b, sb.y, sb.y + sb.height, sb.x, sb.x + sb.width);
    const t1 = performance.now();
    const r = addon.registerPair(a, [sa.height, sa.width], b, [sb.height, sb.width], { offset: j.offset, maxShift, peaks, minOverlap: j.minOverlap });
    table.set([r.dy, r.dx, r.ncc, r.overlap, r.candidates], i * FIELDS);
    readSeconds += (t1 - t0) / 1000;
    registerSeconds += (performance.now() - t1) / 1000;
    fftSeconds += r.fftSeconds;
    nccSeconds += r.nccSeconds;
  }
  return [readSeconds, registerSeconds, fftSeconds, nccSeconds];
}

/**
 * Every tile's position from its overlaps, written to `options.output` (/positions, /pairs,
 * /tile_status). Collective: call on every rank. See docs/registration.md.
 */
export function register(options: RegisterOptions): RegisterReport {
  return runRegister(initMpi(), options);
}

/** Library callers get the command line's refusals (UsageError naming the option). */
function checkOptions(o: RegisterOptions): void {
  if (typeof o !== 'object' || o === null) throw expected('an options object', 'register()', o);
  if (typeof o.input !== 'string' || o.input === '') throw expected('a file or directory name', 'INPUT', o.input);
  if (o.output !== undefined && (typeof o.output !== 'string' || o.output === '')) throw expected('a file name', '--out', o.output);
  const integer = (v: unknown, name: string, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min)) throw expected(`an integer >= ${min}`, name, v);
  };
  integer(o.maxShift, '--max-shift', 0);
  integer(o.peaks, '--peaks', 1);
  integer(o.nullPairs, 'nullPairs', 0);
  if (o.minNcc !== undefined && !(typeof o.minNcc === 'number' && o.minNcc >= -1 && o.minNcc <= 1)) throw expected('a number in [-1, 1]', '--min-ncc', o.minNcc);
  if (o.positions && o.positionsPath) throw new UsageError('give positions or a positions dataset (--positions), not both');
}

/** Collective. Writes POSITIONS.h5 on rank 0 and returns the report on every rank. */
export function runRegister(mpi: Mpi, o: RegisterOptions): RegisterReport {
  checkOptions(o);
  const started = mpi.wtime();
  const output = o.output;
  if (output !== undefined) mpi.runOnRoot(() => checkNewOutput(output, { force: o.force ?? false, input: o.input }));
  const { source, plan } = mpi.runOnAll(() => {
    const src = openTileSource(o.input, { tilesPath: o.tilesPath, layoutPath: o.layoutPath, positionsPath: o.positionsPath });
    try {
      const layout = o.layoutFile ? readLayoutFile(o.layoutFile) : undefined;
      return { source: src, plan: planStitch(src, { blend: 'linear', overlap: o.overlap, layout, positions: o.positions }) as StitchPlan };
    } catch (error) {
      src.close();
      throw error;
    }
  });
  try {
    const maxShift = o.maxShift ?? Math.max(8, Math.round(Math.min(source.height, source.width) / 10));
    const real = candidatePairs(plan, maxShift);
    if (real.length === 0) throw new UsageError(`no two tiles of ${o.input} overlap: nothing to register`);
    const nulls = nullPairs(plan, real, o.nullPairs ?? Math.min(100, Math.max(30, real.length)));
    const jobs = [...real, ...nulls];
    const owned = balance(jobs, mpi.size);
    const mine = owned[mpi.rank];
    const local = new Float64Array(jobs.length * FIELDS);
    const pairsStarted = mpi.wtime();
    const [readSeconds, nativeSeconds, fftSeconds, nccSeconds] = mpi.runOnAll(() => registerJobs(source, jobs, mine, local, maxShift, o.peaks ?? 5));
    const myPairSeconds = mpi.wtime() - pairsStarted;
    // Each entry is written by one rank and zero elsewhere: the sum is that rank's bits.
    const table = mpi.allreduce(local, 'sum');
    // Each figure's maximum over the ranks (the busiest rank's, per figure).
    const busiest = mpi.allreduce(new Float64Array([myPairSeconds, readSeconds, nativeSeconds, fftSeconds, nccSeconds]), 'max');
    const pairSeconds = mpi.wtime() - pairsStarted;

    const solveStarted = mpi.wtime();
    const solved = mpi.runOnRoot(() => solveOnRoot(plan, real, nulls, table, o));
    const solveSeconds = mpi.wtime() - solveStarted;
    const report: RegisterReport = {
      command: 'register', input: o.input, output: output ?? null, ranks: mpi.size, tiles: source.count, tileSize: [source.height, source.width], maxShift,
      ...solved,
      seconds: { total: 0, pairs: pairSeconds, read: busiest[1], register: busiest[2], fft: busiest[3], ncc: busiest[4], solve: solveSeconds },
      jobs: { real: real.length, null: nulls.length },
      pairsPerSecondPerRank: busiest[0] > 0 ? Math.max(...owned.map((m) => m.length)) / busiest[0] : 0,
    };
    if (output !== undefined) {
      mpi.runOnRoot(() => {
        const file = openFile(output, { mode: 'create', overwrite: true });
        try {
          writeRegistration(file, '', report);
        } finally {
          file.close();
        }
      });
    }
    report.seconds.total = mpi.wtime() - started;
    return report;
  } finally {
    source.close();
  }
}

type Solved = Pick<RegisterReport, 'nccThreshold' | 'pairs' | 'status' | 'model' | 'canvas' | 'tileTable' | 'pairTable'>;

function solveOnRoot(plan: StitchPlan, real: PairJob[], nulls: PairJob[], table: Float64Array, o: RegisterOptions): Solved {
  const at = (i: number, f: number) => table[i * FIELDS + f];
  const nullNcc = nulls.map((_, k) => (at(real.length + k, 4) > 0 ? at(real.length + k, 2) : -1)).sort((p, q) => p - q);
  let threshold: Solved['nccThreshold'];
  const stats = nullNcc.length ? { median: quantile(nullNcc, 0.5), p99: quantile(nullNcc, 0.99), max: nullNcc[nullNcc.length - 1] } : null;
  if (o.minNcc !== undefined) threshold = { value: o.minNcc, source: '--min-ncc', nullPairs: nulls.length, nullNcc: stats };
  else if (stats) {
    threshold = { value: Math.max(MIN_NCC_FLOOR, stats.p99), source: `99th percentile of ${nulls.length} null pairs (floor ${MIN_NCC_FLOOR})`, nullPairs: nulls.length, nullNcc: stats };
  } else threshold = { value: 0.3, source: 'fixed 0.3: too few tiles for null pairs', nullPairs: 0, nullNcc: null };

  const links: Link[] = real.map((p, i) => ({
    a: p.a, b: p.b, dy: at(i, 0), dx: at(i, 1), ncc: at(i, 2), residual: 0,
    status: at(i, 4) === 0 ? 'no-candidate' : at(i, 2) < threshold.value ? 'low-ncc' : 'kept',
  }));
  const byIndex = [...plan.planned].sort((p, q) => p.index - q.index);
  const nominal = byIndex.map((t) => [t.y, t.x] as [number, number]);
  const solution = solvePositions(nominal, links);
  // Canvas origin at 0: the smallest y and x become 0.
  let minY = Infinity, minX = Infinity, maxY = -Infinity, maxX = -Infinity;
  for (const t of solution.tiles) { minY = Math.min(minY, t.y); minX = Math.min(minX, t.x); }
  const tileTable = solution.tiles.map((t, index) => ({ index, ...t, y: t.y - minY, x: t.x - minX }));
  for (const t of tileTable) { maxY = Math.max(maxY, Math.round(t.y)); maxX = Math.max(maxX, Math.round(t.x)); }
  const height = byIndex[0].height, width = byIndex[0].width;
  const count = (s: LinkStatus) => links.filter((l) => l.status === s).length;
  const status = { registered: 0, 'registered-group': 0, modelled: 0 } as Record<TileStatus, number>;
  for (const t of tileTable) status[t.status]++;
  return {
    nccThreshold: threshold,
    pairs: { total: links.length, kept: count('kept'), lowNcc: count('low-ncc'), noCandidate: count('no-candidate'), outlier: count('outlier') },
    status,
    model: solution.model,
    canvas: [maxY + height, maxX + width],
    tileTable,
    pairTable: links.map((l) => ({ a: l.a, b: l.b, dy: l.dy, dx: l.dx, ncc: l.ncc, residual: l.residual, status: l.status })),
  };
}

/**
 * Writes `prefix`/positions, /tile_status, /pairs and the summary attributes (on `prefix`, or the
 * root) into an open file: the positions file of `register`, or the stitched output's
 * /h5stitch/registration group (stitch --register).
 */
export function writeRegistration(file: H5File, prefix: string, r: RegisterReport): void {
  {
    const n = r.tileTable.length;
    const positions = file.createDataset(`${prefix}/positions`, { shape: [n, 2], dtype: 'float64' });
    positions.write([0, 0], [n, 2], Float64Array.from(r.tileTable.flatMap((t) => [t.y, t.x])));
    positions.setAttr('description', "registered (y, x) of each tile index, canvas origin at 0; `stitch --positions FILE:/positions` rounds them to whole pixels");
    positions.close();
    const status = file.createDataset(`${prefix}/tile_status`, { shape: [n], dtype: 'int32' });
    status.write([0], [n], Int32Array.from(r.tileTable.map((t) => TILE_CODES.indexOf(t.status))));
    status.setAttr('codes', TILE_CODES.map((s, i) => `${i}=${s}`).join(' '));
    status.close();
    const p = r.pairTable.length;
    const pairs = file.createDataset(`${prefix}/pairs`, { shape: [p, 7], dtype: 'float64' });
    pairs.write([0, 0], [p, 7], Float64Array.from(r.pairTable.flatMap((q) => [q.a, q.b, q.dy, q.dx, q.ncc, q.residual, STATUS_CODES.indexOf(q.status)])));
    pairs.setAttr('columns', 'tile_a tile_b dy dx ncc residual status');
    pairs.setAttr('description', '(dy, dx): measured minus nominal position of tile_b relative to tile_a; residual: distance from the solved positions; status codes: ' +
      STATUS_CODES.map((s, i) => `${i}=${s}`).join(' '));
    pairs.close();
    const { tileTable, pairTable, ...summary } = r;
    void tileTable;
    void pairTable;
    const at = prefix || '/';
    file.setAttr(at, 'register_summary', JSON.stringify(summary));
    file.setAttr(at, 'ncc_threshold', r.nccThreshold.value);
    file.setAttr(at, 'max_shift', r.maxShift);
  }
}
