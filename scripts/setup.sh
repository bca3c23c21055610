#!/usr/bin/env bash
# Idempotent setup: installs the Debian/Ubuntu packages h5stitch needs when they
# are missing (as root, or through sudo; otherwise prints what to install), then
# `npm ci` when node_modules is out of date, then builds the addon and dist/.
#
#   H5STITCH_MPI=openmpi (default) | mpich   selects the MPI and parallel HDF5 build.
set -euo pipefail
cd "$(dirname "$0")/.."

mpi=${H5STITCH_MPI:-openmpi}
case "$mpi" in
  openmpi) packages="libhdf5-openmpi-dev openmpi-bin hdf5-tools"; cmake_flags=() ;;
  mpich) packages="libhdf5-mpich-dev mpich hdf5-tools"
         cmake_flags=(--CDMPI_C_COMPILER=/usr/bin/mpicc.mpich --CDHDF5_C_COMPILER_EXECUTABLE=/usr/bin/h5pcc.mpich) ;;
  *) echo "h5stitch setup: H5STITCH_MPI must be 'openmpi' or 'mpich', not '$mpi'" >&2; exit 2 ;;
esac
packages="$packages libtiff-dev cmake g++ make pkg-config libfftw3-dev"

say() { printf 'h5stitch setup: %s\n' "$*" >&2; }

if command -v dpkg-query >/dev/null 2>&1; then
  missing=""
  for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then sudo=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"
    else
      say "missing packages:$missing"
      say "install them with: sudo apt-get install -y$missing   (then run this again)"
      exit 1
    fi
    say "installing:$missing"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
  fi
elif ! command -v h5pcc >/dev/null 2>&1 && ! command -v h5pcc.mpich >/dev/null 2>&1; then
  say "not a Debian/Ubuntu system: install parallel HDF5 (h5pcc), an MPI (mpicc, mpirun), hdf5-tools and cmake yourself"
fi

# npm ci only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
fi

# A build/ copied from another checkout (a worktree) names that checkout's sources in its CMake
# cache, and CMake refuses it: start such a build afresh rather than keep its stale addon.
if [ -f build/CMakeCache.txt ] && ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$PWD" build/CMakeCache.txt; then
  say "build/ was configured for another directory: configuring afresh"
  rm -rf build
fi
npx cmake-js compile "${cmake_flags[@]}" >/tmp/h5stitch-build.log 2>&1 || { cat /tmp/h5stitch-build.log >&2; exit 1; }
npx tsc -p tsconfig.json
say "ready ($(node -e "const a=require('./dist/runtime/addon.js').native();console.log(a.mpi.libraryVersion().library.split(',')[0]+', HDF5 '+a.hdf5Version().version)"))"
