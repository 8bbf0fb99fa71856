"""The one source of truth for step state, against torch at every step of every lesson.

Each lesson runs twice: through gradstep's Session, and with plain torch and hooks
written in tests/step_oracle.py. For every snippet backward call drawn on the graph
and every K, ``PassHistory.state(P, K)`` must say what torch had: node states,
saved buffers freed or alive, the gradient on each edge, each leaf's ``.grad``.
"""

from __future__ import annotations

import threading

import pytest
import torch

from gradstep.autograd.graph_json import graph_from_json
from gradstep.autograd.session import Session
from gradstep.autograd.step_state import GRAD_NOT_KNOWN, PassHistory, drawn_calls, is_tensor_entry
from gradstep.examples import EXAMPLES
from tests.step_oracle import (
    OracleRun,
    assert_matches,
    drawn_ids,
    expected_state,
    oracle_run,
    saved_freed,
)

ERROR_SNIPPETS = {
    "non_scalar": "import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward()\n",
    "inplace": ("import torch\nx = torch.ones(3, requires_grad=True)\na = x.sigmoid()\n"
                "a.mul_(2)\na.sum().backward()\n"),
    "unused_input": ("import torch\nx = torch.ones(3, requires_grad=True)\n"
                     "z = torch.ones(3, requires_grad=True)\ny = (x * 2).sum()\n"
                     "torch.autograd.grad(y, [x, z])\n"),
    "twice": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
              "y = (x * x).sin()\nout = (y * 3).sum()\nout.backward(retain_graph=True)\n"
              "out.backward()\nout.backward()\n"),
}
# A custom Function's node is its ctx: the user's forward may set names that torch's nodes
# use (an AccumulateGrad's variable, name(), the hook methods) on it.
CTX_NAMES = ("import torch\n\nclass Scale(torch.autograd.Function):\n"
             "    @staticmethod\n    def forward(ctx, x):\n"
             "        ctx.variable, ctx.name, ctx.register_hook, ctx.register_prehook = 3.0, 's', None, None\n"
             "        ctx.save_for_backward(x)\n        return x * x * 3.0\n\n"
             "    @staticmethod\n    def backward(ctx, g):\n        (x,) = ctx.saved_tensors\n"
             "        return g * 2 * x * ctx.variable\n\n"
             "x = torch.tensor([1., -2.], requires_grad=True)\ny = Scale.apply(x.sin())\n"
             "out = (y * 2).sum()\nout.backward()\n")
# a tensor hook that doubles its gradient in place (core8: the pass showed no steps)
TENSOR_HOOK_IN_PLACE = ("import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                        "y = x * 3\ny.register_hook(lambda g: g.mul_(2))\n"
                        "x.register_hook(lambda g: g.add_(1))\nloss = y.exp().sum()\n"
                        "loss.backward()\n")
