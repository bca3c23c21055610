/**
 * Test hooks: hostile timing, fault injection and output damage, injected by tests and never part
 * of the product's options or types. The CLI installs them only when H5STITCH_TEST_HOOKS is set,
 * e.g. H5STITCH_TEST_HOOKS='{"failAt":"1:2","skewMs":300,"corruptOutput":"slab"}':
 * - failAt "RANK:N": that rank throws when it starts its N-th tile read (from 0) of a run;
 * - skewMs M: sleep a random 0..M ms before each tile, band and round;
 * - corruptOutput S: part of one tile is zeroed in strategy S's output before it is verified
 *   (bench: S names a bench strategy; stitch --verify: the stitch strategy).
 */
import { UsageError } from '../errors';

export interface TestHooks {
  /** Called when a stitch run starts (counters start again). */
  startRun(): void;
  /** Before each tile read; may throw. */
  beforeTileRead(rank: number, tileIndex: number): void;
  /** Before each tile, band and round; may sleep. */
  skew(): void;
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

interface HookSpec { failAt?: string; skewMs?: number; corruptOutput?: string }

/** Hooks from the JSON in H5STITCH_TEST_HOOKS; NO_HOOKS when it is unset. */
export function hooksFromEnv(text = process.env.H5STITCH_TEST_HOOKS): TestHooks {
  if (!text) return NO_HOOKS;
  let spec: HookSpec;
  try {
    spec = JSON.parse(text) as HookSpec;
  } catch (error) {
    throw new UsageError(`Expected JSON for H5STITCH_TEST_HOOKS but received ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
  const fault = spec.failAt === undefined ? null : /^(\d+):(\d+)$/.exec(spec.failAt);
  if (spec.failAt !== undefined && !fault) throw new UsageError(`Expected "RANK:N" for H5STITCH_TEST_HOOKS failAt but received ${JSON.stringify(spec.failAt)}`);
  const skewMs = spec.skewMs ?? 0;
  let tilesStarted = 0;
  return {
    corruptOutput: spec.corruptOutput,
    startRun() {
      tilesStarted = 0;
    },
    beforeTileRead(rank, tileIndex) {
      if (fault && rank === Number(fault[1]) && tilesStarted++ === Number(fault[2])) {
        throw new Error(`injected fault (H5STITCH_TEST_HOOKS failAt) at tile ${tileIndex}`);
      }
    },
    skew() {
      if (skewMs <= 0) return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.random() * skewMs);
    },
  };
}
