"""What the right column's panels show at 1280 x 800 (the walk's screenshots), checked through
the widgets: the formulas at their least, 4 lines, show 4 lines whole (the 4th was cut a
few pixels short, and scrolled); the Leaf gradients table's columns end inside the panel,
a cut cell ending in "…" with its whole text in its tooltip (the last column ran past the
panel's edge); the Errors tabs take little of the column while they say "No errors." and
grow when an error comes (they kept a third of it, empty)."""

from __future__ import annotations

import math
import re

import pytest
import torch
from PySide6 import QtCore, QtGui, QtWidgets

from gradstep.autograd.session import Session
from gradstep.ui.qt_formula_view import MIN_LINES, QtFormulaView
from gradstep.ui.qt_leaf_panel import fitted_widths
from gradstep.ui.qt_main_window import OUTPUT_ROOM
from gradstep.ui.tensor_text import short
from tests.ui.test_values_chart_height import FAILS, OK, run
from tests.ui.test_window_flows import step_to

LONG = ("import torch\nw = torch.linspace(-1.7, 2.3, 8, requires_grad=True)\n"
        "v = torch.linspace(0.3, 1.9, 8, requires_grad=True)\n"
        "loss = (w * v).sin().sum() * 1.2345\n"
        "loss.backward(retain_graph=True)\nloss.backward()\n")


def settle(qtbot, window) -> None:
    """Wait, on conditions, not on time, until what the last action set going is done: the
    Values panel's formulas (drawn a timer's delay after a step), then the layouts and the
    zero-delay timers that they posted."""
    panel = window.values_panel
    qtbot.waitUntil(lambda: not panel._formula_timer.isActive() and not window.runner.busy,
                    timeout=5000)
    for _ in range(3):
        QtCore.QCoreApplication.sendPostedEvents()
        QtCore.QCoreApplication.processEvents()


def at_mul_after_an_error(qtbot, make_window, language: str, size=(1280, 800)):
    """Return a window in ``language`` that ran FAILS (the Errors panel takes part of the
    column), its Values panel raised at MulBackward0."""
    from gradstep.ui.qt_language import apply_language

    window = make_window(Session)
    apply_language(language)  # (not remembered: the next test's window starts in English)
    window.resize(*size)
    settle(qtbot, window)
    run(qtbot, window, FAILS)
    step_to(window, "MulBackward0")
    window.docks["values"].raise_()
    settle(qtbot, window)
    return window


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_formulas_at_four_lines_show_four_lines_whole(qtbot, make_window, language):
    window = at_mul_after_an_error(qtbot, make_window, language)  # 4 lines left
    formula = window.values_panel.formula
    assert formula.lines == MIN_LINES
    assert formula.text_lines() > MIN_LINES  # more to scroll to
    assert formula.verticalScrollBar().value() == 0
    assert formula.seen_lines() >= MIN_LINES, (formula.seen_lines(), formula.height())
    assert_no_line_cut_at_the_foot(formula)


def assert_no_line_cut_at_the_foot(formula) -> None:
    """Under the last whole line the view paints its background alone: no sliver of the
    next line's top (its whole self comes once scrolled to)."""
    bottoms = formula._line_bottoms()
    shown = formula.viewport().height() + formula.verticalScrollBar().value()
    last = max(end for end in bottoms if end <= shown) - formula.verticalScrollBar().value()
    assert any(end > shown for end in bottoms)  # a line runs past the foot
    image = formula.viewport().grab().toImage()
    ratio = image.devicePixelRatio()
    base = formula.palette().color(QtGui.QPalette.ColorRole.Base).rgb()
    rows = range(math.ceil((last + 1) * ratio), image.height())
    inked = [y for y in rows if any(image.pixel(x, y) != base for x in range(image.width()))]
    assert not inked, (last, inked[:5], image.height())


def test_a_taller_formula_box_holds_each_line_it_is_given(qtbot, make_window):
    window = make_window(Session)
    window.resize(1280, 1000)
    settle(qtbot, window)
    run(qtbot, window, OK)
    step_to(window, "MulBackward0")
    window.docks["values"].raise_()
    settle(qtbot, window)
    formula = window.values_panel.formula
    shown = min(formula.lines, formula.text_lines())
    assert formula.seen_lines() >= shown > MIN_LINES


def test_fitted_widths_cap_the_widest_alike():
    assert fitted_widths([100, 300, 50], 300, 20) == [100, 150, 50]
    assert fitted_widths([100, 300, 250], 300, 20) == [100, 100, 100]
    assert fitted_widths([100, 300, 50], 500, 20) == [100, 300, 50]  # room: as they are
    assert fitted_widths([90, 90], 40, 30) == [30, 30]  # never below the least


