/**
 * End-to-end: generate tiles, stitch them under real mpirun with every strategy
 * and rank count, and check the outputs against each other, against the
 * generator's /ground_truth, with `verify`, and with the hdf5-tools.
 * HDF5 files are read by child processes (test/fixtures/h5read.js) because the
 * runner itself must never load the addon or initialise MPI.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeCpus } from '../lib/runtime/cpus';
import { mpirun, node, repoRoot, run, stitchJs, tempDir, type JobResult } from './helpers/mpirun';

const h5read = path.join(repoRoot, 'test', 'fixtures', 'h5read.js');
const damage = path.join(repoRoot, 'test', 'fixtures', 'damage.js');
const JOB = { timeoutMs: 60_000 };

function ok(result: JobResult, what: string): JobResult {
  expect(result.signal, `${what} was killed (${result.signal})\n${result.stderr}`).toBeNull();
  expect(result.code, `${what} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  return result;
}

/** Runs the h5read.js fixture and parses its JSON answer. */
function read<T = any>(...args: string[]): T {
  const r = ok(node([h5read, ...args], JOB), `h5read ${args.join(' ')}`);
  return JSON.parse(r.stdout) as T;
}

function generate(dir: string, genArgs: string[]): string {
  const input = path.join(dir, 'in.h5');
  ok(node([stitchJs, 'generate', input, ...genArgs], JOB), `generate ${genArgs.join(' ')}`);
  return input;
}

function stitch(ranks: number, input: string, out: string, args: string[]): JobResult {
  return ok(mpirun(ranks, [stitchJs, input, '--out', out, ...args], JOB), `mpirun -n ${ranks} stitch ${args.join(' ')}`);
}

interface Variant { name: string; args: string[] }
const VARIANTS: Variant[] = [
  { name: 'slab', args: ['--strategy', 'slab'] },
  { name: 'serial', args: ['--strategy', 'serial'] },
  { name: 'slab-independent', args: ['--strategy', 'slab', '--io', 'independent'] },
  { name: 'rounds-collective', args: ['--strategy', 'rounds', '--io', 'collective'] },
  // Blend on a second thread, many small bands (so ranks run out of bands at different times).
  { name: 'slab-pipelined', args: ['--strategy', 'slab', '--pipeline', 'on', '--mem-per-rank', '4K'] },
  { name: 'slab-pipelined-independent', args: ['--strategy', 'slab', '--pipeline', 'on', '--mem-per-rank', '4K', '--io', 'independent', '--writeback', 'end'] },
  { name: 'rounds-independent', args: ['--strategy', 'rounds', '--io', 'independent'] },
];
const RANKS = [1, 2, 3, 4];

interface Case { name: string; gen: string[]; canvas: [number, number] }
const CASES: Case[] = [
  { name: '1x1 grid, 64x64 float32, overlap 0', gen: ['--tiles', '1x1', '--tile', '64x64', '--overlap', '0', '--dtype', 'float32'], canvas: [64, 64] },
  {
    name: '3x5 grid, 48x48 uint16, overlap 6, permuted, hole at 1,2',
    gen: ['--tiles', '3x5', '--tile', '48x48', '--overlap', '6', '--dtype', 'uint16', '--permute', '--hole', '1,2'],
    canvas: [3 * 48 - 2 * 6, 5 * 48 - 4 * 6],
  },
  {
    name: '4x4 grid, 40x40 float32, overlap 24 (> half a tile: greedy rounds)',
    gen: ['--tiles', '4x4', '--tile', '40x40', '--overlap', '24', '--dtype', 'float32'],
    canvas: [4 * 40 - 3 * 24, 4 * 40 - 3 * 24],
  },
];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});
function newDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}

describe.each(CASES)('stitch $name', (c) => {
  let dir: string;
  let input: string;
  const outputs: string[] = [];

  beforeAll(() => {
    dir = newDir();
    input = generate(dir, c.gen);
    for (const v of VARIANTS) {
      for (const ranks of RANKS) {
        const out = path.join(dir, `${v.name}-${ranks}.h5`);
        stitch(ranks, input, out, v.args);
        outputs.push(out);
      }
    }
  });

  it('writes the canvas shape and provenance attributes for every strategy × ranks', () => {
    expect(outputs).toHaveLength(VARIANTS.length * RANKS.length);
    const s = read('summary', outputs[outputs.length - 1]); // rounds-independent, 4 ranks
    expect(s.shape).toEqual(c.canvas);
    expect(s.dtype).toBe('float32');
    expect(s.attrs).toMatchObject({ complete: 1, strategy: 'rounds', io: 'independent', blend: 'linear', ranks: 4 });
  });

  it('all outputs are bit-identical', () => {
    const results = read<{ file: string; identical: boolean; maxAbs: number }[]>('compare', outputs[0], ...outputs.slice(1));
    expect(results).toHaveLength(outputs.length - 1);
    for (const r of results) expect({ file: path.basename(r.file), identical: r.identical, maxAbs: r.maxAbs }).toEqual({ file: path.basename(r.file), identical: true, maxAbs: 0 });
  });

  it('equals /ground_truth within 1e-5 of the truth range', () => {
    const t = read('truth', outputs[0], `${input}:/ground_truth`);
    expect(t.sameShape).toBe(true);
    expect(t.range).toBeGreaterThan(0);
    expect(t.relative).toBeLessThanOrEqual(1e-5);
  });

  it('verify exits 0', () => {
    const out = outputs[outputs.length - 1];
    const r = ok(mpirun(2, [stitchJs, 'verify', out, '--input', input, '--json'], JOB), 'verify');
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.failed).toEqual([]);
  });
});

