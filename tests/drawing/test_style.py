"""The pure visual language: label lines, sizes close to Qt's, states told apart without colour."""

import math

import pytest

from gradstep.drawing import style
from gradstep.drawing.node_sizes import node_size
from gradstep.policies.number_text import FIXED, WHOLE, print_mode


def test_label_lines_of_an_op_and_a_leaf():
    op = {"kind": "op", "name": "MulBackward0", "label": "z", "shape": [2, 2],
          "value": {"data": [[1.0, 2.0], [3.0, 4.0]]},
          "saved": [{"name": "self", "shape": [2, 2], "freed": False}, {"name": "n", "value": 1}]}
    texts = [ln.text for ln in style.label_lines(op)]
    assert texts == ["MulBackward0", "z", "(2, 2)", "saved: self"]  # nested data: no value line
    leaf = {"kind": "leaf", "name": "AccumulateGrad", "label": "w", "shape": [1],
            "value": {"data": [2.0]}, "device": "cuda:0"}
    assert [ln.text for ln in style.label_lines(leaf)] == ["w", "(1,)", "= [2.]", "cuda:0"]


def test_states_differ_by_more_than_colour():
    looks = [style.state_look(s) for s in style.STATES]
    signatures = {(lk.border_width, lk.dash, lk.glyph) for lk in looks}
    assert len(signatures) == len(style.STATES)


def test_saved_lines_read_the_entries_freed_flags_and_wrap_at_a_name():
    nll = {"kind": "op", "name": "NllLossBackward0", "saved": [
        {"name": "self", "shape": [1, 3], "freed": False}, {"name": "target", "freed": False},
        {"name": "total_weight", "freed": False}, {"name": "ignore_index", "value": -100}]}
    saved = [(ln.text, ln.role) for ln in style.label_lines(nll) if ln.role in ("saved", "freed")]
    assert saved == [("saved: self, target,", "saved"), ("total_weight", "saved")]
    for entry in nll["saved"][:3]:
        entry["freed"] = True
    freed = [(ln.text, ln.role) for ln in style.label_lines(nll) if ln.role in ("saved", "freed")]
    assert freed == [("freed: self, target,", "freed"), ("total_weight", "freed")]
    # the box fits both: a step that frees the buffers never overflows it
    width, _ = node_size(nll)
    for lines in (saved, freed):
        assert all(style.text_width(t, style.DETAIL_PX) + 8 < width for t, _ in lines)


def test_a_saved_tensor_changed_in_place_has_its_own_pill_that_the_box_fits(tmp_path):
    from gradstep.drawing import samples
    from gradstep.drawing.layout import layout
    from gradstep.drawing.svg_picture import write_svg

    sig = {"kind": "op", "name": "SigmoidBackward0", "saved": [
        {"name": "result", "shape": [2], "freed": False, "changed_in_place": True,
         "version": 1, "saved_version": 0}]}
    lines = [(ln.text, ln.role) for ln in style.label_lines(sig) if ln.role in style.BADGE_ROLES]
    assert lines == [("changed in place: result", "changed")]
    assert style.saved_line(sig) == "changed in place: result"
    width, _ = node_size(sig)
    assert style.text_width(lines[0][0], style.DETAIL_PX) + 8 < width
    freed = {**sig, "saved": [{"name": "result", "freed": True}]}  # freed: torch's word wins
    assert [ln.role for ln in style.label_lines(freed) if ln.role in style.BADGE_ROLES] == ["freed"]
    graph = samples.chain(1)
    graph.nodes["n0"]["saved"] = sig["saved"]
    path = tmp_path / "g.svg"
    write_svg(graph, layout(graph), path)
    text = path.read_text(encoding="utf-8")
    assert f'fill="{style.CHANGED_BADGE}"' in text and "changed in place: result" in text


def test_long_names_wrap_at_a_dot_not_mid_word():
    leaf = {"kind": "leaf", "label": "transformer.h.0.attn.c_attn.weight", "shape": [768, 2304]}
    titles = [ln.text for ln in style.label_lines(leaf) if ln.role == "title"]
    assert titles == ["transformer.h.0.attn.c_attn.", "weight"]
    assert "".join(titles) == leaf["label"]


def test_gradient_text_ends_at_a_whole_number():
    grad = [-0.0827829, 0.227448, -0.144665]
    assert style.gradient_text(grad) == "[-0.0828, 0.2274, -0.1447]"
    assert style.gradient_text(grad, limit=21) == "[-0.0828, 0.2274, …]"
    assert style.gradient_text(list(range(10))) == ""  # too many numbers for an edge
    assert style.gradient_full_text(grad) == "[-0.0828, 0.2274, -0.1447]"  # as torch prints it


