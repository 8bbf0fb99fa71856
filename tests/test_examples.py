"""Every example in gradstep/resources/examples is a real snippet that prints the seed
lessons' numbers: run plainly (a fresh namespace, as `python FILE` would) and
through gradstep's Session (`python FILE` itself, each lesson in a process of its own,
is the conformance suite's plain run: test_conformance.py checks the seed's numbers
there). The expected strings are copied from the seeds
(/work/shared/seeds): the seeds are the fixtures. torch pads numbers in a
tensor with extra spaces, so output is compared with whitespace collapsed."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap

import pytest

from gradstep.examples import EXAMPLES, EXAMPLES_DIR, get_example, load_example

# What each example prints, in order (from the seeds, whitespace collapsed).
EXPECTED_OUTPUT = {
    "mse_autograd_grad": ["tensor(1., grad_fn=<MseLossBackward0>)", "(tensor([2.]),)"],
    "mse_backward": ["tensor(1., grad_fn=<MseLossBackward0>)", "tensor([2.])"],
    "requires_grad_error": ["tensor([1.])", "tensor([2.])", "tensor(1.)"],
    "stale_graph_trap": ["tensor(1.)", "tensor([2.], requires_grad=True)"],
    "stale_graph_fixed": ["tensor([2.], requires_grad=True)", "(tensor([2.]),)", "tensor([2.])"],
    "softmax_jacobian": ["(tensor([-0.0828, 0.2274, -0.1447]),)",
                         "(tensor([-0.0979, -0.1447, 0.2425]),)"],
    "retain_graph_error": ["tensor([-0.0828, 0.2274, -0.1447])"],
    "retain_graph_fixed": ["tensor([-0.0828, 0.2274, -0.1447])"],
    "losses_reduction": ["tensor(0.6667, grad_fn=<MeanBackward0>)",
                         "tensor(2., grad_fn=<SumBackward0>)",
                         "tensor(1.3333, grad_fn=<MseLossBackward0>)",
                         "tensor(1.1019, grad_fn=<NllLossBackward0>)"],
    "cifar_cnn": ["ok"],
    "grad_fn_chain": ["tensor([[1., 1.], [1., 1.]], requires_grad=True)",
                      "tensor([[3., 3.], [3., 3.]], grad_fn=<AddBackward0>)",
                      "tensor([[27., 27.], [27., 27.]], grad_fn=<MulBackward0>)",
                      "tensor(27., grad_fn=<MeanBackward0>)",
                      "tensor([[4.5000, 4.5000], [4.5000, 4.5000]])"],
    "no_grad": ["False", "True", "<SumBackward0 object at", "False"],
}

# The examples that stop at their failing line: (line, torch's message, gradstep's kind).
EXPECTED_ERROR = {
    "requires_grad_error": (
        14, "element 0 of tensors does not require grad and does not have a grad_fn",
        "no_grad_fn"),
    "stale_graph_trap": (
        14, "element 0 of tensors does not require grad and does not have a grad_fn",
        "stale_graph"),
    "retain_graph_error": (
        13, "Trying to backward through the graph a second time", "freed_buffers"),
}

# The tensor each working example's graph is drawn from.
ROOT = {
    "mse_autograd_grad": "mse", "mse_backward": "mse", "stale_graph_fixed": "mse",
    "softmax_jacobian": "p", "retain_graph_fixed": "p", "losses_reduction": "res_cross",
    "cifar_cnn": "res_loss", "grad_fn_chain": "out", "no_grad": "b",
}

# Runs each example file in a fresh namespace of its own (nothing preloaded), as
# `python FILE` does, all in one interpreter so torch is imported once.
_DRIVER = textwrap.dedent("""
    import contextlib, io, json, runpy, sys, traceback
    results = {}
    for path in sys.argv[1:]:
        out = io.StringIO()
        error = None
        try:
            with contextlib.redirect_stdout(out):
                runpy.run_path(path, run_name="__main__")
        except BaseException as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
            error = {"type": type(exc).__name__, "message": str(exc),
                     "line": frames[-1].lineno if frames else None}
        results[path] = {"output": out.getvalue(), "error": error}
    print(json.dumps(results))
