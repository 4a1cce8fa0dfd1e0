#!/bin/bash
# Stop the freezer-dr lab: only processes that up.sh (or the BMC hook) started,
# found through their PID files in /var/lib/freezer-dr-lab/run; each PID's
# /proc/PID/cmdline must name the lab directory. Never pkill/killall.
#
#   down.sh                  stop everything (state kept)
#   down.sh NAME...          stop only these (e.g. nova-compute-1, bmc-compute-2)
#   PURGE=1 down.sh          stop everything and delete /var/lib/freezer-dr-lab
set -uo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
[ "$(id -u)" = 0 ] || lab_die "down.sh must run as root"

# Stop order: BMCs and computes first (a BMC could restart a compute), then
# the API services, then the infrastructure.
ORDER=(bmc-compute-1 bmc-compute-2 bmc-compute-3 nova-compute-1 nova-compute-2 nova-compute-3
  nova-api nova-scheduler nova-conductor neutron-server glance-api placement keystone
  rabbitmq epmd mariadb)

if [ $# -gt 0 ]; then
  for name in "$@"; do
    [ -f "$RUN/$name.pid" ] || { lab_log "$name: no pid file, nothing to stop"; continue; }
    lab_stop "$name" 30
  done
  exit 0
fi

[ -d "$RUN" ] || { lab_log "no lab state in $LAB"; [ "${PURGE:-0}" = 1 ] && rm -rf "$LAB"; exit 0; }

names=("${ORDER[@]}")
# plus anything else with a pid file (e.g. more computes/BMCs)
for f in "$RUN"/*.pid; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .pid)
  [[ " ${names[*]} " == *" $n "* ]] || names=("$n" "${names[@]}")
done

stop_batch() { # stop several services in parallel
  local pids=() n
  for n in "$@"; do
    [ -f "$RUN/$n.pid" ] || continue
    lab_stop "$n" 30 &
    pids+=($!)
  done
  [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
}
infra=" rabbitmq epmd mariadb "
first=()
for n in "${names[@]}"; do [[ $infra == *" $n "* ]] || first+=("$n"); done
stop_batch "${first[@]}"
stop_batch rabbitmq
stop_batch epmd
stop_batch mariadb

if [ "${PURGE:-0}" = 1 ]; then
  left=0
  for f in "$RUN"/*.pid; do [ -e "$f" ] && lab_alive "$(basename "$f" .pid)" && left=1; done
  [ $left = 0 ] || lab_die "some lab processes still run; not purging"
  rm -rf "$LAB"
  lab_log "purged $LAB"
fi
