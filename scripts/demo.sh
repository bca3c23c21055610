#!/usr/bin/env bash
# npm run demo: generate 8x8 tiles cut from a known image, stitch them with
# mpirun -n 4, verify the result and compare it with the ground truth.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/mpirun-env.sh
dir=${H5STITCH_DEMO_DIR:-demo-output}
mkdir -p "$dir"
node dist/stitch.js generate "$dir/tiles.h5" --tiles 8x8 --tile 256 --overlap 26 --dtype uint16 --permute --force
$MPIRUN -n 4 node dist/stitch.js "$dir/tiles.h5" --out "$dir/stitched.h5" --force
$MPIRUN -n 4 node dist/stitch.js verify "$dir/stitched.h5" --input "$dir/tiles.h5"
echo "demo: output in $dir/stitched.h5 (dataset /stitched); inspect with: h5ls -r $dir/stitched.h5"
