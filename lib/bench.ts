/**
 * `bench`: times every write strategy on one generated tile set, in one MPI job,
 * against the raw MPI-IO write speed of the same byte count, and checks every
 * strategy's output (verifyOutput, and bit-identical to the first strategy's).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { optBytes, optChoice, optFlag, optInt, optPair, optString, type ParsedArgs } from './args';
import { H5StitchError, UsageError } from './errors';
import { generateTiles } from './generate';
import { newArray, openFile } from './hdf5';
import type { Mpi } from './mpi';
import { native, type Dtype } from './native';
import { DEFAULT_MEM_PER_RANK, runStitch, stitchRequest, type StitchReport } from './run';
import { verifyOutput } from './verify';

export type BenchStrategy = 'serial' | 'rounds-independent' | 'rounds-collective' | 'slab' | 'slab-independent';
export const BENCH_STRATEGIES: readonly BenchStrategy[] = ['serial', 'rounds-independent', 'rounds-collective', 'slab', 'slab-independent'];

export interface BenchStrategyResult {
  name: BenchStrategy;
  runs: number[];
  median: number;
  min: number;
  max: number;
  /** Phases of the median run (max over ranks); they overlap when pipelined. */
  phases: StitchReport['phases'];
  /** slab blended on a second thread (see stitch --pipeline). */
  pipeline: boolean;
  outputMBps: number;
  bytes: StitchReport['bytes'];
  /** Peak RSS (KiB) during this strategy's runs, max over ranks (Linux; elsewhere the process-lifetime peak). */
  peakRssKiB: number;
  /** Baseline of the bound (KiB, max over ranks): the warm-up's peak RSS, or the RSS when this strategy started if higher. */
  baselineRssKiB: number;
  /**
   * memPerRank (the band, or the two half-size bands of --pipeline) + cb_buffer_size (MPI-IO
   * aggregation buffer) + the tiles in flight (2 tiles, or what a rank held if more: the tile parts
   * of two bands when pipelined) + baselineRssKiB, in KiB.
   */
  rssBoundKiB: number;
  /** raw-write median / strategy median: 1.0 = as fast as a raw write. */
  ratio: number;
  verified: boolean;
  identical: boolean;
}

export interface BenchReport {
  command: 'bench';
  machine: { host: string; cpus: number; mpiLibrary: string; hdf5: string };
  config: {
    ranks: number; tiles: [number, number]; tile: [number, number]; overlap: number; dtype: Dtype; repeat: number;
    canvas: [number, number]; tileCount: number; memPerRank: number; dir: string; input: string; baselineRssKiB: number;
  };
  raw: { runs: number[]; median: number; min: number; max: number; bytes: number; outputMBps: number };
  strategies: BenchStrategyResult[];
  /** The project's performance goals, checked on this run (reported, never a pass/fail of the bench). */
  targets: BenchTarget[];
  verified: boolean;
}

export interface BenchTarget {
  name: string;
  /** e.g. ">= 0.6" */
  goal: string;
  value: number;
  met: boolean;
}

/**
 * Per slab variant that ran (slab = collective, slab-independent): its ratio to the raw write,
 * its speed-up over rounds-independent, its peak RSS against its bound.
 */
export function benchTargets(strategies: readonly BenchStrategyResult[]): BenchTarget[] {
  const rounds = strategies.find((s) => s.name === 'rounds-independent');
  return strategies.filter((s) => s.name.startsWith('slab')).flatMap((slab) => {
    const targets: BenchTarget[] = [{ name: `${slab.name} ratio to raw write`, goal: '>= 0.6', value: slab.ratio, met: slab.ratio >= 0.6 }];
    if (rounds) {
      const speedup = rounds.median / slab.median;
      targets.push({ name: `${slab.name} speed-up over rounds-independent`, goal: '>= 2 (stated for 2 ranks)', value: speedup, met: speedup >= 2 });
    }
    const rss = slab.peakRssKiB / slab.rssBoundKiB;
    targets.push({ name: `${slab.name} peak RSS / bound`, goal: '<= 1', value: rss, met: rss <= 1 });
    return targets;
  });
}

