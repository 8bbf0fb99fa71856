"""Dynamo compiles with gradstep's global module hooks out of its sight."""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys

from torch.nn.modules import module as nn_module

from gradstep.autograd.compile_sight import _AfterImport, hooks_out_of_compiles
from gradstep.autograd.observe import Observer
from gradstep.autograd.session import Session

COMPILED = """\
import torch
from torch import nn

torch.manual_seed(0)
net = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 1))
compiled = torch.compile(net, backend="aot_eager")
x = torch.randn(3, 4)
for step in range(2):
    loss = compiled(x + step).pow(2).mean()
node = loss.grad_fn.next_functions[0][0].next_functions[0][0]
print(node.name(), [fn is None for fn, _ in node.next_functions])
print(dict(torch._dynamo.utils.counters["stats"]))
loss.backward()
print([round(p.grad.norm().item(), 5) for p in net.parameters()])
loss
"""


def test_a_compiled_module_takes_its_inputs_in_the_plain_runs_order(tmp_path):
    """The CompiledFunctionBackward's slots and dynamo's counters are python's, in a
    process where the run imports dynamo and again where it is loaded already (the
    window's kernel), and after the snippet's own torch._dynamo.reset(); before, x took
    slot 0 and every parameter moved one slot on."""
    path = tmp_path / "snippet.py"
    path.write_text(COMPILED, encoding="utf-8")
    plain = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                           check=True, timeout=300, env={**os.environ, "KINETO_LOG_LEVEL": "6"})
    assert "[False, False, True, False, False]" in plain.stdout  # x, no grad, in slot 2
    for source in (COMPILED, COMPILED.replace("compiled = ", "torch._dynamo.reset()\ncompiled = ")):
        import torch._dynamo  # noqa: F401  (the second run finds it loaded)

        torch._dynamo.reset()
        torch._dynamo.utils.counters.clear()
        result = Session().run(source, filename=str(path))
        assert result["ok"], result["error"]
        assert result["output"] == plain.stdout + plain.stderr


def test_the_hooks_are_out_of_the_dicts_only_while_dynamo_compiles():
    """Dynamo's compile callbacks set gradstep's hooks aside and put them back, also after
    the snippet's torch._dynamo.reset() (which empties the callback lists); the callbacks
    are gone after the block, the lists plain lists again."""
    import torch._dynamo

    handler = torch._dynamo.callback_handler
    seen = []
    with Observer().module_hooks():
        mine = list(nn_module._global_forward_hooks)
        assert mine
        for _ in range(2):
            with handler.install_callbacks(torch._dynamo.callback.CallbackTrigger.DYNAMO, "0/0"):
                seen.append(list(nn_module._global_forward_hooks))
            assert list(nn_module._global_forward_hooks) == mine
            assert len(handler.start_callbacks) == len(handler.end_callbacks) == 1
            torch._dynamo.reset()
    assert seen == [[], []]
    assert handler.start_callbacks == [] and type(handler.start_callbacks) is list
    assert handler.end_callbacks == [] and type(handler.end_callbacks) is list


def test_a_module_imported_in_the_block_is_watched_from_its_import(tmp_path, monkeypatch):
    """Where dynamo is not loaded yet, a finder watches for its import: the callbacks go in
    once the module ran, the finder leaves, and the module's loader is torch's own."""
    (tmp_path / "gradstep_fake_dynamo.py").write_text(
        "class Handler:\n"
        "    def __init__(self):\n"
        "        self.start_callbacks, self.end_callbacks = [], []\n"
        "    def register_start_callback(self, f):\n"
        "        self.start_callbacks.append(f)\n"
        "    def register_end_callback(self, f):\n"
        "        self.end_callbacks.append(f)\n"
        "callback_handler = Handler()\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("gradstep.autograd.compile_sight.DYNAMO", "gradstep_fake_dynamo")
    events = []

    @contextlib.contextmanager
    def set_aside():
        events.append("out")
        yield
        events.append("in")

    meta_path = list(sys.meta_path)
    with hooks_out_of_compiles(set_aside):
        assert isinstance(sys.meta_path[0], _AfterImport)
        fake = importlib.import_module("gradstep_fake_dynamo")
        assert sys.meta_path == meta_path
        assert "exec_module" not in vars(fake.__loader__)
        handler = fake.callback_handler
        handler.start_callbacks[0](None)
        handler.end_callbacks[0](None)
    assert events == ["out", "in"]
    assert not handler.start_callbacks and not handler.end_callbacks
    sys.modules.pop("gradstep_fake_dynamo", None)


def test_the_finder_leaves_when_the_module_was_never_imported():
    meta_path = list(sys.meta_path)
    with hooks_out_of_compiles(contextlib.nullcontext):
        pass
    assert sys.meta_path == meta_path


def test_a_finder_before_the_watch_is_asked_as_a_plain_import_asks_it(tmp_path, monkeypatch):
    """A snippet's own meta path finder in front of gradstep's is asked for the watched
    module as often as in an import without the watch (it was asked twice: the watch
    looked the module up again with ``importlib.util.find_spec``, from the front)."""
    (tmp_path / "gradstep_fake_dynamo.py").write_text("callback_handler = None\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("gradstep.autograd.compile_sight.DYNAMO", "gradstep_fake_dynamo")

    class Asked:
        def __init__(self):
            self.names = []

        def find_spec(self, fullname, path=None, target=None):
            self.names.append(fullname)

    def import_asked(watched: bool) -> list:
        sys.modules.pop("gradstep_fake_dynamo", None)
        asked = Asked()
        block = hooks_out_of_compiles(contextlib.nullcontext) if watched else contextlib.nullcontext()
        with block:
            sys.meta_path.insert(0, asked)
            try:
                importlib.import_module("gradstep_fake_dynamo")
            finally:
                sys.meta_path.remove(asked)
        sys.modules.pop("gradstep_fake_dynamo", None)
        return asked.names

    plain = import_asked(watched=False)
    assert "gradstep_fake_dynamo" in plain
    assert import_asked(watched=True) == plain