# what users try after the retain_graph lessons: a graph two losses share (the first call's
# root joins the drawn graph while the snippet holds its loss), both in one call, a
# sub-graph's autograd.grad freeing only what it ran (allow_unused: None returned),
# create_graph with retain_graph=False,
# a custom Function's saved tensors, saved-tensor hooks that print, and a
# post-accumulate-grad hook that raises after AccumulateGrad wrote .grad
VARIANTS = {
    "shared_two_losses": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                          "h = x.sigmoid()\nl1 = (h * 2).sum()\nl2 = h.tanh().sum()\n"
                          "l1.backward(retain_graph=True)\nl2.backward()\nl1.backward()\n"),
    "two_losses_one_call": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                            "h = x.cos()\na = (h * 2).sum()\nb = (h * h).sum()\n"
                            "torch.autograd.backward([a, b])\ntorch.autograd.backward([a, b])\n"),
    "grad_sub_graph": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\nh = x.exp()\n"
                       "out = (h.sin() * x).sum()\ntorch.autograd.grad(out, h, retain_graph=True)\n"
                       "torch.autograd.grad(out, h)\nout.backward()\n"),
    "create_graph_freed": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                           "y = (x.sin() * x).sum()\ny.backward(create_graph=True, retain_graph=False)\n"
                           "y.backward()\n"),
    "custom_saved_twice": ("import torch\n\nclass M(torch.autograd.Function):\n"
                           "    @staticmethod\n    def forward(ctx, a, b):\n"
                           "        ctx.save_for_backward(a, b)\n        return a * b * 2.0\n\n"
                           "    @staticmethod\n    def backward(ctx, g):\n        a, b = ctx.saved_tensors\n"
                           "        return g * b * 2.0, g * a * 2.0\n\n"
                           "a = torch.tensor([1., 2.], requires_grad=True)\n"
                           "b = torch.tensor([3., 4.], requires_grad=True)\nout = M.apply(a.exp(), b).sum()\n"
                           "out.backward(retain_graph=True)\ntorch.autograd.grad(out, b)\nout.backward()\n"),
    "saved_tensor_hooks": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                           "with torch.autograd.graph.saved_tensors_hooks(lambda t: print('pack') or t,\n"
                           "                                              lambda t: print('unpack') or t):\n"
                           "    y = (x.exp() * x).sum()\n"
                           "y.backward(retain_graph=True)\ny.backward()\ny.backward()\n"),
    "grad_allow_unused": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                          "z = torch.tensor([5.], requires_grad=True)\nh = x.exp()\nout = (h * h).sum()\n"
                          "torch.autograd.grad(out, [h, z], allow_unused=True, retain_graph=True)\n"
                          "torch.autograd.grad([out], [x], grad_outputs=[torch.tensor(2.)])\n"
                          "out.backward()\n"),
    "post_accumulate_hook_raises": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                                    "x.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(10))\n"
                                    "y = (x.exp() * x).sum()\ny.backward(retain_graph=True)\n"),
    # the hook on one of three leaves raises in the 2nd of three passes (a leaf with a .grad
    # before the first): later passes accumulate onto what the raising pass left
    "post_accumulate_hook_raises_once": (
        "import torch\na = torch.tensor([1., 2.], requires_grad=True)\n"
        "b = torch.tensor([3., 4.], requires_grad=True)\nc = torch.tensor([5., 6.], requires_grad=True)\n"
        "a.grad = torch.ones(2)\nran = []\n\ndef hook(p):\n    p.grad.mul_(10)\n    ran.append(1)\n"
        "    if len(ran) == 2:\n        raise RuntimeError('hook on b')\n\n\n"
        "b.register_post_accumulate_grad_hook(hook)\ny = (a.exp() * b * c.sin()).sum()\n"
        "y.backward(retain_graph=True)\ntry:\n    y.backward(retain_graph=True)\n"
        "except RuntimeError as e:\n    print(e)\ny.backward(retain_graph=True)\n"
        "print(a.grad, b.grad, c.grad)\n"),
    # w.grad made under inference_mode (no version counter: reading its _version raises),
    # in a pass that does not accumulate into w: the pass is recorded, w.grad shown
    "inference_grad": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                       "w = torch.tensor([3., 4.], requires_grad=True)\n"
                       "with torch.inference_mode():\n    w.grad = torch.ones(2)\n"
                       "out = (x.exp() * w).sum()\nout.backward(inputs=[x])\nprint(x.grad, w.grad)\n"),
    # a hook's swap of w.grad that torch refuses (a .grad held by its leaf): nothing moved,
    # w.grad is known at every step (the swap let go of gradstep's note of it for good,
    # and w's .grad was shown as not known before its AccumulateGrad; review of the merge)
    "refused_swap_of_grad": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                             "w = torch.tensor([3., 4.], requires_grad=True)\n"
                             "w.grad = torch.ones(2)\nother = torch.zeros(2)\nh = x * w\n"
                             "def hook(g):\n    try:\n        torch.utils.swap_tensors(w.grad, other)\n"
                             "    except RuntimeError as e:\n        print('refused')\n\n\n"
                             "h.register_hook(hook)\nout = h.exp().sum()\nout.backward()\n"
                             "print(w.grad)\n"),
}
# a hook that writes a leaf's .grad during the pass, before that leaf's AccumulateGrad ran
# (replaced where it was None; zeroed in place), after it ran (a later node's hook), and in
# a pass that does not accumulate into it: torch's .grad at the steps in between is not
# known to gradstep, which shows none there (and torch's everywhere else)
GRAD_WRITTEN = {
    "hook_sets_grad": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                       "w = torch.tensor([3., 4.], requires_grad=True)\nh = x * w\n"
                       "def hook(g):\n    w.grad = torch.tensor([7., 7.])\n\n\n"
                       "h.register_hook(hook)\nout = h.exp().sum()\nout.backward()\nprint(w.grad)\n"),
    "hook_zeroes_grad": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                         "w = torch.tensor([3., 4.], requires_grad=True)\nh = x * w\n"
                         "h.register_hook(lambda g: w.grad.mul_(0) if w.grad is not None else None)\n"
                         "out = (h * x).sum()\nout.backward(retain_graph=True)\nout.backward()\n"
                         "print(w.grad)\n"),
    "hook_after_accumulate": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                              "w = torch.tensor([3., 4.], requires_grad=True)\ne = x.exp()\n"
                              "e.register_hook(lambda g: w.grad.add_(100))\n"
                              "out = (e * w).sum()\nout.backward()\nprint(w.grad)\n"),
    "hook_grad_not_accumulated": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                                  "w = torch.tensor([3., 4.], requires_grad=True)\n"
                                  "h = x * 2\n"
                                  "h.register_hook(lambda g: setattr(w, 'grad', g * 5 if w.grad is None else w.grad + g))\n"
                                  "out = (h.exp() * w).sum()\n"
                                  "out.backward(retain_graph=True)\n"
                                  "torch.autograd.backward(out, inputs=[x])\nprint(w.grad)\n"),
    "hook_replaces_inference_grad": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                                     "w = torch.tensor([3., 4.], requires_grad=True)\n"
                                     "with torch.inference_mode():\n    w.grad = torch.ones(2)\n"
                                     "    other = torch.full((2,), 5.)\nh = x * 2\n"
                                     "h.register_hook(lambda g: setattr(w, 'grad', other))\n"
                                     "out = (h.exp() * w).sum()\nout.backward(inputs=[x])\n"
                                     "print(w.grad)\n"),
    # w.grad swapped (torch.utils.swap_tensors) and put back: the same object at the same
    # version (0, the other tensor's counter), its data another's: moved, though the check
    # at its AccumulateGrad finds it unchanged (swaps tells grad_marks; review of the merge)
    "hook_swaps_grad_back": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                             "w = torch.tensor([3., 4.], requires_grad=True)\n"
                             "w.grad = torch.zeros(2)\nt = torch.ones(2)\nh = x * w\n"
                             "def hook(g):\n    old = w.grad\n    w.grad = None\n"
                             "    torch.utils.swap_tensors(old, t)\n    w.grad = old\n\n\n"
                             "h.register_hook(hook)\nout = h.exp().sum()\nout.backward()\n"
                             "print(w.grad)\n"),
    "custom_backward_sets_grad": ("import torch\n\nclass B(torch.autograd.Function):\n"
                                  "    @staticmethod\n    def forward(ctx, a):\n        return a * 2\n\n"
                                  "    @staticmethod\n    def backward(ctx, g):\n"
                                  "        w.grad = torch.full((2,), 9.)\n        return g * 2\n\n\n"
                                  "x = torch.tensor([1., 2.], requires_grad=True)\n"
                                  "w = torch.tensor([1., 2.], requires_grad=True)\n"
                                  "out = (B.apply(x.exp()) * w).sum()\nout.backward()\nprint(w.grad)\n"),
    # writes no version counter counts (statehunt3): through ``.data`` (a new storage, and
    # in place), in place into an inference-mode .grad inside inference_mode, and 0 made -0
    # (equal to 0, printed as -0.; a .grad not contiguous): each leaf's .grad bits are noted as the pass begins
    "hook_sets_grad_data": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                            "w = torch.tensor([3., 4.], requires_grad=True)\nw.grad = torch.zeros(2)\n"
                            "h = x * w\ndef hook(g):\n    w.grad.data = torch.tensor([7., 7.])\n\n\n"
                            "h.register_hook(hook)\nout = h.exp().sum()\nout.backward()\nprint(w.grad)\n"),
    "hook_zeroes_grad_data": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                              "w = torch.tensor([3., 4.], requires_grad=True)\nw.grad = torch.ones(2)\n"
                              "h = x * w\nh.register_hook(lambda g: w.grad.data.mul_(0))\n"
                              "out = h.exp().sum()\nout.backward(retain_graph=True)\n"
                              "out.backward(inputs=[x])\nprint(w.grad)\n"),
    "hook_inference_in_place": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                                "w = torch.tensor([3., 4.], requires_grad=True)\n"
                                "with torch.inference_mode():\n    w.grad = torch.ones(2)\nh = x * 2\n"
                                "def hook(g):\n    with torch.inference_mode():\n        w.grad.mul_(0)\n\n\n"
                                "h.register_hook(hook)\nout = (h.exp() * w).sum()\n"
                                "out.backward(inputs=[x])\nprint(w.grad)\n"),
    # the same under a TorchFunctionMode of the snippet's (the hooks that read unseen)
    "hook_zeroes_grad_data_in_mode": ("import torch\nfrom torch.overrides import TorchFunctionMode\n"
                                      "x = torch.tensor([1., 2.], requires_grad=True)\n"
                                      "w = torch.tensor([3., 4.], requires_grad=True)\n\n\n"
                                      "class M(TorchFunctionMode):\n"
                                      "    def __torch_function__(self, func, types, args=(), kwargs=None):\n"
                                      "        return func(*args, **(kwargs or {}))\n\n\n"
                                      "w.grad = torch.ones(2)\nh = x * w\n"
                                      "h.register_hook(lambda g: w.grad.data.mul_(0))\n"
                                      "out = h.exp().sum()\nwith M():\n    out.backward()\nprint(w.grad)\n"),
    "hook_negates_zero_grad_data": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                                    "w = torch.tensor([3., 4.], requires_grad=True)\n"
                                    "w.grad = torch.zeros(4)[::2]\nh = x * 2\n"
                                    "h.register_hook(lambda g: w.grad.data.mul_(-1))\n"
                                    "out = (h.exp() * w).sum()\nout.backward(inputs=[x])\nprint(w.grad)\n"),
    # an inference-mode w.grad given a normal tensor's .data by a hook: it has no version
    # counter, its views raise (this branch's first bits check raised "Inference tensors do
    # not track version counter" into the pass, where torch raises its own a step later)
    "inference_grad_given_data": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                                  "w = torch.tensor([3., 4.], requires_grad=True)\n"
                                  "with torch.inference_mode():\n    w.grad = torch.ones(2)\n"
                                  "h = x * w\nh.register_hook(lambda g: setattr(w.grad, 'data', torch.zeros(2)))\n"
                                  "out = h.exp().sum()\ntry:\n    out.backward()\n"
                                  "except RuntimeError as e:\n    print(str(e)[:30])\n"),
}
# passes whose state the hunt of statehunt3 compared at every step (each passed, but the
# loop's alias, which failed: ``for p in (w, b)`` left ``p`` naming ``b``, the pass's .grad
# of b was filed under "p" while the graph labels it "b": the window showed b.grad None)
HUNTED = {
    "loop_alias_optimizer_in_backward": (
        "import torch\nw = torch.tensor([1., 2.], requires_grad=True)\n"
        "b = torch.tensor([0.5], requires_grad=True)\n"
        "opts = {p: torch.optim.SGD([p], lr=0.1) for p in (w, b)}\n"
        "def step(p):\n    opts[p].step()\n    opts[p].zero_grad(set_to_none=False)\n"
        "for p in (w, b):\n    p.register_post_accumulate_grad_hook(step)\n"
        "out = ((w * 3 + b) ** 2).sum()\nout.backward(retain_graph=True)\nout.backward()\n"
        "print(w, b, w.grad, b.grad)\n"),
    "retain_true_false_third": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                                "y = (x.exp() * x.sin()).sum()\ny.backward(retain_graph=True)\n"
                                "y.backward()\ntry:\n    y.backward()\nexcept RuntimeError as e:\n"
                                "    print(str(e)[:20])\n"),
    "save_on_cpu_three": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                          "with torch.autograd.graph.save_on_cpu():\n    y = (x.exp() * x.sin()).sum()\n"
                          "y.backward(retain_graph=True)\ny.backward()\ntry:\n    y.backward()\n"
                          "except RuntimeError as e:\n    print(str(e)[:20])\n"),
    "version_error_after_retained": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                                     "a = x.exp()\nb = a.sin()\nd = (x.cos() * 3).tanh()\n"
                                     "out = (b + d).sum()\nout.backward(retain_graph=True)\na.mul_(2)\n"
                                     "try:\n    out.backward()\nexcept RuntimeError as e:\n"
                                     "    print(str(e)[:20])\nprint(x.grad)\n"),
    # two leaves whose names the snippet swapped: the graph labels each by its first name,
    # the pass labelled each by the name holding it now, so the window showed a's .grad on
    # b and b's on a (review of statehunt3: frame_labels took a first name only where no
    # other leaf held it)
    "swapped_names": ("import torch\na = torch.tensor([1., 2.], requires_grad=True)\n"
                      "b = torch.tensor([3., 4., 5.], requires_grad=True)\na, b = b, a\n"
                      "out = a.sum() * 2 + b.sum() * 3\nout.backward()\nprint(a.grad, b.grad)\n"),
    # a loop variable that names a parameter now and another leaf first: the pass labelled
    # both "q", the graph q and bias (review of the session's merges)
    "loop_name_is_another_first": ("import torch\ntorch.manual_seed(0)\n"
                                   "q = torch.tensor([1., 2.], requires_grad=True)\n"
                                   "net = torch.nn.Linear(2, 1)\nkeep = q\n"
                                   "for q in net.parameters():\n    pass\n"
                                   "out = (net(keep.unsqueeze(0)) * 7).sum() + (keep * 5).sum()\n"
                                   "out.backward()\nprint(keep.grad, net.bias.grad)\n"),
    # a loop variable over a module's parameters: the pass labelled the last one "p", the
    # graph "bias", and the window found no .grad for bias
    "loop_over_parameters": ("import torch\nnet = torch.nn.Linear(2, 1)\n"
                             "for p in net.parameters():\n    p.data.fill_(0.5)\n"
                             "out = net(torch.ones(3, 2)).sum()\nout.backward()\n"
                             "print(net.weight.grad, net.bias.grad)\n"),
    # two leaves first bound to one name: the graph labelled both "w", and the pass neither,
    # so the window showed no .grad for them; now "w" and "w (2)" in both
    "name_first_for_two_leaves": ("import torch\nw = torch.ones(2, requires_grad=True)\na = w\n"
                                  "w = torch.full((2,), 2., requires_grad=True)\n"
                                  "out = (a * 3 + w * 5).sum()\nout.backward()\nprint(a.grad, w.grad)\n"),
    # a leaf held only by a list: the graph labelled it "leaf", the pass "p"; now "ps[0]"
    "leaf_in_a_list": ("import torch\nps = [torch.ones(2, requires_grad=True), torch.zeros(1)]\n"
                       "out = (ps[0] * 3).sum()\nout.backward()\nfor p in ps:\n    print(p.grad)\n"),
    # a list's leaves then given plain names before a pass (review of names2: ps[0], ps[1]
    # there, where main said w and b); a name bound after a pass keeps the pass's ps[0]
    "list_then_names": ("import torch\nparams = [torch.ones(2, requires_grad=True), "
                        "torch.full((1,), 2., requires_grad=True)]\nw, b = params\n"
                        "out = (w * 3).sum() + b.sum() * 5\nout.backward()\nqs = [w * 1]\n"
                        "ks = [torch.ones(2, requires_grad=True)]\n(ks[0] * 2).sum().backward()\n"
                        "k = ks[0]\nout = (w * k * 7).sum()\nout.backward()\nprint(w.grad, b.grad, k.grad)\n"),
    # a tensor without grad that keeps its name: the new leaf is x, not x (2) (review of names2)
    "data_then_leaf_same_name": ("import torch\nx = torch.ones(2)\nd = x\n"
                                 "x = torch.full((2,), 3., requires_grad=True)\nout = (x * d).sum()\n"
                                 "out.backward()\nprint(x.grad)\n"),
    "nan_grad_kept": ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                      "w = torch.tensor([3., 4.], requires_grad=True)\n"
                      "w.grad = torch.tensor([float('nan'), -0.])\nout = (x * w).sum()\n"
                      "out.backward(inputs=[x], retain_graph=True)\nout.backward()\nprint(w.grad)\n"),
}
# statehunt4: passes torch stops or prunes (inputs=, a hook or a custom Function's backward
# raising, a hook returning the wrong shape, autograd.grad freeing the graph), each then
# called again: the nodes such a pass does not run keep their buffers, and read "not run
# in this pass" (said_state), not "not run yet"
STOPPED = {
    "inputs_skip_then_full_retain": (
        "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
        "w = torch.tensor([3., 4.], requires_grad=True)\nh = w.sin() * w\n"
        "out = (x.exp() * h).sum()\nout.backward(inputs=[x], retain_graph=True)\n"
        "out.backward(inputs=[w])\ntry:\n    out.backward()\nexcept RuntimeError as e:\n"
        "    print(str(e)[:20])\n"),
    "hook_raises_retain": (
        "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\nh = x.exp()\nn = [0]\n"
        "def hk(g):\n    n[0] += 1\n    if n[0] == 1:\n        raise ValueError('hook')\n"
        "h.register_hook(hk)\ny = (h.sin() * h).sum()\ntry:\n"
        "    y.backward(retain_graph=True)\nexcept ValueError as e:\n    print(e)\n"
        "y.backward()\n"),
    "custom_backward_raises": (
        "import torch\nclass F(torch.autograd.Function):\n    @staticmethod\n"
        "    def forward(ctx, a):\n        ctx.save_for_backward(a)\n        return a * 2\n"
        "    @staticmethod\n    def backward(ctx, g):\n        raise ValueError('nope')\n\n"
        "x = torch.tensor([1., 2.], requires_grad=True)\nh = x.exp()\n"
        "y = (F.apply(h) * h.sin()).sum()\ntry:\n    y.backward()\n"
        "except ValueError as e:\n    print(e)\ntry:\n    y.backward()\n"
        "except RuntimeError as e:\n    print(str(e)[:20])\n"),
    "hook_wrong_shape": (
        "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\nh = x.exp()\n"
        "h.register_hook(lambda g: torch.ones(3))\ny = (h * x.sin()).sum()\ntry:\n"
        "    y.backward()\nexcept RuntimeError as e:\n    print(str(e)[:20])\n"
        "print(x.grad)\n"),
    # the gradient penalty's pass over g (its root let go: not drawn) freed the buffers of
    # the graph create_graph built, drawn under g; y.backward() then showed them alive
    "create_graph_pass_not_drawn": (
        "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\ny = (x.exp() * x).sum()\n"
        "g, = torch.autograd.grad(y, x, create_graph=True)\n(g * g).sum().backward()\n"
        "try:\n    y.backward()\nexcept RuntimeError as e:\n    print(str(e)[:20])\n"
        "print(x.grad)\n"),
    # a thread's call (not drawn) freed its ExpBackward0, whose key (sequence number 0, from
    # that thread's counter) is also the key of a's ExpBackward0, built in another thread:
    # its frees are not carried to the drawn nodes (CallGraph.threads)
    "thread_keys": (
        "import threading\nimport torch\nx = torch.tensor([1., 2.], requires_grad=True)\n\n\n"
        "def build():\n    global a, b\n    a = x.exp()\n    b = x.cos()\n\n\n"
        "def work():\n    z = (x.exp() * x).sum()\n    z.backward()\n\n\n"
        "for job in (build, work):\n    t = threading.Thread(target=job)\n    t.start()\n"
        "    t.join()\nc = (b * b).sum()\nc.backward()\ny = (a * b).sum()\nprint(x.grad)\n"),
    # the same gradient penalty after a thread the snippet started (which built nodes of
    # its own numbers): the penalty's frees were carried by node key, so none was once a
    # thread started, and y.backward()'s steps showed the three MulBackward0 alive where
    # torch had freed them (statehunt5: told by their metadata dicts, CallGraph.marks)
    "create_graph_pass_not_drawn_thread": (
        "import threading\nimport torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
        "t = threading.Thread(target=lambda: (x * 2).sum())\nt.start()\nt.join()\n"
        "y = (x.exp() * x).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\n"
        "(g * g).sum().backward()\ntry:\n    y.backward()\nexcept RuntimeError as e:\n"
        "    print(str(e)[:20])\nprint(x.grad)\n"),
    # create_graph passes drawn with the graph they build (statehunt5: which of its nodes
    # exist at each step, assert_built_as_torch)
    "create_graph_built_per_step": (
        "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
        "y = (x.exp() * x.sin()).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\n"
        "p = (g * g).sum()\np.backward()\nprint(x.grad)\n"),
    "backward_create_graph_built_per_step": (
        "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\nw = torch.tensor(3.0, requires_grad=True)\n"
        "y = (x.exp() * w * x.sin()).sum()\ny.backward(create_graph=True)\ngx = x.grad\n"
        "q = (gx * gx).sum()\nx.grad = None\nq.backward()\nprint(x.grad, w.grad)\n"),
    "grad_then_backward": (
        "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
        "y = (x.exp() * x.sin()).sum()\ng, = torch.autograd.grad(y, x)\ntry:\n"
        "    y.backward()\nexcept RuntimeError as e:\n    print(str(e)[:20])\n"),
}
# the same keys the other way round: the main thread's call (not drawn) freed its
# ExpBackward0 (0) before the thread built a's (0): a's read freed where torch had it
# alive (rev-statehunt4: the call was recorded before the thread started; the thread
# builds nodes until its counter reaches the main thread's: w makes k at least 1, the
# one node the loop must build)
THREAD_KEYS_CALL_FIRST = (
    "import threading\nimport torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
    "w = x * 1\ne = x.exp()\nk = e.grad_fn._sequence_nr()\nz = (e * x).sum()\nz.backward()\n"
    "del z, e\n\n\ndef build():\n    global a, b\n"
    "    while (x * 1).grad_fn._sequence_nr() + 1 < k:\n        pass\n"
    "    a = x.exp()\n    b = x.cos()\n\n\n"
    "t = threading.Thread(target=build)\nt.start()\nt.join()\n"
    "c = (b * b).sum()\nc.backward()\ny = (a * b).sum()\nprint(x.grad)\n")
