"""Node boxes: the size of the lines drawn in them, with saved tensors alive and freed."""

import itertools

from gradstep.drawing import style
from gradstep.drawing.node_sizes import lines_size, node_size, node_sizes, size_key


def drawn_size(attrs: dict) -> tuple[float, float]:
    """The oracle: the largest box of the label lines as traced, all saved alive, all freed
    (each measured whole, the way the scene draws them)."""
    tensors = style.saved_tensors(attrs)
    variants = [attrs]
    for freed in (False, True) if tensors else ():
        variants.append(dict(attrs, saved=[dict(s, freed=freed) if s in tensors else s
                                           for s in attrs.get("saved") or []]))
    sizes = [lines_size(style.label_lines(a)) for a in variants]
    return max(w for w, _ in sizes), max(h for _, h in sizes)


def varied_nodes() -> list[dict]:
    """Ops, leaves and modules with long names, small values, saved tensors and devices."""
    saved = [
        [],
        [{"name": "self", "shape": [2], "freed": False}, {"name": "n", "value": 1}],
        [{"name": "self", "shape": [2], "freed": True}, {"name": "other", "freed": False}],
        [{"name": "result", "shape": [4]}],
        [{"name": "a_very_long_saved_tensor_name", "freed": False},
         {"name": "another_long_saved_name", "freed": True}, {"name": "third_name", "freed": False}],
    ]
    values = [None, {"data": 1.5}, {"data": [0.761594, -2.0, "NaN", 3]}, {"data": [[1.0]]},
              {"data": [1, 2, 3, 4, 5]}, {"shape": [2], "min": 0.0}]
    names = [("MulBackward0", "mul"), ("MulBackward0", "z"), ("NativeLayerNormBackward0",
             "transformer.h.0.ln_1.weight_of_a_long_module_path"), (None, "")]
    nodes = []
    for i, ((name, label), value, entries, device) in enumerate(itertools.product(
            names, values, saved, ["cpu", "cuda:0", None])):
        kind = "leaf" if i % 3 == 0 else "op"
        nodes.append({"id": f"n{i}", "kind": kind, "name": name, "label": label,
                      "shape": [2, 3] if i % 2 else [1], "value": value, "saved": entries,
                      "device": device})
    nodes.append({"id": "m0", "kind": "module", "label": "encoder.layer.0", "op_count": 1})
    nodes.append({"id": "m1", "kind": "module", "name": "block", "op_count": 12})
    return nodes


def test_node_size_is_the_largest_drawn_box():
    for attrs in varied_nodes():
        assert node_size(attrs) == drawn_size(attrs), attrs


def test_node_sizes_of_a_graph_equal_each_node_sized_alone():
    nodes = varied_nodes()
    repeated = nodes + [dict(a, id=a["id"] + "_again") for a in nodes]
    assert node_sizes(repeated) == [node_size(a) for a in repeated]


def test_nodes_that_draw_different_lines_have_different_keys():
    base = {"kind": "op", "name": "AddBackward0", "label": "add", "shape": [4],
            "value": {"data": [1.0, 2.0]}, "saved": [{"name": "self", "freed": False}]}
    changes = [{"label": "h"}, {"shape": [5]}, {"value": {"data": [1.0, 2.5]}},
               {"device": "cuda:0"}, {"saved": [{"name": "self", "freed": True}]},
               {"saved": [{"name": "other", "freed": False}]}, {"kind": "leaf"},
               {"name": "SubBackward0"}]
    keys = {size_key(base)} | {size_key(dict(base, **change)) for change in changes}
    assert len(keys) == len(changes) + 1
    assert size_key(dict(base, id="n9", seq=4, line=3)) == size_key(base)  # not drawn