/** Index of the median run in `values` (lower middle for an even count). */
function medianIndex(values: number[]): number {
  const order = values.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
  return order[Math.floor((order.length - 1) / 2)][1];
}

function summary(runs: number[]) {
  return { runs, median: runs[medianIndex(runs)], min: Math.min(...runs), max: Math.max(...runs) };
}

/** VmRSS or VmHWM (peak) of this process in KiB, from /proc (Linux); getrusage's lifetime peak elsewhere. */
function rssKiB(field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS;
}

/**
 * Starts a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM to the current RSS),
 * so each strategy's peak is its own rather than the process's lifetime peak. Returns the RSS
 * at the reset (max over ranks): the baseline of the window.
 */
function resetPeakRss(mpi: Mpi): number {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch { /* cannot reset: the peak stays the lifetime peak */ }
  return mpi.allreduce(new Float64Array([rssKiB('VmRSS')]), 'max')[0];
}

function peakRssKiB(mpi: Mpi): number {
  return mpi.allreduce(new Float64Array([rssKiB('VmHWM')]), 'max')[0];
}

/** Runs `fn` on rank 0 only and agrees on its outcome; returns rank 0's result on every rank. */
function onRank0<T>(mpi: Mpi, fn: () => T): T {
  let failure: unknown;
  let result: T | undefined;
  try {
    if (mpi.rank === 0) result = fn();
  } catch (error) {
    failure = error;
  }
  mpi.agree(failure);
  return mpi.bcastJson(result);
}

/** Compares the first dataset of two h5stitch outputs byte for byte, in row blocks (serial, rank 0). */
function sameBytes(a: string, b: string, dataset: string): { identical: boolean; firstRow?: number } {
  const fa = openFile(a), fb = openFile(b);
  try {
    const da = fa.openDataset(dataset), db = fb.openDataset(dataset);
    try {
      if (da.dtype !== db.dtype || da.shape.join('x') !== db.shape.join('x')) return { identical: false, firstRow: 0 };
      const [height, width] = da.shape;
      const rows = Math.max(1, Math.floor((16 << 20) / (width * 8)));
      const ba = newArray(da.dtype ?? 'float64', rows * width), bb = newArray(db.dtype ?? 'float64', rows * width);
      for (let y = 0; y < height; y += rows) {
        const n = Math.min(rows, height - y);
        const va = da.read([y, 0], [n, width], ba.subarray(0, n * width) as Float64Array);
        const vb = db.read([y, 0], [n, width], bb.subarray(0, n * width) as Float64Array);
        if (!Buffer.from(va.buffer, va.byteOffset, va.byteLength).equals(Buffer.from(vb.buffer, vb.byteOffset, vb.byteLength))) {
          return { identical: false, firstRow: y };
        }
      }
      return { identical: true };
    } finally {
      da.close();
      db.close();
    }
  } finally {
    fa.close();
    fb.close();
  }
}

/** Test hook: zeroes the central half of one tile (pixels only it owns) in an output. Serial, rank 0. */
function corruptOneTile(file: string, dataset: string): number {
  const f = openFile(file, { mode: 'r+' });
  try {
    const ds = f.openDataset(dataset);
    try {
      const index = ds.getAttr('tile_index') as Float64Array;
      const ys = ds.getAttr('tile_y') as Float64Array, xs = ds.getAttr('tile_x') as Float64Array;
      const [h, w] = Array.from(ds.getAttr('tile_shape') as Float64Array);
      const k = Math.floor(index.length / 2);
      const y0 = ys[k] + Math.floor(h / 4), x0 = xs[k] + Math.floor(w / 4);
      const rows = Math.max(1, Math.floor(h / 2)), cols = Math.max(1, Math.floor(w / 2));
      ds.write([y0, x0], [rows, cols], newArray(ds.dtype ?? 'float32', rows * cols));
      return index[k];
    } finally {
      ds.close();
    }
  } finally {
    f.close();
  }
}

