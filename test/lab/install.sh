#!/bin/bash
# Install every Debian package the freezer-dr OpenStack lab needs.
# Non-interactive, idempotent; skips apt entirely when everything is present.
# Only the python3-* library packages of the OpenStack services are installed
# (never nova-api, keystone, glance-common, ...): those pull in dbconfig-common
# prompts and init scripts. up.sh writes its own console-script wrappers.
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
T0=$(date +%s.%N)

PKGS=(
  # infrastructure
  mariadb-server mariadb-client rabbitmq-server
  # OpenStack (library packages only; see header)
  python3-keystone python3-placement python3-glance python3-neutron python3-nova
  python3-pymysql
  # WSGI container for keystone/placement/nova-api
  uwsgi-core uwsgi-plugin-python3
  # BMC simulation
  openipmi ipmitool tini
  # alerting (used by the orchestrator's tests)
  prometheus-alertmanager
  # tools the scripts use
  curl jq procps iproute2 ca-certificates
)

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install.sh: all ${#PKGS[@]} packages already installed"
else
  echo "install.sh: installing ${#missing[@]} packages: ${missing[*]}"
  # Third-party sources on the machine may be unreachable; apt still refreshes
  # Debian's indexes, so a failing 'update' is reported but not fatal.
  apt-get update -q || echo "install.sh: apt-get update reported errors (continuing)" >&2
  apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}"
fi
T1=$(date +%s.%N)
awk -v a="$T0" -v b="$T1" 'BEGIN{printf "install.sh: done in %.1f s\n", b-a}'
