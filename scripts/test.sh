#!/usr/bin/env bash
# Set up (see setup.sh) and run the whole test suite, the linters included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
start=$SECONDS
# the suite's time, printed also when a step fails (the setup above is not counted)
trap 'echo "scripts/test.sh: ruff, lint-imports and pytest took $((SECONDS - start)) s"' EXIT
.venv/bin/ruff check .
.venv/bin/lint-imports
.venv/bin/python -m pytest -q "$@"
