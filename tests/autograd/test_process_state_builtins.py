"""Which builtins a window run's changes are set back (``process_state._restore_builtins``)."""

from __future__ import annotations

import builtins
import sys

import pytest

from gradstep.autograd import process_state


@pytest.fixture
def fresh_state(monkeypatch, tmp_path):
    """process_state as before a window's first run; ``tmp_path`` importable."""
    monkeypatch.setattr(process_state, "_kept", [object()])
    monkeypatch.setattr(process_state, "_since", {"code": None, "start": None, "end": None})
    monkeypatch.syspath_prepend(str(tmp_path))


def _run(source: str) -> None:
    """Run ``source`` as a window run does, between ``running`` and ``ran``."""
    code = compile(source, "<t>", "exec")
    process_state.running(code)
    exec(code, {})
    process_state.ran()


def test_a_runs_setattr_on_builtins_is_set_back_though_gradstep_imported_after_it(
        fresh_state, tmp_path):
    # the run imported nothing; gradstep imported a module of its own after it (networkx
    # for a layout): that import made the run's setattr(builtins, ...) look like a module's
    (tmp_path / "gs_imported_after_the_run.py").write_text("", encoding="utf-8")
    kept = dict(vars(builtins))
    try:
        _run("import builtins\nsetattr(builtins, 'gs_set_by_the_run', 1)\n")
        __import__("gs_imported_after_the_run")
        process_state._restore_builtins(kept)
        assert not hasattr(builtins, "gs_set_by_the_run")
    finally:
        vars(builtins).pop("gs_set_by_the_run", None)
        sys.modules.pop("gs_imported_after_the_run", None)


def test_a_name_a_module_of_the_run_put_in_builtins_stays_and_the_runs_own_goes(
        fresh_state, tmp_path):
    (tmp_path / "gs_sets_a_builtin.py").write_text(
        "import builtins\nbuiltins.gs_by_module = 2\n", encoding="utf-8")
    kept = dict(vars(builtins))
    try:
        _run("import builtins, gs_sets_a_builtin\nbuiltins.gs_by_run = 1\n")
        process_state._restore_builtins(kept)
        assert not hasattr(builtins, "gs_by_run")
        assert builtins.gs_by_module == 2 and kept["gs_by_module"] == 2
    finally:
        for name in ("gs_by_run", "gs_by_module"):
            vars(builtins).pop(name, None)
        sys.modules.pop("gs_sets_a_builtin", None)