# a thread's own graph numbered as the drawn one: the thread's x.exp() * 3 and the main
# thread's e, e * 3 take the same numbers and names (the thread builds nodes until its
# counter reaches e's). The thread's z.backward() was drawn on y's graph, its steps shown
# running y's nodes and freeing e's and y's buffers, which torch never touched (statehunt5)
THREAD_SAME_KEYS = (
    "import threading\nimport torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
    "w = x * 1\ne = x.exp()\nk = e.grad_fn._sequence_nr()\n\n\ndef work():\n"
    "    global zk\n    while (x * 1).grad_fn._sequence_nr() + 1 < k:\n        pass\n"
    "    z = (x.exp() * 3).sum()\n    zk = z.grad_fn._sequence_nr()\n    z.backward()\n\n\n"
    "t = threading.Thread(target=work)\nt.start()\nt.join()\ny = (e * 3).sum()\n"
    "y.backward()\nprint(x.grad)\n")
LESSONS = {e.id: e.path.read_text(encoding="utf-8") for e in EXAMPLES}
CASES = {**LESSONS, **ERROR_SNIPPETS, **VARIANTS, **GRAD_WRITTEN, **HUNTED, **STOPPED,
         "ctx_names": CTX_NAMES, "tensor_hook_in_place": TENSOR_HOOK_IN_PLACE}


