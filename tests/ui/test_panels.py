"""Panels and helpers that need no session: plots, output bounds, summaries, leaf history."""

from __future__ import annotations

import math

import pytest
import torch

from gradstep.ui.qt_output_panel import MAX_CHARS, QtOutputPanel, bounded
from gradstep.ui.qt_session_model import QtSessionModel
from gradstep.ui.qt_tensor_plot import QtTensorPlot, plot_kind
from gradstep.ui.tensor_text import edge_label, flatten, shape_of, short, stats
from tests.step_oracle import printed


@pytest.mark.parametrize("tensor, kind", [
    (torch.tensor(2.5), "scalar"),
    (torch.arange(5.0), "bars"),
    (torch.arange(6.0).reshape(2, 3), "heatmap"),
    (torch.arange(24.0).reshape(2, 3, 4), "histogram"),
])
def test_each_shape_gets_its_plot(qtbot, tensor, kind):
    plot = QtTensorPlot("value")
    qtbot.addWidget(plot)
    plot.set_value({"shape": list(tensor.shape), "data": tensor.tolist()})
    assert plot.kind == kind
    assert plot.values.tolist() == tensor.flatten().tolist()


def test_large_tensor_shows_statistics_only(qtbot):
    t = torch.linspace(-1, 3, 1000)
    value = {"shape": [1000], "min": t.min().item(), "max": t.max().item(),
             "mean": t.mean().item(), "std": t.std().item()}
    plot = QtTensorPlot("value")
    qtbot.addWidget(plot)
    plot.set_value(value)
    assert plot_kind(value) == "stats" and plot.kind == "stats"
    assert "max 3" in plot._stats.text() and "min -1" in plot._stats.text()


@pytest.mark.parametrize("before", [torch.arange(5.0), torch.tensor(2.5)], ids=["plot", "number"])
def test_statistics_alone_leave_no_blank_room_above_them(qtbot, before):
    """A plot (or a big number) followed by a tensor too big to draw (cifar's MaxPool step):
    its statistics come right under the title, not under the plot's blank height (170 px
    at 1920x1080); a message (no value) keeps the height, so steps alternating with a plot
    lay nothing out again, but is written at its top, right under the title too."""
    plot = QtTensorPlot("value")
    qtbot.addWidget(plot)
    plot.show()

    def laid_out() -> None:  # as its panel lays it out: as high as it asks (a stretch under)
        def fits() -> bool:  # (a window's least height follows its layout a moment later)
            plot.resize(400, plot.sizeHint().height())
            return plot.height() == plot.sizeHint().height() and (
                plot._stack.height() == plot.slot_height())

        qtbot.waitUntil(fits)

    plot.set_value({"shape": list(before.shape), "data": before.tolist()})
    laid_out()
    drawn = plot.slot_height()
    assert drawn > 0
    tall = plot.sizeHint().height()
    message = "No gradient has reached this node in this pass."
    plot.set_message(message)
    assert plot.slot_height() == drawn  # kept: the next step's plot moves nothing
    laid_out()
    spacing = plot.layout().spacing()
    below_title = plot._title.geometry().bottom() + spacing + 1
    assert plot._note.text() == message and not plot._stats.text()  # in the room kept, at
    assert plot._stack.geometry().top() <= below_title  # its top, under the title
    assert plot._note.heightForWidth(plot._note.width()) <= plot._note.height()  # whole
    long = " ".join([message] * 4)  # more lines than a number's room holds: under it
    plot.set_message(long)
    if drawn < plot._stats.maximumHeight():
        assert plot._stats.text() == long and not plot._note.text()
    else:
        assert plot._note.text() == long
    plot.set_message(message)
    t = torch.linspace(-1, 3, 1000)
    plot.set_value({"shape": [1000], "min": -1.0, "max": 3.0, "mean": t.mean().item(),
                    "std": t.std().item()})
    assert plot.kind == "stats" and plot.slot_height() == 0
    assert plot.sizeHint().height() == tall - drawn
    laid_out()
    assert plot._stats.geometry().top() <= below_title + spacing  # (the empty slot's spacing)
    plot.set_message(message)  # after statistics alone: where they were, no room above
    assert plot.slot_height() == 0 and plot._stats.text() == message
    plot.set_value({"shape": list(before.shape), "data": before.tolist()})
    assert plot.slot_height() == drawn  # the plot (or the number) gets its height back


