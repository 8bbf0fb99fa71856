"""Unnamed select nodes are labelled after what they index, and the label means what torch computed."""

from __future__ import annotations

import torch

from gradstep.autograd.session import Session

SOURCE = ("import torch\nx = torch.arange(6.).reshape(2, 3).requires_grad_()\ny = x * 2\n"
          "z = y[:, 1].sum() + y[-1][0] + y[1]\n")


def test_each_select_label_evaluates_to_the_value_torch_recorded():
    result = Session().run(SOURCE)
    assert result["ok"], result["error"]
    namespace = {"torch": torch}
    exec(SOURCE, namespace)
    selects = [n for n in result["trace"]["nodes"] if n["name"] == "SelectBackward0"]
    assert sorted(n["label"] for n in selects) == ["y[-1]", "y[-1][0]", "y[1]", "y[:, 1]"]
    checked = 0
    for node in selects:
        if node["value"] is None:  # not captured: nothing to compare
            continue
        want = eval(node["label"], namespace)  # the label is Python that gives the same tensor
        assert torch.tensor(node["value"]["data"]).equal(want.detach())
        checked += 1
    assert checked >= 2


def test_softmax_rows_are_p1_and_p2():
    from gradstep.examples import load_example

    result = Session().run(load_example("softmax_jacobian"), filename="/x/softmax.py")
    labels = {n["label"] for n in result["trace"]["nodes"] if n["name"] == "SelectBackward0"}
    assert labels == {"p[1]", "p[2]"}