def shown_by(state) -> dict:
    """Return a StepState in the oracle's terms."""
    freed = {node: any(e["freed"] for e in entries if is_tensor_entry(e))
             for node, entries in state.saved.items() if any(is_tensor_entry(e) for e in entries)}
    return {"node_states": state.node_states, "freed": freed, "edge_grads": state.edge_grads,
            "leaf_grads": state.leaf_grads, "not_known": not_known(state)}


def not_known(state) -> set:
    """Return the leaves whose ``.grad`` ``state`` does not show (``PassIndex.leaf_grad``)."""
    return set(state.leaf_grads_after) - set(state.leaf_grads)


def assert_counts_match(index, k: int, state, expected: dict) -> None:
    """The counts the Saved panel and the captions read at each step (O(log n), not the
    whole state) are those of the whole state, and the freed count is torch's."""
    assert index.freed_count(k) == len(state.freed)
    with_saved = [n for n, entries in state.saved.items() if any(is_tensor_entry(e) for e in entries)]
    assert index.saved_tensor_nodes() == len(with_saved)
    assert state.freed <= set(with_saved)  # "X of Y nodes with saved tensors": X counts no other
    assert state.freed == {n for n in with_saved if expected["freed"].get(n)}
    assert index.error_at(k) == state.error


def assert_said_states(index, k: int, torch_call, ids: dict) -> None:
    """A node not run after ``k`` steps reads "not run yet" (``pending``) only where torch
    runs it at a later step of the call; else "not run in this pass" (``not_run``): torch
    skips it (``inputs=``, a branch ``autograd.grad`` does not need) or stopped the pass,
    and at the end nothing runs any more (statehunt4: the hover text said "not run yet")."""
    later = {ids[fn] for fn in torch_call.order[k + 1:] if fn in ids}
    for node in ids.values():
        if index.node_state(node, k) == "pending":
            want = "pending" if node in later else "not_run"
            assert index.said_state(node, k) == want, (node, k, want)
        else:
            assert index.said_state(node, k) == index.node_state(node, k)


