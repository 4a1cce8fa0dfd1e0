#!/bin/bash
# Start or kill one lab compute host's nova-compute (the "host" behind BMC N),
# the same way up.sh and the BMC hook do.
#   compute.sh start N | kill N | status N
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
[ $# -eq 2 ] && [[ $2 =~ ^[0-9]+$ ]] || { echo "usage: $0 start|kill|status N" >&2; exit 2; }
n=$2
[ -f "$ETC/nova-compute-$n.conf" ] || lab_die "no config for compute-$n: run up.sh"
case $1 in
start) lab_start_compute "$n"; echo "nova-compute-$n pid $(lab_pid "nova-compute-$n")" ;;
kill) lab_kill_compute "$n"; echo "nova-compute-$n killed" ;;
status) if pid=$(lab_pid "nova-compute-$n"); then echo "nova-compute-$n running pid $pid"; else echo "nova-compute-$n stopped"; exit 1; fi ;;
*) echo "usage: $0 start|kill|status N" >&2; exit 2 ;;
esac