def test_non_finite_values_are_read_from_their_json_spelling():
    assert math.isnan(flatten(["NaN"])[0])
    assert flatten([["Infinity", "-Infinity"]]) == [math.inf, -math.inf]


def test_summaries_follow_tolist():
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert shape_of(t.tolist()) == [2, 2]
    # its rows, whole numbers with a point, as print(t) writes them
    assert short(t.tolist()) == printed(t) == "[[1., 2.], [3., 4.]]"
    assert edge_label(torch.tensor([2.0]).tolist()) == "[2.]"
    assert short(list(range(10))) == "[0, 1, 2, 3, 4, 5, 6, 7, …]"  # ints print as they are
    assert edge_label(torch.zeros(10).tolist()) == ""  # too big to write on an edge


def test_a_leafs_grad_text_is_torchs_print_of_it():
    """The Values panel's and a leaf's hover ``.grad`` text: the numbers torch's print wrote
    (the Output panel's), also where torch picks scientific notation, under the snippet's
    ``set_printoptions``; cut short only at whole numbers."""
    from gradstep.policies.number_text import options_of, printed_with

    grad = torch.tensor([1.0480, -0.29775, 2.79e-05])
    for options in ({}, {"precision": 2}, {"precision": 6, "sci_mode": False}):
        torch.set_printoptions(**options)
        try:
            expected = printed(grad)
            shown = {"precision": torch._tensor_str.PRINT_OPTS.precision,
                     "sci_mode": torch._tensor_str.PRINT_OPTS.sci_mode}
        finally:
            torch.set_printoptions(profile="default", sci_mode=None)
        with printed_with(options_of(shown)):
            assert short(grad.tolist()) == expected, options
            cut = short(grad.tolist(), 24)
        assert cut.endswith(", …]") and expected.startswith(cut[:-2]), (cut, expected)
    assert printed(grad) == "[1.0480e+00, -2.9775e-01, 2.7900e-05]"  # not [1.048, -0.2978, …]


def test_one_elements_statistics_show_no_std():
    """torch's x.std() of one element is nan (with a warning): the panel shows no std there,
    not the summary's 0; two elements show torch's std."""
    one = torch.tensor([2.0])
    value = {"shape": [1], "dtype": "float32", "min": 2.0, "max": 2.0, "mean": 2.0,
             "std": 0.0, "data": one.tolist()}
    assert "std" not in stats(value) and "mean 2" in stats(value)
    two = torch.tensor([1.0, 3.0])
    value = {"shape": [2], "min": 1.0, "max": 3.0, "mean": 2.0, "std": two.std().item(),
             "data": two.tolist()}
    assert f"std {printed(two.std())}" in stats(value)  # tensor(1.4142), as torch prints it


def test_output_is_bounded(qtbot):
    model = QtSessionModel()
    panel = QtOutputPanel(model)
    qtbot.addWidget(panel)
    flood = "spam\n" * 200_000
    model.set_run_result({"ok": False, "error": None, "output": flood})
    shown = panel.toPlainText()
    assert len(shown) < MAX_CHARS + 200
    assert shown.startswith("spam") and shown.rstrip().endswith("spam")
    assert "characters of output dropped" in shown
    assert bounded("short") == "short"


def test_output_cut_note_is_in_the_windows_language(qtbot):
    """The Output panel's note where it cut a flood was English in a Chinese window."""
    from gradstep.i18n import using

    with using("zh_CN"):
        shown = bounded("spam\n" * 200_000)
    assert "个字符的输出（输出有上限" in shown and "of output dropped" not in shown


def test_leaf_history_lines_passes_up():
    from gradstep.ui.qt_session_model import PassRecord

    model = QtSessionModel()
    model.passes = [PassRecord({"leaf_grads": {"w": [2.0]}}, "gradstep", "1"),
                    PassRecord({"leaf_grads": {"w": [4.0], "b": [1.0]}}, "gradstep", "2")]
    assert model.leaf_history() == {"w": [[2.0], [4.0]], "b": [None, [1.0]]}


