"""A new user's walk through the window, saved as screenshots (1280x800) to look at.

    .venv/bin/python tests/ui/walk_screenshots.py OUTDIR [LANGUAGE] [EXAMPLE,...] [WxH] [--present]

WxH: the window's size (default 1280x800; 1920x1080 for a projector: the pictures then go
to ``OUTDIR/LANGUAGE_WxH``). ``--present``: presentation mode instead, on a screen of WxH
(the offscreen screen is made that size; ``QT_SCALE_FACTOR=1.5`` for a projector's 150%),
every step of every pass, ``present_<example>_p<pass>_s<k>.png`` (and with torch's whole
message shown, ``..._whole.png``), the captions in ``captions.txt``; pictures go to
``OUTDIR/present_LANGUAGE_WxH``. LANGUAGE: a code of ``gradstep.i18n.LANGUAGES`` (default zh_CN). An example may be a
snippet file (``path/model.py``: opened as File › Open does; its pictures are named by its
stem, and Diagnose is pressed first: ``<stem>_diagnose.png``). For each example (default:
softmax_jacobian, retain_graph_error, mse_backward, cifar_cnn, and two snippets of its
own: ``inplace``, an in-place change of a saved tensor, ``bignum``, gradients of
500.5, ``printopts`` and ``printsci`` (``torch.set_printoptions``: two decimals; six in
scientific notation, the numbers to compare with what the snippet printed), ``optstep``, an
SGD step after the pass, and ``hookstep``, one in a hook during the pass: its leaf selected,
``<example>_written_leaf_values.png``; ``hookgrad``, a hook that writes a leaf's ``.grad``
during the pass: that leaf selected where it is not known, ``<example>_grad_not_known_values.png``;
a saved tensor a hook changed at a step no probe
bounds, ``hookwrite``/``prehookwrite``: ``<example>_during_<panel>.png``) it runs the snippet, then for each backward pass at its first, middle and last step
saves the window with the Values and the Saved panels raised
(``<example>_p<pass>_<first|mid|last>_<panel>.png``); a model is also folded one level
(``<example>_folded.png``). ``tooltips.txt`` holds, at each of those steps, the hover
texts of the first edges and nodes and the Saved panel's rows: compare their numbers
with what the snippet printed (``Output``). Then the stale-panel walk: a run with NaN,
diagnosed, then another run (``stale_after_nan_diagnose.png``: the new run's diagnosis,
not the old one's marks), then a run that builds no graph (``stale_no_graph_*.png``, and Zero grads pressed:
``stale_no_graph_zero_grads.png``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ui.language_screenshots import NAN_SNIPPET, run_and_wait, run_example  # noqa: E402
from tests.ui.screenshots import settle, wait_for  # noqa: E402

SNIPPETS = {
    "inplace": "import torch\na = torch.tensor([1.0, 2.0], requires_grad=True)\n"
               "b = a.sigmoid()\nb.mul_(2)  # changes the output SigmoidBackward0 saved\n"
               "b.sum().backward()\n",
    "bignum": "import torch\nw = torch.tensor([500.5, 1.0], requires_grad=True)\n"
              "y = (w.pow(2) / 2).sum()\ny.backward()\nprint(w.grad)\n",
    "optstep": "import torch\nfrom torch import nn\ntorch.manual_seed(0)\nlin = nn.Linear(3, 2)\n"
               "opt = torch.optim.SGD(lin.parameters(), lr=0.5)\n"
               "loss = lin(torch.ones(1, 3)).square().sum()\nprint(lin.bias)\n"
               "loss.backward()\nopt.step()  # writes the leaves after the pass\nprint(lin.bias)\n",
    "hookstep": "import torch\nfrom torch import nn\ntorch.manual_seed(0)\nlin = nn.Linear(3, 2)\n"
                "opt = torch.optim.SGD(lin.parameters(), lr=0.5)\n"
                "lin.bias.register_post_accumulate_grad_hook(lambda t: opt.step())\n"
                "loss = lin(torch.ones(1, 3)).square().sum()\nprint(lin.bias)\n"
                "loss.backward()  # the hook steps during the pass\nprint(lin.bias)\n",
    # a create_graph pass builds g's graph step by step: its boxes get their saved pills at
    # the step torch builds them (statehunt5)
    "cgsteps": "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
               "y = (x.exp() * x.sin()).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\n"
               "p = (g * g).sum()\np.backward()\nprint(x.grad)\n",
    # a thread's graph numbered as the drawn one: its z.backward() is not drawn on y's graph
    "threadkeys": "import threading\nimport torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                  "w = x * 1\ne = x.exp()\nk = e.grad_fn._sequence_nr()\n\n\ndef work():\n"
                  "    while (x * 1).grad_fn._sequence_nr() + 1 < k:\n        pass\n"
                  "    z = (x.exp() * 3).sum()\n    z.backward()\n\n\n"
                  "t = threading.Thread(target=work)\nt.start()\nt.join()\ny = (e * 3).sum()\n"
                  "y.backward()\nprint(x.grad)\n",
    # no backward call: the window runs its own pass, in which the hook steps the bias
    "ownhookstep": "import torch\nfrom torch import nn\ntorch.manual_seed(0)\nlin = nn.Linear(3, 2)\n"
                   "opt = torch.optim.SGD(lin.parameters(), lr=0.5)\n"
                   "lin.bias.register_post_accumulate_grad_hook(lambda t: opt.step())\n"
                   "loss = lin(torch.ones(1, 3)).square().sum()\n",
    # a hook writes w.grad before w's AccumulateGrad runs: torch had None until then, and
    # the steps before it show none (not known)
    "hookgrad": "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                "w = torch.tensor([3., 4.], requires_grad=True)\nh = x * w\n"
                "h.register_hook(lambda g: setattr(w, 'grad', torch.tensor([7., 7.])))\n"
                "out = h.exp().sum()\nout.backward()\nprint(w.grad)\n",
    # the same through .data (no version counter moves: the bits noted as the pass began tell)
    "hookgraddata": "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                    "w = torch.tensor([3., 4.], requires_grad=True)\nw.grad = torch.ones(2)\n"
                    "h = x * w\nh.register_hook(lambda g: w.grad.data.mul_(0))\n"
                    "out = h.exp().sum()\nout.backward()\nprint(w.grad)\n",
    # an optimizer step per parameter in its post-accumulate-grad hook, put on in a loop
    # whose variable p is left naming b: b's .grad is b's in the Values and Leaves panels
    "loopalias": "import torch\nw = torch.tensor([1., 2.], requires_grad=True)\n"
                 "b = torch.tensor([0.5], requires_grad=True)\n"
                 "opts = {p: torch.optim.SGD([p], lr=0.1) for p in (w, b)}\n"
                 "def step(p):\n    opts[p].step()\n    opts[p].zero_grad(set_to_none=False)\n\n\n"
                 "for p in (w, b):\n    p.register_post_accumulate_grad_hook(step)\n"
                 "out = ((w * 3 + b) ** 2).sum()\nout.backward(retain_graph=True)\nout.backward()\n"
                 "print(b, b.grad)\n",
    # a hook writes a saved tensor during the pass: torch refuses SinBackward0 later
    "hookwrite": "import torch\na = torch.ones(3, requires_grad=True)\nb = a * 2\nc = b.sin()\n"
                 "d = c * 3\ne = d.exp()\nf = e * 5\ne.register_hook(lambda g: b.add_(1))\n"
                 "f.sum().backward()\n",
    "prehookwrite": "import torch\na = torch.ones(3, requires_grad=True)\nb = a * 2\nc = b.sin()\n"
                    "d = c * 3\ne = d.exp()\nf = e * 5\n"
                    "e.grad_fn.register_prehook(lambda g: (b.add_(1), None)[1])\nf.sum().backward()\n",
    # two leaves first bound to one name (w, then w (2)) and a leaf a list holds (ps[0]):
    # each has its own label and .grad in the graph and the Leaves panel
    "samename": "import torch\nw = torch.ones(2, requires_grad=True)\na = w\n"
                "w = torch.full((2,), 2., requires_grad=True)\n"
                "ps = [torch.tensor([0.5, 1.5], requires_grad=True)]\n"
                "out = (a * 3 + w * 5 + ps[0] * 7).sum()\nout.backward()\n"
                "print(a.grad, w.grad, ps[0].grad)\n",
    "printopts": "import torch\ntorch.set_printoptions(precision=2)\n"
                 "x = torch.tensor([1.23456, -0.5, 2.0], requires_grad=True)\n"
                 "w = torch.tensor([0.333333, 1.5, 3.14159], requires_grad=True)\n"
                 "y = (x * w).tanh()\nprint(x, w, y)\ny.sum().backward()\nprint(w.grad)\n",
    "printsci": "import torch\ntorch.set_printoptions(precision=6, sci_mode=True)\n"
                "x = torch.tensor([1.23456, -0.5, 2.0], requires_grad=True)\n"
                "w = torch.tensor([0.333333, 1.5, 3.14159], requires_grad=True)\n"
                "y = (x * w).tanh()\nprint(x, w, y)\ny.sum().backward()\nprint(w.grad)\n",
}
EXAMPLES = ["softmax_jacobian", "retain_graph_error", "mse_backward", "cifar_cnn", "inplace",
            "bignum", "optstep", "hookstep", "printopts", "printsci", "hookwrite", "prehookwrite",
            "ownhookstep", "hookgrad"]


def run_snippet(app, window, name: str) -> None:
    if name.endswith(".py") and Path(name).is_file():  # a file of one's own (its folder on sys.path)
        window.open_file(str(Path(name).resolve()))
        run_and_wait(app, window)
        return
    if name not in SNIPPETS:
        run_example(app, window, name)
        return
    window.editor.setPlainText(SNIPPETS[name])
    run_and_wait(app, window)


def hover_texts(window, log) -> None:
    model = window.model
    for edge in list(model.graph.edges(keys=True))[:12]:
        tip = window.follower.edge_tooltip(edge)
        if tip:
            print("EDGE", edge, tip.replace("\n", " | "), file=log)
    for node in list(model.graph.nodes)[:8]:
        tip = window.follower.node_tooltip(node, model.node(node))
        print("NODE", node, tip.replace("<br>", " | "), file=log)
    print("SAVED", window.saved_panel_rows(), file=log)


def walk(app, window, out: Path, name: str, log) -> None:
    run_snippet(app, window, name)
    if name.endswith(".py"):  # a file: its pictures are named by its stem, and Diagnose run
        name = Path(name).stem
        diagnose_shot(app, window, out, name, log)
    model = window.model
    if window.graph_view.max_depth():
        window.fold_to_depth(1)
        settle(app, 400)
        window.grab().save(str(out / f"{name}_folded.png"))
        window.fold_to_depth(None)
    for p in range(len(model.timelines)):
        model.choose_timeline(p)
        n = model.step_count
        for where, k in (("first", 0), ("mid", n // 2), ("last", n)):
            model.set_step(k)
            settle(app, 250)
            print(f"-- {name} pass {p + 1} step {k} of {n}", file=log)
            hover_texts(window, log)
            for panel in ("values", "saved"):
                window.docks[panel].raise_()
                settle(app, 200)
                window.grab().save(str(out / f"{name}_p{p + 1}_{where}_{panel}.png"))
        window.docks["leaves"].raise_()  # every leaf's .grad after the pass: its columns
        settle(app, 200)
        window.grab().save(str(out / f"{name}_p{p + 1}_leaves.png"))
    if not model.timelines:
        window.grab().save(str(out / f"{name}_no_pass.png"))
    during_shot(app, window, out, name, log)
    not_known_shot(app, window, out, name, log)
    written = [n for n, attrs in model.graph.nodes(data=True)
               if attrs.get("written_after")] if model.graph is not None else []  # (no graph)
    if written:  # a leaf an optimizer step wrote during or after the pass: its box, Values, hover
        model.select(written[0])
        window.docks["values"].raise_()
        settle(app, 250)
        print(f"-- {name} leaf written during or after the pass", file=log)
        print("NODE", written[0], window.follower.node_tooltip(
            written[0], model.node(written[0])).replace("<br>", " | "), file=log)
        window.grab().save(str(out / f"{name}_written_leaf_values.png"))


def diagnose_shot(app, window, out: Path, name: str, log) -> None:
    """Press Diagnose; save the window with its panel raised (``<example>_diagnose.png``) and
    log the findings' messages (to compare with ``gradstep check FILE``)."""
    window.diagnose_view.diagnose()
    window.docks["diagnose"].raise_()
    settle(app, 600)
    diagnosis = getattr(window.diagnose_view, "diagnosis", None)
    for finding in getattr(diagnosis, "findings", None) or []:
        print("FINDING", getattr(finding, "message", finding), file=log)
    window.grab().save(str(out / f"{name}_diagnose.png"))


