#!/usr/bin/env bash
# Set up (see setup.sh) and open the gradstep window. Arguments go to gradstep.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m gradstep "$@"