def gradstep_and_torch(source: str, filename: str):
    result = Session().run(source, filename=filename)
    oracle = oracle_run(source, filename)
    return result, oracle


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_step_of_every_call_is_what_torch_had(case):
    assert_every_step_is_torchs(case, CASES[case])


def assert_every_step_is_torchs(case: str, source: str) -> dict:
    """Run ``source`` under gradstep and plainly; every step of every drawn call shows what
    torch had (a leaf's .grad may be not known only in ``GRAD_WRITTEN``'s); return the result."""
    filename = f"/lessons/{case}.py"
    result, oracle = gradstep_and_torch(source, filename)
    assert (result["error"] is None) == (oracle.error is None), result["error"]
    if result["trace"] is None:  # nothing was built for the differentiated tensor
        assert all(not c.nodes for c in oracle.calls), case
        return
    graph = graph_from_json(result["trace"])
    calls = drawn_calls(result["calls"], graph)
    ids = drawn_ids(oracle, result["trace"], result["root_name"], {c["index"] for c in calls})
    labels = {n: a["label"] for n, a in graph.nodes(data=True) if a["kind"] == "leaf"}
    history = PassHistory(graph, [c["timeline"] for c in calls])
    assert calls or not oracle.calls
    for p, call in enumerate(calls):
        torch_call = oracle.calls[call["index"]]
        steps = call["timeline"]["steps"]
        assert [s["node"] for s in steps] == [ids[fn] for fn in torch_call.order]
        # a create_graph call of a snippet that starts no thread has its marks, so the
        # checks below compare them (without them they compare nothing)
        assert (call.get("built_marks") is not None) == bool(
            steps and "create_graph=True" in (call.get("code") or "")
            and "threading" not in source), (case, call["line"])
        for k in range(len(steps) + 1):
            state = history.state(p, k)
            expected = expected_state(torch_call, k, ids, labels)
            assert_matches(shown_by(state), expected, f"{case} pass {p + 1} step {k}")
            assert case in GRAD_WRITTEN or case in BUDGET_SPENT or not not_known(state), (case, p, k)
            assert (state.current or {}).get("node") == expected["current"]
            assert_said_states(history.index(p), k, torch_call, ids)
            assert_counts_match(history.index(p), k, state, expected)
            assert_built_as_torch(call, k, graph, torch_call, ids)
        end = history.state(p, len(steps))
        assert (end.error is not None) == (torch_call.raised is not None)
        if torch_call.returned is not None:  # what autograd.grad gave back, in input order
            assert len(end.returned) == len(torch_call.returned)
            for got, want in zip(end.returned, torch_call.returned):  # None: allow_unused
                assert got is None if want is None else got == pytest.approx(want.tolist())
        else:
            assert end.returned is None
    return result


def assert_built_as_torch(call: dict, k: int, graph, torch_call, ids: dict) -> None:
    """A create_graph call's ``built_marks`` say, after ``k`` steps, that the drawn nodes
    numbered at or past its mark were not built yet: those torch had not numbered yet (its
    counter then, in the plain run), and none its gradients then led to (statehunt5)."""
    marks = call.get("built_marks")
    if not marks:
        return
    snap = torch_call.snapshots[min(k, len(torch_call.snapshots) - 1)]
    said = {n for n, seq in graph.nodes(data="seq") if seq is not None and seq >= marks[k]}
    torch_unbuilt = {node for fn, node in ids.items()
                     if type(fn).__name__ != "AccumulateGrad" and fn._sequence_nr() >= snap["seq"]}
    assert said == torch_unbuilt, (call["line"], k, said, torch_unbuilt)
    assert not said & {ids[fn] for fn in snap["made"] if fn in ids}


def test_failing_call_stops_at_the_node_torch_raised_in():
    source = LESSONS["retain_graph_error"]
    result, oracle = gradstep_and_torch(source, "/lessons/retain_graph_error.py")
    graph = graph_from_json(result["trace"])
    calls = drawn_calls(result["calls"], graph)
    assert [c["line"] for c in calls] == [10, 13]
    history = PassHistory(graph, [c["timeline"] for c in calls])
    second = history.index(1)
    failing = second.steps[second.error_step]["node"]
    assert graph.nodes[failing]["name"] == "SoftmaxBackward0"
    at_start = history.state(1, 0)
    # freed by the first call before the second began, as torch says; not run in this
    # call yet, so pending, and no gradient has left it
    assert at_start.node_states[failing] == "pending"
    assert all(e["freed"] for e in at_start.saved[failing] if is_tensor_entry(e))
    assert failing in at_start.freed and not any(e[0] == failing for e in at_start.edge_grads)
    end = history.state(1, second.count)
    assert end.node_states[failing] == "error" and end.error["kind"] == "freed_buffers"
    assert history.state(1, second.error_step).error is None  # not raised yet


def test_autograd_grad_leaves_dot_grad_none_and_returns_the_gradient():
    source = LESSONS["mse_autograd_grad"]
    result, oracle = gradstep_and_torch(source, "/lessons/mse_autograd_grad.py")
    graph = graph_from_json(result["trace"])
    (call,) = drawn_calls(result["calls"], graph)
    end = PassHistory(graph, [call["timeline"]]).state(0, 10**6)
    assert oracle.namespace["w"].grad is None and end.leaf_grads == {"w": None}
    (want,) = oracle.calls[0].returned
    assert end.returned == [pytest.approx(want.tolist())] and end.returned_inputs == ["w"]


@pytest.mark.parametrize("case", ["twice", "post_accumulate_hook_raises",
                                  "post_accumulate_hook_raises_once", *GRAD_WRITTEN])
def test_incremental_changes_rebuild_the_whole_state(case):
    source = CASES[case]
    result = Session().run(source, filename=f"/x/{case}.py")
    graph = graph_from_json(result["trace"])
    history = PassHistory(graph, [c["timeline"] for c in drawn_calls(result["calls"], graph)])
    for p in range(len(history)):
        index = history.index(p)
        n = index.count
        pairs = [(k, k + 1) for k in range(n)] + [(k + 1, k) for k in range(n)] + [(0, n), (n, 0)]
        for a, b in pairs:
            shown = index.state(a)
            change = index.changes(a, b)
            states = {**shown.node_states, **change.node_states}
            saved = {**shown.saved, **change.saved}
            edges = {**shown.edge_grads, **change.edge_grads}
            edges = {e: g for e, g in edges.items() if g is not None}
            want = index.state(b)
            assert states == want.node_states and saved == want.saved, (p, a, b)
            assert edges == want.edge_grads, (p, a, b)
            leaves = {**shown.leaf_grads, **change.leaf_grads}  # (...: not known now)
            assert {k: g for k, g in leaves.items() if g is not GRAD_NOT_KNOWN} == want.leaf_grads, (p, a, b)
            bare = index.changes(a, b, edges=False)  # what the window asks for
            assert bare.edge_grads == {} and (bare.node_states, bare.saved, bare.leaf_grads) == (
                change.node_states, change.saved, change.leaf_grads)


