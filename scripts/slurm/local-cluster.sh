#!/usr/bin/env bash
# A one-node SLURM on this machine (munge, slurmctld, slurmd) for trying the batch scripts and for
# the tests. Root only; Debian/Ubuntu installs the packages when missing.
#
#   eval "$(bash scripts/slurm/local-cluster.sh start)"   # starts it (idempotent), sets SLURM_CONF
#   bash scripts/slurm/local-cluster.sh status            # exit 0 when it answers
#   bash scripts/slurm/local-cluster.sh stop              # stops only the daemons this script started
#
# `start` prints `export SLURM_CONF=...` on stdout (everything else goes to stderr), so sbatch/srun
# in that shell talk to this cluster and not to whatever /etc/slurm says.
#
#   H5STITCH_SLURM_DIR   state directory (default /tmp/h5stitch-slurm): config, spool, logs, PIDs
#   H5STITCH_SLURM_CPUS  CPUs the node declares (default 16, more than this machine has: the tests
#                        run 4 tasks x 2 CPUs; slurmd accepts it with SlurmdParameters=config_overrides)
#   H5STITCH_SLURM_PORT  slurmctld port; slurmd uses the next one (default 6817)
set -euo pipefail

dir=${H5STITCH_SLURM_DIR:-/tmp/h5stitch-slurm}
cpus=${H5STITCH_SLURM_CPUS:-16}
port=${H5STITCH_SLURM_PORT:-6817}
conf=$dir/slurm.conf
host=$(hostname -s)
# The Debian package puts the daemons in /usr/sbin, which a non-login root shell may lack on PATH.
export PATH=$PATH:/usr/sbin:/sbin

say() { printf 'local-cluster: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# A PID file's process, when it is alive and still the program named (PIDs get reused).
live_pid() { # FILE COMM
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ] && echo "$pid"
}

install_packages() {
  local missing="" p
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "SLURM is not installed and this is not Debian/Ubuntu: install slurmctld, slurmd, srun/sbatch and munge yourself"
  say "installing:$missing"
  # The packages' own service start is left out (no init system here); this script starts the daemons.
  apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $missing >/dev/null \
    || die "apt-get install$missing failed"
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_works; then return 0; fi # a running munged (the system's, or ours from before)
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile=/etc/munge/munge.key >&2
    else create-munge-key >&2; fi
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  fi
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged </dev/null >>"$dir/log/munged.out" 2>&1 \
    || die "munged did not start: $(tail -n 3 /var/log/munge/munged.log "$dir/log/munged.out" 2>/dev/null | tr '\n' ' ')"
  for _ in $(seq 50); do munge_works && break; sleep 0.1; done
  munge_works || die "munged started but munge/unmunge fails: see /var/log/munge/munged.log"
  # Ours to stop later: the system's munged (if any) is never recorded.
  cp /run/munge/munged.pid "$dir/pids/munged.pid"
}

write_conf() {
  local mem
  mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  cat >"$conf" <<EOF
# Written by scripts/slurm/local-cluster.sh: a one-node cluster on loopback.
ClusterName=h5stitch-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/pids/slurmctld.pid
SlurmdPidFile=$dir/pids/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# No cgroups here: track tasks by process tree, no binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=pmix
ReturnToService=2
# Finished jobs stay visible to 'scontrol show job' for 10 minutes.
MinJobAge=600
# The node declares more CPUs than the machine has, so 4 tasks x 2 CPUs fit on 2 cores.
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

# Its PID file is written and the process is gone (a fatal error at start, e.g. its port in use).
daemon_died() { [ -f "$dir/pids/$1.pid" ] && ! live_pid "$dir/pids/$1.pid" "$1" >/dev/null; }

# A start that failed: show why, stop what this directory's cluster runs, keep the logs.
fail_start() {
  say "slurmctld.log:"; tail -n 8 "$dir/log/slurmctld.log" >&2 2>/dev/null || true
  say "slurmd.log:"; tail -n 8 "$dir/log/slurmd.log" >&2 2>/dev/null || true
  stop_these slurmd slurmctld
  stop_these munged
  die "$1; SLURM is not running (logs in $dir/log)"
}

cluster_answers() {
  SLURM_CONF=$conf timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP' || return 1
  local state
  state=$(SLURM_CONF=$conf timeout 5 sinfo -h -n "$host" -o %T 2>/dev/null | head -n 1)
  case "$state" in idle|mixed|allocated|completing) return 0 ;; *) return 1 ;; esac
}

