/** `generate --jitter PX`: the registration test set's options and run (see registration.ts). */
import type { Dtype } from '../../core/dtype';
import { expected, UsageError } from '../../errors';
import type { Mpi } from '../../runtime/mpi';
import { optString, type OptionSpec, type ParsedArgs } from '../args';
import { generateRegistrationSet, stageError, type RegistrationSetOptions } from '../../generate/registration';
import { checkNewOutput } from '../../io/output-path';

export const REGISTRATION_SET_OPTIONS: Record<string, OptionSpec> = {
  jitter: { value: 'PX', help: 'registration test set: random stage repeatability, each tile up to PX (sub-pixel, per axis) off its systematic position; textured image, /true_positions' },
  drift: { value: 'PX', help: 'with --jitter: systematic stage error (scale, skew, thermal drift), smooth over the grid, up to PX off the grid per axis (default 0)' },
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
    for (const name of ['blank', 'noise', 'stage-scale', 'drift']) if (optString(args, name) !== undefined) throw new UsageError(`--${name} needs --jitter PX`);
    return undefined;
  }
  if (grid.permute || grid.holes.length) throw new UsageError('--jitter cannot be combined with --permute or --hole');
  if (2 * jitter >= Math.min(grid.overlapY, grid.overlapX)) {
    throw new UsageError(`--jitter ${jitter} must be less than half the overlap (${grid.overlapY}x${grid.overlapX}) so neighbours still overlap`);
  }
  const o: RegistrationSetOptions = {
    rows: grid.rows, cols: grid.cols, tileHeight: grid.tileHeight, tileWidth: grid.tileWidth, overlapY: grid.overlapY, overlapX: grid.overlapX,
    dtype: grid.dtype, jitter, drift: nonNegative(args, 'drift', false) ?? 0, blank: nonNegative(args, 'blank', true) ?? 0, noise: nonNegative(args, 'noise', false) ?? 0.03,
    stageScale: nonNegative(args, 'stage-scale', false) ?? 0, seed: grid.seed ?? 1,
  };
  const shift = stageError(o).neighbourShift;
  if (shift >= Math.min(grid.overlapY, grid.overlapX)) {
    throw new UsageError(`the stage error (--drift ${o.drift}, --stage-scale ${o.stageScale}, --jitter ${jitter}) moves neighbours up to ${shift.toFixed(1)} px relative to each other; that must be less than the overlap (${grid.overlapY}x${grid.overlapX})`);
  }
  return o;
}

export function runGenerateRegistrationSet(mpi: Mpi, out: string, o: RegistrationSetOptions, force: boolean, json: boolean): number {
  mpi.runOnRoot(() => checkNewOutput(out, { force }));
  // Every rank renders and writes its share of the tiles.
  const result = generateRegistrationSet(mpi, out, o, true);
  if (mpi.rank === 0) {
    if (json) process.stdout.write(`${JSON.stringify({ command: 'generate', output: out, registration: true, ...result })}\n`);
    else console.log(`h5stitch: generated ${result.tiles} ${o.dtype} tiles of ${o.tileHeight}x${o.tileWidth} (${o.rows}x${o.cols} grid, overlap ${o.overlapY}x${o.overlapX}, ` +
      `jitter ±${o.jitter} px, drift ±${o.drift} px, stage scale ${o.stageScale}, ${result.blank.length} blank, noise ${o.noise}) in ${out}; true positions in /true_positions`);
  }
  return 0;
}
