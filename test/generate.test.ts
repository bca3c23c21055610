/**
 * `generate` computes canvas rows once (2 trig calls a pixel) and writes in parallel: its pixels must
 * be the image formula's, bit for bit, for any rank count and band size.
 */
import { describe, it, expect, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prng } from './helpers/prng';
import { mpirun, node, repoRoot, run, stitchJs, tempDir } from './helpers/mpirun';
import { ImageRows, quantized } from '../lib/generate/tiles';
import type { Dtype } from '../lib/core/dtype';

const check = path.join(repoRoot, 'test', 'fixtures', 'check-generated.js');
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ImageRows', () => {
  it('gives quantized(y, x) bit for bit, every dtype, anywhere on a large canvas', () => {
    const rand = prng(5);
    for (const dtype of ['uint8', 'uint16', 'float32', 'float64'] as Dtype[]) {
      const width = 3000, rows = new ImageRows(width, 90_000, dtype);
      for (let k = 0; k < 20; k++) {
        const y0 = Math.floor(rand() * 89_990), out = rows.fill(y0, y0 + 3, new Float64Array(3 * width));
        for (let i = 0; i < out.length; i++) {
          const y = y0 + Math.floor(i / width), x = i % width;
          if (!Object.is(out[i], quantized(y, x, dtype))) throw new Error(`${dtype} (${y}, ${x}): ${out[i]} != ${quantized(y, x, dtype)}`);
        }
      }
    }
  });
});

describe('generate in parallel', () => {
  const cases = [
    { name: 'uint16, permuted, holes, overlap over half a tile', args: ['--tiles', '5x4', '--tile', '30x22', '--overlap-y', '18', '--overlap-x', '4', '--dtype', 'uint16', '--permute', '--seed', '3', '--hole', '0,0', '--hole', '2,3', '--hole', '4,1'] },
    { name: 'float32, one row of bands at a time', args: ['--tiles', '3x6', '--tile', '17x33', '--overlap', '5', '--dtype', 'float32', '--mem-per-rank', '1'] },
    { name: 'uint8, more ranks than grid rows', args: ['--tiles', '2x3', '--tile', '16', '--overlap', '3', '--dtype', 'uint8'] },
  ];
  it.each(cases)('$name: every pixel is the formula, for 1 to 3 ranks and any band size', ({ args }) => {
    const outputs = [1, 2, 3].map((ranks) => {
      const out = path.join(dir, `g${ranks}-${args[1]}.h5`);
      const job = ranks === 1 ? node([stitchJs, 'generate', out, ...args]) : mpirun(ranks, [stitchJs, 'generate', out, ...(args.includes('--mem-per-rank') ? args : [...args, '--mem-per-rank', '2K'])]);
      expect(job.code, job.stderr).toBe(0);
      const result = JSON.parse(node([check, out]).stdout);
      expect(result).toMatchObject({ tileMismatches: 0, truthMismatches: 0 });
      expect(result.placed).toBe(result.count);
      return out;
    });
    for (const other of outputs.slice(1)) expect(run('h5diff', [outputs[0], other]).code).toBe(0);
  });
});

describe('generate refuses bad output paths: one line, exit 2, on any rank count', () => {
  it.each([
    ['a missing directory', () => path.join(dir, 'no', 'such', 't.h5'), /output directory .*no\/such does not exist/],
    ['an existing file without --force', () => {
      const file = path.join(dir, 'exists.h5');
      fs.writeFileSync(file, 'x');
      return file;
    }, /exists\.h5 exists; pass --force to replace it/],
  ] as const)('%s', (_name, target, message) => {
    const job = mpirun(2, [stitchJs, 'generate', target(), '--tiles', '2x2', '--tile', '8']);
    expect(job.code).toBe(2);
    const lines = job.stderr.split('\n').filter((l) => l.startsWith('h5stitch:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