def test_backward_json_calls_carry_dot_grad_and_what_autograd_grad_returned():
    source = LESSONS["softmax_jacobian"]
    result, oracle = gradstep_and_torch(source, "/lessons/softmax_jacobian.py")
    for call, torch_call in zip(result["calls"], oracle.calls):
        assert call["timeline"]["leaf_grads"] == {"a": None}  # .grad as torch leaves it
        assert oracle.namespace["a"].grad is None
        assert call["returned_inputs"] == ["a"]
        assert call["returned"] == [pytest.approx(t.tolist()) for t in torch_call.returned]



def test_edge_gradients_come_in_the_order_the_nodes_ran():
    """Not in a set's order, which changes with each process's string hashing (a picture's
    gradient labels are drawn in this order)."""
    session = Session()
    result = session.run("x = torch.ones(3, requires_grad=True)\n"
                         "w = torch.full((3,), 2.0, requires_grad=True)\n"
                         "y = ((x * w).exp() + x.sin() * w).sum()\n")
    graph = graph_from_json(result["trace"])
    index = PassHistory(graph, [session.backward()]).index(0)
    end = index.state(index.count)
    ran = dict.fromkeys(step["node"] for step in index.steps)
    expected = [edge for node in ran for edge in index.edges_from(node) if edge in end.edge_grads]
    assert len(end.edge_grads) > 2 and list(end.edge_grads) == expected


TWO_PASSES_CHANGED = ("import torch\nx = torch.ones(3, requires_grad=True)\nb = x * 2\n"
                      "c = b.sin()\nout = c.sum()\nout.backward(retain_graph=True)\n"
                      "b.add_(1)\nb.add_(1)\ntry:\n    out.backward()\n"
                      "except RuntimeError as exc:\n    print(exc)\n")


def test_a_saved_tensor_changed_in_place_shows_torchs_versions_where_it_was_changed():
    """Pass 1 ran SinBackward0 (torch checked: unchanged then), pass 2 raised in it:
    changed in place, the versions torch's own error gives, at every step of pass 2."""
    import re

    result, oracle = gradstep_and_torch(TWO_PASSES_CHANGED, "/x/changed.py")
    raised = oracle.calls[1].raised
    found = re.search(r"is at version (\d+); expected version (\d+) instead", str(raised))
    assert found and (int(found[1]), int(found[2])) == (2, 0)
    graph = graph_from_json(result["trace"])
    sin = next(n for n, a in graph.nodes(data=True) if a["name"] == "SinBackward0")
    calls = drawn_calls(result["calls"], graph)
    history = PassHistory(graph, [c["timeline"] for c in calls])
    assert len(calls) == 2
    for k in range(history.index(0).count + 1):
        (entry,) = history.state(0, k).saved[sin]
        assert "changed_in_place" not in entry and entry["freed"] is False
    for k in range(history.index(1).count + 1):
        (entry,) = history.state(1, k).saved[sin]
        assert (entry.get("changed_in_place"), entry.get("version"),
                entry.get("saved_version")) == (True, 2, 0)
    (traced,) = graph.nodes[sin]["saved"]  # the trace: the state the snippet left
    assert (traced["version"], traced["saved_version"]) == (2, 0)


def test_a_changed_saved_tensor_freed_by_a_pass_reads_freed():
    """Once torch released a node's buffers, its error is "freed", not the version's."""
    import networkx as nx

    graph = nx.MultiDiGraph()
    graph.add_node("n0", saved=[{"name": "self", "shape": [3], "freed": False,
                                 "changed_in_place": True, "version": 1, "saved_version": 0}])
    timeline = {"steps": [], "freed_before": ["n0"]}
    (entry,) = PassHistory(graph, [timeline]).state(0, 0).saved["n0"]
    assert entry == {"name": "self", "shape": [3], "freed": True}


LATER_PASS_UNCHANGED = ("import torch\nx = torch.ones(3, requires_grad=True)\nb = x * 2\n"
                        "c = b.sin()\nd = b.cos()\nout = c.sum() + d.sum()\n"
                        "d.sum().backward(retain_graph=True)\nout.backward(retain_graph=True)\n"
                        "b.add_(1)\ntry:\n    out.backward()\nexcept RuntimeError as exc:\n"
                        "    print(exc)\n")


def test_a_saved_tensor_a_later_pass_used_unchanged_was_unchanged_before():
    """Pass 1 did not run SinBackward0, pass 2 ran it without an error (torch checked its
    saved b: unchanged), then b.add_(1) and pass 3 raised: b was unchanged in pass 1 too
    (a version only grows), changed in pass 3 with torch's versions."""
    import re

    result, oracle = gradstep_and_torch(LATER_PASS_UNCHANGED, "/x/later.py")
    assert [c.raised is None for c in oracle.calls] == [True, True, False]
    found = re.search(r"is at version (\d+); expected version (\d+) instead",
                      str(oracle.calls[2].raised))
    graph = graph_from_json(result["trace"])
    sin = next(n for n, a in graph.nodes(data=True) if a["name"] == "SinBackward0")
    calls = drawn_calls(result["calls"], graph)
    history = PassHistory(graph, [c["timeline"] for c in calls])
    assert len(calls) == 3 and sin not in {s["node"] for s in calls[0]["timeline"]["steps"]}
    for p, changed in ((0, None), (1, None), (2, (int(found[1]), int(found[2])))):
        for k in range(history.index(p).count + 1):
            (entry,) = history.state(p, k).saved[sin]
            assert ((entry["version"], entry["saved_version"]) if entry.get("changed_in_place")
                    else None) == changed, (p, k, entry)


CHANGED_BETWEEN_PASSES = ("import torch\nx = torch.ones(3, requires_grad=True)\nb = x * 2\n"
                          "c = b.sin()\ne = x.exp()\nout = c.sum() + e.sum()\n"
                          "torch.autograd.grad(out, e, retain_graph=True)\nb.add_(1)\n"
                          "torch.autograd.grad(out, e, retain_graph=True)\nb.add_(1)\n")


