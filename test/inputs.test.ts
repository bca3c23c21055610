import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mpirun, node, repoRoot, stitchJs, tempDir } from './helpers/mpirun';

const dir = tempDir();
const input = path.join(dir, 'in.h5');
const fixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', name);
const maxDiff = (a: string, b: string) => JSON.parse(node([fixture('max-diff.js'), a, b]).stdout);

function stitchAndVerify(args: string[], out: string, verifyInput: string): void {
  const job = mpirun(3, [stitchJs, ...args, '--out', out]);
  expect(job.stderr).toBe('');
  expect(job.code).toBe(0);
  const verify = mpirun(2, [stitchJs, 'verify', out, '--input', verifyInput]);
  expect(verify.stdout).toContain('h5stitch verify: OK');
  expect(verify.code).toBe(0);
}

beforeAll(() => {
  expect(node([stitchJs, 'generate', input, '--tiles', '3x4', '--tile', '40x48', '--overlap', '6', '--permute', '--hole', '2,1']).code).toBe(0);
  expect(node([fixture('make-inputs.js'), input, dir, '6']).code).toBe(0);
  expect(node([fixture('bad-inputs.js'), input, dir]).code).toBe(0);
  expect(mpirun(2, [stitchJs, input, '--out', path.join(dir, 'ref.h5')]).code).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('input forms and output options', () => {
  const ref = () => `${path.join(dir, 'ref.h5')}:/stitched`;

  it('a directory of .npy tiles with --layout JSON gives the same bits as the HDF5 input', () => {
    const out = path.join(dir, 'npy.h5');
    stitchAndVerify([path.join(dir, 'npy'), '--layout', path.join(dir, 'layout.json'), '--overlap', '6'], out, path.join(dir, 'npy'));
    expect(maxDiff(ref(), `${out}:/stitched`).identical).toBe(true);
  });

  it('a group of 2-D tile datasets (/tiles/0, /tiles/1, ...) gives the same bits as the 3-D dataset', () => {
    const out = path.join(dir, 'group.out.h5');
    stitchAndVerify([path.join(dir, 'group.h5')], out, path.join(dir, 'group.h5'));
    expect(maxDiff(ref(), `${out}:/stitched`).identical).toBe(true);
  });

  it('explicit stage positions place tiles like the grid (to float rounding)', () => {
    const out = path.join(dir, 'positions.out.h5');
    stitchAndVerify([path.join(dir, 'positions.h5'), '--positions', '/stage_yx'], out, path.join(dir, 'positions.h5'));
    expect(maxDiff(ref(), `${out}:/stitched`).maxAbs).toBeLessThan(1e-6);
    expect(maxDiff(`${input}:/ground_truth`, `${out}:/stitched`).maxAbs).toBeLessThan(1e-5);
  });

  it('chunked, gzip-compressed output written collectively holds the same data', () => {
    const out = path.join(dir, 'gzip.h5');
    stitchAndVerify([input, '--chunk', '32x64', '--compress', 'gzip:5'], out, input);
    expect(maxDiff(ref(), `${out}:/stitched`).identical).toBe(true);
  });

  it.each(['max', 'none'])('--blend %s stitches and verifies', (blend) => {
    stitchAndVerify([input, '--blend', blend, '--strategy', 'rounds'], path.join(dir, `${blend}.h5`), input);
    const slab = path.join(dir, `${blend}-slab.h5`);
    stitchAndVerify([input, '--blend', blend], slab, input);
    expect(maxDiff(`${path.join(dir, `${blend}.h5`)}:/stitched`, `${slab}:/stitched`).identical).toBe(true);
    if (blend === 'max') expect(maxDiff(`${input}:/ground_truth`, `${slab}:/stitched`).maxAbs).toBeLessThan(1e-6);
  });

  it('--out FILE:/dataset and --json report', () => {
    const out = path.join(dir, 'named.h5');
    const job = mpirun(2, [stitchJs, input, '--out', `${out}:/group/image`, '--json', '--strategy', 'rounds', '--io', 'independent']);
    expect(job.code).toBe(0);
    const report = JSON.parse(job.stdout.trim());
    expect(report).toMatchObject({ command: 'stitch', strategy: 'rounds', io: 'independent', ranks: 2, tiles: 11 });
    expect(report.bytes.output).toBe(report.canvas[0] * report.canvas[1] * 4);
    expect(report.wallSeconds).toBeGreaterThan(0);
    expect(maxDiff(ref(), `${out}:/group/image`).identical).toBe(true);
  });
});
