"""Conformance: a case run under gradstep does what ``python CASE`` does.

For every case of ``corpus.py`` (the corpus in ``cases/`` and the seed lessons)
each test compares one thing between gradstep (a fresh ``Kernel`` per case)
and plain torch (``python CASE`` and ``oracle.py``, which never imports
gradstep): the printed output, the exception, the graph from the root, the
engine's step order of each backward call the case makes, the leaves'
``.grad`` after each call, and every value gradstep shows on a node; and that
the oracle's two watched runs agree where both saw a node's value.
"""

from __future__ import annotations

import pytest
from compare import (
    exception_problems,
    graph_problems,
    ids_align,
    leaf_grad_problems,
    output_problems,
    steps_problems,
    value_problems,
)
from output_text import normalize, split_traceback
from params import PARAMS

from tests.test_examples import EXPECTED_ERROR, EXPECTED_OUTPUT, assert_prints_in_order

LESSONS = [param for param in PARAMS if param.values[0].name.startswith("example_")]


def _fail_on(run, problems: list[str]) -> None:
    if problems:
        pytest.fail(f"case {run.case.name}:\n" + "\n".join(problems), pytrace=False)


def _observed(run) -> dict:
    """Return the oracle's observed facts, or skip: the oracle could not observe
    this case without changing what it does (its notes say how)."""
    facts = _oracle(run)
    if facts["observed"] is None:
        pytest.skip(f"{run.case.name}: the oracle could not observe this case without "
                    f"disturbing it: {facts['notes']}")
    return facts["observed"]


def _oracle(run) -> dict:
    if run.oracle is None or "oracle_error" in run.oracle["minimal"]:
        detail = run.oracle["minimal"]["oracle_error"] if run.oracle else run.oracle_run.output
        pytest.fail(f"case {run.case.name}: the oracle failed:\n{detail[-3000:]}", pytrace=False)
    return run.oracle


@pytest.mark.parametrize("case", PARAMS)
def test_oracle_reproduces_plain_run(run):
    """The oracle runs the case as `python CASE` does (else its facts are not the case's)."""
    facts = _oracle(run)["minimal"]
    text, exception = split_traceback(run.plain.output)
    problems = []
    if normalize(facts["output"]) != normalize(text):
        problems += [p.replace("gradstep", "oracle") for p in output_problems(text, facts["output"])]
    if facts["exception"] != exception:
        problems.append(f"exception: plain {exception}, oracle {facts['exception']}")
    if run.case.root and facts["graph"] is None and exception is None:
        problems.append(f"no graph from root {run.case.root!r}: {facts.get('root_problem')}")
    _fail_on(run, problems)


@pytest.mark.parametrize("case", PARAMS)
def test_output(run):
    text, _ = split_traceback(run.plain.output)
    _fail_on(run, output_problems(text, run.gradstep.get("output") or ""))


@pytest.mark.parametrize("case", PARAMS)
def test_exception(run):
    _, exception = split_traceback(run.plain.output)
    _fail_on(run, exception_problems(exception, run.plain.returncode, run.gradstep))


@pytest.mark.parametrize("case", PARAMS)
def test_graph(run):
    _fail_on(run, graph_problems(_oracle(run)["minimal"]["graph"], run.gradstep.get("trace")))


@pytest.mark.parametrize("case", PARAMS)
def test_backward_steps(run):
    observed = _observed(run)
    if observed["level"] == "quiet":
        pytest.skip(f"{run.case.name}: the case runs its own profiler, so the oracle (which reads "
                    "the engine's steps from its profiler) watched it without one: no steps")
    _fail_on(run, steps_problems(observed["calls"], run.gradstep.get("calls") or []))


@pytest.mark.parametrize("case", PARAMS)
def test_leaf_grads(run):
    _fail_on(run, leaf_grad_problems(_observed(run)["calls"], run.gradstep.get("calls") or []))


@pytest.mark.parametrize("case", PARAMS)
def test_values(run):
    facts = _oracle(run)
    trace = run.gradstep.get("trace")
    if not ids_align(facts["minimal"]["graph"], trace):
        pytest.skip(f"{run.case.name}: the graph's structure differs (test_graph), so node "
                    "ids do not name the same nodes")
    problems = value_problems(facts["minimal"], facts["values"], trace)
    if problems and facts["notes"]:
        problems.append("oracle notes: " + "; ".join(facts["notes"]))
    _fail_on(run, problems)


@pytest.mark.parametrize("case", PARAMS)
def test_oracle_sources_agree(run):
    """Where both of the oracle's watched runs saw a node's value, they saw the same one
    (else one of its mechanisms is wrong: an oracle bug)."""
    facts = _oracle(run)
    _fail_on(run, [f"oracle bug: {d}" for d in facts["disagreements"]])


@pytest.mark.parametrize("case", LESSONS)
def test_seed_lesson_prints_the_seeds_numbers_under_plain_python(run):
    """`python FILE` in the lesson's folder (the plain run) prints the seed's numbers and
    needs nothing gradstep preloads; a failing lesson stops at its line, status 1."""
    lesson = run.case.name.removeprefix("example_")
    assert_prints_in_order(run.plain.output, EXPECTED_OUTPUT[lesson])
    if lesson in EXPECTED_ERROR:
        line, message, _kind = EXPECTED_ERROR[lesson]
        assert run.plain.returncode == 1
        assert f'File "{run.case.path}", line {line}' in run.plain.output
        assert message in run.plain.output
    else:
        assert run.plain.returncode == 0, run.plain.output
