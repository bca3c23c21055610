#!/usr/bin/env node
/**
 * h5stitch command line: `mpirun -n N node dist/stitch.js [stitch] INPUT --out OUT.h5 [options]`,
 * plus `verify`, `generate`, `info` and `bench`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchCommand } from './bench';
import { optBytes, optChoice, optFlag, optInt, optPair, optString, parseArgs, type ParsedArgs } from './args';
import { H5StitchError, UsageError } from './errors';
import { generateTiles } from './generate';
import { openFile } from './hdf5';
import { collectInfo, formatInfo } from './info';
import { initMpi, RankFailedError, type Mpi } from './mpi';
import type { Dtype } from './native';
import { cleanupOnAbort, DEFAULT_MEM_PER_RANK, diskFullNote, hintsFrom, runStitch, splitTarget, stitchRequest, VERSION } from './run';
import { verifyOutput } from './verify';


const USAGE = `h5stitch ${VERSION}: stitch overlapping tiles into one HDF5 dataset with MPI + parallel HDF5

usage:
  mpirun -n N node dist/stitch.js [stitch] INPUT --out OUT.h5[:/dataset] [options]
  mpirun -n N node dist/stitch.js verify OUT.h5[:/dataset] --input INPUT
  node dist/stitch.js generate TILES.h5 [--tiles RxC] [--tile HxW] [--overlap P] [--dtype D] [--permute] [--hole R,C]
  mpirun -n N node dist/stitch.js info [--out DIR]
  mpirun -n N node dist/stitch.js bench [--tiles RxC] [--tile HxW] [--overlap P] [--dtype D] [--dir PATH]
        [--repeat K] [--strategies serial,rounds-independent,rounds-collective,slab] [--mem-per-rank SIZE] [--json]

stitch options:
  --out FILE[:/ds]      output file and dataset (default dataset /stitched)
  --strategy S          slab (default) | rounds | serial
  --io M                collective (default) | independent   (rounds and slab)
  --pipeline P          auto (default) | on | off   slab: blend on a second thread while bands are
                        written (auto: when every rank has a spare CPU, e.g. srun -c 2)
  --writeback W         early (default) | end   slab: start the OS writing each band to disk as
                        soon as it is written (Linux), or leave it all to the final sync
  --atomic              MPI-IO atomic mode during rounds
  --blend B             linear (default) | none | max
  --dtype D             float32 (default) | float64 | uint8 | uint16 | int16 | int32 | uint32
  --chunk HxW           chunked output;  --compress gzip[:level]  (needs --chunk)
  --overlap P | --overlap-y P --overlap-x P   overlap in pixels (default: 'overlap' attribute)
  --layout FILE.json    tile-index array (default: /tile_array in INPUT; -1 = empty)
  --positions /DATASET  explicit [N,2] (y, x) tile positions in INPUT instead of a grid
  --tiles-path /PATH    tiles dataset [N,H,W] or group of 2-D datasets (default /tiles)
  --mem-per-rank SIZE   band memory per rank for slab and verify (default 16M)
  --hint KEY=VALUE      extra MPI-IO hint (repeatable)
  --force               replace an existing output
  --json                print a machine-readable report on stdout
  --debug               stack traces on errors
`;

const SPECS = {
  out: {}, strategy: {}, io: {}, pipeline: {}, writeback: {}, atomic: { flag: true }, blend: {}, dtype: {}, chunk: {}, compress: {},
  overlap: {}, 'overlap-y': {}, 'overlap-x': {}, layout: {}, positions: {}, 'tiles-path': {}, 'layout-path': {},
  'mem-per-rank': {}, hint: { repeat: true }, force: { flag: true }, json: { flag: true }, debug: { flag: true },
  input: {}, tiles: {}, tile: {}, permute: { flag: true }, hole: { repeat: true }, seed: {}, help: { flag: true },
  'skew-ms': {}, 'keep-data-sieving': { flag: true },
  repeat: {}, dir: {}, strategies: {}, 'corrupt-output': {},
};

function stitchCommand(mpi: Mpi, args: ParsedArgs): number {
  const report = runStitch(mpi, stitchRequest(args));
  if (mpi.rank === 0) {
    if (optFlag(args, 'json')) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      console.log(`h5stitch: stitched ${report.tiles} tiles into ${report.output} ` +
        `(${report.canvas.join('x')} ${report.dtype}, ${report.strategy}${report.pipeline ? ' pipelined' : ''}, ${report.ranks} ranks) in ${report.wallSeconds.toFixed(2)} s, ${report.outputMBps.toFixed(1)} MB/s`);
    }
  }
  return 0;
}

/** Stitches as `req` says; collective. Returns the same report on every rank. */
function verifyCommand(mpi: Mpi, args: ParsedArgs): number {
  const outArg = args.positional[0];
  if (!outArg) throw new UsageError('missing OUT.h5[:/dataset] to verify');
  const target = splitTarget(outArg, '/stitched');
  let failure: unknown;
  let input = optString(args, 'input');
  try {
    if (!fs.existsSync(target.file)) throw new UsageError(`output ${target.file} does not exist`);
    if (!input) {
      const f = openFile(target.file);
      try {
        input = String(f.getAttr(target.dataset, 'input') ?? '');
      } finally {
        f.close();
      }
      if (!input) throw new UsageError('missing --input INPUT');
    }
  } catch (error) {
    failure = error;
  }
  mpi.agree(failure);
  const report = verifyOutput(mpi, {
    output: target.file, dataset: target.dataset, input: input!, tilesPath: optString(args, 'tiles-path'),
    memPerRank: optBytes(args, 'mem-per-rank', DEFAULT_MEM_PER_RANK),
  });
  if (mpi.rank === 0) {
    if (optFlag(args, 'json')) process.stdout.write(`${JSON.stringify({ command: 'verify', ...report })}\n`);
    else {
      for (const t of report.failed) {
        console.log(`tile ${t.index}: ${t.status} (${t.mismatched} pixels differ; worst |error| ${t.worst.toPrecision(4)} at y=${t.worstAt?.[0]}, x=${t.worstAt?.[1]})`);
      }
      if (!report.complete) console.log('output is not marked complete=1: the stitch did not finish');
      const ok = report.tiles.length - report.failed.length;
      console.log(`h5stitch verify: ${report.ok ? 'OK' : 'FAILED'}: ${ok}/${report.tiles.length} tiles ok, ` +
        `${report.failed.filter((t) => t.status === 'missing').length} missing, ${report.failed.filter((t) => t.status === 'wrong').length} wrong`);
    }
  }
  return report.ok ? 0 : 1;
}

