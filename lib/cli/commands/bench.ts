/** `bench`: every strategy against a raw MPI-IO write of the same bytes, verified. */
import * as os from 'node:os';
import * as path from 'node:path';
import { runBench } from '../../bench/bench';
import { BENCH_INPUTS, formatInputBench, runInputBench, type BenchInput } from '../../bench/inputs';
import { BENCH_STRATEGIES, formatBench, type BenchStrategy } from '../../bench/report';
import { GENERATE_DTYPES, type Dtype } from '../../core/dtype';
import { expected, UsageError } from '../../errors';
import { DEFAULT_MEM_PER_RANK } from '../../stitch/options';
import type { StitchOptions } from '../../stitch/options';
import { optBytes, optFlag, optHints, optInt, optPair, optString, type ParsedArgs } from '../args';
import type { Command } from './command';
import { tileSetOptions } from './generate';
import { MPIIO_OPTIONS } from './stitch';

function strategiesFrom(args: ParsedArgs): BenchStrategy[] {
  const strategies = (optString(args, 'strategies') ?? BENCH_STRATEGIES.join(',')).split(',').map((s) => s.trim());
  for (const s of strategies) {
    if (!BENCH_STRATEGIES.includes(s as BenchStrategy)) throw expected(`a comma-separated list of ${BENCH_STRATEGIES.join(' | ')}`, '--strategies', s);
  }
  if (new Set(strategies).size !== strategies.length) throw new UsageError('--strategies lists a strategy twice');
  return strategies as BenchStrategy[];
}

/** --inputs LIST: hdf5 (added first when absent: every ratio is to it) and the TIFF series to compare with it. */
function inputsFrom(value: string): BenchInput[] {
  const inputs = value.split(',').map((s) => s.trim());
  for (const i of inputs) {
    if (!BENCH_INPUTS.includes(i as BenchInput)) throw expected(`a comma-separated list of ${BENCH_INPUTS.join(' | ')}`, '--inputs', i);
  }
  if (new Set(inputs).size !== inputs.length) throw new UsageError('--inputs lists an input twice');
  return ['hdf5', ...inputs.filter((i) => i !== 'hdf5')] as BenchInput[];
}

export const benchCommand: Command = {
  spec: {
    name: 'bench',
    summary: 'time every write strategy against a raw MPI-IO write of the same bytes, verifying every output',
    usage: ['bench [--tiles RxC] [--tile HxW] [--overlap P] [--dtype D] [--dir PATH] [--repeat K] [--strategies LIST]',
      'bench --inputs hdf5,tiff,tiff-deflate [--tiles RxC] [--tile HxW] ...   the same tiles read and stitched from HDF5 and from TIFF series'],
    options: {
      ...tileSetOptions(512),
      dir: { value: 'PATH', help: 'scratch directory for tiles and outputs (default: $TMPDIR/h5stitch-bench)' },
      repeat: { value: 'K', help: 'runs per strategy (default 3)' },
      strategies: { value: 'LIST', help: `comma-separated, of ${BENCH_STRATEGIES.join(',')}` },
      inputs: { value: 'LIST', help: `comma-separated, of ${BENCH_INPUTS.join(',')}: read rate and slab stitch time of each against HDF5 (instead of the strategies)` },
      'mem-per-rank': { value: 'SIZE', help: 'band memory per rank (default 16M)' },
      pipeline: { value: 'P', help: 'passed on to the slab runs' },
      writeback: { value: 'W', help: 'passed on to the slab runs' },
      ...MPIIO_OPTIONS,
    },
  },
  run(mpi, args) {
    if (args.positional.length > 0) throw new UsageError(`unexpected argument "${args.positional[0]}"`);
    const tile = optPair(args, 'tile', 2) ?? [512, 512];
    const overlap = optInt(args, 'overlap', 0) ?? Math.round(Math.min(...tile) / 10);
    if (overlap >= tile[0] || overlap >= tile[1]) throw new UsageError(`overlap ${overlap} must be smaller than the tile ${tile.join('x')}`);
    const dtype = optString(args, 'dtype') ?? 'float32';
    if (!GENERATE_DTYPES.includes(dtype as Dtype)) throw expected(`one of ${GENERATE_DTYPES.join(' | ')}`, '--dtype', dtype);
    const json = optFlag(args, 'json');
    const inputs = optString(args, 'inputs');
    // What both benches take: the generated set, the budget, and the options passed to every stitch.
    const common = {
      tiles: optPair(args, 'tiles', 1) ?? [4, 4] as [number, number], tile, overlap, dtype: dtype as Dtype, repeat: optInt(args, 'repeat', 1) ?? 3,
      dir: path.resolve(optString(args, 'dir') ?? path.join(os.tmpdir(), 'h5stitch-bench')),
      memPerRank: optBytes(args, 'mem-per-rank') ?? DEFAULT_MEM_PER_RANK,
      stitch: {
        hints: optHints(args), keepDataSieving: optFlag(args, 'keep-data-sieving'),
        pipeline: optString(args, 'pipeline') as StitchOptions['pipeline'], writeback: optString(args, 'writeback') as StitchOptions['writeback'],
      },
      verbose: !json,
    };
    if (inputs !== undefined) {
      if (args.options.has('strategies')) throw new UsageError('give --inputs or --strategies, not both (--inputs times slab)');
      const report = runInputBench(mpi, { ...common, inputs: inputsFrom(inputs) });
      if (mpi.rank === 0) process.stdout.write(json ? `${JSON.stringify(report)}\n` : formatInputBench(report));
      return 0;
    }
    const report = runBench(mpi, { ...common, strategies: strategiesFrom(args) });
    if (mpi.rank === 0) process.stdout.write(json ? `${JSON.stringify(report)}\n` : formatBench(report));
    return 0;
  },
};