def test_the_leaf_gradients_columns_end_inside_the_panel(qtbot, make_window):
    window = make_window(Session)
    window.resize(1280, 800)
    settle(qtbot, window)
    run(qtbot, window, LONG)
    window.docks["leaves"].raise_()
    settle(qtbot, window)
    panel = window.leaf_panel
    header = panel.header()
    widths = [header.sectionSize(c) for c in range(panel.columnCount())]
    assert panel.columnCount() == 3  # leaf, pass 1, pass 2
    assert sum(widths) <= panel.viewport().width(), (widths, panel.viewport().width())
    assert not panel.horizontalScrollBar().isVisible()
    # torch's gradients, whole in the cells' text and tooltips; the columns cut them with "…"
    w = torch.linspace(-1.7, 2.3, 8, requires_grad=True)
    v = torch.linspace(0.3, 1.9, 8, requires_grad=True)
    loss = (w * v).sin().sum() * 1.2345
    loss.backward(retain_graph=True)
    first = w.grad.tolist()
    loss.backward()
    item = next(panel.topLevelItem(i) for i in range(panel.topLevelItemCount())
                if panel.topLevelItem(i).text(0) == "w.grad")
    for col, grad in ((1, first), (2, w.grad.tolist())):
        assert item.text(col) == short(grad, 40) == item.toolTip(col)
        room = header.sectionSize(col)
        assert panel.fontMetrics().horizontalAdvance(item.text(col)) > room  # cut: "…" ends it
        drawn = drawn_text(panel, item, col)
        assert drawn.endswith(",…") and item.text(col).startswith(drawn[:-1]), drawn
        assert [float(n) for n in drawn[1:-2].split(", ")] == pytest.approx(
            grad[:drawn.count(",")], abs=5e-5)  # whole numbers of torch's, none cut inside
    assert header.sectionSize(0) == widths[0] >= panel.fontMetrics().horizontalAdvance("w.grad")
    window.resizeDocks([window.docks["leaves"]], [900], QtCore.Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: panel.viewport().width() > 800, timeout=5000)  # wider: more of them
    settle(qtbot, window)
    wider = [header.sectionSize(c) for c in range(panel.columnCount())]
    assert sum(widths) < sum(wider) <= panel.viewport().width(), (widths, wider)


MODULE = ("import torch\nfrom torch import nn\ntorch.manual_seed(0)\n"
          "def block():\n    return nn.ModuleDict({'attn': nn.ModuleDict({'c_proj': nn.Linear(3, 6)}),"
          " 'mlp': nn.ModuleDict({'c_proj': nn.Linear(3, 6)})})\n\n\n"
          "model = nn.ModuleDict({'transformer': nn.ModuleDict({'h': nn.ModuleList([block(), block()])})})\n"
          "h = model['transformer']['h']\n"
          "loss = sum(b[part]['c_proj'](torch.ones(1, 3)).square().sum() for b in h for part in ('attn', 'mlp'))\n"
          "loss.backward()\n")


def test_a_cut_row_name_keeps_what_tells_the_rows_apart(qtbot, make_window):
    """A parameter's row name too long for the first column loses first the module path all
    rows share (``transformer.h.``), then its middle: what tells the rows apart stays (the
    block, attn or mlp, weight or bias). Cut at the end (Qt's), a tiny GPT-2's rows read
    ``transformer.h.1.mlp.c_proj....`` for the weight and the bias alike; cut in the middle
    alone, ``transformer.h…roj.bias.grad`` for four rows. The cells hold torch's ``.grad``."""
    from gradstep.ui.qt_leaf_panel import shared_path

    window = make_window(Session)
    window.resize(1280, 800)
    settle(qtbot, window)
    run(qtbot, window, MODULE)
    window.docks["leaves"].raise_()
    panel = window.leaf_panel
    window.resizeDocks([window.docks["leaves"]], [360], QtCore.Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: panel.header().sectionSize(0) < 200, timeout=5000)  # cut names
    settle(qtbot, window)
    from torch import nn
    torch.manual_seed(0)
    blocks = [{part: nn.Linear(3, 6) for part in ("attn", "mlp")} for _ in range(2)]
    loss = sum(b[part](torch.ones(1, 3)).square().sum() for b in blocks for part in ("attn", "mlp"))
    loss.backward()
    drawn = {}
    for i in range(panel.topLevelItemCount()):
        item = panel.topLevelItem(i)
        name = item.text(0)
        _, _, k, part, _, leaf, _ = name.split(".")  # transformer.h.K.PART.c_proj.LEAF.grad
        assert item.text(1) == short(getattr(blocks[int(k)][part], leaf).grad.tolist(), 40)
        assert panel.fontMetrics().horizontalAdvance(name) > panel.header().sectionSize(0)
        drawn[name] = drawn_text(panel, item, 0)
    assert len(drawn) == 8 and len(set(drawn.values())) == 8, drawn  # eight rows, told apart
    assert panel.shared_path == "transformer.h." == shared_path(list(drawn))
    for name, text in drawn.items():
        assert text.startswith("…") and "transformer" not in text, text
        head, _, tail = text[1:].partition("…")
        assert name.removeprefix("transformer.h.").startswith(head) and name.endswith(tail)
        assert head.split(".")[0] == name.split(".")[2], (name, text)  # the block
        assert name.split(".")[-2] in (head + "." + tail).split("."), (name, text)  # its leaf
    assert shared_path(["w.grad", "b.grad"]) == shared_path(["ab.grad", "ac.grad"]) == ""
    assert shared_path(["net.0.weight.grad"]) == ""  # one row: nothing shared to leave out


