"""The conformance suite's shared runner: every selected case's plain, oracle and
gradstep runs start together when the first conformance test asks for one."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from case_runs import CaseRunner, close_oracle_server  # noqa: E402

from tests.plain_runs import close_plain_servers  # noqa: E402

_selected: list = []
_runner: list = []


def pytest_collection_finish(session) -> None:
    """Remember which cases the selected tests need, in test order."""
    seen = set()
    for item in session.items:
        case = getattr(getattr(item, "callspec", None), "params", {}).get("case")
        if case is not None and Path(str(item.fspath)).parent == HERE and case.name not in seen:
            seen.add(case.name)
            _selected.append(case)


@pytest.fixture(scope="session")
def case_runner():
    runner = CaseRunner()
    runner.start(_selected)
    _runner.append(runner)
    yield runner
    runner.close()


@pytest.fixture
def run(case_runner, case):
    """The three runs of ``case`` (a test parametrized with params.PARAMS); skipped when a
    library the case needs is not installed."""
    missing = [m for m in case.needs if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"no module {missing[0]}")
    return case_runner.get(case)


def pytest_sessionfinish(session) -> None:
    close_oracle_server()
    close_plain_servers()


def pytest_terminal_summary(terminalreporter) -> None:
    for runner in _runner:
        terminalreporter.write_line(
            f"conformance: {len(runner.futures)} cases run (plain, oracle, gradstep) in "
            f"{runner.wall_seconds:.1f} s wall with {runner.jobs} workers")
        slowest = sorted(runner.seconds.items(), key=lambda kv: -sum(
            v for v in kv[1].values() if isinstance(v, float)))[:8]
        for name, seconds in slowest:
            levels = ", ".join(f"{k} {v:.1f}" for k, v in seconds["levels"].items())
            terminalreporter.write_line(
                f"  {name}: plain {seconds['plain']:.1f} s, oracle {seconds['oracle']:.1f} s "
                f"({levels}), gradstep {seconds['gradstep']:.1f} s")
        if runner.coverage:
            shown = sum(v for v, _ in runner.coverage.values())
            total = sum(n for _, n in runner.coverage.values())
            terminalreporter.write_line(
                f"conformance: values shown on {shown} of {total} op nodes "
                f"({100 * shown / total:.0f} %); per case: " + ", ".join(
                    f"{name} {v}/{n}" for name, (v, n) in sorted(runner.coverage.items())))