def test_plot_reused_across_values_draws_each_new_one(qtbot):
    """One plot shown a sequence of tensors (as stepping does) draws each one's numbers,
    whatever kind came before: its items are updated in place, not re-created."""
    plot = QtTensorPlot("value")
    qtbot.addWidget(plot)
    torch.manual_seed(0)
    seq = [torch.randn(4), torch.randn(4), torch.randn(7), torch.randn(2, 3), torch.tensor(1.5),
           torch.randn(3, 3), torch.randn(4), torch.randn(4)]
    for t in seq:
        plot.set_value({"shape": list(t.shape), "data": t.tolist()})
        assert plot.values.tolist() == pytest.approx(t.flatten().tolist())
        if t.dim() == 0:
            assert plot.drawn().tolist() == pytest.approx([t.item()], rel=1e-3)
        else:
            assert plot.drawn().tolist() == pytest.approx(t.flatten().tolist())
    same = seq[-1]
    plot.set_value({"shape": [4], "data": same.tolist()})  # unchanged: still drawn right
    assert plot.drawn().tolist() == pytest.approx(same.tolist())
    plot.set_value(None)
    assert plot.kind == "none" and plot.drawn().size == 0


def test_the_big_number_is_written_as_torch_prints_it_and_the_box_writes_it(qtbot):
    """It showed 6 significant digits (4.13755) beside the box's and print's 4.1375."""
    from gradstep.drawing.style import format_small_value

    plot = QtTensorPlot("value")
    qtbot.addWidget(plot)
    for t in (torch.tensor(4.13755), torch.tensor([4.13755]), torch.tensor(2.0),
              torch.tensor(float("nan")), torch.tensor(0.001), torch.tensor(3), torch.tensor([-7])):
        value = {"shape": list(t.shape), "data": t.tolist()}
        plot.set_value(value)
        number = printed(t).strip("[]")  # 2. and 3 alike
        assert plot._number.text() == number, t
        assert format_small_value(value).strip("= []") == number


def test_histogram_counts_match_numpy(qtbot):
    import numpy as np

    t = torch.randn(2, 3, 5)
    plot = QtTensorPlot("value")
    qtbot.addWidget(plot)
    plot.set_value({"shape": [2, 3, 5], "data": t.tolist()})
    counts, _ = np.histogram(t.flatten().numpy().astype(float), bins=15)
    assert plot.drawn().tolist() == counts.tolist()


@pytest.mark.parametrize("lo, hi", [(0.0, 0.9), (-0.3, 0.02), (0.0, 1e-7), (-5.0, 5.0),
                                    (-3e38, 3e38), (2.0, 2.0)])
def test_bar_range_holds_the_values_with_round_ends(lo, hi):
    from gradstep.ui.qt_tensor_plot import nice_range

    a, b = nice_range(lo, hi)
    assert a <= lo and hi <= b and a < b
    assert (b - a) <= max(4 * (hi - lo), 2.0)  # not so wide the bars flatten


def test_a_plot_out_of_view_is_drawn_when_it_comes_into_view(qtbot):
    """The Values panel's lower plots, scrolled out of view, take a step's value (it is
    known at once, and the panel is laid out for it) but draw the plot only when the panel
    is scrolled to them: the same picture as a plot that drew it at once. A plot partly in
    view draws at once."""
    from PySide6 import QtGui, QtWidgets

    from gradstep.ui.qt_values_panel import QtValuesPanel

    panels = [QtValuesPanel(QtSessionModel()) for _ in range(2)]
    panel, drawn_at_once = panels
    drawn_at_once.sent.seen = lambda: True
    for p in panels:
        qtbot.addWidget(p)
        p.resize(420, 260)
        p.show()
        qtbot.waitExposed(p)
    plot, value = panel.sent, {"shape": [3], "data": [0.5, -1.0, 2.0]}
    assert not plot.seen()
    for p in panels:
        p.sent.set_value(value)
    assert plot.kind == "bars" and plot.values.tolist() == [0.5, -1.0, 2.0]
    assert len(plot._bars.opts["height"]) == 0  # not drawn while out of view
    QtWidgets.QApplication.processEvents()
    assert panel.verticalScrollBar().maximum() == drawn_at_once.verticalScrollBar().maximum()
    assert plot.geometry() == drawn_at_once.sent.geometry()  # laid out as if drawn
    assert plot._stats.text() == drawn_at_once.sent._stats.text()
    panel.ensureWidgetVisible(plot)  # the panel scrolled: the body moves
    assert plot.seen()
    assert plot._bars.opts["height"].tolist() == [0.5, -1.0, 2.0]  # drawn, before any grab
    reference = QtTensorPlot("")
    qtbot.addWidget(reference)
    reference.set_title("Gradient sent (grad_input)")
    reference.show()
    reference.set_value(value)
    QtWidgets.QApplication.processEvents()  # both laid out for their new kind of plot
    reference.resize(plot.size())
    QtWidgets.QApplication.processEvents()
    rgb = QtGui.QImage.Format.Format_RGB32
    assert plot.grab().toImage().convertToFormat(rgb) == reference.grab().toImage().convertToFormat(rgb)

    bar = panel.verticalScrollBar()  # only the top 10 pixels of the plot in view: drawn
    bar.setValue(plot.y() - panel.viewport().height() + 10)
    assert plot.seen()
    plot.set_value({"shape": [3], "data": [1.0, 2.0, 3.0]})
    assert plot._bars.opts["height"].tolist() == [1.0, 2.0, 3.0]