start() {
  [ "$(id -u)" = 0 ] || die "needs root (it installs packages and starts munged, slurmctld and slurmd as root); run it with sudo"
  install_packages
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/pids"
  start_munge
  local ctld d
  ctld=$(live_pid "$dir/pids/slurmctld.pid" slurmctld || true)
  d=$(live_pid "$dir/pids/slurmd.pid" slurmd || true)
  if [ -n "$ctld" ] && [ -n "$d" ] && cluster_answers; then
    say "already running (slurmctld $ctld, slurmd $d)"
    echo "export SLURM_CONF=$conf"
    return 0
  fi
  [ -f "$conf" ] || write_conf
  if [ -z "$ctld" ]; then
    rm -f "$dir/pids/slurmctld.pid" # stale: daemon_died must see only the new one's
    # -i: ignore state from an earlier run of this directory that no longer matches.
    slurmctld -f "$conf" -i </dev/null >>"$dir/log/slurmctld.out" 2>&1 \
      || fail_start "slurmctld did not start: $(cat "$dir/log/slurmctld.out" 2>/dev/null | tr '\n' ' ')"
  fi
  if [ -z "$d" ]; then
    rm -f "$dir/pids/slurmd.pid"
    slurmd -f "$conf" </dev/null >>"$dir/log/slurmd.out" 2>&1 \
      || fail_start "slurmd did not start: $(cat "$dir/log/slurmd.out" 2>/dev/null | tr '\n' ' ')"
  fi
  local deadline=$((SECONDS + 30))
  for ((;;)); do
    sleep 0.2
    if daemon_died slurmctld || daemon_died slurmd; then fail_start "$(daemon_died slurmctld && echo slurmctld || echo slurmd) exited"; fi
    cluster_answers && break
    [ "$SECONDS" -lt "$deadline" ] || fail_start "the node did not come up within 30 s (sinfo: $(SLURM_CONF=$conf timeout 5 sinfo -h -o %T 2>&1 | head -n 1))"
  done
  say "running: node $host, $cpus CPUs, partition local; state in $dir"
  echo "export SLURM_CONF=$conf"
}

# SIGTERM to the daemons this script recorded (and only those), then SIGKILL after 10 s.
stop_these() { # NAME...
  local name pid pids=()
  for name in "$@"; do
    pid=$(live_pid "$dir/pids/$name.pid" "$name" || true)
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    pids+=("$pid:$name")
  done
  for entry in "${pids[@]}"; do
    pid=${entry%%:*} name=${entry#*:}
    for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    if [ -d "/proc/$pid" ]; then say "$name ($pid) ignored SIGTERM for 10 s; killing it"; kill -9 "$pid" 2>/dev/null || true; fi
    say "stopped $name ($pid)"
  done
}

stop() {
  [ -d "$dir" ] || { say "not running (no $dir)"; return 0; }
  stop_these slurmd slurmctld
  stop_these munged # last: the daemons above authenticate through it until they are gone
  rm -rf "$dir"
}

status() {
  local ctld d
  ctld=$(live_pid "$dir/pids/slurmctld.pid" slurmctld || true)
  d=$(live_pid "$dir/pids/slurmd.pid" slurmd || true)
  if [ -n "$ctld" ] && [ -n "$d" ] && cluster_answers; then
    say "running (slurmctld $ctld, slurmd $d); SLURM_CONF=$conf"
    SLURM_CONF=$conf sinfo >&2
    return 0
  fi
  say "not running (slurmctld: ${ctld:-down}, slurmd: ${d:-down})"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
