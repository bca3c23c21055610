/** `generate TILES.h5`: a tile set cut from a known image, with its layout and ground truth. */
import { GENERATE_DTYPES, type Dtype } from '../../core/dtype';
import { expected, UsageError } from '../../errors';
import { generateTiles } from '../../generate/tiles';
import { checkNewOutput } from '../../io/output-path';
import { registrationSetOptions, REGISTRATION_SET_OPTIONS, runGenerateRegistrationSet } from './registration-set';
import { onePositional, optBytes, optFlag, optInt, optPair, optString, type OptionSpec, type ParsedArgs } from '../args';
import type { Command } from './command';

function generateOptions(args: ParsedArgs) {
  const [rows, cols] = optPair(args, 'tiles', 1) ?? [4, 4];
  const [tileHeight, tileWidth] = optPair(args, 'tile', 2) ?? [256, 256];
  const both = optInt(args, 'overlap', 0);
  const overlapY = optInt(args, 'overlap-y', 0) ?? both ?? Math.round(tileHeight / 10);
  const overlapX = optInt(args, 'overlap-x', 0) ?? both ?? Math.round(tileWidth / 10);
  const dtype = optString(args, 'dtype') ?? 'float32';
  if (!GENERATE_DTYPES.includes(dtype as Dtype)) throw expected(`one of ${GENERATE_DTYPES.join(' | ')}`, '--dtype', dtype);
  const holes = (args.options.get('hole') ?? []).map((h) => {
    const m = /^(\d+),(\d+)$/.exec(h);
    if (!m) throw new UsageError(`Expected R,C for --hole but received "${h}"`);
    return [Number(m[1]), Number(m[2])] as [number, number];
  });
  if (overlapY >= tileHeight || overlapX >= tileWidth) throw new UsageError(`overlap ${overlapY}x${overlapX} must be smaller than the tile ${tileHeight}x${tileWidth}`);
  return { rows, cols, tileHeight, tileWidth, overlapY, overlapX, dtype: dtype as Dtype, permute: optFlag(args, 'permute'), holes, seed: optInt(args, 'seed', 0),
    memPerRank: optBytes(args, 'mem-per-rank') };
}

/** The generated tile set's shape: `generate` and `bench` take the same options. */
export function tileSetOptions(defaultTile: number): Record<string, OptionSpec> {
  return {
    tiles: { value: 'RxC', help: 'grid of tiles (default 4x4)' },
    tile: { value: 'HxW', help: `tile size (default ${defaultTile})` },
    overlap: { value: 'P', help: 'overlap in pixels (default a tenth of the tile)' },
    dtype: { value: 'D', help: `${GENERATE_DTYPES.join(' | ')} (default float32)` },
  };
}

export const generateCommand: Command = {
  spec: {
    name: 'generate',
    summary: 'write a test tile set (tiles, layout, overlap, ground truth) cut from a known image',
    usage: ['generate TILES.h5 [--tiles RxC] [--tile HxW] [--overlap P] [--dtype D] [--permute] [--hole R,C] [--seed N] [--mem-per-rank SIZE]',
      'generate TILES.h5 --jitter PX [--drift PX] [--stage-scale F] [--blank K] [--noise S] [--tiles RxC] [--tile HxW] [--overlap P] [--dtype D] [--seed N]'],
    options: {
      ...tileSetOptions(256),
      'overlap-y': { value: 'P', help: 'overlap between rows of tiles' },
      'overlap-x': { value: 'P', help: 'overlap between columns of tiles' },
      permute: { flag: true, help: 'shuffle which tile index sits at which grid position' },
      hole: { repeat: true, value: 'R,C', help: 'leave grid cell R,C empty (repeatable)' },
      seed: { value: 'N', help: 'seed of --permute' },
      'mem-per-rank': { value: 'SIZE', help: 'image rows computed at once per rank (default 16M; about 3x this is used)' },
      ...REGISTRATION_SET_OPTIONS,
      force: { flag: true, help: 'replace an existing file' },
    },
  },
  run(mpi, args) {
    const out = onePositional(args, 'TILES.h5 to generate');
    // --jitter makes a registration test set (lib/generate/registration.ts) instead.
    const registration = registrationSetOptions(args, generateOptions(args));
    if (registration) return runGenerateRegistrationSet(mpi, out, registration, optFlag(args, 'force'), optFlag(args, 'json'));
    const options = generateOptions(args);
    mpi.runOnRoot(() => checkNewOutput(out, { force: optFlag(args, 'force') }));
    // Every rank writes its share.
    const result = generateTiles(mpi, out, options, true);
    if (mpi.rank === 0) {
      const o = options;
      if (optFlag(args, 'json')) process.stdout.write(`${JSON.stringify({ command: 'generate', output: out, ...result })}\n`);
      else console.log(`h5stitch: generated ${result.tiles} ${o.dtype} tiles of ${o.tileHeight}x${o.tileWidth} (${o.rows}x${o.cols} grid, overlap ${o.overlapY}x${o.overlapX}) in ${out}; canvas ${result.canvas.join('x')}`);
    }
    return 0;
  },
};
