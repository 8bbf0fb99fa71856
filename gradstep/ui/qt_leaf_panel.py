"""The Leaf gradients panel: every leaf's ``.grad`` after each pass, what each
``autograd.grad`` call returned (a row of its own: that call leaves ``.grad`` as it
was), and a column for each "Zero grads"."""

from __future__ import annotations

import os

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QT_TRANSLATE_NOOP

from gradstep.ui.qt_session_model import QtSessionModel
from gradstep.ui.tensor_text import cut_to_fit, short

GRAD_ROW = "{0}.grad"
RETURNED_ROW = QT_TRANSLATE_NOOP("QtLeafPanel", "autograd.grad returned for {0}")


class _WholeNumbers(QtWidgets.QStyledItemDelegate):
    """Draws a cell too wide for its column cut after its last whole number that fits, then
    "…" (``cut_to_fit``), not inside a number as Qt's elision cuts (``[…, -0.…``); a row
    name too wide for the first column without the module path every row shares, then cut
    in its middle (``cut_name``). Only when painting: a column sized to its contents asks the
    whole text's size."""

    _painting = False

    def paint(self, painter, option, index) -> None:
        self._painting = True
        try:
            super().paint(painter, option, index)
        finally:
            self._painting = False

    def drawn_text(self, option, index) -> str:
        """Return the text ``paint`` draws in ``option.rect`` for ``index``."""
        self._painting = True
        try:
            self.initStyleOption(option, index)
        finally:
            self._painting = False
        return option.text

    def initStyleOption(self, option, index) -> None:  # noqa: N802 (Qt override)
        super().initStyleOption(option, index)
        if not self._painting or not option.text:
            return
        metrics = QtGui.QFontMetricsF(option.font)  # (Qt lays text out in fractions of a
        room = option.rect.width() - 2 * (self.parent().style().pixelMetric(
            QtWidgets.QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)  # pixel: 175.5 px is cut at 175)
        if index.column() == 0:
            panel = self.parent()
            key = (option.text, room, option.font.key())
            if key not in panel.cut_names:  # (each paint asks again: the rows' cuts kept)
                if len(panel.cut_names) > 4096:  # (a long drag of the column's edge)
                    panel.cut_names.clear()
                panel.cut_names[key] = cut_name(option.text, panel.row_names, panel.shared_path,
                                                metrics, room)
            option.text = panel.cut_names[key]
            return
        option.text = cut_to_fit(option.text, lambda t: metrics.horizontalAdvance(t) <= room)


def cut_name(name: str, rows: list[str], shared: str, metrics: QtGui.QFontMetricsF,
             room: int) -> str:
    """Return row name ``name`` as it fits ``room`` pixels: whole; else without ``shared``,
    the module path every row's name starts with (``…h.1.attn.c_proj.weight.grad``); else
    with whole parts of its dotted path left out in the middle too (``…1.attn…weight.grad``),
    keeping as many parts as fit, first a cut no other of the ``rows`` reads alike (the
    block, the layer, weight or bias stay). A cut at the end (Qt's) left a tiny GPT-2's
    eight ``c_proj`` rows all reading ``transformer.h.1.mlp.c_proj....`` or
    ``transformer.h.0.attn.c_p...``."""
    def fits(text: str) -> bool:
        return metrics.horizontalAdvance(text) <= room

    if fits(name):
        return name
    lead = "…" if shared and name.startswith(shared) else ""
    rest = name[len(shared):] if lead else name
    if fits(lead + rest):
        return lead + rest
    parts = rest.split(".")
    skip = len(shared) if lead else 0
    others = [row[skip:].split(".") for row in rows if row != name]
    best = None
    for tail in range(1, len(parts)):
        for head in range(len(parts) - tail):
            text = (lead + ".".join(parts[:head]) if head else "") + "…" + ".".join(parts[-tail:])
            if not fits(text):
                continue
            kept, ending = parts[:head], parts[-tail:]
            alone = not any(_reads_like(o, kept, [], ending) for o in others)
            rank = (alone, head + tail, tail >= 2, head)
            if best is None or rank > best[0]:
                best = (rank, text)
    if best is not None and not best[0][0]:  # every cut that fits reads like another row's
        told_apart = gapped_cut(lead, parts, others, fits)
        if told_apart is not None:
            return told_apart
    if best is not None:
        return best[1]
    return metrics.elidedText(name, QtCore.Qt.TextElideMode.ElideMiddle, max(room, 0))


def gapped_cut(lead: str, parts: list[str], others: list[list[str]], fits) -> str | None:
    """Return the cut of a name's dotted ``parts`` that keeps the most whole parts, with up
    to two runs of them left out (``layer1…bn1…grad``, ``…h.0…c_attn.weight…``: the end may
    go too), that ``fits`` and no other of the rows' ``others`` (their parts) reads alike;
    None where there is none. For a column too narrow for a cut with one gap told apart
    (``layer1.0…weight.grad`` for the bn1 and the bn2 rows alike, ~150 px)."""
    n = len(parts)
    cuts = []
    for a in range(n):  # kept: parts[:a], parts[b:c], parts[d:] with a gap between each
        for d in range(a + 1, n + 1):
            cuts.append((a, a, a, d))  # one gap (or the end left out: d == n)
            for b in range(a + 1, d - 1):
                for c in range(b + 1, d):
                    cuts.append((a, b, c, d))
    # most parts kept first, then one gap rather than two, then more of the end (weight.grad)
    cuts.sort(key=lambda cut: (cut[1] + n - cut[0] - cut[2] + cut[3], cut[1] > cut[0], cut[3]))
    for a, b, c, d in cuts:
        head, middle, tail = parts[:a], parts[b:c], parts[d:]
        if not (head or middle or tail):
            continue
        pieces = [".".join(head)] + ([".".join(middle)] if middle else []) + [".".join(tail)]
        text = (lead if a else "") + "…".join(pieces)  # (a == 0: it starts with "…")
        if not fits(text):
            continue
        if not any(_reads_like(o, head, middle, tail) for o in others):
            return text
    return None


def _reads_like(other: list[str], head: list[str], middle: list[str], tail: list[str]) -> bool:
    """Return whether a row of parts ``other`` could be cut to read as ``head…middle…tail``."""
    if len(other) <= len(head) + len(middle) + len(tail):
        return False
    if other[:len(head)] != head or (tail and other[-len(tail):] != tail):
        return False
    if not middle:
        return True
    inner = other[len(head):len(other) - len(tail)]
    return any(inner[i:i + len(middle)] == middle for i in range(len(inner) - len(middle) + 1))


def shared_path(names: list[str]) -> str:
    """Return the dotted module path all of ``names`` (two or more) start with, its last dot
    included (``transformer.`` for ``transformer.h.0.attn.c_proj.weight.grad`` and
    ``transformer.wte.weight.grad``); "" where there is none."""
    if len(names) < 2:
        return ""
    common = os.path.commonprefix(names)
    return common[:common.rfind(".") + 1]


class QtLeafPanel(QtWidgets.QTreeWidget):
    """One row per leaf's .grad (and per autograd.grad input), one column per pass."""

    def __init__(self, model: QtSessionModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.row_names: list[str] = []  # the .grad rows' names, what cut_name tells apart,
        self.shared_path = ""  # the module path all of them start with,
        self.cut_names: dict = {}  # and each name's cut: {(name, room, font): text}
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setItemDelegate(_WholeNumbers(self))  # numbers cut after a whole one, names inside
        model.sigLeavesChanged.connect(self._refresh)
        model.sigTimelineChanged.connect(self._mark_current)
        self._refresh()

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.LanguageChange:
            self._refresh()
        super().changeEvent(event)

    def _refresh(self) -> None:
        model = self.model
        self.clear()
        headers = [self.tr("leaf")]
        for kind, i in model.columns:
            headers.append(self.tr("pass {0}").format(i + 1) if kind == "pass" else self.tr("zero grads"))
        self.setColumnCount(len(headers))  # fewer passes than before: no empty columns left
        self.setHeaderLabels(headers)
        for col, (kind, i) in enumerate(model.columns, start=1):
            tip = model.passes[i].title if kind == "pass" else self.tr("Every leaf's .grad set to None")
            self.headerItem().setToolTip(col, tip)
        leaves, returned = self._rows()
        self.row_names = [GRAD_ROW.format(name) for name in leaves]
        self.shared_path = shared_path(self.row_names)
        self.cut_names = {}
        dtypes: dict[int, dict] = {}  # pass -> {leaf: dtype}, read once a pass needs it
        for name in leaves:
            cells = [GRAD_ROW.format(name)]
            for kind, i in model.columns:
                if kind == "zero":
                    cells.append("None")
                    continue
                grads = model.passes[i].timeline.get("leaf_grads") or {}
                if name not in grads:
                    cells.append("—")
                    continue
                if i not in dtypes and isinstance(grads[name], list):  # data: its dtype tells
                    dtypes[i] = self._leaf_dtypes(i)                   # a complex one's pairs
                cells.append(short(grads[name], 40, dtypes.get(i, {}).get(name)))
            self._add(cells, self.tr("{0}.grad as torch leaves it after each pass").format(name))
        for name in returned:
            cells = [self.tr(RETURNED_ROW).format(name)]
            for kind, i in model.columns:
                cells.append(self._returned_text(i, name) if kind == "pass" else "")
            self._add(cells, self.tr("What torch.autograd.grad returned for {0} (it does not "
                                     "write {0}.grad)").format(name), italic=True)
        self._mark_current()  # sizes the columns

    def _leaf_dtypes(self, pass_index: int) -> dict[str, str | None]:
        """Return {leaf: its dtype} (its .grad's: a complex one is written a+bj), read from the
        leaf node of each AccumulateGrad step of that pass (one look at its steps)."""
        graph = self.model.graph
        out: dict[str, str | None] = {}
        if graph is None:
            return out
        for step in self.model.passes[pass_index].timeline.get("steps") or ():
            node = step.get("node")
            if step.get("leaf") is not None and node in graph and (
                    graph.nodes[node].get("kind") == "leaf"):
                out.setdefault(step["leaf"], graph.nodes[node].get("dtype"))
        return out

    def _rows(self) -> tuple[list[str], list[str]]:
        leaves, returned = {}, {}
        for record in self.model.passes:
            leaves.update(dict.fromkeys(record.timeline.get("leaf_grads") or {}))
            if record.mode == "grad":
                returned.update(dict.fromkeys(record.timeline.get("returned_inputs") or []))
        return list(leaves), list(returned)

    def _returned_text(self, pass_index: int, name: str) -> str:
        timeline = self.model.passes[pass_index].timeline
        if timeline.get("mode") != "grad":
            return ""
        names = timeline.get("returned_inputs") or []
        if name not in names:
            return ""
        values = timeline.get("returned")
        if values is None:
            return self.tr("nothing (the call raised)")
        return short(values[names.index(name)], 40)

    def _add(self, cells: list[str], tip: str, italic: bool = False) -> None:
        item = QtWidgets.QTreeWidgetItem(cells)
        for col, text in enumerate(cells):
            item.setToolTip(col, text if col else tip)
        if italic:
            font = item.font(0)
            font.setItalic(True)
            item.setFont(0, font)
        self.addTopLevelItem(item)

    def _mark_current(self) -> None:
        """Put ▶ on the column of the pass being stepped."""
        header = self.headerItem()
        for col, (kind, i) in enumerate(self.model.columns, start=1):
            if kind != "pass":
                continue
            title = self.tr("pass {0}").format(i + 1)
            current = i == self.model.pass_index
            header.setText(col, ("▶ " + title) if current else title)
            font = header.font(col)
            font.setBold(current)
            header.setFont(col, font)
        header.setForeground(0, QtGui.QBrush(self.palette().color(QtGui.QPalette.ColorRole.Text)))
        self.fit_columns()

    def fit_columns(self) -> None:
        """Size each column to its texts ("▶ " and bold widen a header: its column too), but
        no wider together than the panel: where they would run past its edge, the row names
        keep up to 2/5 of its width and the widest pass columns are narrowed alike until they
        fit, and Qt ends a cut text with "…" (each cell's tooltip
        holds its whole text). Again when the panel is resized."""
        header = self.header()
        widths = []
        for col in range(self.columnCount()):
            self.resizeColumnToContents(col)
            widths.append(header.sectionSize(col))
        room, least = self.viewport().width(), header.minimumSectionSize()
        if len(widths) > 1:  # the row names keep up to 2/5 of the room; the passes share the rest
            rest = fitted_widths(widths[1:], room - min(widths[0], room * 2 // 5), least)
            fitted = [max(least, min(widths[0], room - sum(rest))), *rest]
        else:
            fitted = fitted_widths(widths, room, least)
        for col, width in enumerate(fitted):
            if width != widths[col]:
                header.resizeSection(col, width)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.fit_columns()

    def cell(self, leaf: str, pass_index: int, row: str = GRAD_ROW) -> str:
        """Return the text shown for ``leaf`` after pass ``pass_index`` (0-based): its .grad,
        or with ``row=RETURNED_ROW`` what autograd.grad returned for it."""
        col = self.model.columns.index(("pass", pass_index)) + 1
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item.text(0) == self.tr(row).format(leaf):
                return item.text(col)
        raise KeyError(leaf)


def fitted_widths(widths: list[int], room: int, least: int) -> list[int]:
    """Return ``widths`` capped alike so that they sum to at most ``room`` (the widest cut
    first, none below ``least`` or its own width): ``[100, 300, 50]`` in 300 gives
    ``[100, 150, 50]``."""
    if sum(widths) <= room or not widths:
        return list(widths)
    cap = max(widths)
    for width in sorted(widths, reverse=True):  # lower the cap past each width it meets
        narrower = [w for w in widths if w < width]
        wide = len(widths) - len(narrower)
        fits = (room - sum(narrower)) // wide
        if fits >= max(narrower, default=0):
            cap = fits
            break
        cap = max(narrower)
    cap = max(cap, least)
    return [min(w, cap) if w > cap else w for w in widths]