def test_a_hidden_plot_is_drawn_when_shown(qtbot):
    plot = QtTensorPlot("value")
    qtbot.addWidget(plot)
    plot.set_value({"shape": [2], "data": [1.0, 2.0]})
    assert len(plot._bars.opts["height"]) == 0  # hidden: nothing drawn yet
    plot.show()
    assert plot._bars.opts["height"].tolist() == [1.0, 2.0]
    assert plot.drawn().tolist() == [1.0, 2.0]


def test_axis_label_is_laid_out_again_only_when_its_text_changes(qtbot, monkeypatch):
    """A new value's range leaves the axes' labels as they are unless their text changes
    (pyqtgraph set the same rich text again on every change of range), and the plot is
    drawn the same as with pyqtgraph's own axes, value after value."""
    import pyqtgraph as pg
    from PySide6 import QtGui, QtWidgets

    from gradstep.ui import qt_tensor_plot

    plot = QtTensorPlot("value")
    monkeypatch.setattr(qt_tensor_plot, "_AxisItem", pg.AxisItem)
    reference = QtTensorPlot("value")  # pyqtgraph's own axes
    for p in (plot, reference):
        qtbot.addWidget(p)
        p.resize(380, 230)
        p.show()
    axis = plot._plot.getPlotItem().getAxis("left")
    calls = []
    real = axis.label.setHtml
    axis.label.setHtml = lambda html: (calls.append(html), real(html))
    rgb = QtGui.QImage.Format.Format_RGB32
    for data in ([0.5, -1.0, 2.0], [10.0, 20.0, 30.0], [-3e-4, 1e-4, 2e-4], [1e6, 2e6, 5e6],
                 [[1.0, 2.0], [3.0, 4.0]], [0.1, 0.2, 0.3]):
        value = {"shape": [len(data), len(data[0])] if isinstance(data[0], list) else [len(data)],
                 "data": data}
        for p in (plot, reference):
            p.set_value(value)
        for _ in range(3):  # pyqtgraph sizes an axis for its tick texts once it painted them
            plot.grab(), reference.grab()
            QtWidgets.QApplication.processEvents()
        assert plot.grab().toImage().convertToFormat(rgb) == \
            reference.grab().toImage().convertToFormat(rgb)
    assert len(calls) < 6  # set when the label's text changed (a heatmap's axis names), not each time


def test_axis_pictures_made_once_per_look_draw_what_pyqtgraph_draws(qtbot, monkeypatch):
    """Values whose ranges alternate (the wide DAG's Forward value, step after step) draw
    each axis picture once per look and replay it after, frame for frame what pyqtgraph's
    own axes draw (their first frame after a new range included); a new pen or new ticks
    are drawn at once, not a kept picture (docs/speed.md item 40)."""
    import pyqtgraph as pg
    from PySide6 import QtGui, QtWidgets

    from gradstep.ui import qt_tensor_plot

    ours = qt_tensor_plot._AxisItem
    plot = QtTensorPlot("value")
    monkeypatch.setattr(qt_tensor_plot, "_AxisItem", pg.AxisItem)
    reference = QtTensorPlot("value")  # pyqtgraph's own axes
    made = {"ours": 0, "pyqtgraph's": 0}
    real = pg.AxisItem.generateDrawSpecs

    def counted(axis, painter):
        made["ours" if isinstance(axis, ours) else "pyqtgraph's"] += 1
        return real(axis, painter)

    monkeypatch.setattr(pg.AxisItem, "generateDrawSpecs", counted)
    for p in (plot, reference):
        qtbot.addWidget(p)
        p.resize(380, 230)
        p.show()
    rgb = QtGui.QImage.Format.Format_RGB32
    values = [[0.5, -1.0, 2.0, 0.1], [0.2, 0.9, -0.4, 0.3], [1e3, 2e3, -5e2, 0.0]] * 6
    for k, data in enumerate(values):
        if k == 9:  # a new pen and new ticks: drawn, not replayed
            for p in (plot, reference):
                p._plot.getPlotItem().getAxis("left").setPen(pg.mkPen("#c03030"))
                p._plot.getPlotItem().getAxis("bottom").setTicks([[(1.0, "one")], []])
        for p in (plot, reference):
            p.set_value({"shape": [len(data)], "data": data})
        assert plot.grab().toImage().convertToFormat(rgb) == \
            reference.grab().toImage().convertToFormat(rgb), k
        QtWidgets.QApplication.processEvents()
    assert made["ours"] < made["pyqtgraph's"] / 2