def test_sizes_match_what_qt_measures():
    pytest.importorskip("PySide6")
    from PySide6 import QtGui

    from gradstep.drawing.export import ensure_qt_app
    from gradstep.drawing.qt_paint import font

    ensure_qt_app()
    for text, bold in [("MseLossBackward0", True), ("(64, 32, 5, 5)", False),
                       ("saved: mat1, mat2", False), ("model1.0.weight", True)]:
        px = style.TITLE_PX if bold else style.DETAIL_PX
        measured = QtGui.QFontMetricsF(font(px, bold)).horizontalAdvance(text)
        assert style.text_width(text, px, bold) == pytest.approx(measured, rel=0.03)


def _plain_small_value(value) -> str:
    """The oracle: ``format_small_value`` as it was, every float formatted on its own."""
    if not isinstance(value, dict) or "data" not in value:
        return ""
    data = value["data"]
    if isinstance(data, list):
        if len(data) > 4 or any(isinstance(x, list) for x in data):
            return ""
        mode = print_mode(data)
        return "= [" + ", ".join(_plain_float(x, mode) if type(x) is float
                                 else style.format_number(x) for x in data) + "]"
    if type(data) is float:
        return "= " + _plain_float(data, print_mode([data]))
    return "= " + style.format_number(data)


def _plain_float(x: float, mode: str) -> str:
    if mode == FIXED:
        return f"{x:.4f}"
    if mode == WHOLE and math.isfinite(x):
        return f"{x:.0f}."
    return f"{x:.4g}"


def test_small_values_with_repeated_numbers_read_as_each_formatted_alone():
    import itertools
    import math
    import random

    odd = [0.0, -0.0, math.nan, math.inf, -math.inf, 1.5, -1.5, 4.124143600463867, 1e-300,
           5e-324, 2.0 ** 60, 1, 0, True, False, "NaN", "Infinity", None, [1.0]]
    cases = [list(c) for n in range(5) for c in itertools.product(odd[:8] + [1, True, "NaN"], repeat=min(n, 3))]
    rng = random.Random(7)
    cases += [[rng.choice(odd) for _ in range(rng.randint(0, 5))] for _ in range(3000)]
    cases += [[x] * 3 for x in odd] + [[x, y, x] for x in odd for y in odd]
    for data in cases:
        assert style.format_small_value({"data": data}) == _plain_small_value({"data": data}), data
    for data in odd:
        assert style.format_small_value({"data": data}) == _plain_small_value({"data": data})


def test_small_numbers_read_as_torch_prints_them():
    """A learner compares the graph with what the lesson printed: ``tensor(1.1019)``,
    ``tensor([-0.0828, 0.2274, -0.1447])`` (4 significant digits wrote 1.102, -0.08278)."""
    import re

    import torch

    tensors = [torch.tensor(1.1019), torch.tensor(4 / 3), torch.tensor([0.1440, 0.5349, 0.7022]),
               torch.tensor([-0.0827829, 0.227448, -0.144665]), torch.tensor([0.2366, 0.0, -1.5]),
               torch.tensor([2.5, 0.0100])]
    for t in tensors:
        printed = re.findall(r"-?\d+\.\d+", str(t))
        box = style.format_small_value({"data": t.tolist()})
        assert re.findall(r"-?\d+\.\d+", box) == printed, (box, str(t))
        assert re.findall(r"-?\d+\.\d+", style.gradient_text(t.tolist())) == printed
    # outside torch's four-decimal range (and past 1e4, to keep boxes narrow): 4 digits
    assert style.format_small_value({"data": [1e-5, 1.5]}) == "= [1e-05, 1.5]"
    assert style.format_small_value({"data": 12345.6}) == "= 1.235e+04"
    assert style.format_small_value({"data": [1.0, 2.0]}) == "= [1., 2.]"


def test_nan_and_infinities_read_as_torch_prints_them():
    """The values arrive as strict JSON's "NaN", "Infinity", "-Infinity"; the boxes, edges
    and tooltips wrote them so ("= [1.3863, NaN]") beside the Output's
    tensor([1.3863, nan]) and the Values panel's "nan" (walk 5)."""
    import math
    import re

    import torch

    from gradstep.policies.strict_json import number

    for t in (torch.tensor([1.3863, math.nan]), torch.tensor([-math.inf, 0.5]),
              torch.tensor(math.inf), torch.tensor([0.25, math.nan, -math.inf, 2.0])):
        printed = re.findall(r"-?inf|nan", str(t))
        data = t.tolist()
        as_json = [number(x) for x in data] if isinstance(data, list) else number(data)
        assert re.findall(r"-?inf|nan", style.format_small_value({"data": as_json})) == printed
        assert re.findall(r"-?inf|nan", style.gradient_text(as_json)) == printed
        assert re.findall(r"-?inf|nan", style.gradient_full_text(as_json)) == printed
    assert "NaN" not in style.format_small_value({"data": ["NaN", 1.0]})


