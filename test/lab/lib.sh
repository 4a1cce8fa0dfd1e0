# shellcheck shell=bash
# Shared helpers for the freezer-dr OpenStack lab (sourced, never executed).
#
# Used by up.sh, down.sh, compute.sh, smoke.sh and by bmc-hook.sh. up.sh copies
# this file and bmc-hook.sh to $LAB/bin so that the running BMCs never read
# the working tree.
#
# Process model: every daemon is started by lab_spawn in a new session
# (setsid), so its PID == its process group id; the PID goes to
# $RUN/<name>.pid. Stopping signals that process group, after checking
# /proc/PID/cmdline. Nothing is ever matched by name (no pkill/killall).

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
LAB=${LAB:-/var/lib/freezer-dr-lab}
ETC=$LAB/etc
LOG=$LAB/log
RUN=$LAB/run
BIN=$LAB/bin
BMC=$LAB/bmc
PY=/usr/bin/python3

# Fixed lab credentials (loopback only). The BMC passwords are random, see up.sh.
LAB_ADMIN_USER=admin
LAB_ADMIN_PASSWORD=${LAB_ADMIN_PASSWORD:-freezer-dr-lab-admin}
LAB_DB_USER=lab
LAB_DB_PASSWORD=lab-db-pass
LAB_DB_PORT=13306
LAB_REGION=RegionOne
KEYSTONE_URL=http://127.0.0.1:5000/v3
NOVA_URL=http://127.0.0.1:8774/v2.1
GLANCE_URL=http://127.0.0.1:9292
NEUTRON_URL=http://127.0.0.1:9696
PLACEMENT_URL=http://127.0.0.1:8778
LAB_COMPUTES=${LAB_COMPUTES:-3}
LAB_BMC_BASE_PORT=9000 # compute-N's BMC listens on 127.0.0.1:(9000+N)

lab_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
lab_die() { lab_log "ERROR: $*"; exit 1; }

# Marker that must appear in /proc/PID/cmdline of a process we started.
# Every command line we start names a path under $LAB (a config file, the
# datadir or one of the wrappers in $BIN).
lab_marker() { echo "$LAB"; }

# lab_pid NAME -> prints the recorded PID if that process is alive (not a
# zombie) and its cmdline carries our marker; returns 1 otherwise.
lab_pid() {
  local name=$1 pid st cmd marker
  pid=$(cat "$RUN/$name.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # State is the field after the last ')' of /proc/PID/stat (comm may hold spaces).
  st=$(sed -e 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  case $st in '' | Z | X | x) return 1 ;; esac
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  marker=$(lab_marker "$name")
  [[ $cmd == *"$marker"* ]] || return 1
  echo "$pid"
}
lab_alive() { lab_pid "$1" >/dev/null; }

# lab_spawn NAME CMD... : start CMD in its own session, stdout+stderr to
# $LOG/NAME.log, PID to $RUN/NAME.pid. The subshell's PID becomes CMD's PID
# (setsid does not fork: a background subshell is never a group leader).
lab_spawn() {
  local name=$1
  shift
  mkdir -p "$LOG" "$RUN"
  (
    # Close every inherited fd above 2 (locks, ipmi_sim's socket, pipes).
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
    done
    cd /
    exec setsid "$@" >>"$LOG/$name.log" 2>&1 </dev/null
  ) &
  echo $! >"$RUN/$name.pid"
}

# lab_signal_group PID SIG: signal the process group if PID leads it, else PID.
lab_signal_group() {
  local pid=$1 sig=$2 pgrp
  pgrp=$(sed -e 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f3)
  if [ "$pgrp" = "$pid" ]; then
    kill "-$sig" -- "-$pid" 2>/dev/null || true
  else
    kill "-$sig" "$pid" 2>/dev/null || true
  fi
}

# lab_group_live PGID: prints the live (non-zombie) members of a process group.
lab_group_live() {
  cat /proc/[0-9]*/stat 2>/dev/null |
    awk -v pg="$1" '{ s = $0; sub(/.*\) /, "", s); split(s, a, " "); if (a[3] == pg && a[1] != "Z") print $1 }'
}
lab_group_gone() { # PGID TIMEOUT_S
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ -z "$(lab_group_live "$1")" ] && return 0
    sleep 0.1
  done
  return 1
}

