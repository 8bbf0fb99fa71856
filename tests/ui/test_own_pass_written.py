"""A hook that writes a leaf during a pass of gradstep's own (the window's automatic pass
on a snippet that made none, its Backward button): the leaf's box, hover and Values title
say so as for the snippet's own call, with torch's versions from a plain run of the same
pass (before: nothing said, where the snippet's own ``loss.backward()`` showed the pill)."""

from __future__ import annotations

from gradstep.autograd.session import Session
from gradstep.drawing.style import written_text

SOURCE = ("import torch\nfrom torch import nn\ntorch.manual_seed(0)\nlin = nn.Linear(3, 2)\n"
          "opt = torch.optim.SGD(lin.parameters(), lr=0.5)\n"
          "lin.bias.register_post_accumulate_grad_hook(lambda t: opt.step())\n"
          "loss = lin(torch.ones(1, 3)).square().sum()\n")
WAIT = 60_000


def _plain() -> tuple[int, int, list]:
    """The bias's version and value before and after the same pass, run plainly."""
    env: dict = {}
    exec(compile(SOURCE, "<plain>", "exec"), env)
    bias = env["lin"].bias
    before, value = bias._version, bias.detach().clone().tolist()
    env["loss"].backward()
    return before, bias._version, value


def test_gradsteps_own_pass_notes_a_leaf_a_hook_wrote():
    before, after, _ = _plain()
    assert after != before
    session = Session()
    result = session.run(SOURCE)
    bias = next(n["id"] for n in result["trace"]["nodes"] if n.get("label") == "bias")
    assert "written_after" not in next(n for n in result["trace"]["nodes"] if n["id"] == bias)
    timeline = session.backward()
    assert timeline["written_during"] == {bias: {"pass_version": before, "version": after}}
    again = Session()
    again.run(SOURCE.replace("lin.bias.register", "# lin.bias.register"))
    assert "written_during" not in again.backward()  # no hook: nothing written


def test_the_window_marks_the_leaf_its_own_pass_wrote(qtbot, make_window):
    before, after, value = _plain()
    window = make_window(Session)
    window.editor.setPlainText(SOURCE)
    with qtbot.waitSignal(window.sigBackwardFinished, timeout=WAIT):
        window.run()  # no backward call in the snippet: the window runs its own pass
    model = window.model
    bias = next(n for n, a in model.graph.nodes(data=True) if a.get("label") == "bias")
    attrs = model.node(bias)
    assert attrs["value"]["data"] == value  # the value before the pass: the forward's
    assert written_text(attrs) == f"written during the pass: v{after}"
    tip = window.follower.node_tooltip(bias, attrs)
    assert (f"This is the value before gradstep&#x27;s backward pass, the one the forward used: "
            f"a hook wrote the leaf in place during that pass (version {after} after it, "
            f"{before} before).") in tip
    weight = next(n for n, a in model.graph.nodes(data=True) if a.get("label") == "weight")
    assert not model.node(weight).get("written_after")  # its .grad came after the step
