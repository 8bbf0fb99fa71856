"""UI speed on a 10,000-node graph: first paint after a trace, and one backward step.

    .venv/bin/python bench/bench_ui.py [--nodes 10000] [--steps 200] [--no-peer]
    bash -c "ulimit -s unlimited; .venv/bin/python bench/bench_ui.py --nodes 100000 --no-peer"

(100,000 nodes: the session runs in this process, and torch frees a chain that deep
recursively in C++, which overflows the default 8 MB stack; docs/speed.md.)

Prints, each with a ratio against a peer measured in the same run:
- first paint: trace JSON in -> graph laid out, drawn and the window painted once (what
  the window does with a run's result), then the backward pass it asks for taken in;
  peer: torchviz ``make_dot`` + Graphviz ``dot`` rendering the same tensor (what
  people use today), run in a subprocess with a time limit;
- one step: the model moves one step, nodes are recoloured, edge labels updated
  and the view repainted; peers: the 16 ms frame budget, and rebuilding the scene
  (what a naive "redraw on every step" does); then the same step with the Saved tensors
  panel in front, and in presentation mode, against the frame budget;
- a jump to the end of the pass and back to its start, against rebuilding the scene;
- the first steps right after the run, from the start of the pass, with the collector's
  older-generation collections timed: what a big intake leaves to the collector lands there.
  The bench turns on what ``gradstep gui``'s process does (``gc_pause.freeze_intakes``);
  ``--no-freeze`` measures without it;
- the first frame far out (a zoom from 100% past the detail scale), right after those
  steps, against the frame budget; then pans, zooms and Fit to window.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FRAME_MS = 16.0


def snippet(nodes: int) -> str:
    """Return an MLP-like snippet whose graph has about ``nodes`` nodes.

    Each of its layers is mul, add, tanh and its own weight (4 nodes), like a deep
    network whose every layer has its parameters.
    """
    layers = max(1, (nodes - 2) // 4)
    return (
        "import torch\n"
        f"ws = [torch.full([4], 0.5, requires_grad=True) for _ in range({layers})]\n"
        "y = torch.ones(4)\n"
        "for w in ws:\n"
        "    y = torch.tanh(y * w + 0.1)\n"
        "loss = y.sum()\n"
    )


class Precomputed:
    """A backend that answers with results computed before the clock starts."""

    def __init__(self, run_result: dict, timeline: dict):
        self._run, self._timeline = run_result, timeline

    def run(self, **_kwargs) -> dict:
        return self._run

    def backward(self, **_kwargs) -> dict:
        return self._timeline

    def inspect(self, node_id: str) -> dict:
        return {"id": node_id}


def session_results(source: str) -> tuple[dict, dict, float]:
    """Return (run result, backward timeline, seconds taken) from a real in-process Session."""
    from gradstep.autograd.session import Session

    start = time.perf_counter()
    session = Session()
    result = session.run(source, filename="<bench>")
    if not result["ok"]:
        raise SystemExit(f"bench snippet failed: {result['error']}")
    timeline = session.backward(retain_graph=False)
    return result, timeline, time.perf_counter() - start


def first_paint_ms(app, window, result: dict) -> tuple[float, float, float]:
    """Return (wall ms, CPU ms) from a trace arriving to the window painted with its graph,
    and the wall ms of the backward pass the window then asks for being taken in.

    The window takes the result as a kernel's answer (``QtRunController.on_run``: the
    model and its panels, the layout, the scene), which asks the session for the pass to
    step; the Precomputed backend answers at once, through the runner's thread."""
    start, cpu = time.perf_counter(), time.process_time()
    window.control.on_run(result)
    window.repaint()
    elapsed = (time.perf_counter() - start) * 1000
    elapsed_cpu = (time.process_time() - cpu) * 1000
    start = time.perf_counter()
    deadline = start + 600
    while not window.model.passes and time.perf_counter() < deadline:
        app.processEvents()  # the backward pass arrives through the runner
        time.sleep(0.001)
    app.processEvents()
    return elapsed, elapsed_cpu, (time.perf_counter() - start) * 1000


FIRST_MADE: list[float] = []  # the CPU ms of each of the last first_steps_ms' steps spent
# making what frames far out read (GraphScene.far_step: docs/speed.md items 82 and 85)