def during_shot(app, window, out: Path, name: str, log) -> None:
    """Select the first node with a saved tensor a hook changed during the pass at a step no
    probe bounds (``changed_during``: the slate pill), at the middle step of the last pass;
    save the Saved and Values panels (``<example>_during_<panel>.png``)."""
    model = window.model
    if not model.timelines:
        return
    model.set_step(model.step_count // 2)
    node = next((n for n in model.graph.nodes
                 if any(e.get("changed_during") for e in model.saved_of(n))), None)
    if node is None:
        return
    model.select(node)
    print(f"-- {name} saved tensor changed during the pass", file=log)
    print("SAVED", window.saved_panel_rows(), file=log)
    for panel in ("saved", "values"):
        window.docks[panel].raise_()
        settle(app, 250)
        window.grab().save(str(out / f"{name}_during_{panel}.png"))


def not_known_shot(app, window, out: Path, name: str, log) -> None:
    """Select the first leaf whose ``.grad`` the snippet's code changed during the last pass,
    at the first step it is not known (``grad_moved``); save the Values panel and its hover
    text (``<example>_grad_not_known_values.png``)."""
    from gradstep.autograd.step_state import GRAD_NOT_KNOWN

    model = window.model
    index = model.index() if model.timelines else None
    if index is None:
        return
    for k in range(index.count + 1):
        labels = [label for label in index.leaf_labels()
                  if index.leaf_grad(label, k) is GRAD_NOT_KNOWN]
        if labels:
            break
    else:
        return
    node = next(n for n, attrs in model.graph.nodes(data=True)
                if attrs.get("kind") == "leaf" and attrs.get("label") == labels[0])
    model.set_step(k)
    model.select(node)
    window.docks["values"].raise_()
    settle(app, 250)
    print(f"-- {name} {labels[0]}.grad not known at step {k}", file=log)
    print("NODE", node, window.follower.node_tooltip(node, model.node(node)).replace("<br>", " | "),
          file=log)
    window.grab().save(str(out / f"{name}_grad_not_known_values.png"))


def stale_walk(app, window, out: Path) -> None:
    window.editor.setPlainText(NAN_SNIPPET + "loss.backward()\n")
    window.files.mark_saved()
    window.run()
    wait_for(app, window.sigRunFinished)
    window.diagnose_view.diagnose()
    settle(app, 600)
    window.grab().save(str(out / "stale_nan_diagnose.png"))
    run_snippet(app, window, "mse_backward")
    window.docks["diagnose"].raise_()
    settle(app, 400)
    window.grab().save(str(out / "stale_after_nan_diagnose.png"))
    run_snippet(app, window, "requires_grad_error")
    for panel, dock in window.docks.items():
        dock.raise_()
        settle(app, 200)
        window.grab().save(str(out / f"stale_no_graph_{panel}.png"))
    window.docks["values"].raise_()
    window.step_bar.act_zero.trigger()  # nothing to zero: the status line says why
    settle(app, 200)
    window.grab().save(str(out / "stale_no_graph_zero_grads.png"))


def present_walk(app, window, out: Path, names: list[str]) -> None:
    """Presentation mode over each example: every step of every pass, and where the caption
    holds back part of torch's message, that message whole (the caption clicked)."""
    presentation = window.presentation
    with open(out / "captions.txt", "w", encoding="utf-8") as log:
        for name in names:
            run_snippet(app, window, name)
            presentation.enter("presentation")
            settle(app, 400)
            model = window.model
            for p in range(len(model.timelines)):
                model.choose_timeline(p)
                for k in range(model.step_count + 1):
                    model.set_step(k)
                    settle(app, 250)
                    stem = f"present_{name}_p{p + 1}_s{k}"
                    caption = presentation.caption
                    print(stem, caption.geometry().getRect(), window.size().toTuple(),
                          caption.font().pointSizeF(), repr(caption.text()), file=log)
                    window.grab().save(str(out / f"{stem}.png"))
                    if presentation.held_back():
                        presentation.toggle_whole_message()
                        settle(app, 250)
                        print(stem, "whole", caption.geometry().getRect(), file=log)
                        window.grab().save(str(out / f"{stem}_whole.png"))
                        presentation.toggle_whole_message()
            if not model.timelines:
                window.grab().save(str(out / f"present_{name}_no_pass.png"))
            presentation.leave()
            settle(app, 300)


def screen_of(size: tuple[int, int], folder: Path) -> None:
    """Make the offscreen platform's screen ``size`` (its own is 800x800: full screen is that)."""
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        return
    config = folder / f"screen_{size[0]}x{size[1]}.json"
    config.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": size[0],
                                               "height": size[1], "logicalDpi": 96, "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def main(argv: list[str]) -> int:
    present = "--present" in argv
    argv = [a for a in argv if a != "--present"]
    code = argv[1] if len(argv) > 1 else "zh_CN"
    names = argv[2].split(",") if len(argv) > 2 and argv[2] else EXAMPLES
    size = tuple(int(n) for n in argv[3].split("x")) if len(argv) > 3 else (1280, 800)
    folder = code if size == (1280, 800) and not present else f"{code}_{size[0]}x{size[1]}"
    out = Path(argv[0]) / (f"present_{folder}" if present else folder)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRADSTEP_STATE_DIR", str(Path(argv[0]) / f"state_{code}"))
    if present:
        screen_of(size, out)
    from PySide6 import QtWidgets

    from gradstep.none_guard import protect_none

    protect_none()  # PySide6 6.12 on Python 3.11 (importing gradstep.ui does not do it: a
    # walk over the 12 lessons ended in "none_dealloc" once its pictures were saved)
    from gradstep.autograd.session import Session
    from gradstep.ui.qt_language import remember_choice
    from gradstep.ui.qt_main_window import QtMainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    remember_choice(code)
    from gradstep.autograd import process_state

    # each snippet starts from this state, as in the window's kernel (a run in this
    # process would otherwise keep the one before's torch.set_printoptions: printopts'
    # two decimals in the next example's boxes and printed output)
    process_state.keep()
    window = QtMainWindow(Session)
    window.resize(*size)
    window.show()
    if present:
        present_walk(app, window, out, names)
    else:
        with open(out / "tooltips.txt", "w", encoding="utf-8") as log:
            for name in names:
                walk(app, window, out, name, log)
        stale_walk(app, window, out)
    print("saved", len(list(out.glob("*.png"))), "pictures and tooltips.txt in", out)
    window.files.mark_saved()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