""")


def _collapse(text: str) -> str:
    return " ".join(text.split())


def assert_prints_in_order(output: str, expected: list[str]) -> None:
    """Assert each expected string appears in ``output``, in this order."""
    text = _collapse(output)
    position = 0
    for piece in expected:
        found = text.find(piece, position)
        assert found >= 0, f"{piece!r} not printed (after position {position}) in:\n{output}"
        position = found + len(piece)


@pytest.fixture(scope="module")
def plain_runs() -> dict:
    """Return {example id: {"output", "error"}} from running every example plainly."""
    paths = [str(example.path) for example in EXAMPLES]
    done = subprocess.run([sys.executable, "-c", _DRIVER, *paths], capture_output=True,
                          text=True, timeout=120, check=True)
    by_path = json.loads(done.stdout)
    return {example.id: by_path[str(example.path)] for example in EXAMPLES}


def test_every_example_file_is_listed_and_every_listed_file_exists():
    listed = {example.path for example in EXAMPLES}
    assert listed == set(EXAMPLES_DIR.glob("*.py"))
    assert set(EXPECTED_OUTPUT) == {example.id for example in EXAMPLES}
    assert set(ROOT) | set(EXPECTED_ERROR) == set(EXPECTED_OUTPUT)


def test_load_example_returns_the_file_text():
    example = EXAMPLES[0]
    assert load_example(example.id) == example.path.read_text(encoding="utf-8")
    assert all(example.title and example.description for example in EXAMPLES)


def test_an_unknown_example_names_the_known_ones():
    with pytest.raises(KeyError, match="mse_backward"):
        get_example("no_such_lesson")


@pytest.mark.parametrize("example_id", list(EXPECTED_OUTPUT))
def test_plain_run_prints_the_seed_numbers(plain_runs, example_id):
    assert_prints_in_order(plain_runs[example_id]["output"], EXPECTED_OUTPUT[example_id])


@pytest.mark.parametrize("example_id", list(EXPECTED_OUTPUT))
def test_plain_run_fails_only_where_the_lesson_fails(plain_runs, example_id):
    error = plain_runs[example_id]["error"]
    if example_id not in EXPECTED_ERROR:
        assert error is None
        return
    line, message, _kind = EXPECTED_ERROR[example_id]
    assert error["type"] == "RuntimeError"
    assert error["line"] == line
    assert message in error["message"]
    # The lesson ends at the failing line: it is the snippet's last line of code.
    code_lines = [i for i, text in enumerate(load_example(example_id).splitlines(), 1)
                  if text.strip() and not text.lstrip().startswith("#")]
    assert code_lines[-1] == line


def _session_module():
    """Return gradstep.autograd.session, or skip while the tracer has not landed it."""
    try:
        from gradstep.autograd import session
    except ImportError as exc:
        pytest.skip(f"gradstep.autograd.session is not there yet ({exc})")
    return session


@functools.cache
def _run_in_gradstep(example_id: str) -> dict:
    """Return Session.run's result for the example (run once; tests only read it)."""
    session = _session_module()
    example = get_example(example_id)
    root = ROOT.get(example_id)
    return session.Session().run(load_example(example_id), filename=str(example.path),
                                 root=root)


@pytest.mark.parametrize("example_id", list(EXPECTED_OUTPUT))
def test_gradstep_run_prints_the_seed_numbers_and_fails_where_torch_does(example_id):
    result = _run_in_gradstep(example_id)
    assert_prints_in_order(result["output"], EXPECTED_OUTPUT[example_id])
    if example_id in EXPECTED_ERROR:
        line, message, kind = EXPECTED_ERROR[example_id]
        assert result["ok"] is False
        assert result["error"]["kind"] == kind
        assert result["error"]["line"] == line
        assert message in result["error"]["detail"]
    else:
        assert result["ok"] is True, result["error"]
        assert result["error"] is None


