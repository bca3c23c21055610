/**
 * Test hooks: hostile timing, fault injection and output damage, injected by tests and never part
 * of the product's options or types. The CLI installs them only when H5STITCH_TEST_HOOKS is set,
 * e.g. H5STITCH_TEST_HOOKS='{"failAt":"1:2","skewMs":300,"corruptOutput":"slab"}':
 * - failAt "RANK:N": that rank throws when it starts its N-th tile read (from 0) of a run;
 * - skewMs M: sleep a random 0..M ms before each tile, band and round;
 * - corruptOutput S: part of one tile is zeroed in strategy S's output before it is verified
 *   (bench: S names a bench strategy; stitch --verify: the stitch strategy).
 * - replaceAt "RANK:N" with replace [TARGET, SOURCE]: that rank renames SOURCE over TARGET when it
 *   starts its N-th tile read (an input file replaced between planning and reading);
 * - staleRead I: reads of tile I are skipped, leaving whatever the buffer held (the reused-buffer
 *   defect a reader can have; verify must catch it).
 * - truncateAt "RANK:N" with truncate [PATH, BYTES]: that rank cuts PATH to BYTES when it starts its
 *   N-th tile read (an input truncated during the run, after it was opened and planned).
 */
import * as fs from 'node:fs';
import { UsageError } from '../errors';

export interface TestHooks {
  /** Called when a stitch run starts (counters start again). */
  startRun(): void;
  /** Before each tile read; may throw. */
  beforeTileRead(rank: number, tileIndex: number): void;
  /** Before each tile, band and round; may sleep. */
  skew(): void;
  /** True when reads of this tile are to be skipped (a simulated reader defect). */
  skipsRead?(tileIndex: number): boolean;
  /** The strategy whose output is damaged before it is verified (bench, stitch --verify), if any. */
  readonly corruptOutput?: string;
}

export const NO_HOOKS: TestHooks = { startRun() {}, beforeTileRead() {}, skew() {} };

let installed: TestHooks = NO_HOOKS;

/** The hooks in force (NO_HOOKS unless a test installed some). */
export function testHooks(): TestHooks {
  return installed;
}

export function installTestHooks(hooks: TestHooks): void {
  installed = hooks;
}

interface HookSpec {
  failAt?: string; skewMs?: number; corruptOutput?: string; replaceAt?: string; replace?: [string, string]; staleRead?: number;
  truncateAt?: string; truncate?: [string, number];
}

function rankAndCount(spec: HookSpec, key: 'failAt' | 'replaceAt' | 'truncateAt'): [number, number] | null {
  const value = spec[key];
  if (value === undefined) return null;
  const match = /^(\d+):(\d+)$/.exec(value);
  if (!match) throw new UsageError(`Expected "RANK:N" for H5STITCH_TEST_HOOKS ${key} but received ${JSON.stringify(value)}`);
  return [Number(match[1]), Number(match[2])];
}

/** Hooks from the JSON in H5STITCH_TEST_HOOKS; NO_HOOKS when it is unset. */
export function hooksFromEnv(text = process.env.H5STITCH_TEST_HOOKS): TestHooks {
  if (!text) return NO_HOOKS;
  let spec: HookSpec;
  try {
    spec = JSON.parse(text) as HookSpec;
  } catch (error) {
    throw new UsageError(`Expected JSON for H5STITCH_TEST_HOOKS but received ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
  const fault = rankAndCount(spec, 'failAt');
  const replace = rankAndCount(spec, 'replaceAt');
  if (replace && !(Array.isArray(spec.replace) && spec.replace.length === 2 && spec.replace.every((p) => typeof p === 'string'))) {
    throw new UsageError(`Expected [TARGET, SOURCE] paths for H5STITCH_TEST_HOOKS replace but received ${JSON.stringify(spec.replace)}`);
  }
  const truncate = rankAndCount(spec, 'truncateAt');
  if (truncate && !(Array.isArray(spec.truncate) && spec.truncate.length === 2 && typeof spec.truncate[0] === 'string' &&
    Number.isSafeInteger(spec.truncate[1]) && spec.truncate[1] >= 0)) {
    throw new UsageError(`Expected [PATH, BYTES] for H5STITCH_TEST_HOOKS truncate but received ${JSON.stringify(spec.truncate)}`);
  }
  const skewMs = spec.skewMs ?? 0;
  let tilesStarted = 0;
  return {
    corruptOutput: spec.corruptOutput,
    startRun() {
      tilesStarted = 0;
    },
    beforeTileRead(rank, tileIndex) {
      const started = tilesStarted++;
      if (replace && rank === replace[0] && started === replace[1]) fs.renameSync(spec.replace![1], spec.replace![0]);
      if (truncate && rank === truncate[0] && started === truncate[1]) fs.truncateSync(spec.truncate![0], spec.truncate![1]);
      if (fault && rank === fault[0] && started === fault[1]) {
        throw new Error(`injected fault (H5STITCH_TEST_HOOKS failAt) at tile ${tileIndex}`);
      }
    },
    skipsRead: (tileIndex) => tileIndex === spec.staleRead,
    skew() {
      if (skewMs <= 0) return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.random() * skewMs);
    },
  };
}
