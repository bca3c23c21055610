#!/usr/bin/env node
// npm install hook. Nothing to do when a native build for this platform loads: the prebuild the
// package ships (prebuilds/linux-x64) or an earlier source build (build/Release). Otherwise build
// from source with cmake-js, printing the build log only when it fails. Kept quiet on purpose: a
// stack trace at install time reads as a failure.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function loads() {
  try {
    require(require('node-gyp-build').path(root));
    return true;
  } catch {
    return false;
  }
}

if (!loads()) {
  process.stderr.write('h5stitch: no prebuilt addon loads here; building it from source (cmake-js, parallel HDF5 + MPI)\n');
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const build = spawnSync(process.execPath, [cmakeJs, 'rebuild'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) {
    process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}`.split('\n').slice(-40).join('\n'));
    process.stderr.write('\nh5stitch: the native build failed. On Debian/Ubuntu: sudo apt-get install libhdf5-openmpi-dev openmpi-bin libtiff-dev cmake g++ make\n');
    process.exit(1);
  }
}