def _torch_graph(root_tensor) -> tuple[list[str], list[tuple]]:
    """Return (sorted node names, sorted leaf (shape, values)) of ``root_tensor``'s
    graph, walked here straight from torch's grad_fn objects."""
    names, leaves, seen = [], [], set()
    stack = [root_tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.append(type(node).name(node).removeprefix("torch::autograd::"))
        if type(node).__name__ == "AccumulateGrad":
            leaves.append(_leaf_key(list(node.variable.shape), node.variable.detach()))
        stack.extend(next_fn for next_fn, _ in node.next_functions)
    return sorted(names), sorted(leaves, key=repr)


def _leaf_key(shape: list, tensor=None, value: dict | None = None) -> tuple:
    """Return (shape, rounded values) for a small leaf, (shape, None) for a large one."""
    if tensor is not None:
        data = tensor.flatten().tolist() if tensor.numel() <= 64 else None
    else:
        raw = value.get("data") if value else None
        data = _flatten(raw) if raw is not None else None
    rounded = None if data is None else tuple(round(float(v), 5) for v in data)
    return (tuple(shape), rounded)


def _flatten(data) -> list:
    if isinstance(data, list):
        return [v for item in data for v in _flatten(item)]
    return [data]


@pytest.mark.parametrize("example_id", list(ROOT))
def test_gradstep_graph_matches_torch(example_id):
    result = _run_in_gradstep(example_id)
    assert result["ok"] is True, result["error"]
    namespace: dict = {"__name__": "__main__"}
    source = load_example(example_id)
    exec(compile(source, str(get_example(example_id).path), "exec"), namespace)
    names, leaves = _torch_graph(namespace[ROOT[example_id]])

    trace = result["trace"]
    assert sorted(node["name"] for node in trace["nodes"]) == names
    traced_leaves = [_leaf_key(node["shape"], value=node.get("value"))
                     for node in trace["nodes"] if node["kind"] == "leaf"]
    assert sorted(traced_leaves, key=repr) == leaves


# The backward calls each example makes itself, as gradstep records them:
# (line, api, error kind, {leaf: gradient printed in the seed}); None where the
# seed prints no gradient for that call (checked against torch below instead).
SEED_GRAD_W = {"w": [2.0]}
SEED_SOFTMAX_ROW_1 = {"a": [-0.0828, 0.2274, -0.1447]}
EXPECTED_CALLS = {
    "mse_autograd_grad": [(13, "torch.autograd.grad", None, SEED_GRAD_W)],
    "mse_backward": [(12, "Tensor.backward", None, SEED_GRAD_W)],
    "requires_grad_error": [(14, "torch.autograd.grad", "no_grad_fn", None)],
    "stale_graph_trap": [(14, "torch.autograd.grad", "stale_graph", None)],
    "stale_graph_fixed": [(13, "torch.autograd.grad", None, SEED_GRAD_W),
                          (17, "Tensor.backward", None, SEED_GRAD_W)],
    "softmax_jacobian": [(12, "torch.autograd.grad", None, SEED_SOFTMAX_ROW_1),
                         (13, "torch.autograd.grad", None, {"a": [-0.0979, -0.1447, 0.2425]})],
    "retain_graph_error": [(10, "Tensor.backward", None, SEED_SOFTMAX_ROW_1),
                           (13, "Tensor.backward", "freed_buffers", None)],
    "retain_graph_fixed": [(9, "Tensor.backward", None, SEED_SOFTMAX_ROW_1),
                           (11, "Tensor.backward", None, None)],
    "losses_reduction": [],
    "cifar_cnn": [(36, "Tensor.backward", None, None)],
    "grad_fn_chain": [(13, "Tensor.backward", None, {"x": [4.5, 4.5, 4.5, 4.5]})],
    "no_grad": [],
}


def _rounded(values, digits: int = 4) -> list[float]:
    return [round(float(v), digits) for v in _flatten(values)]


@pytest.mark.parametrize("example_id", list(EXPECTED_CALLS))
def test_gradstep_records_the_snippets_own_backward_calls(example_id):
    calls = _run_in_gradstep(example_id)["calls"]
    expected = EXPECTED_CALLS[example_id]
    assert [(c["line"], c["api"]) for c in calls] == [(e[0], e[1]) for e in expected]
    for call, (line, _api, error_kind, seed_grads) in zip(calls, expected):
        if error_kind is None:
            assert call["error"] is None
        else:
            assert (call["error"]["kind"], call["error"]["line"]) == (error_kind, line)
        timeline = call["timeline"]
        for leaf, values in (seed_grads or {}).items():
            if call["api"] == "torch.autograd.grad":
                got = dict(zip(timeline["returned_inputs"], timeline["returned"]))[leaf]
                assert timeline["leaf_grads"][leaf] is None  # as the seeds teach: .grad untouched
            else:
                got = timeline["leaf_grads"][leaf]
            assert _rounded(got) == values


def test_gradstep_leaf_grads_after_two_passes_match_torch():
    # .grad accumulates over the two backward calls: compare with torch's own.
    namespace: dict = {"__name__": "__main__"}
    exec(compile(load_example("retain_graph_fixed"), "retain_graph_fixed.py", "exec"),
         namespace)
    last = _run_in_gradstep("retain_graph_fixed")["calls"][-1]
    assert _rounded(last["timeline"]["leaf_grads"]["a"], 6) == _rounded(
        namespace["a"].grad.tolist(), 6)


def test_gradstep_cnn_parameter_grads_match_torch():
    namespace: dict = {"__name__": "__main__"}
    exec(compile(load_example("cifar_cnn"), "cifar_cnn.py", "exec"), namespace)
    params = list(namespace["net"].parameters())
    small = sorted(_rounded(p.grad.tolist(), 5) for p in params if p.numel() <= 64)
    leaf_grads = _run_in_gradstep("cifar_cnn")["calls"][0]["timeline"]["leaf_grads"]
    assert len(leaf_grads) == len(params)
    recorded = sorted(_rounded(g, 5) for g in leaf_grads.values() if isinstance(g, list))
    assert recorded == small
