/** Peak resident memory per strategy run (Linux /proc; getrusage's lifetime peak elsewhere). */
import * as fs from 'node:fs';
import type { Mpi } from '../runtime/mpi';
import { rssKiB } from '../runtime/rss';

/**
 * Starts a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM to the current RSS),
 * so each strategy's peak is its own rather than the process's lifetime peak. Returns the RSS
 * at the reset (max over ranks): the baseline of the window. Collective.
 */
export function resetPeakRss(mpi: Mpi): number {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch { /* cannot reset: the peak stays the lifetime peak */ }
  return mpi.allreduce(new Float64Array([rssKiB('VmRSS')]), 'max')[0];
}

/** Peak RSS (KiB, max over ranks) since the last reset. Collective. */
export function peakRssKiB(mpi: Mpi): number {
  return mpi.allreduce(new Float64Array([rssKiB('VmHWM')]), 'max')[0];
}
