"""run_snippet: namespace, root choice, names, output capture, cleanup, devices."""

from __future__ import annotations

import json
import os

import pytest
import torch
from torch.nn.modules import module as nn_module

from gradstep.autograd import devices
from gradstep.autograd.runner import run_snippet
from gradstep.policies.output_cap import IN_PROCESS_LIMIT


def test_namespace_has_torch_nn_and_f():
    result = run_snippet("w = torch.ones(1, requires_grad=True)\ny = F.relu(nn.Identity()(w) * 2)")
    ns = result.namespace
    assert ns["torch"] is torch and ns["nn"] is torch.nn and ns["F"] is torch.nn.functional
    assert result.error is None and result.roots[0] is ns["y"]


def test_the_snippet_is_main_while_it_runs_and_main_is_given_back(tmp_path):
    import sys

    host_main = sys.modules["__main__"]
    path = tmp_path / "snippet.py"
    source = ("import pickle, sys\nclass Box:\n    pass\n"
              "same = sys.modules['__main__'].__dict__ is globals()\n"
              "back = type(pickle.loads(pickle.dumps(Box()))) is Box\n"
              "y = torch.ones(1, requires_grad=True) * 2\n")
    path.write_text(source, encoding="utf-8")
    result = run_snippet(source, filename=str(path))
    assert result.error is None and result.namespace["same"] and result.namespace["back"]
    assert result.namespace["__file__"] == str(path.resolve())
    assert sys.modules["__main__"] is host_main  # a notebook keeps its own __main__
    failed = run_snippet("raise ValueError('x')")
    assert failed.error is not None and sys.modules["__main__"] is host_main


