/** `stitch INPUT --out OUT.h5[:/dataset]`: maps flags to StitchOptions; the library validates. */
import { UsageError } from '../../errors';
import type { StitchOptions } from '../../stitch/options';
import { runStitch, type StitchReport } from '../../stitch/run';
import { resolveStitchOptions } from '../../stitch/options';
import { testHooks } from '../../testing/hooks';
import { resolvePositions } from '../../register/positions-file';
import { onePositional, optBytes, optFlag, optHints, optOverlap, optPair, optString, splitTarget, type OptionSpec, type ParsedArgs } from '../args';
import type { Command } from './command';

/** Where the tiles go: `stitch` and `register` place them alike. */
export const PLACEMENT_OPTIONS: Record<string, OptionSpec> = {
  overlap: { value: 'P', help: "overlap in pixels (default: the tiles' 'overlap' attribute)" },
  'overlap-y': { value: 'P', help: 'overlap between rows of tiles (with --overlap-x)' },
  'overlap-x': { value: 'P', help: 'overlap between columns of tiles (with --overlap-y)' },
  layout: { value: 'FILE.json', help: 'tile-index array (default: /tile_array in INPUT; -1 = empty)' },
  'layout-path': { value: '/PATH', help: 'layout dataset in INPUT (default /tile_array)' },
  positions: { value: '/DS|F.h5:/DS|F.json', help: 'explicit [N,2] (y, x) tile positions instead of a grid: a dataset in INPUT, in another HDF5 file (e.g. register --out), or a JSON list; rounded to whole pixels' },
  'tiles-path': { value: '/PATH', help: 'tiles dataset [N,H,W] or group of 2-D datasets (default /tiles)' },
};

/** MPI-IO options shared with `bench` and `info`. */
export const MPIIO_OPTIONS = {
  hint: { repeat: true, value: 'KEY=VALUE', help: 'extra MPI-IO hint (repeatable)' },
  'keep-data-sieving': { flag: true, help: 'leave MPI-IO write data sieving on (unsafe on most clusters)' },
};

export function compressLevel(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^gzip(?::([0-9]))?$/.exec(value);
  if (!m) throw new UsageError(`Expected gzip or gzip:LEVEL (0-9) for --compress but received "${value}"`);
  return Number(m[1] ?? 4);
}

export function stitchOptionsFrom(args: ParsedArgs): StitchOptions {
  const input = onePositional(args, 'INPUT (an HDF5 file of tiles, a directory of .npy tiles, a TIFF file-name pattern or a Fiji/MIST position file)');
  const out = optString(args, 'out');
  if (!out) throw new UsageError('missing --out OUT.h5');
  const target = splitTarget(out, '/stitched');
  const positions = resolvePositions(optString(args, 'positions'));
  return {
    input, output: target.file, dataset: target.dataset,
    strategy: optString(args, 'strategy') as StitchOptions['strategy'],
    io: optString(args, 'io') as StitchOptions['io'],
    pipeline: optString(args, 'pipeline') as StitchOptions['pipeline'],
    writeback: optString(args, 'writeback') as StitchOptions['writeback'],
    blend: optString(args, 'blend') as StitchOptions['blend'],
    dtype: optString(args, 'dtype') as StitchOptions['dtype'],
    atomic: optFlag(args, 'atomic'),
    chunk: optPair(args, 'chunk', 1),
    gzip: compressLevel(optString(args, 'compress')),
    memPerRank: optBytes(args, 'mem-per-rank'),
    hints: optHints(args),
    keepDataSieving: optFlag(args, 'keep-data-sieving'),
    layoutFile: optString(args, 'layout'),
    overlap: optOverlap(args),
    tilesPath: optString(args, 'tiles-path'),
    layoutPath: optString(args, 'layout-path'),
    positionsPath: positions?.positionsPath,
    positions: positions?.positions,
    trustFsCoherence: optFlag(args, 'trust-fs-coherence'),
    verify: optFlag(args, 'verify'),
    force: optFlag(args, 'force'),
    progress: !optFlag(args, 'json'),
  };
}