def test_node_sizes_hand_on_the_lines_each_node_draws():
    nodes = varied_nodes()
    repeated = nodes + [dict(a, id=a["id"] + "_again", seq=7) for a in nodes]
    made: list = []
    sizes = node_sizes(repeated, made)
    assert sizes == node_sizes(repeated) == [node_size(a) for a in repeated]
    assert len(made) == len(repeated)
    for attrs, lines in zip(repeated, made):
        assert list(lines) == style.label_lines(attrs), attrs
    # labels that differ only in their small value: each draws its own value line
    values = [dict(nodes[0], id=f"v{i}", value={"data": [i / 3, 1.0]}) for i in range(5)]
    made = []
    assert node_sizes(values, made) == [node_size(a) for a in values]
    assert [list(lines) for lines in made] == [style.label_lines(a) for a in values]


def test_nodes_of_one_label_share_their_lines_and_values_get_their_own():
    from gradstep.drawing.node_sizes import frame_texts

    base = {"kind": "op", "name": "MulBackward0", "label": "mul", "shape": [3],
            "saved": [{"name": "other", "shape": [], "freed": False}, {"name": "alpha", "value": 1}]}
    nodes = [dict(base, id=f"n{i}", value={"data": [v, v, v]}) for i, v in
             enumerate([1.5, 2.5, 1.5, 0.0, -0.0, 2.5])] + [dict(base, id="plain")]
    made: list = []
    assert node_sizes(nodes, made) == [node_size(a) for a in nodes]
    assert [list(lines) for lines in made] == [style.label_lines(a) for a in nodes]
    assert made[0] is made[2] and made[1] is made[5]  # the same label: one tuple of lines
    assert made[0] is not made[1] and made[3] is not made[4]  # "0" and "-0" differ
    assert len({frame_texts(a) for a in nodes}) == 1
    assert {size_key(a)[:4] + size_key(a)[5:] for a in nodes} == {frame_texts(a) for a in nodes}
    assert frame_texts({"kind": "module", "label": "block"}) is None


def test_a_small_value_is_written_once_per_distinct_floats_and_as_format_small_value_writes_it(
        monkeypatch):
    from gradstep.drawing import node_sizes as sizes_module

    datas = [[0.5, 1.25], [0.5, 1.25], [1.0, 2.0], [1, 2], [True, 2.0], [0.0, 1.5], [-0.0, 1.5],
             [float("nan"), 1.5], [float("nan"), 1.5], [[1.0], [2.0]], [12345.5], [12345.5],
             [1.5, 2.5, 3.5, 4.5, 5.5], [1.5, 2.5, 3.5, 4.5, 5.5], [], [0.5, 1.25]]
    nodes = [{"id": f"n{i}", "name": "MulBackward0", "label": "mul", "shape": [len(d)],
              "value": {"data": d}} for i, d in enumerate(datas)]
    nodes += [{"id": "x", "name": "A", "value": {"data": 1.5}}, {"id": "y", "name": "A", "value": 7}]
    lines: list = []
    sizes = node_sizes(nodes, lines)
    assert sizes == [node_size(n) for n in nodes]
    assert lines == [tuple(style.label_lines(n)) for n in nodes]
    assert [line.text for line in lines[3] if line.text.startswith("=")] == ["= [1, 2]"]
    assert [line.text for line in lines[6] if line.text.startswith("=")] == ["= [-0.0000, 1.5000]"]
    written = []
    real = sizes_module.format_small_value
    monkeypatch.setattr(sizes_module, "format_small_value", lambda v: written.append(v) or real(v))
    node_sizes(nodes)
    # the repeats of [0.5, 1.25] (twice), [12345.5] and the long list are not written again
    assert len(written) == len(nodes) - 4


def test_a_value_holding_an_object_that_cannot_be_compared_to_zero_is_written_as_before():
    """``0.0 in`` data that holds an array of several numbers raises (its ``==`` is an
    array); format_small_value writes such data, so the sizes must too."""
    class Many:  # like a tensor or numpy array of two numbers
        def __eq__(self, other):
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")

        __hash__ = object.__hash__

        def __str__(self):
            return "[1, 2]"

    node = {"id": "a", "name": "MulBackward0", "label": "mul", "value": {"data": [Many(), 0.5]}}
    assert node_sizes([node]) == [node_size(node)]