def test_a_gradient_with_rows_reads_with_its_rows():
    """no_grad.py's MulBackward0 -> a edges carry a 2x2 gradient, written "[1, 1, 1, 1]"
    (a vector of four) beside torch's tensor([[1., 1.], [1., 1.]]) (walk 5)."""
    import re

    import torch

    for t in (torch.ones(2, 2), torch.tensor([[0.25, -0.5]]), torch.tensor([[[1.0], [2.0]]])):
        brackets = re.sub(r"[^\[\]]", "", str(t))
        assert re.sub(r"[^\[\]]", "", style.gradient_text(t.tolist())) == brackets
        assert re.sub(r"[^\[\]]", "", style.gradient_full_text(t.tolist())) == brackets
    assert style.gradient_text([[1.0, 1.0], [1.0, 1.0]]) == "[[1., 1.], [1., 1.]]"
    # too wide for an edge: cut at a whole number, the rows closed around the cut
    wide = style.gradient_text([[-0.0828, -0.0828], [-0.0828, -0.0828]])
    assert wide == "[[-0.0828, -0.0828], …]", wide


def test_shapes_read_as_torchviz_writes_them():
    plain = {(): "()", (1,): "(1,)", (3,): "(3,)", (2, 3): "(2, 3)", (0, 1, 2): "(0, 1, 2)"}
    for dims, text in plain.items():
        assert style.format_shape(list(dims)) == text
        assert style.format_shape(tuple(dims)) == text
    assert style.format_shape(None) == ""
    assert style.format_shape(["n"]) == "(n,)"
    assert style.format_shape(iter([4, 5])) == "(4, 5)"


def test_four_decimal_and_whole_numbers_equal_torchs_print_fuzzed():
    """Where a gradient is written with four decimals or as whole numbers with a point
    (``print_mode`` FIXED or WHOLE: as torch prints it), the text equals torch's own print,
    nan/inf/-inf/-0.0 and rows included, in float32, float64, bfloat16 and float16 (random
    tensors of up to 4 numbers, 1-D to 4-D)."""
    import math
    import random
    import re

    import torch

    from gradstep.autograd.values import to_jsonable
    from gradstep.ui.tensor_text import flatten

    rng = random.Random(5)
    shapes = [(1,), (2,), (3,), (4,), (2, 2), (1, 3), (2, 1), (1, 2, 2), (2, 1, 2), (1, 1, 1, 2)]
    dtypes = [torch.float32, torch.float64, torch.bfloat16, torch.float16]

    def number(whole):
        if rng.random() < 0.2:
            return rng.choice([math.nan, math.inf, -math.inf, -0.0, 0.0])
        if whole:
            return float(rng.choice([-1, 1]) * rng.choice([1, 2, 3, 7, 10, 64, 100, 999, 1000,
                                                           1001, 2048, 10**5, 10**8, 10**9]))
        return rng.choice([-1, 1]) * 10 ** rng.uniform(-3, 3)

    checked = {FIXED: 0, WHOLE: 0}
    for i in range(800):
        shape = rng.choice(shapes)
        t = torch.tensor([number(i % 2) for _ in range(math.prod(shape))],
                         dtype=rng.choice(dtypes)).reshape(shape)
        data = to_jsonable(t.tolist())
        mode = print_mode(flatten(data))
        if mode not in checked:
            continue
        checked[mode] += 1
        printed = re.sub(r",\s*dtype=torch\.\w+", "", str(t))[len("tensor("):-1]
        words = style.gradient_text(data, limit=10**6) if style.text_width(
            printed, style.DETAIL_PX) <= style.EDGE_LABEL_PX else None
        full = style.nested_text(data, style.as_printed(flatten(data)))
        assert re.sub(r"\s", "", full) == re.sub(r"\s", "", printed), (t.dtype, full, printed)
        if words is not None and "…" not in words:
            assert re.sub(r"\s", "", words) == re.sub(r"\s", "", printed)
    assert checked[FIXED] > 150 and checked[WHOLE] > 150, checked