def first_steps_ms(app, window, steps: int) -> tuple[list[float], list[tuple[int, float]]]:
    """Return the ms of the first ``steps`` steps from the start of the pass right after the
    run was taken in, and ``(generation, ms)`` of each collection of the two older
    generations meanwhile (the ones that walk what a big intake left young). The CPU ms
    each step spent in the turns the window makes what frames far out read (between frames:
    they fall in these steps) are left in ``FIRST_MADE``."""
    import gc

    from gradstep.drawing.qt_scene import GraphScene

    full: list[float] = []
    started = [0.0]
    FIRST_MADE.clear()
    made = [0.0]
    far_step = GraphScene.far_step

    def timed_far_step(scene):
        start = time.process_time()
        try:
            return far_step(scene)
        finally:
            made[0] += time.process_time() - start

    GraphScene.far_step = timed_far_step  # (the view's timer looks it up on each turn)

    def timer(phase, info):
        if info["generation"] >= 1:
            if phase == "start":
                started[0] = time.perf_counter()
            else:
                full.append((info["generation"], (time.perf_counter() - started[0]) * 1000))

    gc.callbacks.append(timer)
    try:
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            made[0] = 0.0
            window.model.step_forward()
            app.processEvents()
            times.append((time.perf_counter() - start) * 1000)
            FIRST_MADE.append(made[0] * 1000)
    finally:
        gc.callbacks.remove(timer)
        GraphScene.far_step = far_step
    return times, full


STEP_CPU: list[float] = []  # the CPU ms of each step of the last step_ms


