/** The three ways to write the stitched canvas, and what each is given. */
import type { Dtype } from '../core/dtype';
import type { OutputSink } from '../io/sinks/sink';
import type { Transfer } from '../runtime/addon';
import type { BandContext } from './engine';

export type StrategyName = 'serial' | 'rounds' | 'slab';
export const STRATEGIES: readonly StrategyName[] = ['serial', 'rounds', 'slab'];

export interface StrategyContext extends BandContext {
  sink: OutputSink;
  outDtype: Dtype;
  /** The transfer for band or tile I/O (resolved: a one-rank slab writes independently). */
  io: Transfer;
}