function summaryLine(r: StitchReport): string {
  return `h5stitch: stitched ${r.tiles} tiles into ${r.output} (${r.channels ? `${r.channels} channels of ` : ''}${r.canvas.join('x')} ${r.dtype}, ${r.strategy}${r.pipeline ? ' pipelined' : ''}, ` +
    `${r.ranks} ranks) in ${r.wallSeconds.toFixed(2)} s, ${r.outputMBps.toFixed(1)} MB/s; output on ${r.fileSystem.type} (${r.fileSystem.class})`;
}

function verifyLine(v: NonNullable<StitchReport['verify']>): string {
  const failed = v.failed.map((t) => `tile ${t.index} ${t.status}`).join(', ');
  return `h5stitch verify: ${v.ok ? 'OK' : 'FAILED'}: ${v.tiles - v.failed.length}/${v.tiles} tiles ok` +
    `${failed ? ` (${failed})` : ''}${v.complete ? '' : ', output not marked complete'} in ${v.seconds.toFixed(2)} s`;
}

export const stitchCommand: Command = {
  spec: {
    name: 'stitch',
    summary: 'stitch overlapping tiles into one HDF5 dataset (the default command)',
    usage: [
      '[stitch] INPUT --out OUT.h5[:/dataset] [options]          INPUT: tiles.h5 or a directory of .npy tiles',
      "[stitch] 'raw/tile_r{row}_c{col}.tif' --overlap P --out OUT.h5   TIFF tiles named by grid cell (docs/inputs.md)",
      '[stitch] raw/TileConfiguration.txt --out OUT.h5            TIFF tiles placed by Fiji (or MIST global-positions-0.txt)',
    ],
    options: {
      out: { value: 'FILE[:/ds]', help: 'output file and dataset (default dataset /stitched)' },
      strategy: { value: 'S', help: 'slab (default) | rounds | serial' },
      io: { value: 'M', help: 'auto (default) | collective | independent   (rounds and slab; auto: slab independent with OMPIO on a local file system, else collective)' },
      pipeline: { value: 'P', help: 'auto (default) | on | off   slab: blend on a second thread while bands are written (auto: when the node has 2+ CPUs per rank, whatever the binding)' },
      writeback: { value: 'W', help: 'early (default) | end   slab: start writing each band to disk at once, or at the final sync' },
      atomic: { flag: true, help: 'MPI-IO atomic mode while writing' },
      blend: { value: 'B', help: 'linear (default) | none | max' },
      dtype: { value: 'D', help: 'float32 (default) | float64 | uint8 | uint16 | int16 | int32 | uint32' },
      chunk: { value: 'HxW', help: 'chunked output; bands are whole chunk rows (one chunk row may exceed --mem-per-rank, up to 1 GiB)' },
      compress: { value: 'gzip[:L]', help: 'gzip level L (default 4); needs --chunk; written collectively, each chunk once' },
      ...PLACEMENT_OPTIONS,
      'mem-per-rank': { value: 'SIZE', help: 'band memory per rank (default 16M)' },
      ...MPIIO_OPTIONS,
      'trust-fs-coherence': { flag: true, help: 'let rounds/serial run where node caches may disagree (NFS, FUSE): DANGEROUS, tiles can be lost' },
      verify: { flag: true, help: 'verify the output at the end of the job (exit 1 when it fails)' },
      force: { flag: true, help: 'replace an existing output' },
    },
  },
  run(mpi, args) {
    const report = runStitch(mpi, resolveStitchOptions(stitchOptionsFrom(args)), testHooks());
    if (mpi.rank === 0) {
      if (optFlag(args, 'json')) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        console.log(summaryLine(report));
        if (report.verify) console.log(verifyLine(report.verify));
      }
    }
    return report.verify && !report.verify.ok ? 1 : 0;
  },
};