describe('uint16 output', () => {
  it('is bit-identical across strategies and rank counts', () => {
    const dir = newDir();
    const input = generate(dir, CASES[1].gen);
    const a = path.join(dir, 'slab-2.h5');
    const b = path.join(dir, 'rounds-3.h5');
    stitch(2, input, a, ['--strategy', 'slab', '--dtype', 'uint16']);
    stitch(3, input, b, ['--strategy', 'rounds', '--io', 'independent', '--dtype', 'uint16']);
    expect(read('summary', a).dtype).toBe('uint16');
    const [r] = read<{ identical: boolean; sameDtype: boolean }[]>('compare', a, b);
    expect(r).toMatchObject({ sameDtype: true, identical: true });
    expect(read('truth', a, `${input}:/ground_truth`).relative).toBeLessThanOrEqual(1e-5);
    const v = ok(mpirun(2, [stitchJs, 'verify', b, '--input', input, '--json'], JOB), 'verify uint16');
    expect(JSON.parse(v.stdout).ok).toBe(true);
  });
});

describe('damaged output', () => {
  let dir: string;
  let input: string;
  let good: string;

  beforeAll(() => {
    dir = newDir();
    input = generate(dir, CASES[1].gen);
    good = path.join(dir, 'good.h5');
    stitch(2, input, good, ['--strategy', 'slab']);
  });

  it.each([0, 13])('verify exits 1 and names zeroed tile %i as missing', (k) => {
    const bad = path.join(dir, `bad-${k}.h5`);
    fs.copyFileSync(good, bad);
    ok(node([damage, bad, String(k)], JOB), `damage tile ${k}`);

    const text = mpirun(2, [stitchJs, 'verify', bad, '--input', input], JOB);
    expect(text.code, text.stdout + text.stderr).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`^tile ${k}: missing \\(`, 'm'));

    const json = mpirun(2, [stitchJs, 'verify', bad, '--input', input, '--json'], JOB);
    expect(json.code, json.stdout + json.stderr).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.ok).toBe(false);
    expect(report.failed).toContainEqual(expect.objectContaining({ index: k, status: 'missing' }));
    expect(report.tiles.find((t: { index: number }) => t.index === k)?.status).toBe('missing');
  });
});

