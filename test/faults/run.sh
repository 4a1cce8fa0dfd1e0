#!/usr/bin/env bash
# npm run test:faults [-- --update-docs] [vitest arguments]. The campaign's dated table goes
# to reports/fault-campaign.md (untracked) unless --update-docs asks for the tracked
# docs/fault-campaign.md. vitest refuses options it does not know, so this one travels to
# the global setup (test/faults/global-setup.ts) as FREEZER_DR_FAULTS_UPDATE_DOCS.
set -euo pipefail
args=()
for arg in "$@"; do
  if [[ $arg == --update-docs ]]; then export FREEZER_DR_FAULTS_UPDATE_DOCS=1; else args+=("$arg"); fi
done
exec vitest run --config vitest.faults.config.ts "${args[@]}"