def test_a_cut_row_name_is_told_apart_from_the_other_rows(qtbot):
    """A resnet's downsample rows differ in one inner part (``downsample.0``, a convolution,
    ``downsample.1``, a batch norm) and in the layer: the cut keeps those, not a part every
    row has."""
    from gradstep.ui.qt_leaf_panel import cut_name

    rows = [f"layer{k}.0.downsample.{i}.{leaf}.grad" for k in (2, 3, 4) for i in (0, 1)
            for leaf in ("weight", "bias") if (i, leaf) != (0, "bias")]
    metrics = QtGui.QFontMetricsF(QtWidgets.QApplication.font())
    room = int(metrics.horizontalAdvance("layer4.0.dow…1.weight.grad"))
    cuts = {row: cut_name(row, rows, "", metrics, room) for row in rows}
    assert len(set(cuts.values())) == len(rows), cuts
    for row, text in cuts.items():
        head, _, tail = text.partition("…")
        assert metrics.horizontalAdvance(text) <= room and tail, text
        assert row.startswith(head + ".") and row.endswith("." + tail), (row, text)
    assert cut_name("layer4.0.bn1.weight.grad", rows, "", metrics, room) == "layer4.0.bn1.weight.grad"
    shared = "transformer."  # narrower and narrower: no "……", whole parts kept
    gpt = [f"{shared}h.{k}.mlp.c_proj.{leaf}.grad" for k in (0, 1) for leaf in ("weight", "bias")]
    for room in range(int(metrics.horizontalAdvance("…0…grad")), int(metrics.horizontalAdvance(gpt[0]))):
        for row in gpt:
            text = cut_name(row, gpt, shared, metrics, room)
            assert "……" not in text and metrics.horizontalAdvance(text) <= room, (room, text)
            assert reads_as(row, text), (room, text)  # (…h.0…bias.grad, …h.0…bias…)


def test_cut_row_names_stay_told_apart_in_a_narrow_column(qtbot):
    """Down to 150 px, each row of a resnet's and a GPT-2's parameters reads as no other row
    does: where no cut with one gap in its middle tells a row apart (``layer1.0…weight.grad``
    was the bn1 and the bn2 rows' alike at 150 px, ``…h.0.attn…weight.grad`` c_attn's and
    c_proj's), up to two runs of parts go, or the end (``layer1.0.bn1.weight…``). Down to
    140 px no two rows read the same (a GPT-2's c_proj weight rows there, 140-143 px in the
    test's font, read ``…h.0.attn.c_proj…grad``, a cut the bias row's name could make too:
    no cut of whole parts that fits tells them apart). Every cut keeps whole parts of the
    name, in order. The names are torch's ``named_parameters``."""
    from torch import nn

    from gradstep.ui.qt_leaf_panel import cut_name, shared_path

    def block(*names):
        return nn.ModuleDict({n: nn.LayerNorm(1) if n.startswith(("bn", "ln")) else
                              nn.Linear(1, 1, bias=not n.startswith("conv")) for n in names})

    resnet = nn.ModuleDict({f"layer{k}": nn.ModuleList(
        block("conv1", "bn1", "conv2", "bn2") for _ in range(2)) for k in (1, 2, 3, 4)})
    gpt = nn.ModuleDict({"transformer": nn.ModuleDict({"h": nn.ModuleList(
        nn.ModuleDict({"ln_1": nn.LayerNorm(1), "attn": block("c_attn", "c_proj"),
                       "ln_2": nn.LayerNorm(1), "mlp": block("c_fc", "c_proj")})
        for _ in range(2)), "ln_f": nn.LayerNorm(1)})})
    metrics = QtGui.QFontMetricsF(QtWidgets.QApplication.font())
    for model in (resnet, gpt):
        rows = [f"{name}.grad" for name, _ in model.named_parameters()]
        shared = shared_path(rows)
        widest = int(max(metrics.horizontalAdvance(row) for row in rows))
        for room in range(140, widest + 2, 3):
            cuts = {row: cut_name(row, rows, shared, metrics, room) for row in rows}
            assert len(set(cuts.values())) == len(rows), (room, cuts)
            for row, text in cuts.items():
                assert metrics.horizontalAdvance(text) <= room, (room, text)
                assert reads_as(row, text), (room, row, text)  # its own name's parts
                if room >= 150:  # no other row's name could be cut to read so
                    assert not [o for o in rows if o != row and reads_as(o, text)], (room, text)


