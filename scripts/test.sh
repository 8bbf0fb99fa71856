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
# Two pytest processes side by side (docs/testing.md, "How the suite is split"): the
# conformance suite (real models against plain torch), whose cases are child processes
# run two at a time, then the directories in SECOND; and the rest. On CI's two cores the
# suite is bound by CPU: the conformance suite keeps both cores busy for its first part,
# and once it is done the directories in SECOND keep the second core busy while the rest
# goes on, so the two processes end about together.
SECOND=(tests/ui)
log=$(mktemp)
(
    child=
    trap 'kill "$child" 2>/dev/null; exit 143' TERM
    pytest_in_turn() {
        .venv/bin/python -m pytest -q -p no:cacheprovider "$@" &
        child=$!
        wait "$child"
    }
    second=0
    pytest_in_turn tests/conformance || second=$?
    # an asynchronous command ignores SIGINT and SIGQUIT; with job control on, the
    # directories after the conformance suite keep python's own handling of both, as
    # they had in the first process (each pytest then has its process group)
    set -m
    echo "---- ${SECOND[*]} ----"
    pytest_in_turn "${SECOND[@]}" || second=$?
    exit "$second"
) >"$log" 2>&1 &
conformance=$!
trap 'kill "$conformance" 2>/dev/null; rm -f "$log"; exit 143' INT TERM
status=0
ignored=(--ignore=tests/conformance)
for folder in "${SECOND[@]}"; do ignored+=("--ignore=$folder"); done
.venv/bin/python -m pytest -q "${ignored[@]}" || status=$?
echo "scripts/test.sh: the rest of the suite took $((SECONDS - start)) s; waiting for the second process"
wait "$conformance" || status=$?
echo "---- tests/conformance ----"
cat "$log"
echo "scripts/test.sh: the second process ended $((SECONDS - start)) s after the start"
rm -f "$log"
exit "$status"
