import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mpirun, node, repoRoot, stitchJs, tempDir } from './helpers/mpirun';

const dir = tempDir('h5stitch-bench-test-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const small = ['bench', '--tiles', '2x2', '--tile', '128', '--repeat', '1', '--dir', dir, '--json'];
const STRATEGIES = ['serial', 'rounds-independent', 'rounds-collective', 'slab', 'slab-independent'];

describe('bench', () => {
  it('times every strategy against the raw write, verified', () => {
    const job = mpirun(2, [stitchJs, ...small], { timeoutMs: 30_000 });
    expect(job.stderr).toBe('');
    expect(job.code).toBe(0);
    const report = JSON.parse(job.stdout.trim());
    expect(report.verified).toBe(true);
    expect(report.config.ranks).toBe(2);
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.machine.mpiLibrary).toMatch(/MPI/);
    const pixels = report.config.canvas[0] * report.config.canvas[1];
    expect(report.raw.median).toBeGreaterThan(0);
    expect(report.raw.bytes).toBe(pixels * 4);
    expect(report.strategies.map((s: { name: string }) => s.name)).toEqual(STRATEGIES);
    for (const s of report.strategies) {
      expect(s.runs).toHaveLength(1);
      for (const t of [s.median, s.min, s.max]) expect(t).toBeGreaterThan(0);
      expect(s.bytes.output).toBe(pixels * 4);
      expect(s.ratio).toBeGreaterThan(0);
      expect(s.peakRssKiB).toBeGreaterThan(0);
      expect(s.rssBoundKiB).toBeGreaterThan(s.peakRssKiB);
      expect(s.verified).toBe(true);
      expect(s.identical).toBe(true);
    }
    // Bytes moved explain the difference: slab writes each output byte once and reads only tiles;
    // rounds also reads back and rewrites every tile's rectangle of the output.
    const by = Object.fromEntries(report.strategies.map((s: { name: string }) => [s.name, s]));
    expect(by.slab.bytes.written).toBe(pixels * 4);
    expect(by['slab-independent'].bytes.written).toBe(pixels * 4);
    expect(by['rounds-independent'].bytes.written).toBeGreaterThan(pixels * 4);
    expect(by['rounds-independent'].bytes.read).toBeGreaterThan(by.slab.bytes.read);
    expect(report.targets.map((t: { name: string }) => t.name)).toEqual(['slab', 'slab-independent'].flatMap((s) =>
      [`${s} ratio to raw write`, `${s} speed-up over rounds-independent`, `${s} peak RSS / bound`]));
    for (const t of report.targets) {
      expect(t.value).toBeGreaterThan(0);
      expect(typeof t.met).toBe('boolean');
    }
    expect(fs.existsSync(path.join(dir, 'raw.bin'))).toBe(false);
  });

  it('fails (exit 1) naming the strategy and tile when an output is corrupted', () => {
    const job = mpirun(2, [stitchJs, ...small], { timeoutMs: 30_000, env: { H5STITCH_TEST_HOOKS: JSON.stringify({ corruptOutput: 'slab' }) } });
    expect(job.code).toBe(1);
    expect(job.stderr).toMatch(/slab: output failed verification: tile \d+/);
    expect(job.stdout).toBe('');
  });

  it('bench-report.mjs writes a Markdown table with every strategy and an SVG chart', () => {
    const strategy = (name: string, median: number) => ({
      name, runs: [median], median, min: median, max: median, phases: { read: 0.1, compute: 0.1, write: 0.1, sync: 0.1 },
      outputMBps: 100, bytes: { output: 1e6, read: 1e6, written: 1e6 }, peakRssKiB: 80_000, rssBoundKiB: 1_100_000,
      ratio: 0.5 / median, verified: true, identical: true,
    });
    const run = (ranks: number) => ({
      command: 'bench',
      machine: { host: 'testhost', cpus: 2, mpiLibrary: 'Open MPI v4.1.4', hdf5: '1.10.8' },
      config: { ranks, tiles: [2, 2], tile: [128, 128], overlap: 13, dtype: 'float32', repeat: 1, canvas: [243, 243], tileCount: 4, memPerRank: 1 << 30, dir, input: 'x', baselineRssKiB: 50_000 },
      raw: { runs: [0.5], median: 0.5, min: 0.5, max: 0.5, bytes: 1e6, outputMBps: 2 },
      strategies: STRATEGIES.map((s, i) => strategy(s, 1 + i)),
      targets: [{ name: 'slab ratio to raw write', goal: '>= 0.6', value: 0.125, met: false }],
      verified: true,
    });
    const file = path.join(dir, 'report.json');
    fs.writeFileSync(file, JSON.stringify({ machine: run(1).machine, runs: [run(1), run(2)] }));
    const job = node([path.join(repoRoot, 'scripts', 'bench-report.mjs'), file], { timeoutMs: 30_000 });
    expect(job.stderr).toBe('');
    expect(job.code).toBe(0);
    const md = fs.readFileSync(path.join(dir, 'report.md'), 'utf8');
    for (const s of [...STRATEGIES, 'raw write']) expect(md).toContain(`| ${s} |`);
    expect(md).toContain('| 2 | slab ratio to raw write | >= 0.6 | 0.13 | **not met** |');
    expect(fs.readFileSync(path.join(dir, 'report.svg'), 'utf8').startsWith('<svg')).toBe(true);
  });
});
