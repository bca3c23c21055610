/**
 * The addon built against MPICH, shared by the tests that need it: one incremental build in
 * build/mpich (the first test file pays the configure and compile, later ones find it done).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, run } from './mpirun';

export const haveMpich = fs.existsSync('/usr/bin/mpicc.mpich') && fs.existsSync('/usr/bin/h5pcc.mpich') && fs.existsSync('/usr/bin/mpirun.mpich');

const buildDir = path.join(repoRoot, 'build', 'mpich');

/** Builds (or brings up to date) the MPICH addon; returns the build's result and the addon's path. */
export function buildMpichAddon(): { code: number | null; log: string; addon: string } {
  const build = run('npx', ['cmake-js', 'compile', '--out', buildDir,
    '--CDMPI_C_COMPILER=/usr/bin/mpicc.mpich', '--CDHDF5_C_COMPILER_EXECUTABLE=/usr/bin/h5pcc.mpich'], { timeoutMs: 300_000 });
  return { code: build.code, log: build.stdout + build.stderr, addon: path.join(buildDir, 'Release', 'h5stitch.node') };
}

/**
 * A copy of the package in `dir` whose dist/ loads the MPICH addon (dist/runtime/addon.js loads
 * build/Release/h5stitch.node from the package root). Returns the path of its dist/stitch.js.
 */
export function mpichPackage(dir: string, addon: string): string {
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.cpSync(path.join(repoRoot, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(dir, 'package.json'));
  fs.copyFileSync(addon, path.join(dir, 'build', 'Release', 'h5stitch.node'));
  if (!fs.existsSync(path.join(dir, 'node_modules'))) fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  return path.join(dir, 'dist', 'stitch.js');
}
