// mpirun -n 64 on a 2-core machine (oversubscribed, unbound): more ranks than bands and than canvas
// rows, so most ranks own no rows (slab) or no tiles (rounds) and still take part in every
// collective call. The outputs are bit-identical to one rank's; one failing rank ends all 64.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { node, repoRoot, run, stitchJs, tempDir, type JobResult } from './helpers/mpirun';

const RANKS = 64;
const dir = tempDir('h5stitch-scale-test-');
// 2x8 tiles of 24x32 overlapping by 4: a 44x228 canvas, fewer rows than ranks.
const tiles = path.join(dir, 'tiles.h5');
const reference = path.join(dir, 'one-rank.h5');
const h5read = path.join(repoRoot, 'test', 'fixtures', 'h5read.js');

/** Fault injection: `rank` throws when it starts its n-th tile read (from 0). */
function failAtEnv(rank: number, n: number): Record<string, string> {
  return { H5STITCH_TEST_HOOKS: JSON.stringify({ failAt: `${rank}:${n}` }) };
}

function mpirun64(args: string[], env: Record<string, string> = {}): JobResult {
  // --bind-to none: Open MPI would pin the ranks to cores, all 64 onto 2.
  return run('mpirun', ['--bind-to', 'none', '-n', String(RANKS), process.execPath, stitchJs, ...args], { timeoutMs: 180_000, env });
}

function identicalToOneRank(out: string): boolean {
  const cmp = node([h5read, 'compare', reference, out]);
  expect(cmp.code).toBe(0);
  return JSON.parse(cmp.stdout)[0].identical;
}

beforeAll(() => {
  expect(node([stitchJs, 'generate', tiles, '--tiles', '2x8', '--tile', '24x32', '--overlap', '4']).code).toBe(0);
  expect(node([stitchJs, tiles, '--out', reference]).code).toBe(0);
  expect(node([stitchJs, 'verify', reference, '--input', tiles]).code).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe(`mpirun -n ${RANKS}`, () => {
  it.each([
    // one row per rank for ranks 0-43, nothing for 44-63; one collective write
    ['slab', []],
    // 16 tiles in 4 rounds of 4: at most 4 of 64 ranks have a tile in a round
    ['rounds', ['--io', 'collective']],
  ] as Array<[string, string[]]>)('%s %s: bit-identical to one rank on a 44-row canvas', (strategy, extra) => {
    const out = path.join(dir, `${strategy}${extra.join('')}.h5`);
    const job = mpirun64([tiles, '--out', out, '--strategy', strategy, ...extra, '--json']);
    expect(job.stderr).toBe('');
    expect(job.code).toBe(0);
    expect(JSON.parse(job.stdout)).toMatchObject({ ranks: RANKS, canvas: [44, 228], strategy });
    expect(identicalToOneRank(out)).toBe(true);
  });

  it('one failing rank ends all 64 promptly, leaving no output', () => {
    const out = path.join(dir, 'failed.h5');
    // Rank 43 owns the last canvas row: the 8 tiles of the bottom grid row.
    const job = mpirun64([tiles, '--out', out], failAtEnv(43, 3));
    expect(job.signal).toBeNull(); // ended by itself, not by the test's timeout
    expect(job.code).not.toBe(0);
    expect(job.stderr).toContain('h5stitch: [rank 43] error: injected fault');
    expect(job.ms).toBeLessThan(120_000);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.includes('failed'))).toEqual([]);
  });
});
