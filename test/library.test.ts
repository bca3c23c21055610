/** The library front door: the same validation and refusals as the command line. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mpirun, node, repoRoot, stitchJs, tempDir } from './helpers/mpirun';

const dir = tempDir();
const input = path.join(dir, 'in.h5');
const index = path.join(repoRoot, 'dist', 'index.js');
beforeAll(() => {
  expect(node([stitchJs, 'generate', input, '--tiles', '2x2', '--tile', '32', '--overlap', '4']).code).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** h5stitch's own stderr lines (mpirun adds its banner when a rank exits non-zero). */
const h5stitchLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('h5stitch:'));

/** Runs stitch(options) on 2 ranks; prints the error's class and message (rank 0), or "ok". */
function libraryStitch(options: Record<string, unknown>) {
  const script = `const h=require(${JSON.stringify(index)});const m=h.initMpi();` +
    `try{h.stitch(${JSON.stringify(options)});if(m.rank===0)console.log('ok')}` +
    `catch(e){if(m.rank===0)console.log(e.name+': '+e.message)}`;
  return mpirun(2, ['-e', script]);
}

describe('library calls get the command line\'s refusals', () => {
  it('rounds + independent writes + write sieving is refused with the CLI\'s message', () => {
    const out = path.join(dir, 'unsafe.h5');
    const cli = mpirun(2, [stitchJs, input, '--out', out, '--strategy', 'rounds', '--io', 'independent', '--hint', 'romio_ds_write=enable']);
    expect(cli.code).toBe(2);
    const cliMessage = h5stitchLines(cli.stderr)[0].replace(/^h5stitch: error: /, '');
    const lib = libraryStitch({ input, output: out, strategy: 'rounds', io: 'independent', hints: { romio_ds_write: 'enable' } });
    expect(lib.code).toBe(0);
    expect(lib.stdout.trim()).toBe(`UsageError: ${cliMessage}`);
    expect(cliMessage).toMatch(/unsafe/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a bad option value is named in the one vocabulary', () => {
    const lib = libraryStitch({ input, output: path.join(dir, 'x.h5'), pipeline: 'yes' });
    expect(lib.stdout.trim()).toBe('UsageError: Expected one of auto | on | off for --pipeline but received "yes"');
    const typed = libraryStitch({ input, output: path.join(dir, 'x.h5'), memPerRank: '16M' });
    expect(typed.stdout.trim()).toBe('UsageError: Expected an integer >= 1 for --mem-per-rank but received "16M"');
  });

  it('stitch() and verify() work from a script', () => {
    const out = path.join(dir, 'lib.h5');
    const script = `const h=require(${JSON.stringify(index)});const r=h.stitch({input:${JSON.stringify(input)},output:${JSON.stringify(out)}});` +
      `const v=h.verify({output:${JSON.stringify(out)}});if(h.initMpi().rank===0)console.log(r.tiles, r.ranks, v.ok)`;
    const job = mpirun(2, ['-e', script]);
    expect(job.stderr).toBe('');
    expect(job.stdout.trim()).toBe('4 2 true');
  });
});

describe('each command takes only its own options', () => {
  it.each([
    ['verify', '--strategy', 'slab'],
    ['info', '--blend', 'max'],
    ['generate', '--strategy', 'slab'],
  ])('%s %s is a usage error naming the option', (command, option, value) => {
    const job = mpirun(1, [stitchJs, command, ...(command === 'info' ? [] : [command === 'verify' ? input : path.join(dir, 'g.h5')]), option, value]);
    expect(job.code).toBe(2);
    expect(h5stitchLines(job.stderr)).toEqual([`h5stitch: error: unknown option ${option} for ${command} (see ${command} --help)`]);
  });

  it('--help of a command lists its options', () => {
    const job = node([stitchJs, 'verify', '--help']);
    expect(job.code).toBe(0);
    expect(job.stdout).toMatch(/--input INPUT/);
    expect(job.stdout).not.toMatch(/--strategy/);
  });
});
