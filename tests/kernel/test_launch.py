"""How the kernel starts: no folder of the user's shadows gradstep's modules, a start
failure says what really went wrong, and a crash's stack dump stays out of the output."""

from __future__ import annotations

import os

import pytest

from gradstep.kernel import launch, messages
from gradstep.kernel.client import Kernel

FAKE = "tests.kernel.fake_session:FakeSession"


@pytest.fixture
def user_project(tmp_path, monkeypatch):
    """Return a folder that holds packages named like gradstep's own, made the current folder.

    A relative ``PYTHONPATH`` (``PYTHONPATH=.``, how the tests are often run) named the
    checkout from where the tests started; in the user's folder it would name that folder,
    where the kernel then finds the fake session's ``tests`` (a namespace package here, which
    a regular package of the same name anywhere on the path wins over) in the user's
    project. It is made absolute first: the checkout stays where the session is found."""
    given = os.environ.get("PYTHONPATH")
    if given:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
            os.path.abspath(part) for part in given.split(os.pathsep)))
    for name in ("app", "graphviz_views", "tests", launch.TOP_PACKAGE):
        package = tmp_path / name
        package.mkdir(exist_ok=True)
        (package / "__init__.py").write_text("raise ImportError('the user project was imported')\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_user_package_named_app_in_the_current_folder_does_not_shadow_gradstep(user_project):
    with Kernel(session=FAKE, timeout=30) as kernel:
        reply = kernel.run("import os, sys\nextra = [sys.path, os.getcwd()]\n")
    assert reply["ok"], reply["error"]
    path, cwd = reply["extra"]
    assert cwd == str(user_project)  # the snippet still runs in the user's folder
    assert "" not in path and str(user_project) not in path


def test_the_kernel_leaves_pythonpath_as_the_user_set_it(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/nowhere/at/all")
    with Kernel(session=FAKE, timeout=30) as kernel:
        reply = kernel.run("import os\nextra = os.environ.get('PYTHONPATH')\n")
    assert reply["extra"] == "/nowhere/at/all"


@pytest.mark.parametrize("users_own", [False, True, "a window's"])
def test_the_snippet_sees_the_environment_the_kernel_was_started_from(monkeypatch, users_own):
    """The user's own values stay; what gradstep added for its own start (also for the
    process of a window that `gradstep.show()` started, which starts kernels) goes."""
    names = ("PYTHONUNBUFFERED", "MALLOC_ARENA_MAX")
    for name in names:
        if users_own:
            monkeypatch.setenv(name, "3")
        else:
            monkeypatch.delenv(name, raising=False)
    if users_own == "a window's":
        monkeypatch.setenv(launch.ADDED_ENV, ",".join(names))
        users_own = False
    with Kernel(session=FAKE, timeout=30) as kernel:
        reply = kernel.run("import os\nextra = [os.environ.get(n) for n in "
                           "('PYTHONUNBUFFERED', 'MALLOC_ARENA_MAX', launch.ADDED_ENV)]\n"
                           .replace("launch.ADDED_ENV", repr(launch.ADDED_ENV)))
    assert reply["ok"], reply["error"]
    assert reply["extra"] == (["3", "3", None] if users_own else [None, None, None])


def test_module_names_come_from_the_package_not_from_literals():
    assert launch.WORKER_MODULE == f"{launch.__package__}.worker"
    code = launch.bootstrap_code("/some/root")
    assert f"import {launch.WORKER_MODULE} as worker" in code
    assert "'/some/root'" in code
    assert launch.worker_command(["--x"])[-1] == "--x"


def test_a_kernel_that_cannot_import_its_session_names_the_module_not_the_memory_cap():
    with Kernel(session="no_such_module:Session", timeout=30) as kernel:
        reply = kernel.run("x = 1")
    error = reply["error"]
    assert error["title"] == "The kernel could not start"
    assert "No module named 'no_such_module'" in error["message"]
    assert "GRADSTEP_MEMORY_LIMIT" not in error["fix"] + error["explanation"]
    assert "pip install" in error["fix"]


@pytest.mark.parametrize(
    ("reason", "output", "words"),
    [
        ("The kernel failed to start (exit code 1): MemoryError", "MemoryError\n",
         "GRADSTEP_MEMORY_LIMIT"),
        ("The kernel did not start within 120 s.", "", "Run again"),
        ("The kernel failed to start (signal SIGSEGV: ...): no output", "", "import torch"),
    ],
)
def test_start_error_fixes_follow_the_cause(reason, output, words):
    error = messages.start_error(reason, output, 2**31)
    assert error["message"] == reason
    assert words in error["fix"]


def test_a_segfault_reports_the_snippet_line_without_gradsteps_frames():
    with Kernel(session=FAKE, timeout=30) as kernel:
        reply = kernel.run("import ctypes\nprint('before')\nctypes.string_at(0)\n",
                           filename="crash.py")
    assert reply["error"]["kind"] == "crash" and reply["error"]["line"] == 3
    assert "before" in reply["output"]
    assert "Fatal Python error" not in reply["output"]
    assert f"{os.sep}kernel{os.sep}worker.py" not in reply["output"]


def _full_collections(**options) -> int:
    with Kernel(session=FAKE, timeout=30, **options) as kernel:
        reply = kernel.run("import gc\nextra = gc.get_stats()[2]['collections']\n")
    assert reply["ok"], reply["error"]
    return reply["extra"]


def test_only_a_kernel_started_ahead_collects_once_its_modules_are_imported():
    """The window's kernel runs one full collection at start; the command line's leaves it
    to the snippet's run (``worker.settle_imports``): one full collection fewer."""
    assert _full_collections() == _full_collections(collect_at_start=False) + 1


@pytest.fixture
def settling(monkeypatch):
    """Keep this test process's settling state (``settle_imports`` sets it) as it was."""
    from gradstep.policies import gc_pause

    for name in ("frozen", "probe"):
        monkeypatch.setattr(gc_pause._Settling, name, getattr(gc_pause._Settling, name))


def test_settling_the_imports_without_a_collection_freezes_them(settling):
    import gc

    from gradstep.kernel.worker import settle_imports

    gc.disable()
    frozen_before = gc.get_freeze_count()
    try:
        made = [[] for _ in range(1000)]  # young: made while the collector was paused
        full_before = gc.get_stats()[2]["collections"]
        settle_imports(False)
        walked = {id(o) for o in gc.get_objects()}  # every generation a collection walks
        assert not any(id(o) in walked for o in made)
        assert gc.get_count()[0] < 1000 and gc.get_freeze_count() >= frozen_before + 1000
        assert gc.get_stats()[2]["collections"] == full_before  # no walk of the heap
    finally:
        gc.unfreeze()  # this test process's objects go back to the oldest generation
        gc.enable()


class ManyObjects:
    """A session class whose making leaves many young objects, as importing torch does."""

    def __init__(self):
        self.made = [[] for _ in range(20_000)]


@pytest.mark.parametrize("collect", [False, True])
def test_starting_the_session_leaves_no_young_collection_of_its_imports(collect, settling):
    """What the paused imports made is frozen (or collected once) before the collector
    resumes: turned back on first, it would walk all of it in a young collection at the
    next allocation (~80 ms in a real kernel)."""
    import gc

    from gradstep.kernel.worker import start_session

    seen = []
    record = lambda phase, info: phase == "start" and seen.append(info["generation"])  # noqa: E731
    gc.collect()
    gc.callbacks.append(record)
    try:
        session = start_session(f"{__name__}:ManyObjects", collect)
        after = [[] for _ in range(100)]  # allocations after the start, as the kernel's next work
        assert gc.isenabled()
        assert seen == ([2] if collect else [])  # the one full collection asked for, or none
        if not collect:
            walked = {id(o) for o in gc.get_objects()}
            assert not any(id(o) in walked for o in session.made[::1000])
    finally:
        gc.callbacks.remove(record)
        gc.unfreeze()
    assert len(after) == 100


def _walk_made_inside(monkeypatch, frozen):
    """Run a paused block after a young cycle dropped; return (cycle freed at the start,
    the block's objects in the oldest generation, freeze count after)."""
    import gc
    import weakref

    from gradstep.policies import gc_pause

    monkeypatch.setattr(gc_pause._Settling, "frozen", frozen)

    class Cycle:
        pass

    cycle = Cycle()
    cycle.me = cycle
    gone = weakref.ref(cycle)
    del cycle
    with gc_pause.paused_after_snippet():
        freed_at_start = gone() is None
        assert not gc.isenabled()
        made = [[] for _ in range(2000)]
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    return freed_at_start, all(id(o) in oldest for o in made), gc.get_freeze_count()


def test_a_kernel_leaves_what_its_work_made_in_the_oldest_generation_unwalked(monkeypatch):
    import gc

    gc.collect()
    frozen = gc.get_freeze_count()
    full_before = gc.get_stats()[2]["collections"]
    freed, oldest, frozen_after = _walk_made_inside(monkeypatch, frozen)
    assert freed and oldest and frozen_after == 0 and gc.isenabled()
    assert gc.get_stats()[2]["collections"] == full_before  # no full walk either


def test_elsewhere_the_collector_resumes_as_it_was(monkeypatch):
    import gc

    # None: an in-process session; or the snippet froze objects of its own
    for frozen in (None, gc.get_freeze_count() - 1):
        gc.collect()  # no young collection due while the block runs
        freed, oldest, frozen_after = _walk_made_inside(monkeypatch, frozen)
        assert not freed and not oldest and gc.isenabled()
        assert frozen_after == gc.get_freeze_count()


def _probe_mode_walk(monkeypatch, snippet_freezes: str | None):
    """The command line kernel's way: gradstep froze everything itself, uncounted
    (``settle_after_work(None)``); then a "snippet" (freezing or not) and a paused walk.
    Return (young cycle freed at the walk's start, the walk's objects in the oldest
    generation, objects still frozen after)."""
    import gc
    import weakref

    from gradstep.policies import gc_pause

    class Cycle:
        pass

    gc.freeze()
    monkeypatch.setattr(gc_pause._Settling, "frozen", None)
    monkeypatch.setattr(gc_pause._Settling, "probe", None)
    try:
        gc_pause.settle_after_work(None)
        gc.collect()  # the probe goes to the oldest generation, as it does while a snippet runs
        cycle = Cycle()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        if snippet_freezes == "before":
            gc.freeze()  # the cycle is the snippet's, frozen by it: not gradstep's to thaw
        del cycle
        with monkeypatch.context() as counting:
            counting.setattr(gc, "get_freeze_count", lambda: pytest.fail("counted the frozen"))
            with gc_pause.paused_after_snippet():
                freed_at_start = gone() is None
                made = [[] for _ in range(2000)]
                if snippet_freezes == "during":  # a snippet's thread, or a __del__ of its
                    gc.freeze()
        oldest = {id(o) for o in gc.get_objects(generation=2)}
        return freed_at_start, all(id(o) in oldest for o in made), gc.get_freeze_count()
    finally:
        gc.unfreeze()


def test_a_kernel_that_froze_its_imports_uncounted_settles_without_counting(monkeypatch):
    freed, oldest, frozen_after = _probe_mode_walk(monkeypatch, snippet_freezes=None)
    assert freed and oldest and frozen_after == 0


def test_a_freeze_of_the_snippets_own_is_seen_without_counting(monkeypatch):
    freed, oldest, frozen_after = _probe_mode_walk(monkeypatch, snippet_freezes="before")
    assert not freed and not oldest and frozen_after > 0  # what the snippet froze stays frozen


def test_a_freeze_during_the_walk_is_left_frozen(monkeypatch):
    freed, oldest, frozen_after = _probe_mode_walk(monkeypatch, snippet_freezes="during")
    assert freed and frozen_after >= 2000  # the walk's objects included: not thawed


def test_the_probe_is_found_in_every_generation_and_not_once_frozen(monkeypatch):
    import gc

    from gradstep.policies import gc_pause

    monkeypatch.setattr(gc_pause._Settling, "frozen", None)
    monkeypatch.setattr(gc_pause._Settling, "probe", None)
    was_enabled = gc.isenabled()
    gc.disable()  # the probe moves only when this test collects
    try:
        gc_pause.settle_after_work(None)
        probe = gc_pause._Settling.probe
        for generation in (0, 1, 2):
            assert any(o is probe for o in gc.get_objects(generation))
            assert gc_pause._frozen_by_gradstep_only()
            gc.collect(generation)  # on to the next older generation
        gc.freeze()
        try:
            assert not gc_pause._frozen_by_gradstep_only()
        finally:
            gc.unfreeze()
    finally:
        if was_enabled:
            gc.enable()


def test_the_probe_is_looked_for_oldest_first(monkeypatch):
    """After a big walk with the collector paused, the youngest generation holds what the
    walk made (~1.2 M objects at 100,000 nodes): a probe that is older is found without
    listing it."""
    import gc

    from gradstep.policies import gc_pause

    monkeypatch.setattr(gc_pause._Settling, "frozen", None)
    monkeypatch.setattr(gc_pause._Settling, "probe", None)
    gc_pause.settle_after_work(None)
    gc.collect()  # the probe goes to the oldest generation
    listed = []
    real = gc.get_objects
    monkeypatch.setattr(gc, "get_objects", lambda generation=None: listed.append(generation) or real(generation))
    assert gc_pause._frozen_by_gradstep_only()
    assert listed == [2]


@pytest.mark.parametrize("collect", [False, True])
def test_only_the_command_line_kernel_uses_the_probe(collect):
    """The kernel that froze its imports uncounted (the command line's) answers by the
    probe; the window's, which froze nothing, counts (an empty list)."""
    with Kernel(session=FAKE, timeout=30, collect_at_start=collect) as kernel:
        reply = kernel.run("from gradstep.policies import gc_pause\n"
                           "extra = [gc_pause._Settling.probe is None, gc_pause._Settling.frozen]\n")
    assert reply["ok"], reply["error"]
    assert reply["extra"] == ([True, 0] if collect else [False, None])


def test_a_collector_the_snippet_turned_off_stays_off(monkeypatch):
    import gc

    from gradstep.policies import gc_pause

    monkeypatch.setattr(gc_pause._Settling, "frozen", gc.get_freeze_count())
    gc.disable()
    try:
        counts = gc.get_stats()[0]["collections"]
        with gc_pause.paused_after_snippet():
            pass
        assert not gc.isenabled() and gc.get_stats()[0]["collections"] == counts
    finally:
        gc.enable()
