"""The notebook's step captions are the exported frames' (and the presentation mode's).

``gradstep.step_through`` wrote its own English captions ("After 2 of 3 steps: X ran; Y runs
next") while ``gradstep export --frames`` and the window's presentation mode word theirs
in ``drawing.step_caption`` in the user's language, with the formula of the inputs torch
sends a gradient to and the step that raised named as such. Here the notebook view of a
lesson (the API in this process, as a notebook calls it) and the export of the same lesson
(``choose_pass``, the pass ``--frames`` draws, captioned as ``StepFrames`` paints it) must
word every step position alike, in English and in Chinese, and each caption's step, total,
node and formulas are checked against the lesson run under plain torch
(``tests/step_oracle.py``).
"""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pytest

import gradstep
from gradstep.autograd.formula_words import worded
from gradstep.autograd.formulas import input_slots
from gradstep.autograd.graph_json import graph_from_json
from gradstep.autograd.session import Session
from gradstep.commands.export import choose_pass
from gradstep.drawing.step_caption import caption_lines
from gradstep.examples import EXAMPLES_DIR
from gradstep.i18n import localized, using
from gradstep.notebook import step_captions
from tests.step_oracle import oracle_run

torch = pytest.importorskip("torch")

HEADS = {"en": ("Step {k} of {n}: ▶ {node} runs", "After step {n} of {n}: the pass is done"),
         "zh_CN": ("第 {k} / {n} 步：▶ {node} 运行", "第 {n} / {n} 步之后：这一遍反向传播结束了")}
RAISING = ("import torch\na = torch.tensor([1.0, 2.0], requires_grad=True)\nc = (a * 2).sin()\n"
           "def bad(gi, go):\n    raise ValueError('no')\n"
           "c.grad_fn.register_hook(bad)\nloss = c.sum()\n")


def export_captions(source: str) -> tuple[list[tuple[str, str]], object, object]:
    """Return the captions ``gradstep export --frames`` paints for ``source`` (one per
    frame), the graph and the pass's index."""
    session = Session()
    result = session.run(source)
    graph = graph_from_json(result["trace"])
    args = SimpleNamespace(pass_number=None, step=None, frames=True, format=None, output=None)
    history, pass_index, _ = choose_pass(args, result, graph, session)
    index = history.index(pass_index)  # StepFrames' own: its _paint_caption words these
    return [tuple(caption_lines(graph, index, k)) for k in range(index.count + 1)], graph, index


