"""A/B of the edge labels' placement in the window (``label_places``, no two overlapping)
against a tree without it: ``GraphScene.set_edge_labels`` on an N-node chain for a step
(one label added: ms a call, the median of 200 calls a round), a jump to the end (every
label at once: s) and back to the start (every label gone: s), in turns in one process,
who goes first alternating (CPU time, medians of the rounds). The other tree's
``qt_scene.py`` is loaded from OLD_TREE (a checkout or ``git archive`` of the base), with
that tree's ``label_places.py`` where it has one; both draw the same places where no label
meets another or a node's box (a chain's). GRAPH: ``chain`` (default) or ``dag``
(``samples.layered_dag``, 100 wide: labels that meet, and edges passing other nodes).

    PYTHONPATH=. QT_QPA_PLATFORM=offscreen .venv/bin/python bench/label_places_ab.py OLD_TREE [N] [ROUNDS] [GRAPH]

(docs/speed.md items 72, 75.)
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    old_tree = Path(argv[0])
    count = int(argv[1]) if len(argv) > 1 else 10_000
    rounds = int(argv[2]) if len(argv) > 2 else 5
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])  # noqa: F841
    import gradstep.ui  # noqa: F401  (the PySide6 None guard)
    from gradstep.drawing import qt_scene as new
    from gradstep.drawing import samples
    from gradstep.drawing.layout import layout

    spec = importlib.util.spec_from_file_location(
        "old_qt_scene", old_tree / "gradstep" / "drawing" / "qt_scene.py")
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    places = old_tree / "gradstep" / "drawing" / "label_places.py"
    if places.exists():  # the old tree's own placement, not this tree's
        spec = importlib.util.spec_from_file_location("old_label_places", places)
        old_places = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(old_places)
        old.LabelPlaces = old_places.LabelPlaces
    kind = argv[3] if len(argv) > 3 else "chain"
    graph = samples.chain(count) if kind == "chain" else samples.layered_dag(count)
    lay = layout(graph)
    keys = list(lay.routes)
    spent = {name: {"step": [], "jump": [], "back": []} for name in ("old", "new")}
    pills = {}
    for turn in range(rounds):
        order = [("old", old), ("new", new)]
        for name, module in order if turn % 2 == 0 else order[::-1]:
            scene = module.GraphScene(graph, lay)
            start = time.process_time()
            for key in keys[:200]:
                scene.set_edge_labels({key: "[0.2274]"})
            spent[name]["step"].append((time.process_time() - start) / 200 * 1e3)
            start = time.process_time()
            scene.set_edge_labels(dict.fromkeys(keys, "[1.5]"))
            spent[name]["jump"].append(time.process_time() - start)
            pills[name] = dict(scene.pills)
            start = time.process_time()
            scene.set_edge_labels(dict.fromkeys(keys, ""))
            spent[name]["back"].append(time.process_time() - start)
            scene.retire()
    if kind == "chain":
        assert pills["old"] == pills["new"], "a chain's labels are where they always were"
    for name in ("old", "new"):
        print(name, kind, count, {part: round(statistics.median(times), 4)
                            for part, times in spent[name].items()},
              "(step: ms a call; jump, back: s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