def test_heatmap_cells_read_as_torch_prints_the_tensor(qtbot):
    """A small heatmap writes its numbers as torch prints them: a float tensor's whole
    numbers with a point, an int tensor's whole (not 1e+08), four decimals beside
    fractions; the same numbers as another dtype are written again, not kept."""
    plot = QtTensorPlot("value")
    qtbot.addWidget(plot)
    for t, words in ((torch.tensor([[4.0, 6.0], [0.0, -0.0]]), ["4.", "6.", "0.", "-0."]),
                     (torch.tensor([[4, 6], [0, 0]]), ["4", "6", "0", "0"]),
                     (torch.tensor([[100000002, 1]]), ["100000002", "1"]),
                     (torch.tensor([[0.5, 2.0]]), ["0.5000", "2.0000"])):
        plot.set_value({"shape": list(t.shape), "data": t.tolist()})
        plot.draw_pending()
        assert [c.textItem.toPlainText() for c in plot._cells[:t.numel()]] == words, t
        assert ", ".join(words) == printed(t).replace("[", "").replace("]", ""), t  # torch's


def test_saved_numbers_read_as_python_writes_them():
    """A saved number reads as Python writes it: ``x.pow(float("inf"))`` saves exponent
    inf (strict JSON's "Infinity"), not the quoted 'Infinity'; a saved string stays quoted."""
    from gradstep.ui.qt_saved_panel import saved_value_text

    assert saved_value_text("Infinity") == "inf"
    assert saved_value_text("-Infinity") == "-inf"
    assert saved_value_text("NaN") == "nan"
    assert saved_value_text([2, "NaN"]) == "[2, nan]"
    assert saved_value_text("none") == "'none'"
    assert saved_value_text(2.0) == "2.0" and saved_value_text(1) == "1"


def test_statistics_read_as_torch_prints_them():
    """The Values panel's statistics read as torch prints t.min(), t.max(), t.mean(),
    t.std(): a float tensor's whole numbers with a point, an int tensor's min and max whole
    (not 1e+08), a bool tensor's True/False; the one-line summary of a large tensor too."""
    from gradstep.autograd.values import tensor_value

    def lines(t):
        return stats(tensor_value(t)).split("\n")[1:]

    assert lines(torch.tensor([4.0, 6.0, 5.0])) == ["min 4.", "max 6.", "mean 5.", "std 1."]
    assert lines(torch.tensor([3, 100000002]))[:2] == ["min 3", "max 100000002"]
    assert lines(torch.tensor([True, False]))[:2] == ["min False", "max True"]
    assert lines(torch.tensor([0.5, 2.25]))[:2] == ["min 0.5000", "max 2.2500"]
    for t in (torch.tensor([4.0, 6.0, 5.0]), torch.tensor([3, 100000002]),
              torch.tensor([True, False]), torch.tensor([0.5, 2.25]),
              torch.tensor([4.13755, 1.0, -0.25])):  # torch as the oracle of the numbers above
        assert lines(t)[:2] == [f"min {printed(t.min())}", f"max {printed(t.max())}"], t
    for t in (torch.tensor([4.0, 6.0, 5.0]), torch.tensor([4.13755, 1.0, -0.25])):
        assert lines(t)[2:] == [f"mean {printed(t.mean())}", f"std {printed(t.std())}"], t
    assert short(tensor_value(torch.arange(100))) == "100: min 0 max 99 mean 49.5000"
    assert short(tensor_value(torch.arange(100.0))) == "100: min 0. max 99. mean 49.5000"


