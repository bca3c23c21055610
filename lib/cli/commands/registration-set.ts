/** `generate --jitter PX`: the registration test set's options and run (see registration.ts). */
import * as fs from 'node:fs';
import type { Dtype } from '../../core/dtype';
import { expected, H5StitchError, UsageError } from '../../errors';
import type { Mpi } from '../../runtime/mpi';
import { optString, type OptionSpec, type ParsedArgs } from '../args';
import { generateRegistrationSet, type RegistrationSetOptions } from '../../generate/registration';

export const REGISTRATION_SET_OPTIONS: Record<string, OptionSpec> = {
  jitter: { value: 'PX', help: 'registration test set: move each tile up to PX (sub-pixel) off its grid position; textured image, /true_positions' },
  blank: { value: 'K', help: 'with --jitter: K tiles show background and noise only (default 0)' },
  'stage-scale': { value: 'F', help: 'with --jitter: systematic stage error, each grid step (1 + F) times nominal (default 0)' },
  noise: { value: 'S', help: 'with --jitter: sensor noise, standard deviation relative to the texture range (default 0.03)' },
};

function nonNegative(args: ParsedArgs, name: string, integer: boolean): number | undefined {
  const text = optString(args, name);
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw expected(integer ? 'a non-negative integer' : 'a non-negative number', `--${name}`, text);
  }
  return v;
}

/** The registration set's options when --jitter is given, else undefined. */
export function registrationSetOptions(
  args: ParsedArgs,
  grid: { rows: number; cols: number; tileHeight: number; tileWidth: number; overlapY: number; overlapX: number; dtype: Dtype; seed?: number; permute: boolean; holes: unknown[] },
): RegistrationSetOptions | undefined {
  const jitter = nonNegative(args, 'jitter', false);
  if (jitter === undefined) {
    for (const name of ['blank', 'noise', 'stage-scale']) if (optString(args, name) !== undefined) throw new UsageError(`--${name} needs --jitter PX`);
    return undefined;
  }
  if (grid.permute || grid.holes.length) throw new UsageError('--jitter cannot be combined with --permute or --hole');
  if (2 * jitter >= Math.min(grid.overlapY, grid.overlapX)) {
    throw new UsageError(`--jitter ${jitter} must be less than half the overlap (${grid.overlapY}x${grid.overlapX}) so neighbours still overlap`);
  }
  return {
    rows: grid.rows, cols: grid.cols, tileHeight: grid.tileHeight, tileWidth: grid.tileWidth, overlapY: grid.overlapY, overlapX: grid.overlapX,
    dtype: grid.dtype, jitter, blank: nonNegative(args, 'blank', true) ?? 0, noise: nonNegative(args, 'noise', false) ?? 0.03, stageScale: nonNegative(args, 'stage-scale', false) ?? 0, seed: grid.seed ?? 1,
  };
}

export function runGenerateRegistrationSet(mpi: Mpi, out: string, o: RegistrationSetOptions, force: boolean, json: boolean): number {
  const result = mpi.runOnRoot(() => {
    if (fs.existsSync(out) && !force) throw new UsageError(`${out} exists; pass --force to replace it`);
    try {
      return generateRegistrationSet(out, o, true);
    } catch (error) {
      throw error instanceof H5StitchError && !(error instanceof UsageError) ? new UsageError(error.message) : error;
    }
  });
  if (mpi.rank === 0) {
    if (json) process.stdout.write(`${JSON.stringify({ command: 'generate', output: out, registration: true, ...result })}\n`);
    else console.log(`h5stitch: generated ${result.tiles} ${o.dtype} tiles of ${o.tileHeight}x${o.tileWidth} (${o.rows}x${o.cols} grid, overlap ${o.overlapY}x${o.overlapX}, ` +
      `jitter ±${o.jitter} px, stage scale ${o.stageScale}, ${result.blank.length} blank, noise ${o.noise}) in ${out}; true positions in /true_positions`);
  }
  return 0;
}
