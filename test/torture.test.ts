// Fast subset of `npm run torture`: hostile timing, sieving forced on, locks that
// lock nothing — and still no lost tile, and outputs bit-identical to the reference.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { node, repoRoot } from './helpers/mpirun';

describe('lost-write torture (quick subset)', () => {
  it('loses no tile in any strategy x io x MPI-IO layer', () => {
    const job = node([path.join(repoRoot, 'scripts', 'torture.mjs'), '--quick'], { timeoutMs: 170_000 });
    expect(job.stdout).toContain('torture: 0 lost tiles');
    expect(job.code).toBe(0);
    const rows = job.stdout.split('\n').filter((l) => /^(slab|serial|rounds)\//.test(l));
    expect(rows).toHaveLength(10);
    for (const row of rows) {
      const [, runs, refused, failed, lost, differing] = row.trim().split(/\s+/);
      expect(Number(runs)).toBeGreaterThan(0);
      expect([Number(failed), Number(lost), Number(differing)]).toEqual([0, 0, 0]);
      // The one setting that cannot be made safe is refused, never silently risked.
      expect(Number(refused)).toBe(row.startsWith('rounds/independent/') ? Number(runs) : 0);
    }
  });
});