def notebook_view(source: str, loss: str):
    """Run ``source`` (no backward call) as a notebook cell does and return
    ``gradstep.step_through`` of its ``loss`` (nothing drawn yet)."""
    namespace: dict = {}
    exec(compile(source, "<cell>", "exec"), namespace)  # noqa: S102 (the lesson, as python runs it)
    return gradstep.step_through(namespace[loss], names=namespace)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_lesson_s_notebook_captions_are_the_export_s_and_torch_s(lang):
    lesson = (EXAMPLES_DIR / "mse_backward.py").read_text(encoding="utf-8")
    call = oracle_run(lesson).calls[0]  # mse.backward() under plain torch, hooked
    cell = lesson.split("mse.backward()")[0]
    view = notebook_view(cell, "mse")
    with using(lang):
        shown = step_captions(view.trace, view.timeline)
        exported, graph, index = export_captions(lesson)
        page = view.to_html() if lang == "zh_CN" else ""
    assert shown == exported
    n = len(call.order)
    assert len(shown) == n + 1 and call.raised is None
    step_head, end_head = HEADS[lang]
    for k, fn in enumerate(call.order):  # the node torch ran at step k + 1, with its label
        attrs = graph.nodes[index.steps[k]["node"]]
        name = fn.name().rsplit("::", 1)[-1]  # torch::autograd::AccumulateGrad
        assert attrs["name"] == name
        label = {"MseLossBackward0": " (mse)", "AccumulateGrad": " (w)"}.get(name, "")
        assert shown[k][0] == step_head.format(k=k + 1, n=n, node=name + label)
        sent = call.snapshots[-1]["sent"][fn]
        readable = (attrs.get("formula_math") or {}).get("inputs") or {}
        slots = input_slots(name, attrs.get("slots"))
        for name, item in readable.items():  # a formula exactly where torch sent a gradient
            assert (worded(item["text"]) in shown[k][1]) == (sent[slots[name]] is not None)
        if name == "AccumulateGrad":
            assert shown[k][1] == ("把传入的梯度累加到 .grad 里" if lang == "zh_CN"
                                   else "adds the arriving gradient into .grad")
        else:
            assert shown[k][1]
    assert shown[n] == (end_head.format(n=n), "")
    if page:  # the view's own words in the same language, the captions in the page
        assert 'title="后退一步"' in page and ">播放<" in page and "共 3 步" in page
        assert f'data-caption="{html.escape(shown[0][0])}"' in page
        assert "Play" not in re.sub(r"<script>.*</script>", "", page, flags=re.S)
        with using("en"):  # shown again after a switch: all its words in English (one drawing)
            again = view.to_html()
            first = step_captions(view.trace, view.timeline)[0][0]  # not in zh_CN any more
        assert f'data-caption="{html.escape(first)}"' in again and first.startswith("Step 1 of")
        assert "运行" not in again and 'title="one step back"' in again


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_pass_that_raised_ends_with_the_step_that_raised_in_both(lang):
    """The snippet's own pass (the export's data) captioned by the notebook is the export's;
    the API's pass (a notebook's) names the same step, node and torch's words. Their
    errors' titles differ: the API cannot point into a notebook cell's hook as the
    Session's diagnosis does, so it words the error by its type."""
    from gradstep.autograd.step_state import drawn_calls


    source = RAISING + "loss.backward()\n"
    call = oracle_run(source).calls[-1]
    assert isinstance(call.raised, ValueError)
    view = notebook_view(RAISING, "loss")  # gradstep.backward keeps torch's error, raises none
    result = Session().run(source)
    timeline = drawn_calls(result["calls"], graph_from_json(result["trace"]))[-1]["timeline"]
    with using(lang):
        exported, _, _ = export_captions(source)
        assert step_captions(result["trace"], timeline) == exported
        shown = step_captions(view.trace, view.timeline)
        title = localized(view.timeline["error"])["title"]
    started = len(call.order)  # SinBackward0 began, its hook raised before it sent anything
    assert call.order[-1].name() == "SinBackward0" and call.order[-1] not in call.snapshots[-1]["sent"]
    assert len(shown) == len(exported) == started + 1
    assert shown[:-1] == exported[:-1]
    words = ("第 {n} / {n} 步：✗ SinBackward0 (c) 报错：{title}" if lang == "zh_CN"
             else "Step {n} of {n}: ✗ SinBackward0 (c) raised: {title}")
    assert shown[started] == (words.format(n=started, title=title), str(call.raised))
    assert exported[started][0].startswith(words.format(n=started, title=""))
    assert exported[started][1] == str(call.raised)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_pass_where_torch_ran_no_node_says_no_step_ran(lang):
    """``autograd.grad(loss, [loss])`` hands the seed back and a root's tensor hook raises
    before the first node: torch runs no node (its hooks on ``loss.grad_fn`` see nothing),
    so no caption says "after step 0 of 0"."""
    def plain(raises: bool):
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        loss = (a * 2).sum()
        ran = []
        loss.grad_fn.register_prehook(lambda go: ran.append("pre"))
        loss.grad_fn.register_hook(lambda gi, go: ran.append("post"))
        if raises:
            loss.register_hook(lambda g: (_ for _ in ()).throw(ValueError("root hook says no")))
        return loss, ran

    loss, ran = plain(False)
    torch.autograd.grad(loss, [loss], retain_graph=True)
    assert ran == []  # torch ran no node
    view = gradstep.step_through(loss, timeline=gradstep.backward(loss, mode="grad", inputs=[loss]))
    with using(lang):
        done = step_captions(view.trace, view.timeline)
    assert done == [("一步也没有运行：这一遍反向传播结束了" if lang == "zh_CN"
                     else "No step ran: the pass is done", "")]

    loss, ran = plain(True)
    with pytest.raises(ValueError, match="root hook says no") as raised:
        loss.backward(retain_graph=True)
    assert ran == []
    view = gradstep.step_through(loss)  # the pass gradstep.backward(loss) records
    assert view.timeline["steps"] == []
    with using(lang):
        shown = step_captions(view.trace, view.timeline)
        title = localized(view.timeline["error"])["title"]
    words = "一步也没有运行：torch 报错：{}" if lang == "zh_CN" else "No step ran: torch raised: {}"
    assert shown == [(words.format(title), str(raised.value))]