def test_a_relative_file_name_is_made_absolute_as_python_makes_it(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    source = "y = torch.ones(1, requires_grad=True) * 2\n"
    (tmp_path / "s.py").write_text(source, encoding="utf-8")
    result = run_snippet(source, filename="../s.py")  # python ../s.py: cwd + "/../s.py"
    assert result.namespace["__file__"] == str(tmp_path / "sub") + "/../s.py"


def test_a_relative_file_names_code_is_named_by_its_absolute_path(tmp_path, monkeypatch):
    """python ../s.py compiles the script as cwd + "/../s.py": warnings, tracebacks and
    inspect name that path; only sys.argv keeps the name as typed."""
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    source = "import sys\ndef f():\n    return 1\nargv = list(sys.argv)\ny = torch.ones(1, requires_grad=True) * 2\nf(2)\n"
    (tmp_path / "s.py").write_text(source, encoding="utf-8")
    result = run_snippet(source, filename="../s.py")
    ns = result.namespace
    assert ns["f"].__code__.co_filename == ns["__file__"] == str(tmp_path / "sub") + "/../s.py"
    assert ns["argv"] == ["../s.py"]
    assert result.error is not None and result.error["line"] == 6  # the snippet's own line


def test_sys_path_and_argv_are_pythons(tmp_path, monkeypatch):
    """python FILE puts the folder of FILE's real path first (a symbolic link resolved);
    python -c and python - put "" (the current folder, whichever it is then)."""
    (tmp_path / "real").mkdir()
    (tmp_path / "links").mkdir()
    source = "import sys\nfirst, argv = sys.path[0], list(sys.argv)\n"
    (tmp_path / "real" / "s.py").write_text(source, encoding="utf-8")
    (tmp_path / "links" / "l.py").symlink_to(tmp_path / "real" / "s.py")
    monkeypatch.chdir(tmp_path / "links")
    ns = run_snippet(source, filename="l.py").namespace
    assert (ns["first"], ns["argv"]) == (os.path.realpath(tmp_path / "real"), ["l.py"])
    ns = run_snippet(source, filename="<string>").namespace
    assert (ns["first"], ns["argv"]) == ("", ["-c"])
    ns = run_snippet(source, filename="<stdin>").namespace
    assert (ns["first"], ns["argv"]) == ("", ["-"])


def test_root_is_the_last_expression():
    source = "w = torch.ones(2, requires_grad=True)\na = w * 2\nb = w + 1\na"
    result = run_snippet(source)
    assert result.roots[0] is result.namespace["a"] and result.root_name == "a"


def test_last_expression_tuple_gives_several_roots():
    result = run_snippet("w = torch.ones(2, requires_grad=True)\na = w * 2\nb = w + 1\na, b")
    assert result.roots[0] is result.namespace["a"] and result.roots[1] is result.namespace["b"]


def test_root_falls_back_to_the_last_assigned_tensor_with_grad_fn():
    source = """
w = torch.ones(2, requires_grad=True)
loss = (w * 3).sum()
plain = torch.zeros(3)
n = 5
loss.backward()
"""
    result = run_snippet(source)
    assert result.error is None
    assert result.roots[0] is result.namespace["loss"] and result.root_name == "loss"


def test_root_by_name_and_several_names():
    source = "w = torch.ones(2, requires_grad=True)\na = w * 2\nb = a.sum()"
    one = run_snippet(source, root="a")
    assert len(one.roots) == 1 and one.roots[0] is one.namespace["a"]
    both = run_snippet(source, root="a, b")
    assert [r is both.namespace[n] for r, n in zip(both.roots, "ab")] == [True, True]
    assert both.root_name == "a,b"


def test_missing_or_unusable_root_is_bad_usage():
    source = "w = torch.ones(2, requires_grad=True)\na = w * 2\nn = 3"
    missing = run_snippet(source, root="nope")
    assert missing.exit_code == 2 and "nope" in missing.error["message"] and not missing.roots
    not_tensor = run_snippet(source, root="n")
    assert not_tensor.exit_code == 2 and "not a tensor" in not_tensor.error["message"]
    leaf = run_snippet(source, root="w")
    assert leaf.exit_code == 2 and "grad_fn" in leaf.error["message"]


OUTPUT_ROOTS = """\
import collections, dataclasses, types

@dataclasses.dataclass
class Output(collections.OrderedDict):  # HuggingFace's ModelOutput, in short
    loss: object = None
    hidden: object = None

    def __post_init__(self):
        for key, value in vars(self).items():
            dict.__setitem__(self, key, value)

    def __getitem__(self, key):
        reads.append(key)
        return dict.__getitem__(self, key)

    def __getattribute__(self, name):
        if not name.startswith("__"):
            reads.append(name)
        return object.__getattribute__(self, name)

reads = []
x = torch.ones(3, requires_grad=True)
out = Output(loss=(x * 2).sum(), hidden=((x * 3), (x * 4)))
outs = [out["hidden"][0], x * 5]
d = {"k": x.exp()}
ns = types.SimpleNamespace(loss=x.cos().sum(), hs=[x.sin()])  # a C type's __dict__ slot
reads.clear()
"""


@pytest.mark.parametrize("root", ["out.loss", "out['loss']", "out.hidden[1]", "outs[-1]",
                                  'd["k"]', "outs[0], out.loss", "ns.loss", "ns.hs[-1]"])
def test_a_root_held_in_a_top_level_value_is_what_python_reads_there(root):
    """``out = model(..., labels=y); out.loss.backward()`` binds no tensor at top level:
    ``--root out.loss`` was refused ("defines no variable named 'out.loss'"), so a
    HuggingFace snippet had nothing to draw. The root is the very tensor python's own
    expression gives, read without running the output object's code."""
    result = run_snippet(OUTPUT_ROOTS, root=root)
    assert result.error is None and result.exit_code == 0
    assert result.namespace["reads"] == []
    expected = [eval(name, result.namespace) for name in root.split(",")]  # python's reading
    assert len(result.roots) == len(expected)
    assert all(got is want for got, want in zip(result.roots, expected))
    assert result.root_name == ",".join(n.strip() for n in root.split(","))


@pytest.mark.parametrize("root, words", [("out.los", "finds no .los in out "),
                                         ("outs[2]", "finds no [2] in outs "),
                                         ("out.hidden[5]", "finds no [5] in out.hidden "),
                                         ("d['q']", "finds no ['q'] in d "),
                                         ("outs[0].grad_fn", "finds no .grad_fn in outs[0] "),
                                         ("nope.loss", "no variable named 'nope'"),
                                         ("out.loss()", "write it as out.loss"),
                                         ("outs[10**3]", "write it as out.loss"),
                                         ("outs[True]", "write it as out.loss"),
                                         ("outs" + "[0]" * 100_000, "write it as out.loss"),
                                         ("a\0b", "write it as out.loss"),
                                         ("out.hidden", "not a tensor")])
def test_a_root_path_that_finds_no_tensor_is_bad_usage(root, words):
    result = run_snippet(OUTPUT_ROOTS, root=root)
    assert result.exit_code == 2 and words in result.error["message"] and not result.roots
    assert result.namespace["reads"] == []


HOSTILE_ROOTS = """\
reads = []
x = torch.ones(3, requires_grad=True)

class Meta(type):
    def __getattribute__(cls, name):
        reads.append(name)
        return type.__getattribute__(cls, name)

class Held(metaclass=Meta):
    pass

held = Held.__new__(Held)
object.__setattr__(held, "loss", (x * 2).sum())

class Doubled:
    @property
    def loss(self):
        return self.__dict__["loss"] * 2

doubled = Doubled.__new__(Doubled)
object.__getattribute__(doubled, "__dict__")["loss"] = (x * 3).sum()

class Key:
    def __hash__(self):
        return 7

    def __eq__(self, other):
        reads.append("__eq__")
        return other == 7

keyed = {Key(): (x * 4).sum(), "loss": (x * 5).sum()}
reads.clear()
"""


@pytest.mark.parametrize("root, python_reads", [("held.loss", True), ("doubled.loss", False),
                                                ("keyed['loss']", True), ("keyed[7]", False)])
def test_a_root_path_runs_none_of_the_snippets_code(root, python_reads):
    """A metaclass's __getattribute__ (on the class's __mro__ and __dict__) and a key's
    __eq__ ran after the snippet's end; a property's __dict__ entry was read as the root
    where python's ``doubled.loss`` gives the property's tensor."""
    result = run_snippet(HOSTILE_ROOTS, root=root)
    assert result.namespace["reads"] == []
    if python_reads:  # the very tensor python's expression gives
        assert result.exit_code == 0 and result.roots[0] is eval(root, result.namespace)
    else:  # python's expression runs the snippet's code: gradstep draws nothing else
        assert result.exit_code == 2 and not result.roots
        assert "finds no" in result.error["message"]


PROXY_ROOTS = """\
class Proxy:
    def __init__(self, target):
        object.__setattr__(self, "_target", target)

    def __getattribute__(self, name):
        reads.append(name)
        return getattr(object.__getattribute__(self, "_target"), name)


class Items(list):
    def __iter__(self):
        reads.append("__iter__")
        return super().__iter__()


reads = []
x = torch.ones(3, requires_grad=True)
p = Proxy(x * 2)
items = Items([x * 3, p])
print(reads)
"""


@pytest.mark.parametrize("ending, root", [("p, items[0]", None), ("items", None), ("", "p")])
def test_picking_the_root_runs_no_code_of_a_proxy_or_a_list_subclass(ending, root):
    """After the snippet ended, picking its root asked ``isinstance`` (which reads a proxy's
    ``__class__``), read a proxy's ``grad_fn`` and iterated a list subclass through its own
    ``__iter__``: their code ran (and printed) past the plain run's end. A proxy is told by
    ``type()`` as what it is, no tensor (the plain tensors beside it are roots)."""
    result = run_snippet(PROXY_ROOTS + ending, root=root)
    assert result.output == "[]\n"
    assert result.namespace["reads"] == []
    if root:
        assert result.exit_code == 2 and "not a tensor" in result.error["message"]
    else:
        assert result.error is None and result.roots == [result.namespace["items"][0]]


def test_nothing_to_draw():
    result = run_snippet("x = torch.ones(3)\ny = x * 2\nprint(y)")
    assert result.error["kind"] == "nothing_to_draw" and result.exit_code == 1
    assert "grad_fn" in result.error["message"]
    assert "requires_grad=True" in result.error["fix"]  # asked there, once (walk 5)
    assert result.output == "tensor([2., 2., 2.])\n"


def _calls_python_makes(source: str, filename: str) -> list[tuple[int, str]]:
    """Run ``source`` as python does and return, per backward call it makes, the line and
    which (``backward`` or ``autograd.grad``), read off the caller's frame."""
    import sys

    seen, backward, grad = [], torch.Tensor.backward, torch.autograd.grad

    def line() -> int:
        frame = sys._getframe(2)
        while frame.f_code.co_filename != filename:
            frame = frame.f_back
        return frame.f_lineno

    def seen_backward(*args, **kwargs):
        seen.append((line(), "backward"))
        return backward(*args, **kwargs)

    def seen_grad(*args, **kwargs):
        seen.append((line(), "autograd.grad"))
        return grad(*args, **kwargs)

    torch.Tensor.backward, torch.autograd.grad = seen_backward, seen_grad
    try:
        exec(compile(source, filename, "exec"), {})
    finally:
        torch.Tensor.backward, torch.autograd.grad = backward, grad
    return seen


MAIN_CALLS = "import torch\ndef main():\n    x = torch.ones(2, requires_grad=True)\n" \
             "    loss = (x * 2).sum()\n    loss.backward(retain_graph=True)\n{}main()\n"


@pytest.mark.parametrize(("second", "words", "zh"), [
    ("", "backward call at line 5", "第 5 行的 backward 调用"),
    ("    loss.backward()\n", "backward calls at lines 5, 6", "第 5, 6 行的 backward 调用"),
    ("    torch.autograd.grad(loss, x)\n", "backward and autograd.grad calls at lines 5, 6",
     "第 5, 6 行的 backward 和 autograd.grad 调用")])
def test_nothing_to_draw_names_the_recorded_calls_as_line_or_lines(second, words, zh):
    """A loss local to main(): the fix names the recorded backward calls. It said "Its backward
    calls (line 5, 6)" for two lines, and "backward" for an autograd.grad call; now "line 5" /
    "lines 5, 6", each kind named (``freed_by.calls_named``, the freed-graph error's words),
    the calls python's own run makes."""
    from gradstep.i18n import localized

    source = MAIN_CALLS.format(second)
    made = _calls_python_makes(source, "/x/main.py")
    lines = ", ".join(str(n) for n in dict.fromkeys(n for n, _ in made))
    kinds = " and ".join(sorted({kind for _, kind in made}, reverse=True))
    assert words == f"{kinds} call{'s' if len(made) > 1 else ''} at line{'s' if ', ' in lines else ''} {lines}"
    result = run_snippet(source, filename="/x/main.py")
    assert result.error["kind"] == "nothing_to_draw"
    assert f"gradstep recorded the passes of the snippet's {words}: gradstep backward FILE" in result.error["fix"]
    assert f"gradstep 记录了代码片段中{zh}的反向传播" in localized(result.error, "zh_CN")["fix"]


def test_nothing_to_draw_names_calls_on_leaves_as_python_makes_them():
    """Backward calls on leaves themselves, two on one line: "calls at line 3" (it said
    "(line 3)"), an autograd.grad call named as one."""
    from gradstep.i18n import localized

    source = ("import torch\nx = torch.ones(2, requires_grad=True)\n"
              "x.backward(torch.ones(2)); torch.autograd.grad(x, x, torch.ones(2))\n")
    assert _calls_python_makes(source, "/x/leaf.py") == [(3, "backward"), (3, "autograd.grad")]
    result = run_snippet(source, filename="/x/leaf.py")
    assert result.error["detail"] == ("the snippet's backward and autograd.grad calls at line 3 "
                                      "ran on leaves themselves, and it left no tensor with a grad_fn")
    assert "代码片段中第 3 行的 backward 和 autograd.grad 调用是在叶子张量本身上运行的" in \
        localized(result.error, "zh_CN")["message"]


def test_unicode_names_label_nodes():
    source = "权重 = torch.ones(2, requires_grad=True)\n中间 = 权重 * 3\n损失 = 中间.sum()"
    result = run_snippet(source)
    ns = result.namespace
    assert result.root_name == "损失"
    assert result.labels[("leaf", id(ns["权重"]))] == "权重"
    assert "中间" in result.labels.values() and "损失" in result.labels.values()


def test_output_is_captured_and_bounded(capsys):
    source = "print('x' * 600_000)\nprint('y' * 600_000)\nimport sys\nprint('err', file=sys.stderr)"
    result = run_snippet(source)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert result.output.startswith("x" * 600_000)
    assert len(result.output) < IN_PROCESS_LIMIT + 100 and "of output dropped" in result.output
    assert result.output.endswith("err\n")  # the end is kept too


def test_output_cut_note_is_in_the_persons_language():
    from gradstep.i18n import using

    with using("zh_CN"):
        result = run_snippet("print('x' * 1_200_000)\n")
    assert "个字符的输出（输出有上限" in result.output and "dropped" not in result.output


def test_snippet_error_names_its_own_line_and_keeps_the_partial_graph():
    source = """
w = torch.ones(2, requires_grad=True)
h = w * 2

def broken(t):
    return t[5]

y = broken(h)
"""
    result = run_snippet(source, filename="snippet.py")
    assert result.exit_code == 1
    assert result.error["line"] == 6 and result.error["type"] == "IndexError"
    assert "return t[5]" in result.error["code"]
    assert len(result.roots) == 1 and result.roots[0] is result.namespace["h"]


def test_syntax_error_does_not_run_anything():
    result = run_snippet("print('ran')\nx = (1,")
    assert result.error["kind"] == "syntax" and result.exit_code == 1 and result.output == ""


def test_system_exit_in_the_snippet_is_an_error_not_an_exit():
    result = run_snippet("w = torch.ones(1, requires_grad=True)\ny = w * 2\nraise SystemExit(3)")
    assert result.exit_code == 1 and result.error["type"] == "SystemExit"


@pytest.mark.parametrize("ending", ["sys.exit()", "sys.exit(0)", "raise SystemExit",
                                    "raise SystemExit(None)", "sys.exit(False)", "exit()",
                                    pytest.param("sys.exit(256)", marks=pytest.mark.skipif(
                                        os.name != "posix", reason="status: low 8 bits"))])
def test_an_exit_with_status_0_ends_the_snippet_there_as_python_does(ending):
    # python FILE exits 0: the snippet ended normally, its graph is what it built so far
    source = ("import sys\nw = torch.ones(1, requires_grad=True)\ny = w * 2\n"
              f"{ending}\nprint('not reached')\nz = y * 3\n")
    result = run_snippet(source)
    assert result.error is None and result.exit_code == 0
    assert result.roots == [result.namespace["y"]] and result.root_name == "y"
    assert "not reached" not in result.output


@pytest.mark.parametrize(("code", "message"), [("3", "3"), ("'bad input'", "bad input"),
                                               ("True", "True")])
def test_an_exit_with_another_status_is_a_failure_that_names_its_line(code, message):
    source = ("import sys\nw = torch.ones(1, requires_grad=True)\ny = w * 2\n"
              f"def finish():\n    sys.exit({code})\nfinish()\n")
    result = run_snippet(source)
    assert result.exit_code == 1 and result.error["type"] == "SystemExit"
    assert result.error["line"] == 5 and result.error["message"] == message


def test_a_hooks_exit_ends_the_snippets_backward_call_which_is_recorded_up_to_there():
    source = ("import sys\nw = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\n"
              "w.register_hook(lambda g: sys.exit({code}))\nloss.backward()\n")
    ended, failed = run_snippet(source.format(code=0)), run_snippet(source.format(code=3))
    assert ended.error is None and ended.exit_code == 0 and ended.namespace["w"].grad is None
    assert failed.exit_code == 1 and failed.error["type"] == "SystemExit"
    for result in (ended, failed):
        [call] = result.calls
        assert [s["name"] for s in call["timeline"]["steps"]] == ["SumBackward0", "MulBackward0"]
    assert ended.calls[0]["error"] is None and failed.calls[0]["error"]["type"] == "SystemExit"


def test_a_hooks_exit_0_keeps_the_freed_state_torch_left_and_a_caught_one_stays_an_error():
    # the hook on loss runs before any node: torch freed nothing (python: h's saved w is
    # there). A sys.exit(0) the snippet caught did not end it: that pass stopped with an error
    source = ("import sys\nw = torch.ones(2, requires_grad=True)\nh = w * w\nloss = h.sum()\n"
              "loss.register_hook(lambda g: sys.exit(0))\n{call}\n")
    ended = run_snippet(source.format(call="loss.backward()"))
    caught = run_snippet(source.format(call="try:\n    loss.backward()\nexcept SystemExit:\n"
                                            "    saved = h.grad_fn._saved_self"))
    assert ended.error is None and caught.error is None and "saved" in caught.namespace
    assert ended.calls[0]["error"] is None and ended.calls[0]["timeline"]["freed"] is False
    assert caught.calls[0]["timeline"]["freed"] is False
    error = caught.calls[0]["error"]
    assert error["type"] == "SystemExit" and error["title"] == "The snippet called exit() with status 0"


def test_an_exit_in_main_runs_the_finally_blocks_and_ends_as_a_plain_end_of_main():
    body = ("import sys\ndef main():\n    w = torch.ones(1, requires_grad=True)\n"
            "    loss = (w * 2).sum()\n    try:\n        {ending}\n    finally:\n"
            "        print('finally ran', __name__)\n")
    ended = run_snippet(body.format(ending="return 0") + "main()\n")
    exited = run_snippet(body.format(ending="sys.exit(0)") +
                         "if __name__ == '__main__':\n    sys.exit(main())\nprint('not reached')\n")
    assert exited.output == ended.output == "finally ran __main__\n"
    # the loss lived in main()'s locals only: as for the plain end of main(), no graph
    assert exited.exit_code == ended.exit_code and exited.roots == ended.roots == []
    assert exited.error["kind"] == ended.error["kind"] == "nothing_to_draw"



def test_hooks_and_modes_are_removed_even_when_the_snippet_raises():
    pre = len(nn_module._global_forward_pre_hooks)
    post = len(nn_module._global_forward_hooks)
    modes = torch._C._len_torch_function_stack()
    source = """
class Bad(nn.Module):
    def forward(self, x):
        raise ValueError("boom")
Bad()(torch.ones(1))
"""
    result = run_snippet(source)
    assert result.error["type"] == "ValueError" and result.error["line"] == 4
    assert len(nn_module._global_forward_pre_hooks) == pre
    assert len(nn_module._global_forward_hooks) == post
    assert torch._C._len_torch_function_stack() == modes
    assert torch.ones(1).device.type == "cpu"


def test_calls_are_returned_as_a_list():
    result = run_snippet("w = torch.ones(1, requires_grad=True)\ny = (w * 2).sum()\ny.backward()")
    assert isinstance(result.calls, list)
    assert result.namespace["w"].grad.tolist() == [2.0]


def test_meta_device_runs_without_data():
    result = run_snippet("w = torch.ones(3, requires_grad=True)\ny = (w * 2).sum()", device="meta")
    assert result.error is None and result.namespace["w"].device.type == "meta"
    store = result.values
    recorded = [store.get(key)[0] for key in store.keys()]
    assert {tuple(v["shape"]) for v in recorded} == {(), (3,)}
    assert all(set(v) == {"shape", "dtype", "device"} for v in recorded)


def test_unavailable_cuda_is_exit_2_with_torchs_reason(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = run_snippet("print('never')", device="cuda")
    assert result.exit_code == 2 and result.error["kind"] == "device_unavailable"
    assert "CUDA is not available" in result.error["message"] and result.output == ""


def test_device_status_reasons(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)
    assert devices.device_status("cuda") == (
        False, "CUDA is not available: this torch build has no CUDA (it is a CPU-only build; "
               "running on a GPU needs torch's CUDA build, which pip installs from PyPI on Linux)")
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    ok, reason = devices.device_status("cuda")
    assert not ok and reason.startswith("CUDA is not available: no CUDA device found")
    assert devices.device_status("cpu") == (True, "") and devices.device_status("meta") == (True, "")
    listed = devices.available_devices()
    assert [d["name"] for d in listed] == ["cpu", "cuda", "mps", "meta"]
    assert listed[1]["available"] is False and listed[1]["reason"] == reason
    assert devices.device_status("tpu")[0] is False


def test_leaf_named_before_requires_grad_was_switched_on():
    source = "a = torch.ones(2)\na.requires_grad_(True)\nb = (a * a).sum()"
    result = run_snippet(source)
    assert result.labels[("leaf", id(result.namespace["a"]))] == "a"


def test_snippet_warnings_are_output_not_errors():
    result = run_snippet("import warnings\nwarnings.warn('careful')\n"
                         "w = torch.ones(1, requires_grad=True)\ny = w * 2")
    assert result.error is None and "UserWarning: careful" in result.output


def test_a_warning_shows_its_source_as_python_shows_it(monkeypatch):
    import warnings

    source = "async def co():\n    pass\nco()\nw = torch.ones(1, requires_grad=True)\ny = w * 2\n"
    monkeypatch.setattr(warnings, "formatwarning", lambda *args, **kwargs: "the host's format\n")
    host_format = warnings.formatwarning
    result = run_snippet(source, filename="<snippet>")
    assert "the host's format" not in result.output
    assert result.error is None
    assert result.output.splitlines()[-1] == ("RuntimeWarning: Enable tracemalloc to get the "
                                              "object allocation traceback")
    assert warnings.formatwarning is host_format


def _value_of(result, tensor):
    """Return what the run recorded for ``tensor``'s node output (None when nothing)."""
    fn = tensor.grad_fn
    outputs = result.values.get(("op", fn._sequence_nr(), fn.name())) or {}
    return outputs.get(tensor.output_nr)


def test_recorded_values_hold_no_tensors():
    source = """
w = torch.ones(100, 100, requires_grad=True)
big = (w * 2).exp()
small = big[0, :3]
loss = small.sum() + big.mean()
"""
    result = run_snippet(source)

    def tensors_in(x):
        if isinstance(x, torch.Tensor):
            return 1
        if isinstance(x, dict):
            return sum(tensors_in(v) for v in x.values())
        if isinstance(x, (list, tuple)):
            return sum(tensors_in(v) for v in x)
        return 0

    ns = result.namespace
    assert tensors_in([result.values.first, result.values.others]) == 0
    big = _value_of(result, ns["big"])
    assert "data" not in big and big["max"] == torch.tensor(2.0).exp().item()
    assert _value_of(result, ns["small"])["data"] == ns["small"].tolist()


def test_views_made_in_the_snippet_get_their_own_values():
    source = """
w = torch.randn(20, 10, requires_grad=True)
h = w * 3
v = h.view(10, 20)
t = v.t()
h2 = w * 5
v2 = h2.view(10, 20)
row = t[0]
loss = t.sum() + v2.sum() + row.sum()
"""
    result = run_snippet(source)
    ns = result.namespace
    for name in ("h", "v", "t", "h2", "v2", "row"):
        value = _value_of(result, ns[name])
        assert value["shape"] == list(ns[name].shape), name
        assert value["max"] == ns[name].max().item() and value["min"] == ns[name].min().item()
        assert value["mean"] == pytest.approx(ns[name].mean().item(), abs=1e-5)


def test_a_value_changed_in_place_without_grad_is_not_its_nodes_output():
    """y's node computed x * 2; after an in-place change under no_grad, y no longer holds
    that, so gradstep shows no value rather than the changed one."""
    source = """
x = torch.ones(3, requires_grad=True)
y = x * 2
y_seen = y.clone()
with torch.no_grad():
    y.add_(10)
z = (y * y).sum()
"""
    result = run_snippet(source)
    ns = result.namespace
    assert _value_of(result, ns["y"])["data"] == [2.0, 2.0, 2.0]  # seen when it was made
    inside = run_snippet("""
def f(a):
    b = a * 2
    with torch.no_grad():
        b.add_(10)
    return b
x = torch.ones(3, requires_grad=True)
y = f(x)
z = (y * y).sum()
""")
    assert inside.namespace["y"].tolist() == [12.0, 12.0, 12.0]
    assert _value_of(inside, inside.namespace["y"]) is None  # only ever seen changed


def test_a_tuple_item_is_not_taken_for_a_new_tensor():
    source = """
x = torch.ones(4, requires_grad=True)
h = x * 2
pair = (h[:2], h[2:])
with torch.no_grad():
    h.mul_(3)
first = pair[0]
loss = (h * 1).sum()
"""
    result = run_snippet(source)
    # pair[0] is an old view whose base changed since: reading its node would rebuild it
    assert result.error is None
    assert result.namespace["first"]._is_view()
    store = result.values
    values = [v for key in store.keys() for v in store.get(key).values()]
    assert all(v.get("data") != [6.0, 6.0] for v in values)


def test_no_tensor_outlives_the_run_through_the_recorder():
    import gc
    import weakref

    refs = []
    source = "w = torch.ones(50, 50, requires_grad=True)\nh = (w * 2).view(2500).t()\nloss = h.sum()"
    gc.disable()  # only reference counting: nothing may wait for the cycle collector
    try:
        result = run_snippet(source)
        h = result.namespace.pop("h")
        refs.append(weakref.ref(h))
        del h, result
        assert refs[0]() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("source, line", [("return 5", 1), ("x = 1\nbreak", 2),
                                          ("nonlocal x", 1)])
def test_errors_only_the_compiler_finds_are_syntax_errors(source, line):
    result = run_snippet(source)
    assert result.error["kind"] == "syntax" and result.error["line"] == line
    assert result.exit_code == 1


def test_a_module_that_breaks_named_modules_does_not_break_the_run():
    source = """
class Odd(nn.Module):
    def named_modules(self, *args, **kwargs):
        raise RuntimeError("no names today")

odd = Odd()
w = torch.ones(1, requires_grad=True)
y = w * 2
"""
    result = run_snippet(source)
    assert result.error is None and result.roots[0] is result.namespace["y"]


def test_a_modules_own_container_output_is_read_without_its_methods():
    """The conformance case's snippet (a module returning its own dict and list types,
    which count their reads): gradstep's module hooks read none, and still find the tensors."""
    from pathlib import Path

    case = Path(__file__).parents[1] / "conformance" / "cases" / "module_output_containers.py"
    result = run_snippet(case.read_text(encoding="utf-8"), capture_output=True)
    ns = result.namespace
    assert result.error is None and (ns["Counted"].reads, ns["CountedList"].reads) == (0, 0)
    assert _value_of(result, ns["d"]["a"]) is not None  # the tensors are still found
    assert _value_of(result, ns["p"][0]) is not None


@pytest.mark.slow  # imports torch._dynamo, so in a process of its own
def test_torch_compile_in_a_snippet_runs_quietly_with_values():
    import subprocess
    import sys
    from pathlib import Path

    code = """
import json
from gradstep.autograd.session import Session
r = Session().run('''
f = torch.compile(lambda a: (a * 2).sin(), backend="eager")
w = torch.ones(3, requires_grad=True)
y = f(w).sum()
''')
print(json.dumps([r["ok"], [n["value"]["data"] for n in r["trace"]["nodes"]]]))
"""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "recompil" not in done.stderr.lower()
    ok, data = json.loads(done.stdout.strip().splitlines()[-1])
    w = torch.ones(3)
    assert ok and data[2] == (w * 2).tolist() and data[1] == (w * 2).sin().tolist()


def test_a_parameter_leaf_shows_its_value_now():
    from gradstep.autograd.trace import trace_graph
    from gradstep.autograd.values import tensor_value

    source = """
torch.manual_seed(0)
lin = nn.Linear(70, 30)
x = torch.randn(5, 70)
y = lin(x).relu()
loss = y.sum()
"""
    result = run_snippet(source)
    weight = result.namespace["lin"].weight
    trace = trace_graph(result.roots, values=result.values, labels=result.labels)
    leaf = next(a for _, a in trace.graph.nodes(data=True) if a["kind"] == "leaf" and a["shape"] == [30, 70])
    assert leaf["value"] == tensor_value(weight)
    # the weight's transpose is made inside F.linear, in one torch call: no value is shown
    t_node = next(a for _, a in trace.graph.nodes(data=True) if a["name"] == "TBackward0")
    assert t_node["value"] is None
    with torch.no_grad():
        weight.mul_(2)  # changed after the run: the trace reads it again
    trace = trace_graph(result.roots, values=result.values, labels=result.labels)
    leaf = next(a for _, a in trace.graph.nodes(data=True) if a["kind"] == "leaf" and a["shape"] == [30, 70])
    assert leaf["value"] == tensor_value(weight)


def test_a_backward_error_names_its_line_after_the_snippet_changed_folder(tmp_path, monkeypatch):
    """The snippet's code name is the one it was compiled under, kept from the run: a
    snippet given by a relative name that calls os.chdir still has its frames found when
    its backward pass fails (the name was worked out again from the new folder)."""
    from gradstep.autograd.session import Session

    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    source = ("import os, torch\nos.chdir('/')\nx = torch.ones(3, requires_grad=True)\n"
              "y = (x * 2).sum()\ndef hook(g):\n    raise ValueError('boom in hook')\n"
              "x.register_hook(hook)\ny\n")
    (tmp_path / "sub" / "s.py").write_text(source, encoding="utf-8")
    session = Session()
    run = session.run(source=source, filename="sub/s.py")
    assert run["error"] is None
    timeline = session.backward()
    assert timeline["error"] is not None and timeline["error"]["line"] == 6


def test_a_warning_a_nodes_backward_gives_shows_as_in_python():
    """x[m] with a uint8 mask warns in the forward and again in the pass; the local
    Jacobians gradstep computes before the pass called IndexBackward0 and the warning
    came a third time, from gradstep's jacobian.py."""
    source = ("import torch\n"
              "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\n"
              "y = x[torch.tensor([1, 0, 1], dtype=torch.uint8)]\n"
              "y.sum().backward()\n")
    result = run_snippet(source, filename="/tmp/uint8_mask.py")
    assert result.error is None
    warned = [line for line in result.output.splitlines() if "UserWarning" in line]
    assert len(warned) == 2 and warned[0].startswith("/tmp/uint8_mask.py:3: ")
    assert "jacobian.py" not in result.output


def test_the_snippets_hook_handles_are_numbered_as_in_python():
    """torch numbers every hook handle from one counter: gradstep's two module hooks and
    its step hooks (two per node of a recorded pass) moved it on, and the snippet's
    ``handle.id`` (the key in ``module._forward_hooks``) read 2 and 15, not 0 and 1."""
    from torch.utils.hooks import RemovableHandle

    first = RemovableHandle.next_id
    source = ("m = torch.nn.Linear(2, 2)\n"
              "h = m.register_forward_hook(lambda *a: None)\n"
              "loss = m(torch.ones(1, 2, requires_grad=True)).sum()\n"
              "loss.backward()\n"
              "h2 = m.register_forward_hook(lambda *a: None)\n"
              "print(h.id, h2.id, list(m._forward_hooks))\n")
    result = run_snippet(source)
    assert result.error is None
    assert result.output == f"{first} {first + 1} [{first}, {first + 1}]\n"
    assert RemovableHandle.next_id == first + 2


def test_gradsteps_own_aliases_of_nested_and_compressed_tensors_warn_nothing():
    """Under the snippet's ``torch.set_warn_always(True)``, every nested or compressed
    sparse tensor made warns (torch's "prototype stage" / "beta state" lines). gradstep's
    own aliases of them (a value's summary, a recorded step's gradient) are such tensors:
    each printed the warning once more, from ``values.py`` and ``step_hooks.py``, where
    python prints none."""
    source = ("import torch\ntorch.set_warn_always(True)\n"
              "nt = torch.nested.nested_tensor([torch.ones(2, 3), torch.ones(4, 3)], "
              "requires_grad=True)\n"
              "w = torch.tensor([[3.0, 0.0], [0.0, 4.0]], requires_grad=True)\n"
              "csc = w.to_sparse_csc()\n"
              "loss = torch.nested.to_padded_tensor(nt * 2, 0.0).sum() + (csc.to_dense() * 3).sum()\n"
              "loss.backward()\n"
              "torch.set_warn_always(False)\n")
    try:
        result = run_snippet(source, filename="/tmp/nested_warn.py")
    finally:
        torch.set_warn_always(False)
    assert result.error is None
    ours = os.path.dirname(run_snippet.__code__.co_filename)  # gradstep/autograd
    warned = [line for line in result.output.splitlines() if "Warning" in line]
    assert warned and not [line for line in warned if line.startswith(ours)], warned


SWAPS = """\
import weakref
import torch
from torch import nn
x = torch.ones(2, requires_grad=True)
a = x * 2
b = x * 3
torch.utils.swap_tensors(a, b)
print(a.tolist(), b.tolist())
loss = (a * b).sum()
loss.backward()
c = (x * 4).detach()
torch.utils.swap_tensors(b, c)
print(b.tolist(), c.tolist())
torch.__future__.set_swap_module_params_on_conversion(True)
lin = nn.Linear(2, 2)
w = lin.weight
lin.to(torch.float64)
print(w.dtype, w is lin.weight)
torch.__future__.set_swap_module_params_on_conversion(False)
keep = weakref.ref(c)
try:
    torch.utils.swap_tensors(a, c)
except RuntimeError as e:
    print(e)
print(torch.utils.swap_tensors.__name__)
loss
"""


def test_tensors_the_snippet_named_can_be_swapped_as_in_python():
    """gradstep's weak references to the tensors bound to top-level names (and a recorded
    call's finalizers) made torch refuse ``torch.utils.swap_tensors(a, b)`` ("Cannot swap t2
    because it has weakref associated with it") and, with swap_module_params_on_conversion,
    ``lin.to(torch.float64)`` after ``w = lin.weight``, where python swaps them. A weak
    reference of the snippet's own still makes torch refuse, as in python; labels stay."""
    run = run_snippet(SWAPS, filename="swaps.py", capture_output=True)
    assert run.error is None, run.error
    assert run.output == ("[3.0, 3.0] [2.0, 2.0]\n[4.0, 4.0] [2.0, 2.0]\ntorch.float64 True\n"
                          "Cannot swap t2 because it has weakref associated with it\n"
                          "swap_tensors\n")
    assert torch.utils.swap_tensors.__module__ == "torch.utils"  # torch's own again
    labels = set(run.labels.values())
    assert {"x", "loss", "a", "b"} <= labels, labels


def test_a_module_that_took_swap_tensors_in_an_earlier_run_swaps_in_the_next(tmp_path, monkeypatch):
    """A module of the snippet's that took ``from torch.utils import swap_tensors`` stays
    imported into the kernel's next run, with the wrapper of the run that imported it: that
    wrapper let go of the old run's weak references, not the new run's, and the second run's
    swap raised "Cannot swap t1 because it has weakref associated with it" where python's
    swaps (every run of a kernel is a fresh ``python FILE``); and, a wrapper made per run,
    it was not ``torch.utils.swap_tensors`` there, as it is in python."""
    import sys

    (tmp_path / "swap_helper_kept.py").write_text(
        "from torch.utils import swap_tensors\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "swap_helper_kept", raising=False)
    source = ("import torch\nimport swap_helper_kept\n"
              "a = torch.ones(2, requires_grad=True) * 2\nb = torch.zeros(2)\n"
              "swap_helper_kept.swap_tensors(a, b)\nprint(a.tolist(), b.tolist())\nloss = b.sum()\n"
              "print(swap_helper_kept.swap_tensors is torch.utils.swap_tensors)\n")
    try:
        for _ in range(2):
            run = run_snippet(source, filename="kept.py", capture_output=True)
            assert run.error is None, run.error
            assert run.output == "[0.0, 0.0] [2.0, 2.0]\nTrue\n"
    finally:
        sys.modules.pop("swap_helper_kept", None)


SWAP_AFTER_BACKWARD = """\
import torch
from torch import nn

torch.__future__.set_swap_module_params_on_conversion(True)
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
x = torch.randn(5, 3)
loss = model(x).sum()
loss.backward()
w = model[0].weight
model.to(torch.float64)
print(w is model[0].weight, w.dtype, w.grad.dtype)
loss = model(x.double()).sum()
loss.backward()
print(model[0].weight.grad.sum())
model.float()
print(model[2].bias.dtype, model[2].bias.grad)
loss
"""


def test_parameters_a_recorded_call_reached_can_be_swapped_as_in_python(tmp_path):
    """A recorded backward call notes each leaf of its graph with a weak reference
    (``pass_versions``: which leaves were written after it). CPython hands every plain
    ``weakref.ref(t)`` the same object, so after ``loss.backward()`` a parameter still had
    one when the swap wrapper had let go of the names' own, and with
    ``swap_module_params_on_conversion`` ``model.to(torch.float64)`` raised "_apply():
    Couldn't swap Linear.weight" (from "Cannot swap t1 because it has weakref associated
    with it") where python converts the model (fidhunt7)."""
    from gradstep.autograd.session import Session
    from tests.plain_runs import plain_python

    path = tmp_path / "swap_after_backward.py"
    path.write_text(SWAP_AFTER_BACKWARD, encoding="utf-8")
    plain = plain_python(path, timeout=120)
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr
    assert plain.stdout.startswith("True torch.float64 torch.float64\n")
    result = Session().run(SWAP_AFTER_BACKWARD, filename=str(path))
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout
    assert torch.utils.swap_tensors.__module__ == "torch.utils"  # torch's own again


def test_nothing_to_draw_after_a_graph_made_in_main_says_why_and_names_the_line():
    # the loss lived in main()'s locals: gone when sys.exit(main()) ran. The message said
    # "the snippet made no tensor with a grad_fn (did you set requires_grad=True?)"
    source = ("import sys\ndef main():\n    w = torch.ones(2, requires_grad=True)\n"
              "    loss = (w * 3).sum()\n    return 0\n"
              "if __name__ == '__main__':\n    sys.exit(main())\n")
    error = run_snippet(source).error
    assert error["kind"] == "nothing_to_draw" and error["line"] == 7
    assert "made a graph" in error["message"] and "requires_grad" not in error["message"]
    assert "loss = main()" in error["fix"]
    plain = run_snippet("x = torch.ones(2)\ny = x * 2\n").error  # no node made: names the
    assert plain["line"] == 2 and "made no tensor with a grad_fn" in plain["message"]  # line
    assert "requires_grad=True" in plain["fix"]  # asked there, once (walk 5)


def test_nothing_to_draw_with_the_graph_held_in_a_list_does_not_say_it_is_gone():
    # the loss is alive in losses[0]: the message said no tensor with a grad_fn "is left"
    # and "the tensors holding them were gone when the snippet ended"
    error = run_snippet("w = torch.ones(2, requires_grad=True)\nlosses = [(w * 3).sum()]\n").error
    assert error["kind"] == "nothing_to_draw" and error["line"] == 2
    assert "is left" not in error["message"] and "gone when" not in error["explanation"]
    assert "in a list, a dict or an object's attribute" in error["explanation"]


def test_an_empty_snippet_is_said_to_be_empty():
    """The window runs its editor's text as it is: a blank one was "nothing to draw" with
    advice about requires_grad; it is the command line's "The snippet is empty" now."""
    for source in ("", "  \n\t\n"):
        result = run_snippet(source)
        assert result.error["kind"] == "empty" and result.exit_code == 1
        assert result.error["message"] == "the snippet is empty"


@pytest.mark.parametrize("source, line, words, fixed", [
    # forgot requires_grad: the line that made the last tensor, and the leaf to change
    ("x = torch.ones(2)\nw = torch.full([2], 3.)\ny = (x * w).sum()\nprint(y)\n", 3,
     ["Line 3 made `y`", "Create `x` (line 1) as a leaf that requires grad", "x.requires_grad_()"],
     ("torch.ones(2)", "torch.ones(2, requires_grad=True)")),
    # a leaf that requires grad, used under no_grad
    ("x = torch.ones(2, requires_grad=True)\nwith torch.no_grad():\n    y = x * 2\n", 3,
     ["Line 3 made `y`", "`x` (line 1) requires grad", "torch.no_grad()"],
     ("with torch.no_grad():\n    y", "if True:\n    y")),
    # integers only: no leaf can require grad
    ("a = torch.arange(3)\nb = a * 2\n", 2, ["Line 2 made `b`", "only floating-point"],
     ("torch.arange(3)", "torch.arange(3.).requires_grad_()")),
])
def test_nothing_to_draw_names_the_line_that_made_the_last_tensor(source, line, words, fixed):
    """"Nothing to draw" said "Did you set requires_grad=True?" and named no line. Python
    is the oracle: the tensor named has no grad_fn, and the leaf named does (not) require
    grad, in the same code run plainly; the fix the words give makes a graph."""
    from gradstep import i18n

    error = run_snippet(source).error
    assert error["kind"] == "nothing_to_draw" and error["line"] == line
    text = error["explanation"] + " " + error["fix"]
    assert all(w in text for w in words), text
    chinese = i18n.localized(error, "zh_CN")
    assert f"第 {line} 行" in chinese["explanation"], chinese
    plain: dict = {"torch": torch}
    exec(compile(source, "<plain>", "exec"), plain)  # the same lines, plain python
    name = words[0].split("`")[1]
    assert plain[name].grad_fn is None
    leaf = "x" if "`x`" in text else None
    if leaf:
        assert plain[leaf].requires_grad == ("`x` (line 1) requires grad" in text)
    done = run_snippet(source.replace(*fixed))
    assert done.error is None and done.roots


def _line_that_bound(source: str, name: str) -> int | None:
    """Plain python as the oracle: run ``source`` and return the module-level line after
    which the global ``name`` last took a new object (the line that bound it)."""
    import sys

    code = compile(source, "<plain>", "exec")
    plain: dict = {"torch": torch}
    seen = {"value": None, "line": None, "previous": None}

    def tracer(frame, event, arg):
        if frame.f_code is not code:
            return None  # module-level lines only: a function's binding shows at its call
        if event in ("line", "return"):
            value = frame.f_globals.get(name)
            if value is not None and value is not seen["value"]:
                seen.update(value=value, line=seen["previous"])
            seen["previous"] = frame.f_lineno
        return tracer

    sys.settrace(tracer)
    try:
        exec(code, plain)
    finally:
        sys.settrace(None)
    return seen["line"]


@pytest.mark.parametrize("source", [
    "x = torch.ones(3)\nfor i in range(3):\n    y = x * i\n",  # rebound in a loop: one line
    "def make():\n    t = torch.ones(3)\n    return t * 2\ny = make()\n",  # made in a function
    # several lines bind the name: the source cannot tell which ran (no line, not a wrong one)
    "x = torch.ones(3)\nif x.sum() > 0:\n    y = x * 2\nelse:\n    y = x * 3\n",
    "y = torch.ones(3)\nz = torch.zeros(2)\nif False:\n    z = torch.ones(5)\n",
    "x = torch.ones(3, requires_grad=True)\na = 1\nb = 2\nc = 3\nx = x.detach()\n",
    "def f():\n    global w\n    w = torch.ones(2) * 3\nw = torch.zeros(1)\nf()\n",
    # the leaf that required grad is dropped under no_grad: nothing named requires grad
    "with torch.no_grad():\n    y = torch.ones(3, requires_grad=True) * 2\n",
    # a model's parameters or a list's tensor require grad: a variable holds one
    "model = torch.nn.Linear(2, 1)\nx = torch.ones(2)\nwith torch.no_grad():\n    y = model(x)\n",
    "ps = [torch.ones(2, requires_grad=True)]\nx = torch.ones(2)\nwith torch.no_grad():\n"
    "    y = x * ps[0]\n",
])
def test_nothing_to_draw_names_no_line_python_did_not_bind_it_on(source):
    """The line named is the one that bound the tensor under plain python (traced line by
    line), or none; what the words say of the snippet's variables holds in the same run."""
    error = run_snippet(source).error
    assert error["kind"] == "nothing_to_draw"
    plain: dict = {"torch": torch}
    exec(compile(source, "<plain>", "exec"), plain)
    if error["line"] is not None:
        name = error["explanation"].split("`")[1]
        assert error["line"] == _line_that_bound(source, name), error
        assert plain[name].grad_fn is None
    if "no variable of the snippet holds a tensor that requires grad" in error["explanation"]:
        held = [v for v in plain.values() if isinstance(v, torch.Tensor)]
        held += [t for v in plain.values() if isinstance(v, list) for t in v]
        held += [p for v in plain.values() if isinstance(v, torch.nn.Module)
                 for p in v.parameters()]
        assert not any(isinstance(v, torch.Tensor) and v.requires_grad for v in held)
    if "line" in error["explanation"] + error["fix"]:
        assert error["line"] is not None  # no line of its own without the one it names first



def test_nothing_to_draw_after_a_training_loop_in_main_names_its_recorded_calls():
    # a training loop inside main(): no graph is left to draw, but its passes ran and were
    # recorded (gradstep backward prints them, fidhunt8); the error, the window's graph
    # area, said only that the tensors may be gone (review of the session's merges)
    source = ("def main():\n    w = torch.ones(2, requires_grad=True)\n"
              "    for _ in range(3):\n        loss = (w * w).sum()\n        loss.backward()\n"
              "main()\n")
    result = run_snippet(source)
    backward_line = source.splitlines().index("        loss.backward()") + 1
    assert [call["line"] for call in result.calls] == [backward_line] * 3
    assert result.error["kind"] == "nothing_to_draw"
    assert f"passes of the snippet's backward calls at line {backward_line}:" in result.error["fix"]
    assert "gradstep backward FILE" in result.error["fix"]
    # none recorded: the fix says nothing of them
    fix = run_snippet("def main():\n    w = torch.ones(2, requires_grad=True)\n"
                      "    return (w * 3).sum() and 0\nmain()\n").error["fix"]
    assert "backward calls" not in fix and "loss = main()" in fix


# OUTPUT_ROOTS's output class (a ModelOutput, in short), then a model returning one
CALLED_ON_HELD = OUTPUT_ROOTS[:OUTPUT_ROOTS.index("reads = []")] + """\
reads = []
x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
def model(x):
    h = (x * 3).tanh()
    return Output(loss=(h * x).sin().sum(), hidden=(h, x * 4))
out = model(x)
"""

CALLS_ON_HELD = {  # the snippet's own calls -> the path drawn with no --root
    "out.loss.backward()\nreads.clear()": "out.loss",
    "torch.autograd.grad(outputs=[out['hidden'][1].sum() * 1], inputs=x)\n"
    "d = {'g': out.hidden[0].sum()}\nd['g'].backward()\nreads.clear()": "d['g']",
    "out.loss.backward(retain_graph=True)\nouts = [model(x * 2)]\nouts[0].loss.backward()\n"
    "reads.clear()": "outs[0].loss",
    "torch.autograd.backward([out.loss, out.hidden[1].sum()])\nreads.clear()": "out.loss",
}


@pytest.mark.parametrize("calls", list(CALLS_ON_HELD))
def test_with_no_root_the_tensor_a_backward_call_ran_on_is_drawn_by_its_path(calls):
    """``out = model(x, labels=y); out.loss.backward()`` (HuggingFace's idiom) binds no tensor
    at top level: gradstep trace had nothing to draw. The root is the very tensor the
    snippet's last recorded call ran on, found by a path from a top-level value read as
    ``--root PATH`` reads it (no code of the snippet's runs): the same graph, steps and name
    as ``--root PATH``, and the nodes torch reaches from that tensor's grad_fn."""
    from gradstep.autograd.session import Session
    from tests.step_oracle import oracle_run, reachable

    source = CALLED_ON_HELD + calls + "\n"
    path = CALLS_ON_HELD[calls]
    result = run_snippet(source)
    assert result.error is None and result.root_name == path
    assert result.namespace["reads"] == []
    assert [t is eval(path, result.namespace) for t in result.roots][:1] == [True]
    auto, named = Session().run(source), Session().run(source, root=path)
    assert auto["ok"] and auto["root_name"] == named["root_name"] == path
    assert path in auto["root_candidates"]
    for reply in (auto, named):  # (torch's node counter runs on from one run to the next)
        reply["trace"]["nodes"] = [{**node, "seq": None} for node in reply["trace"]["nodes"]]
        for call in reply["calls"]:
            call.get("timeline", {}).pop("seq_mark", None), call.pop("seq_mark", None)
    assert auto["trace"] == named["trace"] and auto["calls"] == named["calls"]
    drawn_root = next(n for n in auto["trace"]["nodes"] if n["id"] == auto["trace"]["root"])
    assert drawn_root["label"] == path  # as a top-level ``loss`` labels its node ``loss``
    ns = oracle_run(source).namespace  # torch alone: the nodes the drawn root reaches
    assert sorted(n["name"] for n in auto["trace"]["nodes"]) == sorted(
        type(fn).__name__ for fn in reachable([eval(path, ns).grad_fn]))


def test_several_calls_offer_each_held_root_in_call_order():
    source = CALLED_ON_HELD + ("out.loss.backward(retain_graph=True)\n"
                               "outs = [model(x * 2)]\nouts[0].loss.backward()\n")
    from gradstep.autograd.session import Session

    reply = Session().run(source)
    assert reply["root_name"] == "outs[0].loss"  # the last call's, as the last bound name
    assert reply["root_candidates"] == ["out.loss", "outs[0].loss"]


HIDDEN_BEHIND = {  # a tensor reachable only through code of the snippet's: not read
    "property": "class Out:\n    __slots__ = ('_l',)\n    def __init__(self, l): self._l = l\n"
                "    @property\n    def loss(self): return self._l\n",
    "__getattr__": "def make(l):\n    store = {'loss': l}\n    class Out:\n"
                   "        def __getattr__(self, name): return store[name]\n    return Out()\n"
                   "Out = make\n",
    "container": "import collections\nOut = lambda l: collections.deque([l])\n",
}


@pytest.mark.parametrize("kind", list(HIDDEN_BEHIND))
def test_a_called_root_held_only_behind_the_snippets_code_is_not_drawn(kind):
    reach = "out[0]" if kind == "container" else "out.loss"
    source = (HIDDEN_BEHIND[kind] + "x = torch.ones(3, requires_grad=True)\n"
              f"out = Out((x * 2).sum())\n{reach}.backward()\n")
    result = run_snippet(source)
    assert result.error["kind"] == "nothing_to_draw" and result.exit_code == 1
    assert not result.roots and result.call_root_paths == []
    assert "--root out.loss" in str(result.error["words"]["fix"])


def test_the_tensor_a_call_ran_on_is_drawn_with_no_weak_reference_the_snippet_could_count():
    """The call's root is told by its id and its node as the call ran (``root_keys``), not
    kept: a weak reference to ``out.loss`` would show in ``weakref.getweakrefcount``, which
    plain python answers 0."""
    source = CALLED_ON_HELD + (
        "import weakref\nclass Sub(torch.Tensor):\n    pass\n"
        "out.loss.backward()\nsub = {'s': (x.as_subclass(Sub) * 2).sum()}\n"
        "sub['s'].backward()\n"
        "counts = [weakref.getweakrefcount(out.loss), len(weakref.getweakrefs(sub['s']))]\n")
    plain = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "__name__": "__main__"}
    exec(compile(source, "<plain>", "exec"), plain)
    result = run_snippet(source)
    assert result.error is None and result.root_name == "sub['s']"
    assert result.roots[0] is result.namespace["sub"]["s"]
    assert result.namespace["counts"] == plain["counts"]
    assert result.call_root_paths == ["out.loss", "sub['s']"]


def test_a_tensor_changed_in_place_after_the_call_is_not_taken_for_the_one_it_ran_on():
    """``out.loss.mul_(2)`` after ``out.loss.backward()``: the tensor's graph is not the one
    the call ran on any more; --root out.loss draws it as it is, the call's root is none."""
    source = CALLED_ON_HELD + "out.loss.backward()\nout.loss.mul_(2)\nreads.clear()\n"
    result = run_snippet(source)
    assert result.error["kind"] == "nothing_to_draw" and result.call_root_paths == []
    named = run_snippet(source, root="out.loss")
    assert named.error is None and named.roots[0] is named.namespace["out"].loss


def test_a_long_top_level_list_bound_first_does_not_hide_the_calls_root():
    """The search looks at a bounded number of values, and at most ``per_value`` of one
    list's items: a data set bound before the model's output leaves it room."""
    source = CALLED_ON_HELD.replace("out = model(x)", "data = list(range(50_000))\nout = model(x)")
    result = run_snippet(source + "out.loss.backward()\n")
    assert result.error is None and result.root_name == "out.loss"
    assert result.roots[0] is result.namespace["out"].loss


def test_a_root_path_labels_its_node_only_where_no_variables_name_does():
    source = ("import types\nx = torch.ones(2, requires_grad=True)\nloss = (x * 2).sum()\n"
              "out = types.SimpleNamespace(loss=loss, other=(x * 3).sum())\n")
    from gradstep.autograd.trace import node_key

    for root, label in (("out.loss", "loss"), ("out.other", "out.other")):
        result = run_snippet(source, root=root)
        held = eval(root, result.namespace)
        assert result.roots[0] is held and result.labels[node_key(held.grad_fn)] == label


TRAPS = """\
ran = []
class Meta(type):
    def __getattribute__(cls, n):
        ran.append(n); return type.__getattribute__(cls, n)
class Key(str):
    def __eq__(self, o):
        ran.append("eq"); return str.__eq__(self, o)
    __hash__ = str.__hash__
class D(dict):
    def items(self):
        ran.append("items"); return dict.items(self)
class O(metaclass=Meta):
    def __getattr__(self, n):
        ran.append(n); raise AttributeError(n)
x = torch.ones(2, requires_grad=True)
o = O()
o.inner = D({KEY: (x * 2).sum()})
o.inner[KEY].backward()
ran.clear()
"""


@pytest.mark.parametrize("key, path", [("'k'", "o.inner['k']"), ("Key('k')", None)])
def test_the_search_for_a_calls_root_runs_none_of_the_snippets_code(key, path):
    """A metaclass's ``__getattribute__``, a ``__getattr__``, a dict subclass's ``items`` and
    a key's ``__eq__`` (python's ``d['k']`` runs it: that key is not read) stay unrun."""
    result = run_snippet(TRAPS.replace("KEY", key))
    assert result.namespace["ran"] == [] and result.root_name == path
    if path:
        assert result.roots[0] is eval(path, result.namespace)


def test_the_root_box_offers_underscore_names_as_the_default_search_reads_them():
    """``--root _h`` was accepted and the default root's search now reads ``_out.loss``; the
    root box offered neither ``_h``. Python's own ``__name__``... are no candidates."""
    from gradstep.autograd.session import Session

    reply = Session().run("x = torch.ones(2, requires_grad=True)\n_h = x.exp()\n"
                          "__y__ = x * 2\nz = x * 3\n")
    assert reply["root_candidates"] == ["_h", "z"] and reply["root_name"] == "z"


LEAF_VIEW_BOUND_LAST = """\
import torch
x = torch.linspace(-1, 1, 3, requires_grad=True)
y = x * 2
v = y.view(3, 1)
w = torch.arange(6.).reshape(2, 3).requires_grad_()
u = torch.zeros(4)[1:].requires_grad_()
print(w.is_leaf, w._is_view(), u.is_leaf, v.grad_fn.name())
"""


def test_a_leaf_that_is_a_view_bound_after_the_last_op_leaves_that_op_drawn(tmp_path):
    """``w = torch.arange(6.).reshape(2, 3).requires_grad_()`` is a view that requires grad,
    so its node is not read when it is bound (reading a view's node may rebuild it): it was
    taken for the root, had none, and ``trace``/``check``/``export`` said "Nothing to draw"
    and exited 1 where ``python FILE`` exits 0 (fidhunt11, after a ``masked_tensor`` made from
    such a tensor, a jagged tensor's ``values()`` before it). The last view or op bound before
    it is drawn, as without it; where its name no longer holds it, nothing is drawn, as
    before."""
    from tests.plain_runs import plain_python

    path = tmp_path / "leaf_view.py"
    path.write_text(LEAF_VIEW_BOUND_LAST, encoding="utf-8")
    plain = plain_python(path, timeout=120)
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr
    result = run_snippet(LEAF_VIEW_BOUND_LAST, filename=str(path))
    assert result.error is None and result.exit_code == 0, result.error
    assert result.output == plain.stdout == "True True True ViewBackward0\n"
    assert result.roots == [result.namespace["v"]] and result.root_name == "v"
    assert result.roots[0].grad_fn is result.namespace["v"].grad_fn  # python's own node
    rebound = LEAF_VIEW_BOUND_LAST.replace("v = y.view(3, 1)\n", "kept = [y]\ny = 0\n")
    rebound = rebound.replace(", v.grad_fn.name())", ")")
    result = run_snippet(rebound)  # the op is alive in a list only: not its name's any more
    assert result.error["kind"] == "nothing_to_draw" and result.exit_code == 1


def test_a_new_tensor_at_a_dead_earlier_roots_id_is_not_taken_for_it(tmp_path):
    """The earlier roots were kept by id (review of fidhunt11): a function's ``global y``
    that let ``y``'s op die and bound a new op, which took its id, had that new op drawn as
    the ``y`` bound before the leaf view (without the view nothing is drawn: the last op bound
    is dead). Now torch's watch on its TensorImpl tells them apart; and a swap of an earlier
    root (torch refuses to swap a watched tensor) runs as in python."""
    from tests.plain_runs import plain_python

    reused = LEAF_VIEW_BOUND_LAST.replace("v = y.view(3, 1)\n", "").replace(
        ", v.grad_fn.name())", ")") + (
        "def f():\n    global y\n    old = id(y)\n    y = None\n    y = x.exp()\n"
        "    return id(y) == old\nprint(f())\n")
    result = run_snippet(reused)
    assert result.output.endswith("True\n"), "the id was not reused: nothing tested"
    assert result.error["kind"] == "nothing_to_draw" and result.exit_code == 1
    swapped = LEAF_VIEW_BOUND_LAST.replace("v = y.view(3, 1)\n", "").replace(
        ", v.grad_fn.name())", ")") + (
        "b = torch.ones(3)\ntorch.utils.swap_tensors(y, b)\nprint(y, b)\n")
    path = tmp_path / "swap.py"
    path.write_text(swapped, encoding="utf-8")
    plain = plain_python(path, timeout=120)
    result = run_snippet(swapped, filename=str(path))
    assert plain.returncode == 0 and "MulBackward0" in plain.stdout, plain.stderr
    assert result.output == plain.stdout  # swapped: y has no node now, as for the rule before
    assert result.error["kind"] == "nothing_to_draw", result.error


def test_an_earlier_root_stands_where_the_last_bound_tensor_stands_under_the_call_rule():
    """Merged with rootcall's rule (review of fidhunt11): the op bound before a leaf view is
    drawn where the snippet's backward call ran on its graph, else the call's own tensor."""
    source = ("x = torch.ones(3, requires_grad=True)\nloss = (x * 3).sum()\ny = x * 2\n"
              "w = torch.arange(6.).reshape(2, 3).requires_grad_()\nCALL.backward()\n")
    for call, name in (("loss", "loss"), ("y.sum()", "y")):
        result = run_snippet(source.replace("CALL", call))
        assert result.error is None and result.root_name == name
        assert result.roots == [result.namespace[name]]