def reads_as(row: str, text: str) -> bool:
    """Return whether ``text`` reads as a cut of ``row``: its pieces between "…" are whole
    dotted parts of ``row``, in its order, each "…" one or more whole parts left out, the
    name's start (and end) kept where ``text`` does not start (end) with "…"."""
    pattern = "".join(r"(?:[^.]+\.)+" if piece == "…" else re.escape(piece) + r"\."
                      for piece in re.split("(…)", text) if piece)
    return re.fullmatch(r"\." + pattern, "." + row + ".") is not None


def drawn_text(panel, item, col) -> str:
    """Return the text the panel's delegate draws in ``item``'s cell ``col``, as cut; it
    fits the room the style draws a cell's text in, so Qt cuts nothing more (``-0.…``)."""
    from PySide6 import QtWidgets

    index = panel.indexFromItem(item, col)
    option = QtWidgets.QStyleOptionViewItem()
    option.initFrom(panel.viewport())
    option.rect = panel.visualRect(index)
    drawn = panel.itemDelegate().drawn_text(option, index)
    style = panel.style()
    room = style.subElementRect(QtWidgets.QStyle.SubElement.SE_ItemViewItemText, option, panel)
    margin = style.pixelMetric(QtWidgets.QStyle.PixelMetric.PM_FocusFrameHMargin, None, panel) + 1
    assert QtGui.QFontMetricsF(option.font).horizontalAdvance(drawn) <= room.width() - 2 * margin, drawn
    return drawn


def test_a_cut_text_ends_after_a_whole_number():
    from gradstep.ui.tensor_text import cut_to_fit

    text = "[-0.0828, 0.2274, -0.1447]"
    assert cut_to_fit(text, lambda t: len(t) <= 30) == text
    assert cut_to_fit(text, lambda t: len(t) <= 20) == "[-0.0828, 0.2274,…"  # not "-0.…"
    assert cut_to_fit(text, lambda t: len(t) <= 5) == "…"
    summary = "64×32×5×5: min -0.0495 max 0.0685 mean 2.9196e-11"
    assert cut_to_fit(summary, lambda t: len(t) <= 40) == "64×32×5×5: min -0.0495 max 0.0685 …"


def room_of(window) -> tuple[int, int]:
    return window.docks["values"].height(), window.docks["errors"].height()


def test_the_errors_tabs_take_little_room_until_an_error_comes(qtbot, make_window):
    window = make_window(Session)
    window.resize(1280, 800)
    errors, output, panel = window.docks["errors"], window.docks["output"], window.errors_panel
    qtbot.waitUntil(lambda: errors.isVisible() and errors.widget().height() > 0, timeout=5000)
    little = panel.empty_height() + (errors.height() - panel.height()) + 60  # and the frame's
    run(qtbot, window, OK)
    assert panel.empty and "No errors." in panel.toPlainText()
    qtbot.waitUntil(lambda: room_of(window)[1] <= little, timeout=5000)
    values, below = room_of(window)
    assert below <= little < values // 4, (values, below)
    assert panel.viewport().height() >= panel.fontMetrics().lineSpacing()  # its line whole
    run(qtbot, window, FAILS)  # an error: room for torch's message, the why and the fix
    assert not panel.empty
    qtbot.waitUntil(lambda: room_of(window)[1] >= 240, timeout=5000)
    run(qtbot, window, OK)  # gone again: little again
    qtbot.waitUntil(lambda: room_of(window)[1] <= little, timeout=5000)
    output.raise_()  # the printed lines get room
    qtbot.waitUntil(lambda: output.height() >= OUTPUT_ROOM - 20, timeout=5000)
    errors.raise_()
    qtbot.waitUntil(lambda: room_of(window)[1] <= little, timeout=5000)
    assert not errors.visibleRegion().isEmpty()
    assert QtCore.Qt.DockWidgetArea.RightDockWidgetArea == window.dockWidgetArea(errors)
    # the user drags the tabs taller: a tab raised, or the window shown again, keeps them so
    column = sum(room_of(window))
    window.resizeDocks([window.docks["values"], errors], [column - 250, 250],
                       QtCore.Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: errors.height() > 200, timeout=5000)
    dragged = errors.height()
    output.raise_()
    qtbot.waitUntil(lambda: not output.visibleRegion().isEmpty(), timeout=5000)
    errors.raise_()
    qtbot.waitUntil(lambda: not errors.visibleRegion().isEmpty(), timeout=5000)
    window.fit_error_room()  # what the tabs' and the window's signals call (a timer later)
    for _ in range(3):  # the timers and the layout that a fit would have posted
        QtCore.QCoreApplication.sendPostedEvents()
        QtCore.QCoreApplication.processEvents()
    assert errors.height() == dragged
    run(qtbot, window, FAILS)  # an error, then none: little again
    run(qtbot, window, OK)
    qtbot.waitUntil(lambda: room_of(window)[1] <= little, timeout=5000)