describe('hdf5-tools cross-check', () => {
  let dir: string;
  let out: string;
  const canvas = CASES[2].canvas;

  beforeAll(() => {
    dir = newDir();
    const input = generate(dir, CASES[2].gen);
    out = path.join(dir, 'out.h5');
    stitch(3, input, out, ['--strategy', 'rounds', '--io', 'collective']);
  });

  it('h5ls -r shows /stitched with the canvas shape', () => {
    const r = ok(run('h5ls', ['-r', out]), 'h5ls');
    expect(r.stdout).toMatch(new RegExp(`^/stitched\\s+Dataset \\{${canvas[0]}, ${canvas[1]}\\}`, 'm'));
  });

  it('h5dump shows complete = 1 and the strategy', () => {
    const r = ok(run('h5dump', ['-A', '-d', '/stitched', out]), 'h5dump -A');
    expect(r.stdout).toMatch(/ATTRIBUTE "complete" \{[^}]*DATA \{\s*\(0\): 1\s*\}/);
    expect(r.stdout).toMatch(/ATTRIBUTE "strategy" \{[\s\S]*?DATA \{\s*\(0\): "rounds"\s*\}/);
    const complete = ok(run('h5dump', ['-a', '/stitched/complete', out]), 'h5dump -a complete');
    expect(complete.stdout).toMatch(/\(0\): 1\s/);
  });

  it('a sample value from h5dump matches the reader', () => {
    for (const [y, x] of [[10, 20], [canvas[0] - 1, canvas[1] - 1], [37, 51]]) {
      const r = ok(run('h5dump', ['-m', '%.9g', '-d', '/stitched', '-s', `${y},${x}`, '-c', '1,1', out]), 'h5dump -s');
      const m = new RegExp(`\\(${y},${x}\\): (\\S+)`).exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      const mine = read<{ value: number }>('value', out, String(y), String(x)).value;
      expect(Math.fround(Number(m![1]))).toBe(Math.fround(mine));
    }
  });
});

describe('output written via a temp name', () => {
  it('leaves no partial file and refuses to overwrite without --force', () => {
    const dir = newDir();
    const input = generate(dir, CASES[0].gen);
    const out = path.join(dir, 'out.h5');
    stitch(2, input, out, ['--strategy', 'slab']);
    const listing = fs.readdirSync(dir).sort();
    expect(listing).toEqual(['in.h5', 'out.h5']);
    expect(fs.existsSync(path.join(dir, '.out.h5.h5stitch-partial'))).toBe(false);
    const before = fs.readFileSync(out);

    const again = mpirun(2, [stitchJs, input, '--out', out, '--strategy', 'slab'], JOB);
    expect(again.code, again.stdout + again.stderr).toBe(2);
    expect(again.stderr).toContain('exists');
    expect(again.stderr).toContain('--force');
    expect(fs.readFileSync(out).equals(before)).toBe(true); // the refused run left it alone
    expect(fs.readdirSync(dir).sort()).toEqual(['in.h5', 'out.h5']);

    stitch(2, input, out, ['--strategy', 'serial', '--force']);
    expect(fs.readdirSync(dir).sort()).toEqual(['in.h5', 'out.h5']);
    expect(read('summary', out).attrs.strategy).toBe('serial');
  });
});

describe('slab on one rank', () => {
  it('blends on a second thread when the node has a CPU to spare, whatever the binding', () => {
    const dir = newDir();
    const input = generate(dir, ['--tiles', '2x2', '--tile', '64', '--overlap', '8']);
    const report = (binding: string[], out: string, extra: string[] = [], ranks = 1) => JSON.parse(ok(run('mpirun',
      [...binding, '-n', String(ranks), process.execPath, stitchJs, input, '--out', path.join(dir, out), '--json', ...extra], JOB), out).stdout);
    const spare = nodeCpus() >= 2;
    // Bound to one core, the rank still gets the pipeline: its blend thread leaves the binding.
    const bound = report(['--bind-to', 'core'], 'core.h5');
    expect(bound.pipeline).toBe(spare);
    expect(bound.io).toBe('independent'); // one rank: nobody to be collective with
    expect(report(['--bind-to', 'none'], 'none.h5').pipeline).toBe(spare);
    // Two ranks need four CPUs on the node: otherwise the threads would take turns.
    expect(report(['--bind-to', 'core'], 'two.h5', [], 2).pipeline).toBe(Math.floor(nodeCpus() / 2) >= 2);
    expect(report(['--bind-to', 'none'], 'off.h5', ['--pipeline', 'off']).pipeline).toBe(false);
    expect(report(['--bind-to', 'none'], 'rounds.h5', ['--strategy', 'rounds']).pipeline).toBe(false);
    const same = read<{ identical: boolean }[]>('compare', path.join(dir, 'core.h5'), path.join(dir, 'none.h5'), path.join(dir, 'rounds.h5'), path.join(dir, 'two.h5'));
    expect(same.map((r) => r.identical)).toEqual([true, true, true]);
  });
});

describe('--io auto', () => {
  it('writes slab bands independently with OMPIO on a local file system, collectively otherwise, the same pixels', () => {
    const dir = newDir();
    const input = generate(dir, ['--tiles', '3x3', '--tile', '64', '--overlap', '8']);
    const report = (out: string, extra: string[] = [], env: Record<string, string> = {}) =>
      JSON.parse(ok(mpirun(2, [stitchJs, input, '--out', path.join(dir, out), '--json', ...extra], { ...JOB, env }), out).stdout);
    expect(report('auto.h5').io).toBe('independent'); // Open MPI's default OMPIO; the test directory is node-local
    expect(report('romio.h5', [], { OMPI_MCA_io: 'romio321' }).io).toBe('collective');
    expect(report('coll.h5', ['--io', 'collective']).io).toBe('collective');
    expect(report('gzip.h5', ['--chunk', '32x32', '--compress', 'gzip']).io).toBe('collective'); // filtered chunks: collective only
    expect(report('rounds.h5', ['--strategy', 'rounds']).io).toBe('collective');
    const files = ['auto.h5', 'romio.h5', 'coll.h5', 'gzip.h5', 'rounds.h5'].map((f) => path.join(dir, f));
    expect(read<{ identical: boolean }[]>('compare', ...files).map((r) => r.identical)).toEqual([true, true, true, true]);
  });
});
