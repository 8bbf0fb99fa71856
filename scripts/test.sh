#!/usr/bin/env bash
# Set up (see setup.sh) and run the whole test suite, the linters included.
#   bash scripts/test.sh            everything (what CI runs)
#   bash scripts/test.sh ARGS...    pytest ARGS only (e.g. tests/autograd -x)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
start=$SECONDS
# the suite's time, printed also when a step fails (the setup above is not counted)
trap 'echo "scripts/test.sh: ruff, lint-imports and pytest took $((SECONDS - start)) s"' EXIT
.venv/bin/ruff check .
.venv/bin/lint-imports
if [ "$#" -gt 0 ]; then
    .venv/bin/python -m pytest -q "$@"
    exit
fi
# The conformance suite (real models against plain torch: docs/testing.md) runs in a
# second pytest process beside the rest. Its cases are child processes that import
# torch and the model libraries, and the rest of the suite leaves a core idle most of
# the time, so together they take less wall time than one after the other.
log=$(mktemp)
.venv/bin/python -m pytest -q -p no:cacheprovider tests/conformance >"$log" 2>&1 &
conformance=$!
trap 'kill "$conformance" 2>/dev/null; rm -f "$log"' INT TERM
status=0
.venv/bin/python -m pytest -q --ignore=tests/conformance || status=$?
echo "scripts/test.sh: the rest of the suite took $((SECONDS - start)) s; waiting for the conformance suite"
wait "$conformance" || status=$?
echo "---- tests/conformance ----"
cat "$log"
rm -f "$log"
exit "$status"
