#!/bin/bash
# ipmi_sim chassis_control hook: the "host" behind the BMC of compute-N is the
# nova-compute-N process. up.sh installs a copy as $LAB/bin/bmc-hook.sh and
# configures each BMC with:  chassis_control "$LAB/bin/bmc-hook.sh $LAB compute-N"
#
# ipmi_sim then runs:
#   bmc-hook.sh LAB compute-N get power        -> prints power:1 | power:0
#   bmc-hook.sh LAB compute-N set power 0|1    -> SIGKILL nova-compute-N | start it
#   bmc-hook.sh LAB compute-N set reset 1      -> SIGKILL + start (ignored while off)
# A non-zero exit makes ipmi_sim answer completion code 0xff.
#
# Fault injection: $LAB/bmc/compute-N/fault holds one of
#   ignore_off   power off answers OK but the host keeps running
#   fail_off     power off fails (ipmitool: "Unspecified error")
#   slow_off S   power off answers OK, the host dies S seconds later
#   hang S       every request stalls the (single-threaded) BMC for S seconds
#
# The hook runs synchronously inside ipmi_sim's event loop: keep it fast.

# ipmi_sim leaks its UDP socket (no close-on-exec) into this program. Close
# every inherited fd above 2 before doing anything else, so nothing we start
# keeps the BMC port bound.
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
done

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
LAB=$1
HOST=$2
ACTION=$3
shift 3 || exit 2
N=${HOST#compute-}
export LAB
# shellcheck source=lib.sh
source "$LAB/bin/lib.sh" || exit 2

HOOKLOG=$LOG/bmc-$HOST-hook.log
note() { printf '%s %s %s\n' "$(date +%H:%M:%S.%3N)" "$HOST" "$*" >>"$HOOKLOG" 2>/dev/null; }

fault=$(head -n1 "$BMC/$HOST/fault" 2>/dev/null || true)
read -r fault_kind fault_arg <<<"$fault"

if [ "$fault_kind" = hang ]; then
  note "fault hang ${fault_arg:-5}s ($ACTION $*)"
  sleep "${fault_arg:-5}"
fi

power_on() { lab_alive "nova-compute-$N"; }

power_off_now() {
  lab_kill_compute "$N"
  # Wait (briefly) until the process is really gone: status must say off.
  for _ in $(seq 1 50); do
    power_on || return 0
    sleep 0.02
  done
}

case $ACTION in
get)
  for name in "$@"; do
    case $name in
    power) if power_on; then echo "power:1"; else echo "power:0"; fi ;;
    *) note "get $name: unknown, nothing printed" ;;
    esac
  done
  ;;
set)
  name=$1
  value=$2
  case $name:$value in
  power:0)
    case $fault_kind in
    ignore_off)
      note "power off IGNORED (fault ignore_off)"
      exit 0
      ;;
    fail_off)
      note "power off FAILED (fault fail_off)"
      exit 1
      ;;
    slow_off)
      note "power off in ${fault_arg:-2}s (fault slow_off)"
      (
        trap '' HUP
        exec setsid bash -c 'sleep "$1"; source "$2/bin/lib.sh"; lab_kill_compute "$3"' \
          slow-off "${fault_arg:-2}" "$LAB" "$N" </dev/null >/dev/null 2>&1
      ) &
      exit 0
      ;;
    esac
    note "power off (SIGKILL nova-compute-$N pid $(cat "$RUN/nova-compute-$N.pid" 2>/dev/null))"
    power_off_now
    ;;
  power:1)
    if power_on; then
      note "power on: already on"
    else
      lab_start_compute "$N" || exit 1
      note "power on: started nova-compute-$N pid $(cat "$RUN/nova-compute-$N.pid" 2>/dev/null)"
    fi
    ;;
  reset:1)
    if power_on; then
      note "reset"
      power_off_now
      lab_start_compute "$N" || exit 1
    else
      note "reset while off: ignored"
    fi
    ;;
  *)
    note "ignored: set $name $value"
    ;;
  esac
  ;;
*)
  note "unknown action: $ACTION $*"
  ;;
esac
exit 0
