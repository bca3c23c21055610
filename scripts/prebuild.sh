#!/usr/bin/env bash
# The prebuild the package ships: the addon built for this platform (incrementally, in build/),
# stripped, at the path node-gyp-build looks for (prebuilds/<platform>-<arch>/*.napi.node), so an
# install needs no compiler and no install script.
set -euo pipefail
cd "$(dirname "$0")/.."
npx cmake-js compile >/tmp/h5stitch-prebuild.log 2>&1 || { cat /tmp/h5stitch-prebuild.log >&2; exit 1; }
target="prebuilds/$(node -p 'process.platform + "-" + process.arch')"
rm -rf prebuilds && mkdir -p "$target"
strip --strip-unneeded -o "$target/h5stitch.glibc.napi.node" build/Release/h5stitch.node
echo "h5stitch prebuild: $target/h5stitch.glibc.napi.node" >&2