def _versions_torch_saw(source: str) -> list:
    """Run ``source`` in plain torch, reading SinBackward0's saved ``b`` through torch's own
    getter right after each ``autograd.grad`` call: None where torch took it, else its
    versions."""
    import re

    import torch

    seen = []

    def probe():
        try:
            _ = env["c"].grad_fn._saved_self
        except RuntimeError as exc:
            found = re.search(r"is at version (\d+); expected version (\d+) instead", str(exc))
            return int(found[1]), int(found[2])
        return None

    original = torch.autograd.grad

    def grad(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.append(probe())
        return out

    env: dict = {}
    torch.autograd.grad = grad
    try:
        exec(compile(source, "/x/between.py", "exec"), env)
    finally:
        torch.autograd.grad = original
    return seen


def test_each_pass_shows_a_saved_tensor_as_it_was_at_that_pass():
    """Neither pass (``autograd.grad(out, e)``) runs SinBackward0; b changes after each: pass 1 began with b unchanged,
    pass 2 with b at version 1 (saved at 0), and the snippet left it at version 2. Each
    pass shows its own time's state, as torch's getter reads it then (core8)."""
    assert _versions_torch_saw(CHANGED_BETWEEN_PASSES) == [None, (1, 0)]
    result = Session().run(CHANGED_BETWEEN_PASSES, filename="/x/between.py", root="out")
    graph = graph_from_json(result["trace"])
    sin = next(n for n, a in graph.nodes(data=True) if a["name"] == "SinBackward0")
    calls = drawn_calls(result["calls"], graph)
    history = PassHistory(graph, [c["timeline"] for c in calls])
    assert len(calls) == 2 and all(sin not in {s["node"] for s in c["timeline"]["steps"]}
                                   for c in calls)
    for p, changed in ((0, None), (1, (1, 0))):
        for k in range(history.index(p).count + 1):
            (entry,) = history.state(p, k).saved[sin]
            assert ((entry["version"], entry["saved_version"]) if entry.get("changed_in_place")
                    else None) == changed, (p, k, entry)
    (traced,) = graph.nodes[sin]["saved"]  # the trace: the state the snippet left
    assert (traced["version"], traced["saved_version"]) == (2, 0)


@pytest.mark.parametrize("case", sorted(GRAD_WRITTEN))
def test_a_grad_the_snippets_hook_wrote_is_not_shown_where_gradstep_cannot_tell(case):
    """Before statehunt2 each step before w's AccumulateGrad showed the .grad it found there
    (the hook's), and each step after it the one AccumulateGrad left: at some step torch
    had another. Now those steps show no w.grad; every step shown is torch's (the test
    above), the end shows what the pass left, and the steps not shown are not all."""
    result, oracle = gradstep_and_torch(GRAD_WRITTEN[case], f"/x/{case}.py")
    graph = graph_from_json(result["trace"])
    ids = drawn_ids(oracle, result["trace"], result["root_name"])
    labels = {n: a["label"] for n, a in graph.nodes(data=True) if a["kind"] == "leaf"}
    calls = drawn_calls(result["calls"], graph)
    history = PassHistory(graph, [c["timeline"] for c in calls])
    hidden = 0
    for p, call in enumerate(calls):
        index = history.index(p)
        for k in range(index.count + 1):
            if "w" in not_known(history.state(p, k)):
                hidden += 1
                assert 0 <= k < index.count
        end = history.state(p, index.count)
        want = oracle.calls[call["index"]].snapshots[-1]["grads"]
        (w_grad,) = [g for fn, g in want.items() if labels.get(ids.get(fn)) == "w"]
        assert end.leaf_grads["w"] == pytest.approx(w_grad.tolist())
    assert hidden


def _passes_of(joined: dict) -> list:
    """Return each pass of a reply that joined several (``combine_passes``) as a timeline of
    its own, from what the reply says of it (``passes``)."""
    out = []
    for summary in joined["passes"]:
        first, count = summary["first_step"], summary["steps"]
        out.append({"mode": joined["mode"], "steps": joined["steps"][first:first + count],
                    "freed_before": joined["freed_before"] if not out else [],
                    "leaf_grads": summary["leaf_grads"], "error": summary["error"],
                    "returned": summary["returned"], "freed": summary["freed"],
                    "grad_moved": summary.get("grad_moved", [])})
    return out


def test_a_reply_of_several_passes_tells_each_pass_what_it_moved():
    """``gradstep backward`` joins the snippet's passes into one reply; its ``grad_moved``
    was one list for them all, so a pass that changed no .grad hid w's at its steps and one
    that did was not told apart. Each pass of the reply now carries its own: read back from
    the reply alone, every step of every pass is what torch had."""
    from gradstep.commands.backward import snippet_passes

    source = GRAD_WRITTEN["hook_zeroes_grad"]  # pass 1: w.grad None, nothing moved; pass 2: zeroed
    result, oracle = gradstep_and_torch(source, "/x/joined.py")
    joined = snippet_passes(result["calls"])
    assert "grad_moved" not in joined
    assert [s.get("grad_moved") for s in joined["passes"]] == [
        c["timeline"].get("grad_moved") for c in result["calls"]] == [None, ["w"]]
    graph = graph_from_json(result["trace"])
    ids = drawn_ids(oracle, result["trace"], result["root_name"])
    labels = {n: a["label"] for n, a in graph.nodes(data=True) if a["kind"] == "leaf"}
    history = PassHistory(graph, _passes_of(joined))
    for p, torch_call in enumerate(oracle.calls):
        for k in range(history.index(p).count + 1):
            state = history.state(p, k)
            assert_matches(shown_by(state), expected_state(torch_call, k, ids, labels), (p, k))
            assert p == 1 or not not_known(state), (p, k)
    assert not_known(history.state(1, 0)) == {"w"} and not not_known(history.state(0, 0))


SUBCLASS_LEAF = ("import torch\n\nclass T(torch.Tensor):\n    pass\n\n\n"
                 "x = torch.tensor([1., 2.], requires_grad=True)\n"
                 "w = torch.tensor([3., 4.]).as_subclass(T).requires_grad_()\n"
                 "w.grad = torch.ones(2)\nh = x * 2\nh.register_hook(lambda g: w.grad.mul_(0))\n"
                 "out = (h.exp() * w).sum()\nout.backward(inputs=[x])\nprint(w.grad)\n")


def test_a_subclass_leafs_grad_a_hook_changed_is_told():
    """A tensor subclass's leaf was not noted (its reads would run its code): its ``.grad``
    zeroed by a hook in a pass that does not accumulate into it was not in ``grad_moved``,
    though torch's changed during the pass. Its ``.grad`` is read below its
    ``__torch_function__`` now."""
    result, oracle = gradstep_and_torch(SUBCLASS_LEAF, "/x/subclass.py")
    assert result["output"] == "tensor([0., 0.])\n"
    (torch_call,) = oracle.calls
    (w_node,) = [fn for fn in torch_call.nodes if type(fn).__name__ == "AccumulateGrad"
                 and type(fn.variable).__name__ == "T"]
    first, last = torch_call.snapshots[0]["grads"][w_node], torch_call.snapshots[-1]["grads"][w_node]
    assert not torch.equal(first, last)  # torch's w.grad changed during the pass
    from tests.step_oracle import reachable

    ids = {fn: f"n{i}" for i, fn in enumerate(reachable(torch_call.roots))}  # (graph_ids')
    (call,) = result["calls"]
    assert call["timeline"]["grad_moved"] == [ids[w_node]]  # (unlabelled: a subclass)


# past ``grad_marks.NOTED_BYTES`` a .grad's bits are not copied as the pass begins (a model's
# every .grad copied held +1x its gradients for the pass: review of statehunt3): w (8 bytes)
# fits a budget of 8 whichever leaf comes first, v (12 bytes) does not. w's .grad changed
# through .data (no version moves: seen by its bits), v's in place (its version moves: seen
# by the identity and version check it falls back to)
BUDGET_SPENT = {"grad_budget_spent": (
    "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\n"
    "w = torch.tensor([3., 4.], requires_grad=True)\nv = torch.tensor([5., 6., 7.], requires_grad=True)\n"
    "w.grad = torch.ones(2)\nv.grad = torch.ones(3)\nh = x * 2\n"
    "def hook(g):\n    w.grad.data.mul_(0)\n    v.grad.mul_(0)\n\n\n"
    "h.register_hook(hook)\nout = (h.exp() * w).sum() + (h.sum() * v).sum()\n"
    "out.backward(inputs=[x])\nprint(w.grad, v.grad)\n")}


def test_a_grad_past_the_copy_budget_falls_back_to_its_identity_and_version(monkeypatch):
    """Only ``NOTED_BYTES`` of .grad bits are copied as a pass begins; a .grad past them is
    checked by identity and version (main's check), and every step is still torch's."""
    from gradstep.autograd import grad_marks

    monkeypatch.setattr(grad_marks, "NOTED_BYTES", 8)
    source = BUDGET_SPENT["grad_budget_spent"]
    namespace: dict = {}
    exec(source.split("h = x")[0], namespace)  # (the leaves and their .grads, as the pass begins)
    marks = grad_marks.GradMarks()
    for name in ("v", "w"):
        marks.add(name, namespace[name])
    marks.begin()
    bits = {mark[0]: mark[4] for mark in marks.pending.values()}
    marks.drop()
    assert torch.equal(bits["w"], namespace["w"].grad.view(torch.int32)) and bits["v"] is None
    result = assert_every_step_is_torchs("grad_budget_spent", source)
    (call,) = result["calls"]
    assert sorted(call["timeline"]["grad_moved"]) == ["v", "w"]


def test_two_leaves_first_bound_to_one_name_have_their_own_labels_and_grads():
    # ``a = w; w = new leaf``: the graph labelled both leaves ``w`` (their first name) and
    # the pass labelled neither, so the window showed no .grad for them. The later one is
    # ``w (2)`` in the graph and in the pass, and each shows torch's .grad.
    source = HUNTED["name_first_for_two_leaves"]
    result = assert_every_step_is_torchs("name_first_for_two_leaves", source)
    graph = graph_from_json(result["trace"])
    history = PassHistory(graph, [call["timeline"] for call in drawn_calls(result["calls"], graph)])
    index = history.index(0)
    namespace = {}
    exec(source, namespace)  # the plain run: torch's a.grad and w.grad
    by_label = {attrs["label"]: n for n, attrs in graph.nodes(data=True) if attrs["kind"] == "leaf"}
    assert sorted(by_label) == ["w", "w (2)"]
    shown = history.state(0, index.count).leaf_grads
    assert torch.equal(torch.tensor(shown["w"]), namespace["a"].grad)
    assert torch.equal(torch.tensor(shown["w (2)"]), namespace["w"].grad)
    assert not torch.equal(namespace["a"].grad, namespace["w"].grad)  # told apart


def test_a_leaf_held_only_by_a_list_is_named_by_its_place_in_the_graph_and_the_pass():
    result = assert_every_step_is_torchs("leaf_in_a_list", HUNTED["leaf_in_a_list"])
    graph = graph_from_json(result["trace"])
    assert [a["label"] for _, a in graph.nodes(data=True) if a["kind"] == "leaf"] == ["ps[0]"]
    (call,) = drawn_calls(result["calls"], graph)
    assert list(call["timeline"]["leaf_grads"]) == ["ps[0]"]


def test_a_lists_leaves_take_plain_names_bound_before_a_pass_and_no_grad_tensor_takes_a_name():
    result = assert_every_step_is_torchs("list_then_names", HUNTED["list_then_names"])
    graph = graph_from_json(result["trace"])
    leaves = sorted(a["label"] for _, a in graph.nodes(data=True) if a["kind"] == "leaf")
    assert leaves == ["ks[0]", "w"]  # k = ks[0] came after the pass that filed ks[0]
    labelled = [sorted(call["timeline"]["leaf_grads"]) for call in result["calls"]]
    assert labelled == [["b", "w"], ["ks[0]"], ["ks[0]", "w"]]
    result = assert_every_step_is_torchs("data_then_leaf_same_name", HUNTED["data_then_leaf_same_name"])
    graph = graph_from_json(result["trace"])
    assert [a["label"] for _, a in graph.nodes(data=True) if a["kind"] == "leaf"] == ["x"]


def test_a_pass_whose_steps_are_not_shown_says_no_node_was_not_run():
    """``is_grads_batched=True`` runs the pass under vmap: torch runs its nodes, but gradstep
    shows no steps (``no_steps``). "not run in this pass" would then be false: such a pass
    keeps the plain pending state (said_state, statehunt4)."""
    source = ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\ny = x.exp() * 3\n"
              "torch.autograd.grad(y, x, torch.eye(2), is_grads_batched=True)\n")
    result = Session().run(source, filename="/x/batched.py")
    graph = graph_from_json(result["trace"])
    (call,) = drawn_calls(result["calls"], graph)
    assert call["timeline"]["no_steps"] == "batched" and not call["timeline"]["steps"]
    index = PassHistory(graph, [call["timeline"]]).index(0)
    assert {index.said_state(n, 0) for n in graph.nodes} == {"pending"}
    # its one position, "0 of 0 steps done", is also its end: torch freed the buffers there
    # (the step showed them alive, statehunt4)
    namespace: dict = {}
    exec(compile(source, "/x/batched.py", "exec"), namespace)  # plain torch (the oracle's hooks
    # clone each gradient, which vmap's batching refuses)
    ids = drawn_ids(OracleRun(namespace, [], None), result["trace"], result["root_name"])
    torch_freed = {ids[fn] for fn in ids if saved_freed(fn)}
    assert torch_freed == {n for n, a in graph.nodes(data=True) if a["name"] != "AccumulateGrad"}
    state = index.state(0)
    assert state.freed == torch_freed and index.freed_count(0) == len(torch_freed)


