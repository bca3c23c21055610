/** This process's resident memory (Linux /proc; getrusage's lifetime peak elsewhere). */
import * as fs from 'node:fs';

/** VmRSS (now) or VmHWM (peak) of this process in KiB. */
export function rssKiB(field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS;
}
