/** `stitch INPUT --out OUT.h5[:/dataset]`: maps flags to StitchOptions; the library validates. */
import { UsageError } from '../../errors';
import type { PreviewReport } from '../../io/sinks/preview';
import type { StitchOptions } from '../../stitch/options';
import { runStitch, type StitchReport } from '../../stitch/run';
import { resolveStitchOptions } from '../../stitch/options';
import { testHooks } from '../../testing/hooks';
import { resolvePositions } from '../../io/positions-file';
import { openFile } from '../../runtime/hdf5';
import type { Mpi } from '../../runtime/mpi';
import { runRegister, writeRegistration, type RegisterReport } from '../../register/run';
import { REGISTER_OPTIONS, registerOptionsFrom, reportLines } from './register-options';
import { onePositional, optBytes, optFlag, optHints, optInt, optOverlap, optPair, optString, splitTarget, type OptionSpec, type ParsedArgs } from '../args';
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

function compressLevel(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^gzip(?::([0-9]))?$/.exec(value);
  if (!m) throw new UsageError(`Expected gzip or gzip:LEVEL (0-9) for --compress but received "${value}"`);
  return Number(m[1] ?? 4);
}

/** --voxel-size X or X,Y (x first, as viewers take it). */
function voxelSize(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map(Number);
  if (!/^[^,]+(,[^,]+)?$/.test(value) || !parts.every((v) => Number.isFinite(v) && v > 0)) {
    throw new UsageError(`Expected a positive pixel size X or X,Y for --voxel-size but received "${value}"`);
  }
  return [parts[0], parts[1] ?? parts[0]];
}

function stitchOptionsFrom(args: ParsedArgs): StitchOptions {
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
    verifyMap: optString(args, 'map'),
    channelsAs: optString(args, 'channels-as') as StitchOptions['channelsAs'],
    force: optFlag(args, 'force'),
    preview: optString(args, 'preview'),
    progress: !optFlag(args, 'json'),
    pyramid: optFlag(args, 'pyramid'),
    levels: optInt(args, 'levels', 1),
    format: optString(args, 'format') as StitchOptions['format'],
    voxelSize: voxelSize(optString(args, 'voxel-size')),
    voxelUnit: optString(args, 'voxel-unit'),
  };
}

function summaryLine(r: StitchReport): string {
  const pyramid = r.pyramid ? `, ${r.pyramid.levels} level${r.pyramid.levels === 1 ? '' : 's'}${r.pyramid.format === 'bdv' ? ' (BigDataViewer)' : ''}` : '';
  return `h5stitch: stitched ${r.tiles} tiles into ${r.output} (${r.channels ? `${r.channels} channels of ` : ''}${r.canvas.join('x')} ${r.dtype}${pyramid}, ${r.strategy}${r.pipeline ? ' pipelined' : ''}, ` +
    `${r.ranks} ranks) in ${r.wallSeconds.toFixed(2)} s, ${r.outputMBps.toFixed(1)} MB/s; output on ${r.fileSystem.type} (${r.fileSystem.class})`;
}

function verifyLine(v: NonNullable<StitchReport['verify']>): string {
  const failed = [...v.failed.map((t) => `${t.channel === undefined ? '' : `channel ${t.channel} `}tile ${t.index} ${t.status}`),
    ...(v.levels ?? []).filter((l) => l.status !== 'ok').map((l) => `level ${l.level} ${l.status}`)].join(', ');
  const levels = v.levels ? `, ${v.levels.filter((l) => l.status === 'ok').length}/${v.levels.length} pyramid levels ok` : '';
  return `h5stitch verify: ${v.ok ? 'OK' : 'FAILED'}: ${v.tiles - v.failed.length}/${v.tiles} tiles ok${levels}` +
    `${failed ? ` (${failed})` : ''}${v.complete ? '' : ', output not marked complete'} in ${v.seconds.toFixed(2)} s`;
}

/** One line about a preview written: where, its size, what it was made from and its stretch. */
export function previewLine(p: PreviewReport): string {
  const made = p.factor === 1 ? p.source : `${p.factor}x${p.factor} block means of ${p.source}`;
  return `h5stitch preview: ${p.file} (${p.shape[0]}x${p.shape[1]}, ${made}${p.planes > 1 ? ` channel ${p.channel} of ${p.planes}` : ''}; ` +
    `0..255 = ${p.limits[0]?.toPrecision(6)}..${p.limits[1]?.toPrecision(6)}) in ${p.seconds.toFixed(2)} s`;
}