def laid_out_lines(label, text: str) -> list[str]:
    """Return the lines ``text`` (one paragraph) wraps into at ``label``'s width, as Qt lays
    them out."""
    from PySide6 import QtGui

    layout = QtGui.QTextLayout(text, label.font())
    option = QtGui.QTextOption()
    option.setWrapMode(QtGui.QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    layout.beginLayout()
    lines = []
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(label.contentsRect().width())
        lines.append(text[line.textStart():line.textStart() + line.textLength()])
    layout.endLayout()
    return lines


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_statistics_wrap_between_items_only(qtbot, make_window, language):
    """``std 0.2118`` was broken after ``std`` (the walk's inplace shot at 1280 x 800), and
    ``标准差`` after ``标准``; what is copied from the line is its words, no invisible joiner."""
    from gradstep.ui.tensor_text import stats

    window = at_mul_after_an_error(qtbot, make_window, language)
    label = window.values_panel.forward._stats
    shown = window.model.node(window.values_panel.node_id)["value"]  # the forward value shown
    assert label.items == stats(shown).split("\n") and len(label.items) == 5
    assert label.items[-1] in ("std 0.2118", "标准差 0.2118")  # torch's, below
    assert f"{torch.tensor([1.0, 2.0]).sigmoid().mul(2).std():.4f}" == "0.2118"
    assert len(label.text().split("\n")) == 2  # as the panel is: both lines in its height
    for width in (label.width(), 260, 180):  # as the panel is, then narrower
        label.resize(width, label.height())
        lines = label.text().split("\n")
        assert len(lines) > 1  # it wraps here
        assert "   ".join(lines).split("   ") == label.items  # between items only
        for line in lines:
            assert laid_out_lines(label, line) == [line], (width, line)  # Qt wraps no more
    window.docks["leaves"].raise_()  # the Values tab behind another: a step's statistics...
    settle(qtbot, window)
    window.step_bar.act_forward.trigger()
    settle(qtbot, window)
    window.docks["values"].raise_()  # ...wrapped when it is raised again
    settle(qtbot, window)
    shown = window.model.node(window.values_panel.node_id)["value"]
    assert label.items == stats(shown).split("\n") and "\n" in label.text()
    for line in label.text().split("\n"):
        assert laid_out_lines(label, line) == [line], line
    # what a copy of the selected line gives (Qt writes a line break as \\n): its words
    assert not set(label.text()) & {"\u00a0", "\u2060"}


@pytest.mark.parametrize("tensor", [
    torch.tensor([1.5e-05, -2.5e-07, 3.0]), torch.tensor([-1.0, float("nan"), float("inf"), -float("inf")]),
    torch.tensor([1 + 2j, -3.5 - 1e-6j]), torch.arange(-5, 20), torch.tensor([[1e8, -2.0], [3.0, 4.0]]),
    torch.tensor([[[1, 2], [3, 4]]]), torch.linspace(-3, 4, 5000).reshape(100, 50),
    torch.full((1000,), float("nan")), torch.linspace(-1, 2, 200) * (1 + 1j),
    torch.tensor([True, False])], ids=lambda t: f"{t.dtype}{tuple(t.shape)}")
def test_a_cut_cell_shows_only_whole_numbers_of_torchs(tensor):
    """At every width, what ``cut_to_fit`` leaves of a cell's text (torch's words, or a
    summary's) holds the text's first numbers, each whole: ``1.5000e-05`` is never ``1.5``,
    ``-inf`` never ``-``, ``1.0000+2.0000e+00j`` never ``1.0000``."""
    import re

    from gradstep.autograd.values import tensor_value
    from gradstep.ui.tensor_text import cut_to_fit

    real = r"[-+]?(?:\d+\.?\d*(?:e[+-]?\d+)?|nan|inf)"
    number = re.compile(f"{real}(?:[-+](?:\\d+\\.?\\d*(?:e[+-]?\\d+)?|nan|inf)j)?")
    text = short(tensor_value(tensor), 40, str(tensor.dtype).removeprefix("torch."))
    numbers = number.findall(text)
    assert numbers or tensor.dtype == torch.bool
    for room in range(len(text) + 1):
        shown = cut_to_fit(text, lambda t, room=room: len(t) <= room)
        assert len(shown) <= room and (shown == text or shown.endswith("…") or shown == "")
        kept = shown.rstrip("…").rstrip()
        assert text.startswith(kept)
        assert number.findall(kept) == numbers[:len(number.findall(kept))], (text, shown)


def test_a_line_taller_than_the_formula_box_is_painted_not_left_out(qtbot):
    """Only a line under a whole one is left out at the box's foot: a first line taller
    than the box (a large formula) is painted, cut, rather than an empty box."""
    view = QtFormulaView()
    qtbot.addWidget(view)
    view.show()
    view.setHtml("<p style='font-size:60pt'>∂L/∂x = 2x</p><p>g = 1.0</p>")
    view.setFixedHeight(50)
    first_top, first_end = view._line_spans()[0]
    assert first_top < view.viewport().height() < first_end  # taller than the box
    image = view.viewport().grab().toImage()
    base = view.palette().color(QtGui.QPalette.ColorRole.Base).rgb()
    assert any(image.pixel(x, y) != base for y in range(image.height())
               for x in range(image.width()))


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 800)])
def test_an_error_gets_the_height_of_its_text(qtbot, make_window, size):
    """An error's tab is as high as its text at the tab's width, no more (at 1920 x 1080 it
    kept ~100 px blank under it), and no less where the column has the room (``ERROR_SHARE``
    of it): its last line shows whole, unscrolled; the Values panel keeps the rest. Also
    when the error comes back after a run without one (the tabs little then), and in
    Chinese (another text, another height)."""
    from gradstep.ui.qt_language import apply_language

    window = make_window(Session)
    window.resize(*size)
    settle(qtbot, window)
    run(qtbot, window, FAILS)
    assert_error_fits(qtbot, window, size)
    run(qtbot, window, OK)  # no error: the tabs little
    qtbot.waitUntil(lambda: window.docks["errors"].height() < 150, timeout=5000)
    run(qtbot, window, FAILS)
    assert_error_fits(qtbot, window, size)
    apply_language("zh_CN")
    try:
        settle(qtbot, window)
        assert "怎么改" in window.errors_panel.toPlainText()
        assert_error_fits(qtbot, window, size)
    finally:
        apply_language("en")
        settle(qtbot, window)