def in_fresh_thread(work):
    """Return ``work()`` run in a fresh thread (raising what it raised, in pytest's thread):
    the snippet's counter there starts low, as in a fresh process, so a thread the snippet
    starts builds nodes until its own counter reaches the main thread's in a few steps, not
    the whole test run's count."""
    outcome: list = []

    def run():
        try:
            outcome.append(work())
        except BaseException as exc:
            outcome.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def test_a_call_before_a_thread_does_not_free_that_threads_nodes():
    result = in_fresh_thread(
        lambda: assert_every_step_is_torchs("thread_keys_call_first", THREAD_KEYS_CALL_FIRST))
    assert result["calls"]


def test_a_threads_call_on_a_graph_of_the_same_numbers_is_not_drawn_on_the_drawn_graph():
    def both():
        result = assert_every_step_is_torchs("thread_same_keys", THREAD_SAME_KEYS)
        return result, oracle_run(THREAD_SAME_KEYS, "/lessons/thread_same_keys.py").namespace

    result, plain = in_fresh_thread(both)
    # torch: the thread's root has the number of y's root (the keys collide)
    assert plain["zk"] == plain["y"].grad_fn._sequence_nr()
    assert [c["line"] for c in result["calls"]] == [15, 22]
    assert [c["drawn"] for c in result["calls"]] == [False, True]
