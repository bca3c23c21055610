#!/usr/bin/env bash
# A shared file system whose client caches disagree, on one machine: N sshfs mounts ("nodes")
# of one directory, each with its own kernel page cache that nothing invalidates (kernel_cache,
# noauto_cache, 30 s attribute and entry timeouts). A write + fsync through one mount is on the
# server at once, yet another mount that has the old bytes cached keeps returning them — as on
# a cluster whose file system gives no cross-node cache coherence. Loopback only: a private
# sshd on 127.0.0.1 (its own host key and config, key authentication only, sftp only).
#
#   scripts/incoherent-fs.sh start [--nodes N]   N = 2 (default) or 3; idempotent
#   scripts/incoherent-fs.sh status              key=value lines; exit 3 when not running
#   scripts/incoherent-fs.sh stop                unmounts its mounts, stops its sshd
#
# State (keys, config, logs, the shared directory, the mount points) lives in
# $H5STITCH_INCOHERENT_DIR (default /tmp/h5stitch-incoherent):
#   shared/      the directory itself: the LOCAL, coherent path (write inputs, verify outputs here)
#   node0..N-1/  its sshfs mounts, one per "node"
# scripts/on-node.sh runs one MPI rank with its node's mount bound at /mnt/h5stitch-shared.
# `start` proves the caches disagree (write through node0, stale read through node1) or fails.
set -euo pipefail

state=${H5STITCH_INCOHERENT_DIR:-/tmp/h5stitch-incoherent}
bind_target=${H5STITCH_SHARED_MOUNT:-/mnt/h5stitch-shared}
sshd_bin=/usr/sbin/sshd
mount_options=kernel_cache,noauto_cache,attr_timeout=30,entry_timeout=30

say() { printf 'incoherent-fs: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() { say "usage: scripts/incoherent-fs.sh start [--nodes 2|3] | status | stop"; exit 2; }

command=${1:-}; [ $# -gt 0 ] && shift
nodes=""
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=${2:-}; shift 2 || usage ;;
    --nodes=*) nodes=${1#--nodes=}; shift ;;
    *) usage ;;
  esac
done
case "$nodes" in ""|2|3) ;; *) say "error: --nodes must be 2 or 3, not '$nodes'"; exit 2 ;; esac
# sshd_config and the sshfs remote path take it unquoted.
case "$state" in *[[:space:]]*) say "error: H5STITCH_INCOHERENT_DIR must not contain spaces: '$state'"; exit 2 ;; esac

# Our sshd: the PID in our pid file, and its command line names our config (not someone else's sshd).
sshd_pid() {
  local pid
  pid=$(cat "$state/sshd.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F -- "-f $state/sshd_config" >/dev/null || return 1
  echo "$pid"
}

# Mount points under our state dir that are sshfs mounts now (from /proc/self/mounts; octal escapes decoded).
our_mounts() {
  awk '$3 == "fuse.sshfs" { print $2 }' /proc/self/mounts | while IFS= read -r mp; do
    mp=$(printf '%b' "${mp//\\/\\0}")
    case "$mp" in "$state"/node[0-9]*) echo "$mp" ;; esac
  done
}
# grep without -q: an early exit would SIGPIPE the producer and fail the pipeline (pipefail).
is_mounted() { our_mounts | grep -xF -- "$1" >/dev/null; }

print_status() {
  local pid count
  pid=$(sshd_pid) || pid=""
  count=$(our_mounts | wc -l)
  echo "state=$state"
  echo "shared=$state/shared"
  echo "bind_target=$bind_target"
  echo "port=$(cat "$state/port" 2>/dev/null || true)"
  echo "sshd_pid=$pid"
  echo "nodes=$count"
  local k=0
  while [ "$k" -lt "$count" ]; do echo "node$k=$state/node$k"; k=$((k + 1)); done
  echo "mount_options=$mount_options"
  [ -n "$pid" ] && [ "$count" -ge 2 ]
}