function stitchArgs(input: string, out: string, strategy: BenchStrategy, args: ParsedArgs): ParsedArgs {
  const options = new Map<string, string[]>([['out', [out]], ['force', ['true']], ['json', ['true']]]);
  const [base, io] = strategy.split('-');
  options.set('strategy', [base]);
  if (io) options.set('io', [io]);
  for (const name of ['mem-per-rank', 'hint', 'keep-data-sieving', 'writeback', ...(base === 'slab' ? ['pipeline'] : [])]) {
    const v = args.options.get(name);
    if (v) options.set(name, v);
  }
  return { positional: [input], options };
}

export function benchCommand(mpi: Mpi, args: ParsedArgs): number {
  if (args.positional.length > 0) throw new UsageError(`unexpected argument "${args.positional[0]}"`);
  const [rows, cols] = optPair(args, 'tiles', 1) ?? [4, 4];
  const [tileHeight, tileWidth] = optPair(args, 'tile', 2) ?? [512, 512];
  const overlap = optInt(args, 'overlap', 0) ?? Math.round(Math.min(tileHeight, tileWidth) / 10);
  const dtype = optChoice<Dtype>(args, 'dtype', ['uint8', 'uint16', 'float32', 'float64'], 'float32');
  const repeat = optInt(args, 'repeat', 1) ?? 3;
  const dir = path.resolve(optString(args, 'dir') ?? path.join(os.tmpdir(), 'h5stitch-bench'));
  const memPerRank = optBytes(args, 'mem-per-rank', DEFAULT_MEM_PER_RANK);
  const strategies = (optString(args, 'strategies') ?? BENCH_STRATEGIES.join(',')).split(',').map((s) => s.trim());
  for (const s of strategies) {
    if (!BENCH_STRATEGIES.includes(s as BenchStrategy)) throw new UsageError(`Expected a comma-separated list of ${BENCH_STRATEGIES.join(' | ')} for --strategies but received "${s}"`);
  }
  if (new Set(strategies).size !== strategies.length) throw new UsageError('--strategies lists a strategy twice');
  const corrupt = optString(args, 'corrupt-output');
  if (corrupt !== undefined && !strategies.includes(corrupt)) throw new UsageError(`--corrupt-output ${corrupt} is not one of the strategies benchmarked (${strategies.join(',')})`);
  if (overlap >= tileHeight || overlap >= tileWidth) throw new UsageError(`overlap ${overlap} must be smaller than the tile ${tileHeight}x${tileWidth}`);
  const json = optFlag(args, 'json');
  const dataset = '/stitched';

  // Tile sets: reuse ones generated with the same parameters (their names say which).
  const tileSet = (r: number, c: number, h: number, w: number, o: number): string => {
    const file = path.join(dir, `tiles-${r}x${c}-${h}x${w}-o${o}-${dtype}.h5`);
    onRank0(mpi, () => {
      fs.mkdirSync(dir, { recursive: true });
      if (fs.existsSync(file)) return true;
      if (!json) console.log(`h5stitch bench: generating ${r}x${c} tiles of ${h}x${w} ${dtype} in ${file}`);
      const partial = `${file}.partial`;
      generateTiles(partial, { rows: r, cols: c, tileHeight: h, tileWidth: w, overlapY: o, overlapX: o, dtype }, true);
      fs.renameSync(partial, file);
      return true;
    });
    mpi.barrier();
    return file;
  };
  const input = tileSet(rows, cols, tileHeight, tileWidth, overlap);

  // Baseline: the peak RSS of slab stitches of the same grid of 32x32 tiles. They load and compile
  // (JIT-optimise) every code path, open parallel files and plan as many tiles, so they hold all a
  // run needs but the data: Node + addon + MPI + HDF5 and their working state.
  const warmOut = path.join(dir, 'out-warmup.h5');
  const warmTiles = tileSet(rows, cols, 32, 32, 3);
  resetPeakRss(mpi);
  const warmRequest = stitchRequest(stitchArgs(warmTiles, warmOut, 'slab', args));
  for (let i = 0; i < 3; i++) runStitch(mpi, warmRequest);
  const baselineRssKiB = peakRssKiB(mpi);
  mpi.barrier();
  if (mpi.rank === 0) fs.rmSync(warmOut, { force: true });

  const tileBytes = tileHeight * tileWidth * newArray(dtype, 0).BYTES_PER_ELEMENT;
  const results: BenchStrategyResult[] = [];
  const failures: string[] = [];
  let first: string | undefined;
  let outputBytes = 0;
  let canvas: [number, number] = [0, 0];
  let tileCount = 0;
  // Raw-write reference: the same byte count, one collective MPI-IO write + sync, into a new file
  // each time like every stitched output (overwriting a file already in the page cache skips block
  // allocation: 0.075 s against 0.11-0.57 s for 224 MB with dd here; not the same work). One after
  // each stitch run, so the reference sees the same machine conditions as the strategies.
  const rawPath = path.join(dir, 'raw.bin');
  const rawRuns: number[] = [];
  const rawWrite = (bytes: number, hints: Record<string, string>): void => {
    if (mpi.rank === 0) fs.rmSync(rawPath, { force: true });
    mpi.barrier();
    const local = native().rawWrite(rawPath, bytes, hints);
    rawRuns.push(mpi.allreduce(new Float64Array([local]), 'max')[0]);
  };
  for (const name of strategies as BenchStrategy[]) {
    const out = path.join(dir, `out-${name}.h5`);
    const reports: StitchReport[] = [];
    // --json in stitchArgs: no progress display.
    const req = stitchRequest(stitchArgs(input, out, name, args));
    // The bound's baseline: the warm-up's peak, or more if earlier strategies left memory behind.
    const startRssKiB = Math.max(baselineRssKiB, resetPeakRss(mpi));
    const cbBytes = Number(req.hints.cb_buffer_size ?? 0);
    let peakKiB = 0;
    for (let i = 0; i < repeat; i++) {
      // Each run writes a new file, as the raw write does: deleting the last output is not stitching.
      if (mpi.rank === 0) fs.rmSync(out, { force: true });
      mpi.barrier();
      if (i > 0) resetPeakRss(mpi);
      reports.push(runStitch(mpi, req));
      peakKiB = Math.max(peakKiB, peakRssKiB(mpi));
      if (!json && mpi.rank === 0) process.stderr.write(`h5stitch bench: ${name} run ${i + 1}/${repeat}: ${reports[i].wallSeconds.toFixed(3)} s\n`);
      rawWrite(reports[i].bytes.output, req.hints);
    }
    const tilesInFlight = Math.max(2 * tileBytes, ...reports.map((r) => r.bytes.tilesHeld));
    const rssBoundKiB = Math.ceil((memPerRank + cbBytes + tilesInFlight) / 1024 + startRssKiB);
    const walls = reports.map((r) => r.wallSeconds);
    const mid = reports[medianIndex(walls)];
    outputBytes = mid.bytes.output;
    canvas = mid.canvas;
    tileCount = mid.tiles;

    if (corrupt === name) {
      mpi.barrier();
      const tile = onRank0(mpi, () => corruptOneTile(out, dataset));
      mpi.barrier();
      if (!json && mpi.rank === 0) process.stderr.write(`h5stitch bench: --corrupt-output: zeroed pixels of tile ${tile} in ${out}\n`);
    }
    const verify = verifyOutput(mpi, { output: out, dataset, input, memPerRank: Math.min(memPerRank, 256 * 1024 ** 2) });
    if (!verify.ok) {
      const tiles = verify.failed.map((t) => `tile ${t.index} ${t.status} (${t.mismatched} pixels)`).join(', ');
      failures.push(`${name}: output failed verification: ${tiles || 'not marked complete'}`);
    }
    let identical = true;
    if (first === undefined) first = out;
    else {
      const cmp = onRank0(mpi, () => sameBytes(first!, out, dataset));
      identical = cmp.identical;
      if (!identical) failures.push(`${name}: output differs from ${path.basename(first)} (first at row ${cmp.firstRow})`);
    }
    results.push({
      name, ...summary(walls), phases: mid.phases, pipeline: mid.pipeline, outputMBps: mid.bytes.output / 1e6 / mid.wallSeconds, bytes: mid.bytes,
      peakRssKiB: peakKiB, baselineRssKiB: startRssKiB, rssBoundKiB, ratio: 0, verified: verify.ok, identical,
    });
  }

  mpi.barrier();
  if (mpi.rank === 0) fs.rmSync(rawPath, { force: true });
  mpi.barrier();
  const raw = { ...summary(rawRuns), bytes: outputBytes, outputMBps: 0 };
  raw.outputMBps = outputBytes / 1e6 / raw.median;
  for (const r of results) r.ratio = raw.median / r.median;

  // Every rank has the same verdict (all inputs were agreed or reduced); fail on all ranks together.
  if (failures.length > 0) {
    let failure: unknown;
    if (mpi.rank === 0) failure = new H5StitchError('ERR_BENCH_VERIFY', `bench: ${failures.join('; ')}`);
    mpi.agree(failure);
  }

  const { library } = native().mpi.libraryVersion();
  const report: BenchReport = {
    command: 'bench',
    machine: { host: os.hostname(), cpus: os.cpus().length, mpiLibrary: library.split('\n')[0].split(',')[0].trim(), hdf5: native().hdf5Version().version },
    config: {
      ranks: mpi.size, tiles: [rows, cols], tile: [tileHeight, tileWidth], overlap, dtype, repeat, canvas, tileCount, memPerRank, dir, input, baselineRssKiB,
    },
    raw,
    strategies: results,
    targets: benchTargets(results),
    verified: true,
  };
  if (mpi.rank === 0) {
    if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(formatBench(report));
  }
  return 0;
}

