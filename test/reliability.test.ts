// Failures end the job promptly and safely: a rank that throws, a rank killed with
// SIGKILL, a full disk. The final output path never holds a file marked complete,
// and the input is never modified.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobEnv, mpirun, node, repoRoot, stitchJs, tempDir } from './helpers/mpirun';

const dir = tempDir();
const input = path.join(dir, 'in.h5');
const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
let inputSha = '';

beforeAll(() => {
  expect(node([stitchJs, 'generate', input, '--tiles', '4x4', '--tile', '64', '--overlap', '8']).code).toBe(0);
  inputSha = sha(input);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function leftovers(): string[] {
  return fs.readdirSync(dir).filter((f) => f !== 'in.h5');
}

describe('a rank that throws ends the whole job', () => {
  it.each([
    ['slab', 1, []],
    // fails while reading ahead, with the blend of the band before running on its thread
    ['slab', 2, ['--pipeline', 'on', '--mem-per-rank', '4K']],
    ['rounds', 2, ['--io', 'collective']],
    ['rounds', 1, ['--io', 'independent']],
    ['serial', 0, []],
  ] as Array<[string, number, string[]]>)('%s: rank %i fails at its second tile', (strategy, rank, extra) => {
    const out = path.join(dir, `fail-${strategy}${extra.join('')}.h5`);
    const job = mpirun(3, [stitchJs, input, '--out', out, '--strategy', strategy, ...extra], {
      env: { H5STITCH_TEST_HOOKS: JSON.stringify({ failAt: `${rank}:1` }) }, timeoutMs: 30_000,
    });
    expect(job.signal).toBeNull(); // ended by itself, not by our timeout
    expect(job.code).not.toBe(0);
    expect(job.stderr).toContain(`h5stitch: [rank ${rank}] error: injected fault (H5STITCH_TEST_HOOKS failAt)`);
    expect(job.ms).toBeLessThan(15_000);
    expect(fs.existsSync(out)).toBe(false);
    expect(leftovers()).toEqual([]);
    expect(sha(input)).toBe(inputSha);
  });
});

describe('kill -9 of one rank mid-write', () => {
  it('ends the job, leaves no complete output, keeps the input intact', async () => {
    const out = path.join(dir, 'killed.h5');
    // A skew hook slows every tile down so the kill lands mid-stitch.
    const job = spawn('mpirun', ['-n', '3', process.execPath, stitchJs, input, '--out', out, '--strategy', 'rounds'], {
      cwd: repoRoot, env: jobEnv({ H5STITCH_TEST_HOOKS: JSON.stringify({ skewMs: 400 }) }), stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => job.on('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 1500));
    const ranks = spawnSync('pgrep', ['-f', `${stitchJs} ${input} --out ${out}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    const victim = ranks.find((pid) => Number(pid) !== job.pid);
    expect(victim).toBeDefined();
    process.kill(Number(victim), 'SIGKILL');
    const started = Date.now();
    const timeout = setTimeout(() => job.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timeout);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(code).not.toBe(0);
    expect(fs.existsSync(out)).toBe(false);
    expect(sha(input)).toBe(inputSha);
    for (const f of leftovers()) fs.rmSync(path.join(dir, f), { force: true });
  });
});

describe('disk full', () => {
  const small = path.join(dir, 'small');
  let mounted = false;
  beforeAll(() => {
    fs.mkdirSync(small);
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]).status === 0;
  });
  afterAll(() => {
    if (mounted) spawnSync('umount', [small]);
  });

  it('refuses up front an output larger than the free space: exit 2, nothing written', (ctx) => {
    if (!mounted) ctx.skip();
    const out = path.join(small, 'out.h5');
    const job = mpirun(2, [stitchJs, input, '--out', out], { timeoutMs: 30_000 });
    expect(job.code).toBe(2);
    expect(job.stderr).toMatch(/h5stitch: error: rank 0: the output would be 232x232 float32 \(215296 bytes\) but .*small has \d+ bytes free/);
    expect(fs.readdirSync(small)).toEqual([]);
  });

  it('fails with the write error, removes the partial file and exits non-zero', (ctx) => {
    if (!mounted) ctx.skip(); // needs root with mount rights (CI and the dev machines have them)
    const out = path.join(small, 'out.h5');
    // Compressed, so its size is not known up front: the disk fills while it is written.
    const job = mpirun(2, [stitchJs, input, '--out', out, '--chunk', '64x64', '--compress', 'gzip'], { timeoutMs: 30_000 });
    expect(job.code).not.toBe(0);
    expect(job.stderr).toMatch(/\[rank \d\] error: no space left on device in .*small: H5Dwrite\(\/stitched\) failed/);
    expect(fs.readdirSync(small)).toEqual([]);
    expect(sha(input)).toBe(inputSha);
  });
});