def assert_error_fits(qtbot, window, size) -> None:
    from gradstep.ui.qt_main_window import ERROR_ROOM, ERROR_SHARE

    settle(qtbot, window)
    errors, panel = window.docks["errors"], window.errors_panel
    assert not panel.empty and "RuntimeError" in panel.toPlainText()
    qtbot.wait(50)  # (the fit is a zero-delay timer after the text is laid out)
    settle(qtbot, window)
    text = math.ceil(panel.document().size().height())
    blank = panel.viewport().height() - text
    column = sum(room_of(window))
    if panel.verticalScrollBar().maximum() == 0:  # the whole text shown: no blank under it
        # but what the text is taller beside a scroll bar (Qt drops the bar only then)
        narrow = panel.text_height() - 2 * panel.frameWidth()
        assert 0 <= blank <= narrow - text + 2, (blank, text, narrow)
        assert blank < 2 * panel.fontMetrics().lineSpacing()
    else:  # longer than the room it may take: that room, and the rest scrolls
        assert errors.height() >= min(ERROR_ROOM, int(ERROR_SHARE * column)) - 2
    assert errors.height() <= max(ERROR_ROOM, int(ERROR_SHARE * column)) + 2
    if size == (1920, 1080):
        assert panel.verticalScrollBar().maximum() == 0  # room for all of it there


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_long_message_under_a_plot_shows_all_its_lines(qtbot, language):
    """The statistics' row was two lines high whatever it held: a message longer than two
    lines at the panel's width (the forward value's "Not captured: ..." in a narrow column,
    large letters, after a tensor too big to draw) was cut. It is as high as the lines Qt lays the text in (two at least),
    and two again for the next value's statistics."""
    from gradstep.i18n import render  # noqa: F401  (the language's texts)
    from gradstep.ui.qt_language import apply_language
    from gradstep.ui.qt_tensor_plot import STATS_LINES, QtTensorPlot
    from gradstep.ui.words import tr

    apply_language(language)
    try:
        plot = QtTensorPlot("")
        qtbot.addWidget(plot)
        plot.resize(220, 400)
        plot.show()
        # no plot drawn before (or a tensor too big to draw): no room kept above, the
        # message goes where the statistics go
        text = tr("Not captured: gradstep shows only values it knows are torch's own "
                  "(Run › Deep values records more).")
        plot.set_value(None, text=text)
        QtCore.QCoreApplication.processEvents()
        label = plot._stats
        assert label.text() == text
        metrics = label.fontMetrics()
        need = metrics.boundingRect(0, 0, label.contentsRect().width(), 10000,
                                    QtCore.Qt.TextFlag.TextWordWrap, text).height()
        assert need > STATS_LINES * metrics.lineSpacing()  # more than two lines here
        assert label.contentsRect().height() >= need  # all of them shown
        free = QtWidgets.QLabel(text)  # the same text as Qt lays out a label of no fixed height
        free.setFont(label.font())
        free.setWordWrap(True)
        assert label.height() >= free.heightForWidth(label.width())
        plot.set_value([1.0, 2.0, 3.0])
        QtCore.QCoreApplication.processEvents()
        assert label.height() == STATS_LINES * metrics.lineSpacing() + 4  # back to two
    finally:
        apply_language("en")


