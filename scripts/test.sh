#!/usr/bin/env bash
# Set up (see setup.sh) and run the whole test suite, the linters included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/lint-imports
.venv/bin/python -m pytest -q "$@"
