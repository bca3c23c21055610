#!/usr/bin/env bash
# Benchmarks every write strategy against the raw MPI-IO write speed for 1, 2 and 4 ranks,
# writes bench/results/<date>-<host>.json (all rank counts in one document), then the
# Markdown table and SVG chart next to it (scripts/bench-report.mjs).
#
#   BENCH_ARGS   bench options (default: --tiles 8x8 --tile 1024 --overlap 102 --dtype float32 --repeat 5)
#   BENCH_RANKS  rank counts (default: "1 2 4")
#   BENCH_DIR    scratch directory for tiles and outputs (default: /tmp/h5stitch-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mpirun-env.sh

args=${BENCH_ARGS:---tiles 8x8 --tile 1024 --overlap 102 --dtype float32 --repeat 5}
ranks=${BENCH_RANKS:-1 2 4}
dir=${BENCH_DIR:-/tmp/h5stitch-bench}
host=$(hostname -s 2>/dev/null || hostname)
out=bench/results/$(date +%Y-%m-%d)-$host.json
mkdir -p bench/results "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cpus=$(getconf _NPROCESSORS_ONLN)
for n in $ranks; do
  # Give each rank its share of the cores, as srun -c does on a cluster: Open MPI binds 1-2 ranks
  # to one core each by default, which would leave a lone rank no spare CPU for the slab pipeline.
  mapping=()
  if [ "${H5STITCH_MPI:-openmpi}" != mpich ] && [ $((cpus / n)) -ge 2 ]; then mapping=(--map-by "slot:PE=$((cpus / n))"); fi
  echo "h5stitch bench: $n rank(s) ${mapping[*]}: $args" >&2
  # shellcheck disable=SC2086
  $MPIRUN "${mapping[@]}" -n "$n" node dist/stitch.js bench $args --dir "$dir" --json > "$tmp/$n.json"
done

node -e '
const fs = require("fs");
const runs = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8").trim()));
process.stdout.write(JSON.stringify({ command: "bench", date: new Date().toISOString(), machine: runs[0].machine, runs }, null, 1) + "\n");
' $(for n in $ranks; do echo "$tmp/$n.json"; done) > "$out"
echo "h5stitch bench: wrote $out" >&2
node scripts/bench-report.mjs "$out"
cat "${out%.json}.md"
