#!/bin/bash
# Prove the lab works, with raw curl calls against 127.0.0.1 only:
#   boot 3 servers on compute-1 -> power compute-1 off through its BMC (ipmitool)
#   -> force-down + disable its nova-compute service -> evacuate all 3 ->
#   each ACTIVE on another host -> power compute-1 on -> migrations 'completed'
#   -> un-force-down + enable -> delete the servers.
# Requests/answers go to $LAB/smoke/transcript.log, timings to timings.json.
# Exit 0 only if everything happened; on failure it tries to restore compute-1.
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
[ "$(id -u)" = 0 ] || lab_die "smoke.sh must run as root"

FAILED_HOST=compute-1
FAILED_N=1
NSERVERS=${SMOKE_SERVERS:-3}
OUT=$LAB/smoke
mkdir -p "$OUT"
TRANSCRIPT=$OUT/transcript.log
: >"$TRANSCRIPT"
T0=$(date +%s.%N)
declare -A TIMING=()
SERVERS=()
SERVICE_ID=
RESTORED=0

now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
mark() { # key start-time
  TIMING[$1]=$(el "$2")
  printf '[smoke] %-44s %7s s\n' "$1" "${TIMING[$1]}"
}
fail() {
  lab_log "SMOKE FAILED: $*"
  exit 1
}