function generateCommand(mpi: Mpi, args: ParsedArgs): number {
  const out = args.positional[0];
  if (!out) throw new UsageError('missing TILES.h5 to generate');
  const [rows, cols] = optPair(args, 'tiles', 1) ?? [4, 4];
  const [tileHeight, tileWidth] = optPair(args, 'tile', 2) ?? [256, 256];
  const both = optInt(args, 'overlap', 0);
  const overlapY = optInt(args, 'overlap-y', 0) ?? both ?? Math.round(tileHeight / 10);
  const overlapX = optInt(args, 'overlap-x', 0) ?? both ?? Math.round(tileWidth / 10);
  const dtype = optChoice<Dtype>(args, 'dtype', ['uint8', 'uint16', 'float32', 'float64'], 'float32');
  const holes = (args.options.get('hole') ?? []).map((h) => {
    const m = /^(\d+),(\d+)$/.exec(h);
    if (!m) throw new UsageError(`Expected R,C for --hole but received "${h}"`);
    return [Number(m[1]), Number(m[2])] as [number, number];
  });
  let failure: unknown;
  let result;
  try {
    if (overlapY >= tileHeight || overlapX >= tileWidth) throw new UsageError(`overlap ${overlapY}x${overlapX} must be smaller than the tile ${tileHeight}x${tileWidth}`);
    if (mpi.rank === 0) {
      if (fs.existsSync(out) && !optFlag(args, 'force')) throw new UsageError(`${out} exists; pass --force to replace it`);
      result = generateTiles(out, { rows, cols, tileHeight, tileWidth, overlapY, overlapX, dtype, permute: optFlag(args, 'permute'), holes, seed: optInt(args, 'seed', 0) }, true);
    }
  } catch (error) {
    failure = error instanceof H5StitchError && !(error instanceof UsageError) ? new UsageError(error.message) : error;
  }
  mpi.agree(failure);
  if (mpi.rank === 0) {
    if (optFlag(args, 'json')) process.stdout.write(`${JSON.stringify({ command: 'generate', output: out, ...result })}\n`);
    else console.log(`h5stitch: generated ${result!.tiles} ${dtype} tiles of ${tileHeight}x${tileWidth} (${rows}x${cols} grid, overlap ${overlapY}x${overlapX}) in ${out}; canvas ${result!.canvas.join('x')}`);
  }
  return 0;
}

function infoCommand(mpi: Mpi, args: ParsedArgs): number {
  const dir = optString(args, 'out') ?? process.cwd();
  const info = collectInfo(mpi, dir, hintsFrom(args));
  if (mpi.rank === 0) {
    if (optFlag(args, 'json')) process.stdout.write(`${JSON.stringify(info)}\n`);
    else process.stdout.write(formatInfo(info));
  }
  return 0;
}

export function main(argv: string[]): void {
  const commands: Record<string, (mpi: Mpi, args: ParsedArgs) => number> = {
    stitch: stitchCommand, verify: verifyCommand, generate: generateCommand, info: infoCommand,
    bench: benchCommand,
  };
  const name = argv[0] && commands[argv[0]] ? argv[0] : 'stitch';
  const rest = name === argv[0] ? argv.slice(1) : argv;
  const debug = rest.includes('--debug');
  if (rest.includes('--help') || argv.length === 0) {
    process.stdout.write(USAGE);
    return;
  }
  const mpi = initMpi({ keepDataSieving: rest.includes('--keep-data-sieving') });
  try {
    const code = commands[name](mpi, parseArgs(rest, SPECS));
    mpi.finalize();
    process.exitCode = code;
  } catch (error) {
    // Agreed errors (every rank has the same one): rank 0 reports, all finalize.
    const usage = error instanceof UsageError || (error instanceof RankFailedError && error.reasonCode === 'ERR_USAGE');
    if (usage || error instanceof RankFailedError) {
      if (mpi.rank === 0) process.stderr.write(`h5stitch: error: ${(error as Error).message}\n${debug ? (error as Error).stack + '\n' : ''}`);
      mpi.finalize();
      process.exitCode = usage ? 2 : 1;
      return;
    }
    // An error on this rank alone: other ranks may be inside a collective call, so abort the job.
    process.stderr.write(`h5stitch: [rank ${mpi.rank}] error: ${diskFullNote()}${(error as Error)?.message ?? error}\n${debug ? (error as Error).stack + '\n' : ''}`);
    for (const file of cleanupOnAbort) fs.rmSync(file, { force: true });
    mpi.abort(1);
  }
}

if (require.main === module) main(process.argv.slice(2));
