/** stitch --verify: the proof in the same job, failing the job when the output is wrong. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mpirun, node, stitchJs, tempDir } from './helpers/mpirun';

const dir = tempDir();
const input = path.join(dir, 'in.h5');
beforeAll(() => {
  expect(node([stitchJs, 'generate', input, '--tiles', '3x3', '--tile', '48', '--overlap', '6']).code).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('stitch --verify', () => {
  it('verifies in the same job and says so', () => {
    const job = mpirun(3, [stitchJs, input, '--out', path.join(dir, 'ok.h5'), '--verify']);
    expect(job.code, job.stderr).toBe(0);
    expect(job.stdout).toMatch(/^h5stitch verify: OK: 9\/9 tiles ok in \d+\.\d+ s$/m);
    const json = mpirun(2, [stitchJs, input, '--out', path.join(dir, 'ok2.h5'), '--verify', '--strategy', 'rounds', '--json']);
    expect(JSON.parse(json.stdout).verify).toMatchObject({ ok: true, complete: true, tiles: 9, failed: [] });
  });

  it('fails the job (exit 1) naming the tile when the output is wrong', () => {
    const job = mpirun(2, [stitchJs, input, '--out', path.join(dir, 'bad.h5'), '--verify'], {
      env: { H5STITCH_TEST_HOOKS: JSON.stringify({ corruptOutput: 'slab' }) },
    });
    expect(job.code).toBe(1);
    expect(job.stdout).toMatch(/^h5stitch verify: FAILED: 8\/9 tiles ok \(tile \d+ (wrong|missing)\)/m);
  });
});