def test_int_and_bool_tooltips_and_a_complex_scalars_box_read_as_torch_prints_them():
    """An edge's tooltip writes an int tensor's numbers whole and a bool tensor's as
    True/False (tensor([100000002, 3]), tensor([True, False])); a complex scalar's box
    reads ``6.+6.j``, not its [real, imag] pair as a vector, the sizes' cache included."""
    from gradstep.drawing.node_sizes import _value_text

    assert style.gradient_full_text([100000002, 3]) == "[100000002, 3]"
    assert style.gradient_full_text([True, False]) == "[True, False]"
    assert style.gradient_full_text(2147483647) == "2147483647"
    pair = {"shape": [], "dtype": "complex64", "data": [6.0, 6.0]}
    assert style.format_small_value(pair) == "= 6.+6.j"
    vector = {"shape": [2], "dtype": "complex64", "data": [[6.0, 6.0], [1.0, 2.0]]}
    assert style.format_small_value(vector) == ""  # pairs of pairs: not written in a box
    texts: dict = {}
    assert _value_text({"shape": [2], "dtype": "float32", "data": [6.0, 6.0]}, texts) == "= [6., 6.]"
    assert _value_text(pair, texts) == "= 6.+6.j"


def test_the_factor_1000_is_tested_as_torch_divides():
    """torch switches to scientific notation when max / min > 1000, divided: 700 / 0.7 is
    1000.0000000000001 (tensor([7.0000e-01, 7.0000e+02])), though 1000 * 0.7 == 700."""
    from gradstep.policies.number_text import SHORT

    assert print_mode([0.7, 700.0]) == SHORT
    assert print_mode([0.5, 500.0]) == FIXED and print_mode([1.0, 1000.0]) == WHOLE
    assert style.format_small_value({"data": [0.7, 700.0]}) == "= [0.7, 700]"


def test_an_edge_tooltip_equals_torchs_print_fuzzed():
    """An edge's tooltip writes every number of a small gradient as torch's ``print`` does,
    scientific notation included (``tensor([500.5000, 1.0000])``, not ``[500.5, 1]``;
    ``tensor([1.2346e+05, 1.0000e+00])``): random float32/float64/float16 tensors of up to
    4 numbers, whole or not, from 1e-6 to 1e10, with nan, inf and -0.0; ints and bools."""
    import math
    import random
    import re

    import torch

    from gradstep.autograd.values import to_jsonable

    assert style.gradient_full_text([500.5, 1.0]) == "[500.5000, 1.0000]"
    rng = random.Random(7)
    shapes = [(), (1,), (2,), (3,), (4,), (2, 2), (1, 3), (2, 1, 2)]
    dtypes = [torch.float32, torch.float64, torch.float16]

    def number(whole):
        if rng.random() < 0.15:
            return rng.choice([math.nan, math.inf, -math.inf, -0.0, 0.0])
        size = 10 ** rng.uniform(-6, 10)
        return rng.choice([-1, 1]) * (float(round(size)) if whole else size)

    for i in range(600):
        shape = rng.choice(shapes)
        t = torch.tensor([number(i % 3 == 0) for _ in range(math.prod(shape))],
                         dtype=rng.choice(dtypes)).reshape(shape)
        printed = re.sub(r",\s*dtype=torch\.\w+", "", str(t))[len("tensor("):-1]
        full = style.gradient_full_text(to_jsonable(t.tolist()))
        assert full == " ".join(printed.split()).replace("[ ", "["), (t.dtype, full, printed)
    for t in (torch.tensor([3, -100000002]), torch.tensor([True, False]), torch.tensor(7)):
        assert style.gradient_full_text(t.tolist()) == " ".join(str(t)[7:-1].split()).replace("[ ", "[")


def test_an_edge_tooltip_of_many_numbers_breaks_its_lines_at_torchs_linewidth():
    """A gradient of 64 numbers (the most a trace keeps) is not one line of 600 characters
    in a tooltip wider than the screen: lines of at most 80 characters (torch's linewidth),
    broken after a comma (not where torch breaks its rows: a 2-D tensor is one line of
    rows here), every number kept as torch prints it."""
    import torch

    t = torch.linspace(-0.12, 0.14, 64).reshape(1, 64)
    full = style.gradient_full_text(t.tolist())
    lines = full.split("\n")
    assert len(lines) > 1 and max(len(line) for line in lines) <= style.TOOLTIP_CHARS
    assert all(line.endswith(",") for line in lines[:-1])
    assert " ".join(lines) == " ".join(str(t)[7:-1].split()).replace("[ ", "[")