# req METHOD URL MICROVERSION [BODY]: sets CODE and BODY; logs to the transcript.
req() {
  local m=$1 url=$2 mv=$3 body=${4:-} out t
  local args=(-sS -m 120 -X "$m" -H "X-Auth-Token: $TOKEN" -H 'Accept: application/json')
  [ -n "$mv" ] && args+=(-H "OpenStack-API-Version: compute $mv")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
  t=$(now)
  out=$(curl "${args[@]}" -w $'\n%{http_code}' "$url" 2>&1) || true
  CODE=${out##*$'\n'}
  BODY=${out%$'\n'*}
  [ "$BODY" = "$out" ] && BODY=
  {
    printf '### %s %s (microversion %s) -> %s in %s s\n' "$m" "$url" "${mv:-none}" "$CODE" "$(el "$t")"
    [ -n "$body" ] && printf '> %s\n' "$body"
    printf '< %s\n\n' "$(printf '%s' "$BODY" | head -c 2000)"
  } >>"$TRANSCRIPT"
}
expect() { # CODE... : current CODE must be one of them
  local c
  for c in "$@"; do [ "$CODE" = "$c" ] && return 0; done
  fail "expected HTTP $* got $CODE: $(printf '%s' "$BODY" | head -c 500)"
}
ipmi() { # ipmitool against compute-1's BMC, logged
  local out rc=0 t
  t=$(now)
  out=$(ipmitool -I lanplus -C 3 -N 1 -R 1 -H 127.0.0.1 -p "$(lab_bmc_port $FAILED_N)" -U admin \
    -f "$BMC/$FAILED_HOST/password" "$@" </dev/null 2>&1) || rc=$?
  printf '### ipmitool -I lanplus -C 3 -N 1 -R 1 -H 127.0.0.1 -p %s %s -> rc %s in %s s\n< %s\n\n' "$(lab_bmc_port $FAILED_N)" "$*" "$rc" "$(el "$t")" "$out" >>"$TRANSCRIPT"
  printf '%s' "$out"
  return $rc
}
servers_json() { # detail of our servers (admin, all tenants)
  req GET "$NOVA_URL/servers/detail?all_tenants=1&name=^smoke-" 2.74
  expect 200
  printf '%s' "$BODY"
}
compute_service() {
  req GET "$NOVA_URL/os-services?binary=nova-compute&host=$FAILED_HOST" 2.53
  expect 200
  printf '%s' "$BODY" | jq -c '.services[0]'
}

# Best-effort restore when the run failed half-way, so the lab is usable again.
cleanup() {
  local rc=$?
  [ $rc = 0 ] && return 0
  [ $RESTORED = 1 ] && [ ${#SERVERS[@]} = 0 ] && return 0
  lab_log "smoke failed (rc $rc): restoring $FAILED_HOST and deleting smoke servers"
  set +e
  lab_alive "nova-compute-$FAILED_N" || ipmi chassis power on >/dev/null || lab_start_compute "$FAILED_N"
  local id i svc
  for id in $(servers_json 2>/dev/null | jq -r '.servers[].id' 2>/dev/null); do
    req DELETE "$NOVA_URL/servers/$id" 2.74
  done
  if [ -n "$SERVICE_ID" ]; then
    for ((i = 0; i < 60; i++)); do
      req PUT "$NOVA_URL/os-services/$SERVICE_ID" 2.53 '{"status":"enabled","forced_down":false}'
      [ "$CODE" = 200 ] && break
      sleep 2
    done
  fi
  lab_log "restore attempted; transcript: $TRANSCRIPT"
  exit $rc
}
trap cleanup EXIT

# ----------------------------------------------------------------- setup ----
t=$(now)
TOKEN=$(lab_token)
[ -n "$TOKEN" ] || fail "no Keystone token (is the lab up? run test/lab/up.sh)"
mark "token" "$t"

req GET "$GLANCE_URL/v2/images?name=lab-tiny&status=active" ""
expect 200
IMAGE_ID=$(printf '%s' "$BODY" | jq -r '.images[0].id // empty')
[ -n "$IMAGE_ID" ] || fail "image lab-tiny not found"

svc=$(compute_service)
SERVICE_ID=$(jq -r .id <<<"$svc")
[ "$(jq -r '.state + "/" + .status + "/" + (.forced_down|tostring)' <<<"$svc")" = "up/enabled/false" ] ||
  { SERVICE_ID=; fail "$FAILED_HOST is not up/enabled/not-forced-down before the test: $svc"; }
out=$(ipmi chassis power status) || fail "BMC of $FAILED_HOST: $out"
[ "$out" = "Chassis Power is on" ] || fail "BMC of $FAILED_HOST says '$out' before the test"

old=$(servers_json | jq -r '.servers[].id')
for id in $old; do req DELETE "$NOVA_URL/servers/$id" 2.74; done

# ------------------------------------------------------------------ boot ----
t=$(now)
for ((i = 1; i <= NSERVERS; i++)); do
  req POST "$NOVA_URL/servers" 2.74 "$(jq -nc --arg n "smoke-$i" --arg img "$IMAGE_ID" --arg h "$FAILED_HOST" \
    '{server:{name:$n,imageRef:$img,flavorRef:"1",networks:"none",host:$h}}')"
  expect 202
  SERVERS+=("$(printf '%s' "$BODY" | jq -r .server.id)")
done
for ((i = 0; ; i++)); do
  [ $i -lt 360 ] || fail "servers not ACTIVE after 180 s"
  js=$(servers_json)
  jq -e '[.servers[] | select(.status=="ERROR")] | length == 0' <<<"$js" >/dev/null ||
    fail "server in ERROR: $(jq -c '[.servers[] | {id,status,fault}]' <<<"$js")"
  n=$(jq --arg h "$FAILED_HOST" '[.servers[] | select(.status=="ACTIVE" and ."OS-EXT-SRV-ATTR:host"==$h and ."OS-EXT-STS:task_state"==null)] | length' <<<"$js")
  [ "$n" = "$NSERVERS" ] && break
  sleep 0.5
done
mark "boot $NSERVERS servers on $FAILED_HOST -> ACTIVE" "$t"

# ----------------------------------------------------------------- fence ----
T_FAIL=$(now)
out=$(ipmi chassis power off) || fail "power off: $out"
[ "$out" = "Chassis Power Control: Down/Off" ] || fail "power off said '$out'"
for ((i = 0; ; i++)); do
  [ $i -lt 50 ] || fail "BMC still reports power on 10 s after power off"
  out=$(ipmi chassis power status) || fail "power status: $out"
  [ "$out" = "Chassis Power is off" ] && break
  sleep 0.2
done
lab_alive "nova-compute-$FAILED_N" && fail "nova-compute-$FAILED_N still running after BMC power off"
mark "BMC power off -> status off, process gone" "$T_FAIL"

t=$(now)
req PUT "$NOVA_URL/os-services/$SERVICE_ID" 2.53 '{"status":"disabled","disabled_reason":"freezer-dr smoke: host fenced","forced_down":true}'
expect 200
[ "$(printf '%s' "$BODY" | jq -r '.service.forced_down')" = true ] || fail "forced_down not set: $BODY"
FORCED_STATE=$(printf '%s' "$BODY" | jq -r '.service.state')
mark "force-down + disable (state now $FORCED_STATE)" "$t"

# -------------------------------------------------------------- evacuate ----
t=$(now)
tmp=$(mktemp -d)
for id in "${SERVERS[@]}"; do
  curl -sS -m 120 -o "$tmp/$id.body" -w '%{http_code}' -X POST -H "X-Auth-Token: $TOKEN" \
    -H 'Content-Type: application/json' -H 'OpenStack-API-Version: compute 2.68' \
    -d '{"evacuate":{}}' "$NOVA_URL/servers/$id/action" >"$tmp/$id.code" 2>&1 &
done
wait
for id in "${SERVERS[@]}"; do
  c=$(cat "$tmp/$id.code")
  printf '### POST %s/servers/%s/action (microversion 2.68) -> %s\n> {"evacuate":{}}\n< %s\n\n' \
    "$NOVA_URL" "$id" "$c" "$(cat "$tmp/$id.body")" >>"$TRANSCRIPT"
  [ "$c" = 200 ] || fail "evacuate $id answered $c: $(cat "$tmp/$id.body")"
done
rm -rf "$tmp"
mark "evacuate POSTs (parallel) answered" "$t"

declare -A DONE=()
for ((i = 0; ; i++)); do
  [ $i -lt 360 ] || fail "evacuations not finished after 180 s: $(jq -c '[.servers[] | {id,status,host:."OS-EXT-SRV-ATTR:host",task:."OS-EXT-STS:task_state"}]' <<<"$js")"
  js=$(servers_json)
  jq -e '[.servers[] | select(.status=="ERROR")] | length == 0' <<<"$js" >/dev/null ||
    fail "server in ERROR after evacuate: $(jq -c '[.servers[] | {id,status,fault}]' <<<"$js")"
  for id in "${SERVERS[@]}"; do
    [ -n "${DONE[$id]:-}" ] && continue
    if jq -e --arg id "$id" --arg h "$FAILED_HOST" '.servers[] | select(.id==$id) |
        .status=="ACTIVE" and ."OS-EXT-SRV-ATTR:host"!=$h and ."OS-EXT-STS:task_state"==null' <<<"$js" >/dev/null; then
      DONE[$id]=$(el "$T_FAIL")
      printf '[smoke]   %s ACTIVE on %s, %s s after power off\n' "$id" \
        "$(jq -r --arg id "$id" '.servers[] | select(.id==$id) | ."OS-EXT-SRV-ATTR:host"' <<<"$js")" "${DONE[$id]}"
    fi
  done
  [ ${#DONE[@]} = "$NSERVERS" ] && break
  sleep 0.5
done
mark "all evacuated ACTIVE elsewhere (from power off)" "$T_FAIL"
DESTS=$(jq -c '[.servers[] | ."OS-EXT-SRV-ATTR:host"]' <<<"$js")

# --------------------------------------------------------------- restore ----
T_RESTORE=$(now)
out=$(ipmi chassis power on) || fail "power on: $out"
[ "$out" = "Chassis Power Control: Up/On" ] || fail "power on said '$out'"
out=$(ipmi chassis power status) || fail "power status: $out"
[ "$out" = "Chassis Power is on" ] || fail "after power on the BMC says '$out'"
lab_alive "nova-compute-$FAILED_N" || fail "nova-compute-$FAILED_N not running after BMC power on"
mark "BMC power on -> nova-compute-$FAILED_N running" "$T_RESTORE"

t=$(now)
for ((i = 0; ; i++)); do
  [ $i -lt 360 ] || fail "evacuation migrations not 'completed' after 180 s: $(jq -c '[.migrations[] | {instance_uuid,status}]' <<<"$BODY")"
  req GET "$NOVA_URL/os-migrations?migration_type=evacuation&source_compute=$FAILED_HOST" 2.80
  expect 200
  n=0
  for id in "${SERVERS[@]}"; do
    st=$(jq -r --arg id "$id" '[.migrations[] | select(.instance_uuid==$id)] | sort_by(.created_at) | last | .status // "missing"' <<<"$BODY")
    case $st in completed) n=$((n + 1)) ;; error | failed) fail "migration of $id is $st" ;; esac
  done
  [ $n = "$NSERVERS" ] && break
  sleep 0.5
done
mark "evacuation migrations completed" "$t"

t=$(now)
req PUT "$NOVA_URL/os-services/$SERVICE_ID" 2.53 '{"status":"enabled","forced_down":false}'
expect 200
for ((i = 0; ; i++)); do
  [ $i -lt 120 ] || fail "$FAILED_HOST not up/enabled 60 s after un-forcing: $(compute_service)"
  svc=$(compute_service)
  [ "$(jq -r '.state + "/" + .status + "/" + (.forced_down|tostring)' <<<"$svc")" = "up/enabled/false" ] && break
  sleep 0.5
done
RESTORED=1
mark "un-force-down + enable -> state up" "$t"
mark "restore total (power on -> service up)" "$T_RESTORE"

t=$(now)
for id in "${SERVERS[@]}"; do
  req DELETE "$NOVA_URL/servers/$id" 2.74
  expect 204
done
for ((i = 0; ; i++)); do
  [ $i -lt 240 ] || fail "servers not deleted after 120 s"
  [ "$(servers_json | jq '.servers | length')" = 0 ] && break
  sleep 0.5
done
SERVERS=()
mark "servers deleted" "$t"
mark "smoke total" "$T0"

{
  printf '{'
  first=1
  for k in "${!TIMING[@]}"; do
    [ $first = 1 ] || printf ','
    first=0
    printf '"%s":%s' "$k" "${TIMING[$k]}"
  done
  printf ',"per_server_active_after_power_off":{'
  first=1
  for k in "${!DONE[@]}"; do
    [ $first = 1 ] || printf ','
    first=0
    printf '"%s":%s' "$k" "${DONE[$k]}"
  done
  printf '},"destinations":%s,"forced_down_state":"%s"}\n' "$DESTS" "$FORCED_STATE"
} | jq . >"$OUT/timings.json"
echo "[smoke] PASSED: transcript $TRANSCRIPT, timings $OUT/timings.json"
