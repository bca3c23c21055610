#!/usr/bin/env bash
# Runs one MPI rank "on a node" of the incoherent-cache harness (scripts/incoherent-fs.sh):
# in a private mount namespace where its node's sshfs mount is bound at /mnt/h5stitch-shared
# ($H5STITCH_SHARED_MOUNT), so every rank opens the same path but reads through its node's cache.
#
#   mpirun -n 4 scripts/on-node.sh node dist/stitch.js /mnt/h5stitch-shared/in.h5 --out /mnt/h5stitch-shared/out.h5
#
# Rank -> node: cyclic by default (node = rank % nodes: neighbouring ranks on different nodes,
# the worst case for neighbouring writes); H5STITCH_NODE_MAP=block gives ranks 0..k-1 node0 and
# so on (node = rank * nodes / size), like `mpirun --map-by node` vs `--map-by slot` on a cluster.
# The rank comes from OMPI_COMM_WORLD_RANK (Open MPI), PMI_RANK (MPICH) or SLURM_PROCID.
# Needs root (CAP_SYS_ADMIN) for unshare -m and mount --bind; Open MPI ranks run as the user
# that ran mpirun, so run mpirun as root (OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1).
set -euo pipefail

state=${H5STITCH_INCOHERENT_DIR:-/tmp/h5stitch-incoherent}
target=${H5STITCH_SHARED_MOUNT:-/mnt/h5stitch-shared}
rank=${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-${SLURM_PROCID:-}}}
size=${OMPI_COMM_WORLD_SIZE:-${PMI_SIZE:-${SLURM_NTASKS:-}}}

fail() { printf 'on-node: [rank %s] error: %s\n' "${rank:-?}" "$*" >&2; exit 1; }

[ $# -gt 0 ] || fail "usage: mpirun -n N scripts/on-node.sh COMMAND [ARGS...]"
[ -n "$rank" ] && [ -n "$size" ] || fail "no MPI rank in the environment (run under mpirun or srun)"
nodes=$(cat "$state/nodes" 2>/dev/null) || fail "the harness is not running (scripts/incoherent-fs.sh start)"
case "${H5STITCH_NODE_MAP:-cyclic}" in
  cyclic) node=$((rank % nodes)) ;;
  block) node=$((rank * nodes / size)) ;;
  *) fail "H5STITCH_NODE_MAP must be cyclic or block, not '${H5STITCH_NODE_MAP}'" ;;
esac
source_dir=$state/node$node
awk -v mp="$source_dir" '$2 == mp && $3 == "fuse.sshfs" { found = 1 } END { exit !found }' /proc/self/mounts \
  || fail "$source_dir is not mounted (scripts/incoherent-fs.sh start --nodes $nodes)"
[ -d "$target" ] || fail "$target does not exist (scripts/incoherent-fs.sh start creates it)"

export H5STITCH_NODE=$node
# --propagation private: the bind stays inside this rank's namespace (and dies with it).
exec unshare --mount --propagation private -- /bin/sh -c 'mount --bind "$1" "$2" || exit 1; shift 2; exec "$@"' \
  on-node "$source_dir" "$target" "$@"