def test_the_formula_box_is_as_high_as_its_text_where_there_is_room(qtbot, make_window):
    """The box kept 14 lines' height whatever it showed (a short formula over ~9 blank
    lines at 1920 x 1080, the plots pushed below the panel's foot). It is as high as the
    tallest text shown since the graph came (so stepping back and forth moves nothing
    under it), within the room the panel gives it (``lines``), and a new graph starts low."""
    window = make_window(Session)
    window.resize(1920, 1080)
    settle(qtbot, window)
    run(qtbot, window, OK)
    window.docks["values"].raise_()
    formula = window.values_panel.formula
    frame = 2 * formula.frameWidth()
    heights = {}
    for name in ("SumBackward0", "SigmoidBackward0", "MulBackward0"):
        step_to(window, name)
        settle(qtbot, window)
        assert name in formula.toPlainText()
        text = math.ceil(formula.document().size().height())
        assert formula.verticalScrollBar().maximum() == 0, name  # all of it shown
        assert formula.height() <= formula.height_of(formula.lines)  # within its room
        heights[name] = formula.height()
        assert formula.height() - frame - text >= 0
        if heights[name] > min(heights.values()):  # grew for this text: no blank under it
            assert formula.height() - frame - text < 2 * formula.fontMetrics().lineSpacing()
    assert heights["SumBackward0"] < formula.height_of(formula.lines)  # less than its whole room: no blank
    assert list(heights.values()) == sorted(heights.values())  # it grows, never shrinks
    step_to(window, "SumBackward0")  # back: the plots under it stay put
    settle(qtbot, window)
    assert formula.height() == heights["MulBackward0"]
    run(qtbot, window, OK)  # a new graph: as low as its first text needs
    step_to(window, "SumBackward0")
    settle(qtbot, window)
    text = math.ceil(formula.document().size().height())
    assert formula.verticalScrollBar().maximum() == 0
    assert 0 <= formula.height() - frame - text < 2 * formula.fontMetrics().lineSpacing()
    assert formula.height() < heights["MulBackward0"]


def test_stepping_never_lowers_the_formula_box_below_its_room(qtbot, make_window):
    """At 1280 x 800 the Values panel scrolls and its scroll bar comes and goes within a step
    (the formula box's width changes by its 14 px): the box forgot the tallest formula there,
    fell to 4 lines under the step's short message and rose again, and stayed lower after a
    shorter formula; the plots under it jumped at each step. Between two runs it is lowered
    only where the panel's room for it is (``lines``: a Forward value of another kind)."""
    from gradstep.shipped import resource

    window = make_window(Session)
    window.resize(1280, 800)
    settle(qtbot, window)
    run(qtbot, window, resource("examples/losses_reduction.py").read_text(encoding="utf-8"))
    window.docks["values"].raise_()
    window.model.reset_steps()
    settle(qtbot, window)
    formula = window.values_panel.formula
    lowered = []

    class Watch(QtCore.QObject):
        def eventFilter(self, watched, event):  # noqa: N802 (Qt override)
            if event.type() == QtCore.QEvent.Type.Resize:
                old, new = event.oldSize().height(), event.size().height()
                if new < old and new < formula.height_of(formula.lines):
                    lowered.append((window.model.current_step()["name"], old, new))
            return False

    watch = Watch()
    formula.installEventFilter(watch)
    steps = 0
    while not window.model.at_end():
        window.step_bar.act_forward.trigger()
        settle(qtbot, window)
        steps += 1
    window.model.reset_steps()  # and back to the first
    settle(qtbot, window)
    formula.removeEventFilter(watch)
    assert steps >= 3
    assert formula.verticalScrollBar().maximum() == 0 or formula.height() == formula.height_of(
        formula.lines)  # the text shown whole, or the box as high as its room
    assert lowered == []