def step_ms(app, window, steps: int, *, full_repaint: bool = False) -> list[float]:
    """Return the ms of ``steps`` single forward steps from the middle of the pass, each
    including the paint it causes (Qt repaints what changed; ``full_repaint`` repaints the
    whole view instead, then lets the event loop paint the rest of the window, as a step
    does). Their CPU ms (this process, Qt's painting threads included) are
    left in ``STEP_CPU``: on a shared machine the wall time also counts other jobs' turns."""
    times = []
    STEP_CPU.clear()
    window.model.set_step(window.model.step_count // 2)
    app.processEvents()
    view = window.graph_view.viewport()
    for _ in range(steps):
        start, cpu = time.perf_counter(), time.process_time()
        if full_repaint:  # a step that scrolls paints the view at once (QtGraphView.flush_updates)
            view.setUpdatesEnabled(False)
            window.model.step_forward()
            view.setUpdatesEnabled(True)
            view.repaint()
            # the rest of the window's frame as a step has it: the side panels' layout
            # requests and their plots' paints are posted, and only the event loop delivers
            # them (without this the figure left them out: docs/speed.md item 85)
            app.processEvents()
        else:
            window.model.step_forward()
            app.processEvents()  # delivers the update requests: the real frame
        times.append((time.perf_counter() - start) * 1000)
        STEP_CPU.append((time.process_time() - cpu) * 1000)
    return times


def graph_paints_per_step(app, window, steps: int) -> float:
    """Return how many times the graph view is painted per step (1 when all a step's
    changes reach it in one paint; 2 doubles the biggest cost of a step)."""
    from PySide6 import QtCore

    view = window.graph_view.viewport()

    class Counter(QtCore.QObject):
        paints = 0

        def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
            if obj is view and event.type() == QtCore.QEvent.Type.Paint:
                Counter.paints += 1
            return False

    counter = Counter()
    view.installEventFilter(counter)
    step_ms(app, window, steps)
    view.removeEventFilter(counter)
    return Counter.paints / steps


def logic_ms(app, window, steps: int) -> list[float]:
    """Return the ms of single steps without painting (the window's own share of a step)."""
    window.model.set_step(window.model.step_count // 2)
    app.processEvents()
    view = window.graph_view.viewport()
    times = []
    view.setUpdatesEnabled(False)  # a step that scrolls would paint the view at once
    for _ in range(steps):
        start = time.perf_counter()
        window.model.step_forward()
        times.append((time.perf_counter() - start) * 1000)
    view.setUpdatesEnabled(True)
    app.processEvents()
    return times


def other_views_ms(app, window, steps: int) -> dict[str, float]:
    """Return the median ms of a step with the Saved tensors panel in front of the Values
    panel (the retain_graph lessons), and of a step in presentation mode (the graph alone,
    full screen, with its caption: a teacher's projector)."""
    out = {}
    window.docks["saved"].raise_()
    app.processEvents()
    out["with the Saved tensors panel in front"] = statistics.median(step_ms(app, window, steps))
    window.docks["values"].raise_()
    window.presentation.enter("presentation")
    app.processEvents()
    out["in presentation mode"] = statistics.median(step_ms(app, window, steps))
    window.presentation.leave()
    app.processEvents()
    return out


def jump_ms(app, window) -> tuple[float, float]:
    """Return the ms of a jump from the middle of the pass to its end (⏭), then back to
    its start (⏮): every node the pass ran changes state, in one paint."""
    model = window.model
    model.set_step(model.step_count // 2)
    app.processEvents()
    times = []
    for k in (model.step_count, 0):
        start = time.perf_counter()
        model.set_step(k)
        app.processEvents()
        times.append((time.perf_counter() - start) * 1000)
    return times[0], times[1]


def first_far_ms(app, window) -> tuple[float, list[float], list[float]]:
    """Return the scale, and the ms and CPU ms, of the view's first frame far out (boxes
    and edges without detail, ``qt_paint.DETAIL_LOD``) and of the same frame twice again:
    from where a big graph opens (its root at 100%), the first scale the wheel reaches
    below it (1.2**-11, 0.135), one frame, the view back at its start between them (what
    the first frame costs more than the others is its first time's). Measured right after
    the first steps, before any other frame far out (presentation mode fits the whole
    graph: far out too)."""
    from gradstep.drawing import qt_paint

    view = window.graph_view
    factor = 1.0
    while factor >= qt_paint.DETAIL_LOD:
        factor /= 1.2
    times, cpu = [], []
    for _ in range(3):
        view.show_start()
        app.processEvents()
        start, c = time.perf_counter(), time.process_time()
        view.zoom(factor)
        app.processEvents()  # a new scale: the whole view is painted, far out
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    scale = view.transform().m11()
    view.show_start()
    app.processEvents()
    return scale, times, cpu


def pan_zoom_ms(app, window, frames: int) -> dict[str, list[float]]:
    """Return the ms of each frame of a pan and of zooming, each including its paint:

    * ``pan``: the view scrolled by 120 px a frame (a drag or a scroll wheel), from where a
      big graph opens (``show_start``: its root at 100%);
    * ``zoom out`` / ``zoom in``: one wheel notch a frame (x1/1.2), from 100% down to the
      least scale the wheel allows (1%: most of a big graph in view, boxes without text),
      then back up;
    * ``pan far out``: the pan again, at that least scale;
    * ``fit to window``: View > Fit to window (the whole graph in view), one frame;
    * ``pan fitted``: the pan again, there.

    A pan's frame is what Qt paints: it moves the pixels already drawn and paints the strip
    a scroll uncovers (until 2026-12-03 this bench repainted the whole view each pan frame;
    docs/speed.md item 34). A zoom changes the scale, so its frame paints the whole view."""
    view = window.graph_view
    view.show_start()
    app.processEvents()

    def pan() -> list[float]:
        # the vertical bar, or the horizontal one where the graph is all in view up and down
        bar = view.verticalScrollBar()
        if bar.maximum() <= bar.minimum():
            bar = view.horizontalScrollBar()
        times, was = [], bar.value()
        cpu.append([])
        for i in range(frames):
            start, c = time.perf_counter(), time.process_time()
            bar.setValue(bar.value() + (120 if i % 2 == 0 else -60))
            app.processEvents()  # Qt moves what it drew and paints the strip uncovered
            times.append((time.perf_counter() - start) * 1000)
            cpu[-1].append((time.process_time() - c) * 1000)
        bar.setValue(was)  # back where it began (a zoom after it starts from there)
        app.processEvents()
        return times

    def zoom(factor: float) -> list[float]:
        times = []
        cpu.append([])
        for _ in range(200):
            scale = view.transform().m11()
            if (factor < 1 and scale <= 0.0101) or (factor > 1 and scale >= 0.999):
                break
            start, c = time.perf_counter(), time.process_time()
            view.zoom(factor)
            app.processEvents()  # a new scale: the whole view is painted
            times.append((time.perf_counter() - start) * 1000)
            cpu[-1].append((time.process_time() - c) * 1000)
        return times

    cpu = MOVE_CPU
    cpu.clear()
    out = {"pan": pan(), "zoom out": zoom(1 / 1.2)}
    out["pan far out"] = pan()
    out["zoom in"] = zoom(1.2)
    start, c = time.perf_counter(), time.process_time()
    view.fit_to_window()
    app.processEvents()
    out["fit to window"] = [(time.perf_counter() - start) * 1000]
    cpu.append([(time.process_time() - c) * 1000])
    out["pan fitted"] = pan()
    return out


MOVE_CPU: list[list[float]] = []  # the CPU ms of pan_zoom_ms's frames, one list a motion, in order


def rebuild_ms(window) -> float:
    """Return ms to rebuild and repaint the whole scene once (the naive per-step redraw)."""
    start = time.perf_counter()
    window.graph_view._rebuild()
    window.graph_view.set_node_states(window.model.states())
    window.graph_view.viewport().repaint()
    return (time.perf_counter() - start) * 1000


PEER = """
import sys, time, torch
sys.setrecursionlimit(1_000_000)
from torchviz import make_dot
ns = {}
exec(sys.stdin.read(), ns)
start = time.perf_counter()
make_dot(ns["loss"]).pipe(format="png")
print((time.perf_counter() - start) * 1000)
"""


def stepped_window(snippet: Path, steps: int = 100):
    """Return ``(app, window)`` for ``snippet`` as this bench makes them (1280 x 800, the
    collector as ``gradstep gui`` has it), the run taken in and its first ``steps`` steps
    made: where the in-process benches of the window (``dag_frame_parts.py``,
    ``far_runs_ab.py``) start."""
    from PySide6 import QtWidgets

    from gradstep.none_guard import protect_none
    from gradstep.policies.gc_pause import freeze_intakes
    from gradstep.ui.qt_main_window import QtMainWindow

    protect_none()
    freeze_intakes()
    result, timeline, _ = session_results(snippet.read_text())
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    window = QtMainWindow(lambda: Precomputed(result, timeline))
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    first_paint_ms(app, window, result)
    first_steps_ms(app, window, steps)
    return app, window


def torchviz_ms(source: str, limit: float) -> float | None:
    """Return torchviz + dot's ms to render the same tensor, or None past ``limit`` seconds."""
    try:
        proc = subprocess.run([sys.executable, "-c", PEER], input=source, text=True,
                              capture_output=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        print(f"  torchviz peer failed: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    return float(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--snippet", type=Path, metavar="FILE",
                        help="trace this snippet (e.g. bench/snippets/dag100k.py) instead of "
                             "the --nodes chain")
    parser.add_argument("--no-peer", action="store_true", help="skip the torchviz peer")
    parser.add_argument("--peer-limit", type=float, default=120.0, metavar="SECONDS")
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave big intakes to the collector (gradstep gui freezes them)")
    args = parser.parse_args()

    from PySide6 import QtWidgets

    from gradstep.none_guard import protect_none
    from gradstep.ui.qt_main_window import QtMainWindow

    protect_none()  # PySide6 6.12 on Python 3.11 drops a reference to None per void call
    if not args.no_freeze:
        from gradstep.policies.gc_pause import freeze_intakes

        freeze_intakes()  # as gradstep gui's own process does

    source = args.snippet.read_text() if args.snippet else snippet(args.nodes)
    result, timeline, session_s = session_results(source)
    n_nodes = len(result["trace"]["nodes"])
    print(f"graph: {n_nodes} nodes, {len(result['trace']['edges'])} edges, "
          f"{len(timeline['steps'])} backward steps (session run + backward: {session_s:.2f} s)")

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    window = QtMainWindow(lambda: Precomputed(result, timeline))
    window.resize(1280, 800)
    window.show()
    app.processEvents()

    paint, paint_cpu, backward_ms = first_paint_ms(app, window, result)
    count = min(args.steps, len(timeline["steps"]) // 2)
    first, collections = first_steps_ms(app, window, min(count, 100))
    far_scale, far, far_cpu = first_far_ms(app, window)
    times = step_ms(app, window, count)
    median, worst = statistics.median(times), max(times)
    step_cpu = statistics.median(STEP_CPU)
    full = statistics.median(step_ms(app, window, min(count, 20), full_repaint=True))
    logic = statistics.median(logic_ms(app, window, min(count, 50)))
    paints = graph_paints_per_step(app, window, min(count, 30))
    rebuild = rebuild_ms(window)
    others = other_views_ms(app, window, min(count, 50))
    to_end, to_start = jump_ms(app, window)
    moves = pan_zoom_ms(app, window, 30)
    print(f"first paint after trace: {paint:8.1f} ms   (CPU {paint_cpu:.1f} ms; then the "
          f"backward pass taken in: {backward_ms:.1f} ms)")
    print(f"the first {len(first)} steps after the run: median {statistics.median(first):.2f} ms, "
          f"worst {max(first):.1f} ms; collections of generation 1 or 2 over 5 ms meanwhile: "
          + (", ".join(f"gen {g} {ms:.0f} ms" for g, ms in collections if ms > 5) or "none")
          + (" (--no-freeze)" if args.no_freeze else " (intakes frozen, as gradstep gui)"))
    made = [ms for ms in FIRST_MADE if ms > 0]
    print(f"  of which making what frames far out read, between frames (item 82): "
          f"{len(made)} of those steps, {sum(made):.1f} ms CPU in all"
          + (f", {statistics.median(made):.2f} ms median, {max(made):.1f} ms most" if made else ""))
    print(f"the first frame far out (100% -> {far_scale:.3f}, after those steps): {far[0]:6.2f} ms   "
          f"vs the {FRAME_MS:.0f} ms frame: {far[0] / FRAME_MS:.3f}x "
          f"({'within' if far[0] < FRAME_MS else 'OVER'} one frame); CPU {far_cpu[0]:.2f} ms; "
          f"the same frame twice again: {far[1]:.2f}, {far[2]:.2f} ms (CPU {far_cpu[1]:.2f}, "
          f"{far_cpu[2]:.2f} ms)")
    print(f"one step (median of {len(times)}): {median:6.2f} ms   worst {worst:.2f} ms   "
          f"(with a full repaint of the view: {full:.2f} ms); CPU median {step_cpu:.2f} ms")
    print(f"  of which the window's own work (model, recolour calls, panel updates; no "
          f"painting): {logic:.2f} ms")
    print(f"  graph view paints per step: {paints:.2f} (1 is the least a step can cost)")
    print(f"  vs the {FRAME_MS:.0f} ms frame budget: {median / FRAME_MS:.3f}x "
          f"({'within' if median < FRAME_MS else 'OVER'} one frame)")
    print(f"  vs rebuilding the scene per step ({rebuild:.1f} ms): {rebuild / median:.0f}x faster")
    print(f"jump to the end / back to the start: {to_end:.0f} / {to_start:.0f} ms   vs "
          f"rebuilding the scene ({rebuild:.0f} ms): {to_end / rebuild:.2f}x / "
          f"{to_start / rebuild:.2f}x")
    for what, ms in others.items():
        print(f"one step {what}: {ms:6.2f} ms   vs the {FRAME_MS:.0f} ms frame: "
              f"{ms / FRAME_MS:.3f}x ({'within' if ms < FRAME_MS else 'OVER'} one frame)")
    for (what, frames), cpu in zip(moves.items(), MOVE_CPU):
        median, worst = statistics.median(frames), max(frames)
        print(f"{what} (one frame, median of {len(frames)}): {median:6.2f} ms   worst "
              f"{worst:.2f} ms   vs the {FRAME_MS:.0f} ms frame: {median / FRAME_MS:.3f}x "
              f"({'within' if median < FRAME_MS else 'OVER'} one frame); CPU median "
              f"{statistics.median(cpu):.2f} ms")
    if not args.no_peer:
        peer = torchviz_ms(source, args.peer_limit)
        if peer is None:
            print(f"  peer torchviz make_dot + dot: did not finish within {args.peer_limit:.0f} s "
                  f"(first paint is > {args.peer_limit * 1000 / paint:.0f}x faster)")
        else:
            print(f"  peer torchviz make_dot + dot PNG: {peer:.0f} ms; "
                  f"first paint is {peer / paint:.1f}x faster")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
