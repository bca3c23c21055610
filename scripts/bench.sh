#!/usr/bin/env bash
# Benchmarks every write strategy against the raw MPI-IO write speed for 1, 2 and 4 ranks,
# writes bench/results/<date>-<host>.json (all rank counts in one document), then the
# Markdown table and SVG chart next to it (scripts/bench-report.mjs). Then the suite
# (scripts/bench-suite.mjs): h5stitch against the classic h5py + mpi4py recipe
# (bench/classic_stitch.py) and a one-process write + fsync of the same bytes, each rank count's
# jobs interleaved, into bench/results/<date>-<host>-suite-<suite>.{json,md}.
#
#   BENCH_ARGS   bench options (default: --tiles 8x8 --tile 1024 --overlap 102 --dtype float32 --repeat 5)
#   BENCH_RANKS  rank counts (default: "1 2 4")
#   BENCH_DIR    scratch directory for tiles and outputs (default: /tmp/h5stitch-bench)
#   BENCH_SUITE  suite to run after the strategy bench: classic (default), scale, or none
#   BENCH_SUITE_REPEAT  interleaved rounds of the suite (default 3)
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

suite=${BENCH_SUITE:-classic}
# The classic recipe needs Debian's MPI builds of h5py and mpi4py (for /usr/bin/python3).
if [ "$suite" != none ] && ! /usr/bin/python3 -c 'import mpi4py, h5py; assert h5py.get_config().mpi' 2>/dev/null; then
  echo "h5stitch bench: installing python3-h5py-mpi python3-mpi4py (the classic recipe's baseline)" >&2
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq python3-h5py-mpi python3-mpi4py >/dev/null
fi

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

if [ "$suite" != none ]; then
  # shellcheck disable=SC2086
  node scripts/bench-suite.mjs --suite "$suite" --ranks "$(echo $ranks | tr ' ' ,)" --repeat "${BENCH_SUITE_REPEAT:-3}" --dir "$dir/suite"
fi