# lab_stop NAME [TIMEOUT]: TERM the group, wait until every member is gone,
# then KILL. Only for PIDs that pass lab_pid's checks.
lab_stop() {
  local name=$1 timeout=${2:-15} pid i
  if ! pid=$(lab_pid "$name"); then
    [ -f "$RUN/$name.pid" ] && lab_log "$name: pid $(cat "$RUN/$name.pid") is not running (or not ours): pid file removed"
    rm -f "$RUN/$name.pid"
    return 0
  fi
  local pgrp
  pgrp=$(sed -e 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f3)
  if [ "$pgrp" != "$pid" ]; then # not a group leader: just the process
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < timeout * 10; i++)); do lab_alive "$name" || break; sleep 0.1; done
    if lab_alive "$name"; then kill -KILL "$pid" 2>/dev/null; fi
  else
    kill -TERM -- "-$pid" 2>/dev/null
    if ! lab_group_gone "$pid" "$timeout"; then
      lab_log "$name (pid $pid) ignored SIGTERM for ${timeout}s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null
      lab_group_gone "$pid" 5 || lab_log "$name: group $pid still has members: $(lab_group_live "$pid" | tr '\n' ' ')"
    fi
  fi
  rm -f "$RUN/$name.pid"
  lab_log "stopped $name (pid $pid)"
}

# lab_kill NAME: immediate SIGKILL of the group (a power cut). Keeps no pid file.
lab_kill() {
  local name=$1 pid
  if pid=$(lab_pid "$name"); then
    lab_signal_group "$pid" KILL
  fi
  rm -f "$RUN/$name.pid"
}

# nova-compute-N is "the host" behind BMC N. Start/kill go through a lock so
# up.sh, compute.sh and the BMC hook never race each other.
lab_compute_lock() { exec 9>>"$RUN/nova-compute-$1.lock" && flock -w 30 9; }
lab_compute_unlock() { exec 9>&-; }

lab_start_compute() {
  local n=$1
  mkdir -p "$RUN"
  lab_compute_lock "$n" || return 1
  if ! lab_alive "nova-compute-$n"; then
    lab_spawn "nova-compute-$n" "$PY" "$BIN/nova-compute" --config-file "$ETC/nova-compute-$n.conf"
  fi
  lab_compute_unlock
}

lab_kill_compute() {
  local n=$1
  mkdir -p "$RUN"
  lab_compute_lock "$n" || return 1
  lab_kill "nova-compute-$n"
  lab_compute_unlock
}

# ---- HTTP helpers (curl + jq; 127.0.0.1 only) ----
lab_token() {
  local body
  body=$(jq -nc --arg u "$LAB_ADMIN_USER" --arg p "$LAB_ADMIN_PASSWORD" '{auth:{identity:{methods:["password"],password:{user:{name:$u,domain:{name:"Default"},password:$p}}},scope:{project:{name:"admin",domain:{name:"Default"}}}}}')
  curl -sS -m 60 -o /dev/null -D - -H 'Content-Type: application/json' -d "$body" "$KEYSTONE_URL/auth/tokens" |
    awk -F': ' 'tolower($1)=="x-subject-token"{gsub("\r","",$2); print $2}'
}

# lab_wait_port PORT TIMEOUT_S [tcp|udp]
lab_wait_port() {
  local port=$1 timeout=$2 proto=${3:-tcp} i flag=-ltnH
  [ "$proto" = udp ] && flag=-lunH
  for ((i = 0; i < timeout * 5; i++)); do
    ss $flag "sport = :$port" 2>/dev/null | grep -q "127.0.0.1:$port" && return 0
    sleep 0.2
  done
  return 1
}

# lab_wait_http URL TIMEOUT_S: any HTTP answer below 500 counts.
lab_wait_http() {
  local url=$1 timeout=$2 i code
  for ((i = 0; i < timeout * 2; i++)); do
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$url" 2>/dev/null || true)
    if [ -n "$code" ] && [ "$code" != 000 ] && [ "$code" -lt 500 ]; then return 0; fi
    sleep 0.5
  done
  return 1
}

lab_bmc_port() { echo $((LAB_BMC_BASE_PORT + $1)); }

# lab_ipmi N ARGS...: ipmitool against compute-N's BMC (password from file).
lab_ipmi() {
  local n=$1
  shift
  ipmitool -I lanplus -C 3 -N 1 -R 1 -H 127.0.0.1 -p "$(lab_bmc_port "$n")" -U admin \
    -f "$BMC/compute-$n/password" "$@" </dev/null
}