def test_the_formula_box_after_a_zoom_is_as_high_as_its_text(qtbot, make_window):
    """The tallest text's height was kept in pixels of the letters it was measured in: back
    from View › Zoom 150% the box kept the zoomed text's height, blank under the text."""
    window = make_window(Session)
    window.resize(1920, 1080)
    settle(qtbot, window)
    run(qtbot, window, OK)
    window.docks["values"].raise_()
    step_to(window, "SumBackward0")
    settle(qtbot, window)
    formula = window.values_panel.formula
    before = formula.height()
    assert before < formula.height_of(formula.lines)  # below its room: as high as its text
    try:
        window.font_zoom.set_factor(1.5)
        settle(qtbot, window)
        assert formula.height() > before
    finally:
        window.font_zoom.set_factor(1.0)
    settle(qtbot, window)
    text = math.ceil(formula.document().size().height())
    assert formula.verticalScrollBar().maximum() == 0
    assert 0 <= formula.height() - 2 * formula.frameWidth() - text < 2 * formula.fontMetrics().lineSpacing()
    assert formula.height() == before


def test_the_output_tab_is_as_high_as_its_lines_and_the_errors_tab_refits(qtbot, make_window):
    """The Output tab raised after an error is as high as its printed lines (``OUTPUT_ROOM``
    at least), not the Errors tab's height (up to 40% of the column at 1920 x 1080, for one
    printed line); the Errors tab raised again is as high as its text again; a window
    resized fits the Errors tab to its text at the new width (it kept the old height: the
    text cut, or blank under it), and a height the user dragged the tabs to stays."""
    window = make_window(Session)
    window.resize(1920, 1080)
    settle(qtbot, window)
    errors, output = window.docks["errors"], window.docks["output"]
    run(qtbot, window, "print('one line')\n" + FAILS)
    assert_error_fits(qtbot, window, (1920, 1080))
    assert errors.height() > OUTPUT_ROOM + 20  # (else the test shows nothing)
    output.raise_()
    panel = window.output_panel  # one printed line (and torch's print): OUTPUT_ROOM high
    qtbot.waitUntil(lambda: abs(output.height() - OUTPUT_ROOM) <= 2, timeout=5000)
    assert panel.toPlainText().startswith("one line")
    assert panel.document().size().height() * panel.fontMetrics().lineSpacing() < OUTPUT_ROOM
    assert panel.verticalScrollBar().maximum() == 0  # its lines whole
    errors.raise_()
    assert_error_fits(qtbot, window, (1920, 1080))
    for size in ((1280, 800), (1920, 1080)):  # resized: the text's height at the new width
        window.resize(*size)
        qtbot.wait(100)
        assert_error_fits(qtbot, window, size)
    column = sum(room_of(window))  # the user drags the tabs: a resize keeps their height
    window.resizeDocks([window.docks["values"], errors], [column - 200, 200],
                       QtCore.Qt.Orientation.Vertical)
    settle(qtbot, window)
    dragged = errors.height()
    window.resize(1900, 1080)
    qtbot.wait(100)
    settle(qtbot, window)
    assert errors.height() == dragged


def test_a_toolbar_that_comes_is_not_taken_for_a_drag(qtbot, make_window):
    """A toolbar that comes (the diagnosis's banner) makes the column lower in a window of
    the same size: the Errors tab fitted again on the next resize, not kept as dragged
    (review: marked dragged, the tab kept 169 px at 1280 x 800 where its text took 238)."""
    window = make_window(Session)
    window.resize(1920, 1080)
    settle(qtbot, window)
    run(qtbot, window, FAILS)
    assert_error_fits(qtbot, window, (1920, 1080))
    before = sum(room_of(window))
    bar = QtWidgets.QToolBar("banner")
    bar.setObjectName("review_banner")
    bar.addWidget(QtWidgets.QLabel("a banner line"))
    window.addToolBarBreak()
    window.addToolBar(bar)
    qtbot.waitUntil(lambda: sum(room_of(window)) < before, timeout=5000)
    settle(qtbot, window)
    window.resize(1280, 800)
    qtbot.wait(100)
    assert_error_fits(qtbot, window, (1280, 800))
