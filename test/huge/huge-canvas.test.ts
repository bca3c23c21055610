// A canvas past 2^31 pixels: 47,000 x 47,000 uint8 (2.2 GB written) stitched and verified by two
// ranks, read back on both sides of linear pixel 2^31. Slow and disk-hungry, so not in `npm test`:
// run it with `npm run test:huge`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mpirun, node, repoRoot, stitchJs, tempDir } from '../helpers/mpirun';

const dir = tempDir();
const fixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', name);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a 47,000 x 47,000 uint8 canvas (2.2 G pixels)', () => {
  it('stitches and verifies with 2 ranks; pixels on both sides of 2^31 hold their tile values', () => {
    const { bavail, bsize } = fs.statfsSync(dir);
    expect(bavail * bsize, `${dir} needs 2.3 GB free`).toBeGreaterThan(2.3e9);
    const input = path.join(dir, 'sparse.h5');
    const out = path.join(dir, 'huge.h5');
    expect(node([fixture('sparse-tiles.js'), input]).code).toBe(0);

    // A row of 47,000 float32 accumulator values is 188,000 bytes: a budget below it is refused.
    const small = mpirun(2, [stitchJs, input, '--positions', '/pos', '--dtype', 'uint8', '--out', out, '--mem-per-rank', '100K']);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/--mem-per-rank 102400 bytes is too small for one canvas row \(188000 bytes\)/);

    const job = mpirun(2, [stitchJs, input, '--positions', '/pos', '--dtype', 'uint8', '--out', out, '--json'], { timeoutMs: 900_000 });
    expect(job.stderr).toBe('');
    expect(job.code).toBe(0);
    const report = JSON.parse(job.stdout);
    expect(report).toMatchObject({ canvas: [47000, 47000], dtype: 'uint8', ranks: 2, bytes: { output: 47000 * 47000 } });
    expect(fs.statSync(out).size).toBeGreaterThan(47000 * 47000);

    // Linear pixel 2^31 - 1 is (45691, 6647), 2^31 is (45691, 6648): tile 1's (11, 7) and (11, 8).
    const value = (i: number, ly: number, lx: number) => String((70 * i + ((32 * ly + lx) % 97) + 1) % 256);
    const read = node([fixture('pixels.js'), out, '45691,6647', '45691,6648', '0,0', '46999,46999', '20000,20000']).stdout.trim().split('\n');
    expect(read).toEqual([`45691,6647=${value(1, 11, 7)}`, `45691,6648=${value(1, 11, 8)}`, `0,0=${value(0, 0, 0)}`,
      `46999,46999=${value(2, 31, 31)}`, '20000,20000=0']);

    const verify = mpirun(2, [stitchJs, 'verify', out, '--json'], { timeoutMs: 900_000 });
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, pixels: 47000 * 47000, uncovered: { mismatched: 0 } });
    console.log(`47,000^2 uint8: stitch ${(report.wallSeconds).toFixed(1)} s (job ${(job.ms / 1000).toFixed(1)} s), verify ${(verify.ms / 1000).toFixed(1)} s`);
  }, 1_800_000);
});