export const stitchCommand: Command = {
  spec: {
    name: 'stitch',
    summary: 'stitch overlapping tiles into one HDF5 dataset (the default command)',
    usage: [
      '[stitch] INPUT --out OUT.h5[:/dataset] [options]          INPUT: tiles.h5 or a directory of .npy tiles',
      "[stitch] 'raw/tile_r{row}_c{col}.tif' --overlap P --out OUT.h5   TIFF tiles named by grid cell (docs/inputs.md)",
      '[stitch] raw/TileConfiguration.txt --out OUT.h5            TIFF tiles placed by Fiji (or MIST global-positions-0.txt)',
      '[stitch] INPUT --out OUT.h5 --register [--max-shift PX]    register the tiles first (docs/registration.md), then stitch them where they are',
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
      pyramid: { flag: true, help: 'also write a multiscale pyramid, in the same pass, until the coarsest level fits in 512 px (slab only; docs/pyramid.md)' },
      levels: { value: 'N', help: 'pyramid levels, level 0 included (implies --pyramid)' },
      format: { value: 'F', help: 'hdf5 (default: /stitched, and /multiscale with --pyramid) | bdv (BigDataViewer HDF5 + XML)' },
      'voxel-size': { value: 'X[,Y]', help: "a pixel's size for viewers (N5 pixelResolution, BigDataViewer voxelSize; default 1)" },
      'voxel-unit': { value: 'U', help: 'unit of --voxel-size (default pixel)' },
      ...PLACEMENT_OPTIONS,
      'mem-per-rank': { value: 'SIZE', help: 'band memory per rank (default 16M)' },
      ...MPIIO_OPTIONS,
      'trust-fs-coherence': { flag: true, help: 'let rounds/serial run where node caches may disagree (NFS, FUSE): DANGEROUS, tiles can be lost' },
      register: { flag: true, help: "register first (as `register` does), then stitch at the registered positions; positions and pair table stored in the output's /h5stitch/registration" },
      ...REGISTER_OPTIONS,
      verify: { flag: true, help: 'verify the output at the end of the job (exit 1 when it fails)' },
      map: { value: 'FILE.svg|FILE.png', help: 'with --verify: draw the tile layout, each tile coloured ok / missing / wrong (as verify --map)' },
      'channels-as': { value: 'C', help: 'multi-channel input: planes (default: one [C, H, W] dataset) | datasets (one 2-D dataset per channel, DATASET/c0, DATASET/c1, ...)' },
      force: { flag: true, help: 'replace an existing output' },
      preview: { value: 'FILE.png', help: 'write an 8-bit greyscale preview (<= 2048 px a side, 0.1-99.9 percentile stretch; channel 0) after the stitch' },
    },
  },
  run(mpi, args) {
    const options = stitchOptionsFrom(args);
    const registration = optFlag(args, 'register') ? registerFirst(mpi, options, args) : undefined;
    if (!registration && ['max-shift', 'min-ncc', 'peaks'].some((o) => optString(args, o) !== undefined)) {
      throw new UsageError('--max-shift, --min-ncc and --peaks need --register');
    }
    const report = runStitch(mpi, resolveStitchOptions(options), testHooks());
    if (registration) {
      // The stitched output is closed and complete: the registration goes beside its provenance.
      mpi.runOnRoot(() => {
        const file = openFile(options.output, { mode: 'r+' });
        try {
          writeRegistration(file, REGISTRATION_GROUP, registration);
        } finally {
          file.close();
        }
      });
    }
    if (mpi.rank === 0) {
      if (optFlag(args, 'json')) {
        const summary = registration ? (({ tileTable, pairTable, ...rest }) => (void tileTable, void pairTable, rest))(registration) : undefined;
        process.stdout.write(`${JSON.stringify(summary ? { ...report, registration: summary } : report)}\n`);
      } else {
        if (registration) for (const line of reportLines(registration)) console.log(line);
        console.log(summaryLine(report));
        if (report.verify) console.log(verifyLine(report.verify));
        if (report.verify?.map) console.log(`h5stitch verify: tile map in ${report.verify.map}`);
        if (report.preview) console.log(previewLine(report.preview));
      }
    }
    return report.verify && !report.verify.ok ? 1 : 0;
  },
};

/** Where `stitch --register` stores the registration in its output (positions, tile_status, pairs, summary). */
export const REGISTRATION_GROUP = '/h5stitch/registration';

/**
 * stitch --register: registers the tiles on their nominal placement (grid or --positions), then
 * points the stitch at the registered positions. Collective.
 */
function registerFirst(mpi: Mpi, options: StitchOptions, args: ParsedArgs): RegisterReport {
  const registration = runRegister(mpi, {
    input: options.input, tilesPath: options.tilesPath, layoutPath: options.layoutPath, layoutFile: options.layoutFile,
    overlap: typeof options.overlap === 'number' ? [options.overlap, options.overlap] : options.overlap,
    positionsPath: options.positionsPath, positions: options.positions, ...registerOptionsFrom(args),
  });
  options.positions = registration.tileTable.map((t) => [t.y, t.x]);
  options.positionsPath = undefined;
  options.layoutFile = undefined;
  options.overlap = undefined;
  return registration;
}