def test_a_nan_or_a_sum_past_the_range_reads_as_torch_prints_its_mean():
    """A value with a NaN or an infinity, or whose sum is past the range, shows the mean
    and std torch prints for it (nan, inf), not its finite elements' (nor nothing at all:
    a float64 sum past the range once made no summary)."""
    import json

    from gradstep.autograd.values import summary

    nan, inf = float("nan"), float("inf")
    for t in (torch.tensor([1.0, nan, 3.0]), torch.tensor([1.0, inf, 3.0]),
              torch.tensor([1.2e308, 1.3e308], dtype=torch.float64), torch.randn(100).index_fill(0, torch.tensor([5]), nan)):
        value = json.loads(json.dumps(summary(t)))  # as the window reads it
        lines = stats(value).split("\n")[1:]
        assert lines[2:4] == [f"mean {printed(t.mean())}", f"std {printed(t.std())}"], t
        assert f"mean {printed(t.mean())}" in short(value) or "data" in value


def test_a_saved_tuple_reads_as_torch_holds_it():
    """``SumBackward0._saved_self_sym_sizes`` is the tuple ``(2,)`` in torch: the Saved
    panel writes ``(2,)`` (Python's repr of what torch holds), not the JSON's list ``[2]``;
    a custom Function's ctx list stays a list and its tuple a tuple; a complex number
    saved (a ``[real, imag]`` pair in the JSON) is not read as a tuple."""
    from gradstep.autograd.saved import saved_items
    from gradstep.autograd.step_state import held_as_tuple
    from gradstep.ui.qt_saved_panel import saved_value_text

    def shown(fn, name):
        (item,) = [s for s in saved_items(fn) if s["name"] == name]
        return saved_value_text(item["value"], held_as_tuple(item))

    for t in (torch.ones(2, requires_grad=True), torch.ones(2, 3, requires_grad=True)):
        fn = t.sum().grad_fn
        assert shown(fn, "self_sym_sizes") == repr(fn._saved_self_sym_sizes)  # (2,), (2, 3)
    fn = torch.ones(2, 3, requires_grad=True).permute(1, 0).grad_fn
    assert shown(fn, "dims") == repr(fn._saved_dims) == "(1, 0)"

    class Keep(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.sizes, ctx.order = (2, 3), [1, 0]
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    fn = Keep.apply(torch.ones(2, requires_grad=True)).grad_fn
    assert shown(fn, "ctx.sizes") == "(2, 3)" and shown(fn, "ctx.order") == "[1, 0]"
    assert not held_as_tuple({"name": "other", "value": [2.0, 1.0]})  # a complex other


def test_statistics_of_a_bare_list_read_as_torch_prints_them():
    """A value that came as a bare list (no summary beside it) gets its min and max as
    torch prints them (``tensor(1.5000)``, ``tensor(4.)``), not 6 significant digits
    (``1.5``, ``4``), and no mean: a sum made here is not torch's ``t.mean()``."""
    for numbers in ([1.5, 2.0, 4.0], [4.13755, 1.0, -0.25], [3, 7], [[2.0], [8.0]]):
        t = torch.tensor(numbers)  # float32, as a traced value's data holds it
        numbers = t.tolist()
        wanted = [f"min {printed(t.min())}", f"max {printed(t.max())}"]
        assert stats(numbers).split("\n")[1:] == wanted, numbers


def test_an_edge_tooltips_summary_reads_in_the_language_shown():
    """A large gradient's tooltip: its min, max and mean as torch prints them and its words
    through ``tr`` (the window's language), not English beside Chinese."""
    from gradstep.ui.tensor_text import summary_words

    t = torch.arange(100.0)
    summary = {"shape": [100], "dtype": "float32", "min": 0.0, "max": 99.0, "mean": 49.5}
    assert summary_words(summary) == \
        f"100: min {printed(t.min())} max {printed(t.max())} mean {printed(t.mean())}"
    assert summary_words({**summary, "dtype": "complex64"}).startswith("100: |z| min 0.")


def test_a_range_beside_a_nan_or_an_infinity_reads_finite(qapp):
    """Beside a NaN or an infinity a summary's min and max are its finite elements' (one
    NaN does not hide the range), where torch's ``t.min()`` prints nan (or -inf): the Values
    panel and the one-line summary write ``finite min``, ``finite max`` (有限元素最小值 in
    Chinese), so no reader takes them for torch's; an all-finite tensor's stay ``min``,
    ``max`` (torch's own)."""
    from gradstep.autograd.values import summary
    from gradstep.ui.qt_language import apply_language
    from gradstep.ui.tensor_text import summary_words

    nan, inf = float("nan"), float("inf")
    for t in (torch.tensor([1.0, nan, 3.0]), torch.tensor([-inf, 2.0, 5.0]),
              torch.randn(100).index_fill(0, torch.tensor([5]), inf),
              torch.tensor([3 + 4j, complex(nan, 0), 1j])):
        real = t.abs() if t.is_complex() else t
        finite = real[real.isfinite()]
        assert not (real.min() == finite.min() and real.max() == finite.max())  # torch's differ
        value = summary(t)
        z = "|z| " if t.is_complex() else ""
        low, high = printed(finite.min()), printed(finite.max())
        assert stats(value).split("\n")[1:3] == [f"{z}finite min {low}", f"{z}finite max {high}"], t
        assert summary_words(value).startswith(f"{t.numel()}: {z}finite min {low} finite max {high}"), t
        assert summary_words({**value, "mean": None}) == f"{t.numel()}: finite min {low} finite max {high}"
    value = summary(torch.randn(100))
    assert "finite" not in stats(value) + summary_words(value)
    try:
        apply_language("zh_CN")
        value = summary(torch.tensor([1.0, nan, 3.0]))
        assert stats(value).split("\n")[1:3] == ["有限元素最小值 1.", "有限元素最大值 3."]
        assert summary_words(value).startswith("3：有限元素最小值 1. 有限元素最大值 3. 均值 nan")
    finally:
        apply_language(None)


def test_a_summary_with_no_finite_element_reads_no_none():
    """An all-NaN or all-inf tensor's summary has no finite range (min and max null): the
    one-line summary (an edge's tooltip) leaves the range out, as the Values panel does, and
    writes torch's own ``t.mean()``, never ``min None max None``."""
    from gradstep.autograd.values import summary
    from gradstep.ui.tensor_text import summary_words

    inf = float("inf")
    for t in (torch.full((100,), float("nan")), torch.full((100,), inf),
              torch.tensor([inf, -inf] * 50), torch.full((100,), -inf)):
        value = summary(t)
        assert summary_words(value) == f"100: mean {printed(t.mean())}", t
        assert "min" not in stats(value) and "None" not in stats(value), t
    empty = torch.zeros(0)  # no element: no range (torch raises), torch's mean nan
    assert summary_words(summary(empty)) == f"0: mean {printed(empty.mean())}"
    assert stats(summary(empty)).split("\n")[1:] == ["mean nan", "std nan"]
    assert summary_words(summary(torch.zeros(0, dtype=torch.int64))) == "0"  # torch refuses


def test_statistics_out_of_four_decimals_read_as_torch_prints_them_alone():
    """Where torch prints a lone min, max or mean in scientific notation or with its whole
    fraction (``tensor(1.7830e-11)``, ``tensor(12345.6777)``), the Values panel and the
    one-line summary (an edge's tooltip, a node's value) write it so, not in 4 significant
    digits (``1.783e-11``, ``1.235e+04``)."""
    from gradstep.autograd.values import tensor_value
    from gradstep.ui.tensor_text import summary_words

    for t in (torch.tensor([1e-5, -2.5e-5, 3e-11]), torch.tensor([12345.678, 1.0, 2.0e9]),
              torch.tensor([-0.0323, 0.0361, -2.67e-05])):
        wanted = [f"min {printed(t.min())}", f"max {printed(t.max())}",
                  f"mean {printed(t.mean())}", f"std {printed(t.std())}"]
        assert stats(tensor_value(t)).split("\n")[1:] == wanted, t
        assert stats(t.tolist()).split("\n")[1:] == wanted[:2], t  # bare: no mean made here
        summary = {"shape": [3], "dtype": "float32", "min": t.min().item(),
                   "max": t.max().item(), "mean": t.mean().item()}
        assert summary_words(summary) == f"3: {wanted[0]} {wanted[1]} {wanted[2]}", t


def test_a_saved_tuple_of_floats_reads_as_torch_holds_it():
    """A C++ node's tuple of floats (``_foreach_pow``'s exponents ``(2.5, 3.0)``,
    ``_foreach_maximum``'s scalars): torch's generated getter hands it out as a tuple like
    every list, and the Saved panel writes its repr, though a complex number saved is a
    ``[real, imag]`` list of floats in the JSON too."""
    import json

    from gradstep.autograd.saved import saved_items
    from gradstep.autograd.step_state import held_as_tuple
    from gradstep.ui.qt_saved_panel import saved_value_text

    a, b = torch.rand(2, requires_grad=True), torch.rand(3, requires_grad=True)
    for fn, name in ((torch._foreach_pow([a, b], [2.5, 3.0])[0].grad_fn, "exponent"),
                     (torch._foreach_pow([a], [0.5])[0].grad_fn, "exponent"),
                     (torch._foreach_maximum([a, b], [0.5, 0.25])[0].grad_fn, "scalars")):
        (item,) = json.loads(json.dumps([s for s in saved_items(fn) if s["name"] == name]))
        wanted = repr(getattr(fn, "_saved_" + name))
        assert saved_value_text(item["value"], held_as_tuple(item)) == wanted, (item, wanted)


def test_statistics_of_a_bare_list_with_nan_read_as_torch_gives_them():
    """A gradient that came as a bare list with a NaN: torch's min, max and mean are all
    nan (``tensor([1., nan, 2.]).min()`` prints ``tensor(nan)``); Python's ``min`` and
    ``max`` skip a NaN that comes second and said 1. and 2."""
    for numbers in ([1.0, math.nan, 2.0], [math.nan, 3.0], [math.inf, -math.inf, 1.0]):
        t = torch.tensor(numbers)
        wanted = [f"min {printed(t.min())}", f"max {printed(t.max())}",
                  f"mean {printed(t.mean())}"]
        assert stats(t.tolist()).split("\n")[1:4] == wanted, numbers


@pytest.mark.parametrize("tensor", [torch.zeros(2, 3), torch.zeros(1), torch.tensor(2.5)])
def test_statistics_write_the_shape_as_torchs_tuple_as_the_boxes_do(tensor):
    """``(2, 3)``, ``(1,)``, ``()``: torch's ``tuple(t.shape)``, as a box and the Saved
    panel write it (not ``[2, 3]``)."""
    from gradstep.ui.tensor_text import stats

    value = {"shape": list(tensor.shape), "data": tensor.tolist(), "dtype": "float32"}
    assert stats(value).splitlines()[0] == f"shape {tuple(tensor.shape)}  float32"


def test_statistics_of_a_value_of_unknown_shape_say_so():
    """A jagged nested tensor's shape is no list of ints (the kernel sends None): its
    statistics say ``?``, as its hover text does, not ``()``, a 0-d tensor's shape."""
    from gradstep.ui.tensor_text import stats

    for value in ({"shape": None, "data": [1.0, 2.0]}, {"data": [1.0, 2.0]}):
        assert stats(value).splitlines()[0] == "shape ?"


def test_a_message_in_a_numbers_room_stays_whole_when_the_panel_narrows(qtbot):
    """A message written in the room a number kept (one line at a projector's width) was
    cut to that line when the column narrowed (a smaller window, a drag): it goes under the
    room then, whole."""
    plot = QtTensorPlot("value")
    qtbot.addWidget(plot)
    plot.show()
    plot.resize(560, plot.sizeHint().height())
    plot.set_value({"shape": [], "data": 2.5})
    message = "No gradient has reached this node in this pass yet."
    plot.set_message(message)
    plot.resize(560, plot.sizeHint().height())
    qtbot.waitUntil(lambda: plot._note.width() > 400)
    assert plot._note.text() == message  # one line: in the number's room
    note = plot._note
    plot.resize(120, plot.sizeHint().height())
    qtbot.waitUntil(lambda: note.width() < 150)
    if note.text():  # (still fits there)
        assert note.heightForWidth(note.width()) <= note.height()
    else:
        assert plot._stats.text().replace("\n", " ") == message
    plot.resize(560, plot.sizeHint().height())
    qtbot.waitUntil(lambda: note.width() > 400)
    assert note.text() == message and not plot._stats.text()  # back in the room
