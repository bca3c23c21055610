/**
 * The package as a user gets it: `npm pack`, installed offline into a fresh project, then used
 * through `require('h5stitch')` and from TypeScript.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobEnv, mpirun, node, repoRoot, stitchJs, tempDir } from './helpers/mpirun';

const dir = tempDir('h5stitch-package-');
const project = path.join(dir, 'consumer');
const fixtures = path.join(repoRoot, 'test', 'fixtures', 'consumer');
const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');

function sh(command: string, args: string[], cwd: string) {
  const r = spawnSync(command, args, { cwd, env: jobEnv(), encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  const pack = sh('npm', ['pack', '--pack-destination', dir, '--silent'], repoRoot);
  expect(pack.code, pack.out).toBe(0);
  const tarball = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true}\n');
  for (const f of fs.readdirSync(fixtures)) fs.copyFileSync(path.join(fixtures, f), path.join(project, f));
  // Offline: everything the package needs at install time is in the tarball (prebuild, bundled loader).
  const install = sh('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], project);
  expect(install.code, install.out).toBe(0);
  expect(install.out).not.toMatch(/\n\s+at /); // no stack trace at install
}, 300_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the packed package in a fresh project', () => {
  it('ships the linux-x64 prebuild and builds nothing at install', () => {
    const installed = path.join(project, 'node_modules', 'h5stitch');
    expect(fs.readdirSync(path.join(installed, 'prebuilds', `${process.platform}-${process.arch}`))).toEqual(['h5stitch.glibc.napi.node']);
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
  });

  it('type-checks a TypeScript consumer, and rejects a wrong option', () => {
    const ok = sh(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
    expect(ok.code, ok.out).toBe(0);
    const wrong = sh(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', 'wrong-option.ts'], project);
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toMatch(/wrong-option\.ts.*"fastest"/);
  });

  it('mpirun -n 2 stitches and verifies through require("h5stitch")', () => {
    const input = path.join(project, 'tiles.h5');
    expect(node([stitchJs, 'generate', input, '--tiles', '3x3', '--tile', '32', '--overlap', '4']).code).toBe(0);
    const job = mpirun(2, [path.join(project, 'consumer.js'), input, path.join(project, 'stitched.h5')], { cwd: project });
    expect(job.stderr).toBe('');
    expect(job.code).toBe(0);
    expect(job.stdout.trim()).toBe('consumer: 9 tiles on 2 ranks, verify ok');
  });

  it('writes a preview PNG with its bundled runtime dependencies (pngjs, quickselect)', () => {
    // In the tarball itself: an offline install from a warm npm cache would not show them missing.
    const tarball = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
    const listing = sh('tar', ['tzf', tarball], dir).out.split('\n');
    for (const dep of ['pngjs', 'quickselect']) expect(listing).toContain(`package/node_modules/${dep}/package.json`);
    const bin = path.join(project, 'node_modules', 'h5stitch', 'dist', 'stitch.js');
    const job = node([bin, 'preview', path.join(project, 'stitched.h5'), '--out', path.join(project, 'preview.png')], { cwd: project });
    expect(job.code, job.stderr).toBe(0);
    expect(job.stdout).toMatch(/^h5stitch preview: .*preview\.png \(88x88, \/stitched;/);
    expect(fs.readFileSync(path.join(project, 'preview.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('exports the public surface only', () => {
    const script = "const h=require('h5stitch');console.log(Object.keys(h).sort().join(','));" +
      "try{require('h5stitch/dist/runtime/mpi.js')}catch(e){console.log(e.code)}";
    const r = node(['-e', script], { cwd: project });
    expect(r.stdout.trim().split('\n')).toEqual([
      'H5StitchError,InputError,PYRAMID_FIT_PX,RankFailedError,UsageError,VERSION,initMpi,inspect,levelPath,levelShape,levelShapes,levelsToFit,openFile,pyramidLevels,readAll,register,registrationPicture,stitch,verify',
      'ERR_PACKAGE_PATH_NOT_EXPORTED',
    ]);
  });

  it('import() gives the same names (ESM)', () => {
    const r = node(['--input-type=module', '-e', "import { stitch, verify } from 'h5stitch'; console.log(typeof stitch, typeof verify)"], { cwd: project });
    expect(r.stdout.trim()).toBe('function function');
  });
});