export function formatBench(r: BenchReport): string {
  const c = r.config;
  const head = `h5stitch bench: ${c.tileCount} tiles of ${c.tile.join('x')} ${c.dtype} -> ${c.canvas.join('x')} canvas ` +
    `(${(r.raw.bytes / 1e6).toFixed(1)} MB), ${c.ranks} ranks, ${c.repeat} runs each, ${r.machine.host} (${r.machine.cpus} cpus, ${r.machine.mpiLibrary})\n`;
  const cols = ['strategy', 'median s', 'min s', 'max s', 'read s', 'compute s', 'write s', 'sync s', 'read MB', 'written MB', 'MB/s', 'ratio', 'peak RSS MiB', 'bound MiB'];
  const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
  const rows = r.strategies.map((s) => [
    s.name + (s.pipeline ? ' (pipelined)' : ''), s.median.toFixed(3), s.min.toFixed(3), s.max.toFixed(3), s.phases.read.toFixed(3), s.phases.compute.toFixed(3),
    s.phases.write.toFixed(3), s.phases.sync.toFixed(3), mb(s.bytes.read), mb(s.bytes.written), s.outputMBps.toFixed(1), s.ratio.toFixed(2),
    (s.peakRssKiB / 1024).toFixed(0), (s.rssBoundKiB / 1024).toFixed(0),
  ]);
  rows.push(['raw write', r.raw.median.toFixed(3), r.raw.min.toFixed(3), r.raw.max.toFixed(3), '', '', '', '', '0', mb(r.raw.bytes), r.raw.outputMBps.toFixed(1), '1.00', '', '']);
  const widths = cols.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ').trimEnd();
  const targets = r.targets.map((t) => `target: ${t.name} = ${t.value.toFixed(2)} (goal ${t.goal}): ${t.met ? 'met' : 'NOT met'}\n`).join('');
  return `${head}${line(cols)}\n${rows.map(line).join('\n')}\nverified: all outputs pass verify and are bit-identical\n${targets}`;
}
