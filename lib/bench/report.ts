/** The bench report: its shape, the project's targets checked on it, and its text table. */
import type { Dtype } from '../core/dtype';
import type { StitchReport } from '../stitch/run';

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
export function medianIndex(values: number[]): number {
  const order = values.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
  return order[Math.floor((order.length - 1) / 2)][1];
}

export function summary(runs: number[]) {
  return { runs, median: runs[medianIndex(runs)], min: Math.min(...runs), max: Math.max(...runs) };
}

export function formatBench(r: BenchReport): string {
  const c = r.config;
  const head = `h5stitch bench: ${c.tileCount} tiles of ${c.tile.join('x')} ${c.dtype} -> ${c.canvas.join('x')} canvas ` +
    `(${(r.raw.bytes / 1e6).toFixed(1)} MB), ${c.ranks} ranks, ${c.repeat} runs each, ${r.machine.host} (${r.machine.cpus} cpus, ${r.machine.mpiLibrary})\n`;
  const cols = ['strategy', 'median s', 'min s', 'max s', 'plan s', 'read s', 'compute s', 'write s', 'sync s', 'read MB', 'written MB', 'MB/s', 'ratio', 'peak RSS MiB', 'bound MiB'];
  const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
  const rows = r.strategies.map((s) => [
    s.name + (s.pipeline ? ' (pipelined)' : ''), s.median.toFixed(3), s.min.toFixed(3), s.max.toFixed(3), s.phases.plan.toFixed(3), s.phases.read.toFixed(3), s.phases.compute.toFixed(3),
    s.phases.write.toFixed(3), s.phases.sync.toFixed(3), mb(s.bytes.read), mb(s.bytes.written), s.outputMBps.toFixed(1), s.ratio.toFixed(2),
    (s.peakRssKiB / 1024).toFixed(0), (s.rssBoundKiB / 1024).toFixed(0),
  ]);
  rows.push(['raw write', r.raw.median.toFixed(3), r.raw.min.toFixed(3), r.raw.max.toFixed(3), '', '', '', '', '', '0', mb(r.raw.bytes), r.raw.outputMBps.toFixed(1), '1.00', '', '']);
  const widths = cols.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ').trimEnd();
  const targets = r.targets.map((t) => `target: ${t.name} = ${t.value.toFixed(2)} (goal ${t.goal}): ${t.met ? 'met' : 'NOT met'}\n`).join('');
  return `${head}${line(cols)}\n${rows.map(line).join('\n')}\nverified: all outputs pass verify and are bit-identical\n${targets}`;
}