install_missing() {
  local missing=""
  [ -x "$sshd_bin" ] || missing="$missing openssh-server"
  command -v sshfs >/dev/null 2>&1 || missing="$missing sshfs"
  [ -z "$missing" ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages:$missing (install with: sudo apt-get install -y$missing)"
  command -v apt-get >/dev/null 2>&1 || die "missing packages:$missing and no apt-get to install them"
  say "installing:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start_sshd() {
  local port
  port=$(free_port)
  echo "$port" >"$state/port"
  [ -f "$state/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C h5stitch-incoherent-host -f "$state/host_ed25519"
  [ -f "$state/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C h5stitch-incoherent-client -f "$state/client_ed25519"
  # The client key may only do sftp, only from loopback.
  echo "restrict,from=\"127.0.0.1\" $(cat "$state/client_ed25519.pub")" >"$state/authorized_keys"
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$state/host_ed25519.pub")" >"$state/known_hosts"
  cat >"$state/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $state/host_ed25519
PidFile $state/sshd.pid
AuthorizedKeysFile $state/authorized_keys
# /tmp is world-writable, which StrictModes refuses for the key file's directories.
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers root
UsePAM no
AllowTcpForwarding no
X11Forwarding no
PermitTTY no
ForceCommand internal-sftp
Subsystem sftp internal-sftp
EOF
  mkdir -p /run/sshd  # privilege separation directory sshd insists on
  "$sshd_bin" -t -f "$state/sshd_config" || die "sshd rejected $state/sshd_config"
  "$sshd_bin" -f "$state/sshd_config" -E "$state/sshd.log" || die "sshd did not start (see $state/sshd.log)"
  local tries=0
  until sshd_pid >/dev/null && ss -Hltn "sport = :$port" | grep . >/dev/null; do
    tries=$((tries + 1)); [ "$tries" -lt 50 ] || die "sshd is not listening on 127.0.0.1:$port (see $state/sshd.log)"
    sleep 0.1
  done
}

mount_node() {
  local mp=$1 port
  port=$(cat "$state/port")
  mkdir -p "$mp"
  sshfs "root@127.0.0.1:$state/shared" "$mp" -p "$port" \
    -o "IdentityFile=$state/client_ed25519,UserKnownHostsFile=$state/known_hosts,StrictHostKeyChecking=yes,BatchMode=yes" \
    -o "$mount_options" 2>"$state/sshfs-$(basename "$mp").log" \
    || die "sshfs could not mount $mp: $(tr '\n' ' ' <"$state/sshfs-$(basename "$mp").log")(is /dev/fuse available?)"
}

unmount_node() {
  fusermount3 -u "$1" 2>/dev/null || umount "$1" 2>/dev/null || umount -l "$1" || say "could not unmount $1"
}

# Proves the point of the harness: node1 keeps serving bytes node0 has overwritten and synced.
# A node does drop its cached pages of a file once it refetches the file's attributes and finds
# a new modification time, and sftp carries those in whole seconds: so the probe starts just
# after a second boundary, to be done before the next one.
check_incoherent() {
  local probe=".incoherence-probe-$$-$RANDOM" seen
  sleep "$(date +%N | awk '{ printf "%.3f", 1.02 - $1 / 1e9 }')"
  printf 0000 >"$state/shared/$probe"
  while IFS= read -r mp; do cat "$mp/$probe" >/dev/null; done < <(our_mounts)  # every node caches '0000'
  printf 1111 | dd of="$state/node0/$probe" conv=notrunc,fsync status=none
  [ "$(cat "$state/shared/$probe")" = 1111 ] || die "a write through node0 did not reach $state/shared"
  seen=$(cat "$state/node1/$probe")
  rm -f "$state/shared/$probe"
  [ "$seen" = 0000 ] || die "node1 read '$seen' after node0 wrote and synced '1111': these mounts are coherent, the harness would prove nothing"
  echo "incoherent=yes (node0 wrote and synced '1111'; node1 still reads '0000')"
}

start() {
  local want=${nodes:-2}
  install_missing
  [ -e /dev/fuse ] || die "/dev/fuse is missing: sshfs cannot mount here (a container needs --device /dev/fuse and CAP_SYS_ADMIN)"
  mkdir -p "$state/shared" "$bind_target"
  chmod 700 "$state"
  if ! sshd_pid >/dev/null; then
    # Mounts left from an sshd that is gone are dead connections: remount them on the new one.
    while IFS= read -r mp; do unmount_node "$mp"; done < <(our_mounts)
    start_sshd
  fi
  local k=0
  while [ "$k" -lt "$want" ]; do
    is_mounted "$state/node$k" || mount_node "$state/node$k"
    k=$((k + 1))
  done
  while IFS= read -r mp; do  # fewer nodes than last time: drop the extra mounts
    [ "${mp##*/node}" -lt "$want" ] || unmount_node "$mp"
  done < <(our_mounts)
  echo "$want" >"$state/nodes"
  print_status
  check_incoherent
}

stop() {
  local pid
  while IFS= read -r mp; do unmount_node "$mp"; done < <(our_mounts)
  if pid=$(sshd_pid); then
    kill "$pid"
    local tries=0
    while kill -0 "$pid" 2>/dev/null; do
      tries=$((tries + 1)); [ "$tries" -lt 50 ] || { say "sshd $pid did not stop"; break; }
      sleep 0.1
    done
  fi
  rm -f "$state/sshd.pid" "$state/nodes"
  say "stopped (files left in $state)"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  status) print_status || exit 3 ;;
  *) usage ;;
esac
