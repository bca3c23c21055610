// Quick subset of `npm run fuzz`: corrupted inputs (HDF5 tiles plain and compressed, layout, positions, JSON layout,
// .npy) never crash, hang, print a JavaScript stack or change the input; each run either stitches
// an output that verifies against what the input now holds, or is refused with one line, exit 2.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { node, repoRoot } from './helpers/mpirun';

describe('corrupted inputs (quick fuzz)', () => {
  it('every run verifies or is refused with one line; none crashes, hangs or changes its input', () => {
    const job = node([path.join(repoRoot, 'scripts', 'fuzz.mjs'), '--quick'], { timeoutMs: 170_000 });
    expect(job.stdout).toContain('fuzz: 0 runs broke a rule');
    expect(job.code).toBe(0);
    const rows = job.stdout.split('\n').filter((l) => /^(hdf5|json|npy)/.test(l));
    // Every target with every mutation, each run counted once.
    expect(rows).toHaveLength(21);
    for (const row of rows) {
      const [, runs, verified, refused, aborted, failed] = row.trim().split(/\s+/).map(Number);
      expect(runs).toBeGreaterThan(0);
      expect(verified + refused + aborted).toBe(runs);
      expect(failed).toBe(0);
    }
    const total = job.stdout.split('\n').find((l) => l.startsWith('total'))!.trim().split(/\s+/).map(Number);
    // Both outcomes occur: corruption that still reads as valid input, and corruption refused.
    expect(total[2]).toBeGreaterThan(0);
    expect(total[3] + total[4]).toBeGreaterThan(0);
  });
});
