"""`gradstep check FILE [--json]`: findings as strict JSON, exit 1 on NaN/Inf, 0 for a
clean or merely vanishing model, 2 for bad usage.

The commands run as typed in this process, their snippets in one kernel process made as a
command's own (tests/command_runs.py); gradient norms are checked against torch run here.
"""

import contextlib
import io
import json
import re

import pytest
import torch

from gradstep.autograd.findings import diagnose as diagnose_flow
from tests.autograd.planted import CLEAN_MODEL, PLANTED
from tests.autograd.test_grad_flow import deep_mlp
from tests.command_runs import commands_on, run_command

pytestmark = pytest.mark.slow  # a kernel process

NO_BACKWARD = "x = torch.tensor([0.0, 1.0], requires_grad=True)\ny = torch.sqrt(x)\nloss = y * 2\n"

RUNS = {
    "sqrt": (PLANTED["sqrt of a negative"].source, ["--json"]),
    "sqrt_text": (PLANTED["sqrt of a negative"].source, []),
    "clean": (CLEAN_MODEL, ["--json"]),
    "sigmoid": (deep_mlp("Sigmoid"), ["--json"]),
    "no_backward": (NO_BACKWARD, ["--json"]),
    "bad_device": (CLEAN_MODEL, ["--json", "--device", "tpu"]),
}


def _refuse(name):
    raise ValueError(f"non-standard JSON constant {name}")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, module_command_kernel) -> dict:
    """Return {name: (exit status, stdout, stderr)} for RUNS."""
    folder = tmp_path_factory.mktemp("cli_check")
    done = {}
    with commands_on(module_command_kernel):
        for name, (source, options) in RUNS.items():
            path = folder / f"{name}.py"
            path.write_text(source, encoding="utf-8")
            done[name] = run_command(["check", str(path), *options])
    return done


def parsed(runs, name) -> dict:
    return json.loads(runs[name][1], parse_constant=_refuse)


def test_nan_is_found_and_fails(runs):
    status, _out, _err = runs["sqrt"]
    data = parsed(runs, "sqrt")
    assert status == 1
    first = data["findings"][0]
    assert {"kind", "node", "name", "line"} <= set(first)
    assert (first["kind"], first["name"], first["line"]) == ("nan_forward", "SqrtBackward0", 2)
    assert first["elements"][0] == {"index": [0], "value": "NaN", "inputs": [-1.0]}
    assert data["grad_norms"] == {"x": "NaN"}  # x.grad holds NaN, as in a plain run


def test_text_report_names_the_line_of_code(runs):
    status, out, _err = runs["sqrt_text"]
    assert status == 1
    assert "NaN starts at sqrt (a), line 2: sqrt(-1.) = nan" in out  # as torch prints (x - 2)[0]
    assert "2 | a = torch.sqrt(x - 2)" in out and "carried on by: mul (n3, line 3)" in out


def test_clean_model_passes_with_torch_s_norms(runs):
    status, _out, err = runs["clean"]
    assert status == 0, err
    data = parsed(runs, "clean")
    assert data["findings"] == []
    plain = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(CLEAN_MODEL, plain)
    expected = {name: p.grad.norm().item() for name, p in plain["model"].named_parameters()}
    assert data["grad_norms"].keys() == expected.keys()
    for name, norm in expected.items():  # another process: equal up to float32 rounding
        assert data["grad_norms"][name] == pytest.approx(norm, rel=1e-6)
    assert [layer["name"] for layer in data["layers"]] == ["0", "2"]


def test_vanishing_is_a_warning(runs):
    status, _out, err = runs["sigmoid"]
    assert status == 0, err
    kinds = [f["kind"] for f in parsed(runs, "sigmoid")["findings"]]
    assert kinds and set(kinds) == {"vanishing"}
    first = parsed(runs, "sigmoid")["findings"][0]
    assert first["module"] == "0" and first["relative"] < 1e-5


def test_without_a_backward_call_check_runs_one_from_the_root(runs):
    status, _out, _err = runs["no_backward"]
    data = parsed(runs, "no_backward")
    assert status == 1
    assert [(f["kind"], f["name"], f["line"]) for f in data["findings"]] == [
        ("inf_grad", "SqrtBackward0", 2)]  # d sqrt(x)/dx at x = 0, from ones_like(loss)
    assert data["grad_norms"] == {"x": "Infinity"}


def test_bad_usage_exits_2(runs):
    status, out, err = runs["bad_device"]
    assert status == 2 and out == "" and "invalid choice" in err


def test_a_graph_the_snippets_own_pass_freed_is_not_passed_through_again():
    """When the snippet's own pass shows no steps (a hook changed a gradient in place, say)
    and freed the graph, check's own pass failed on the freed buffers: check reported that
    RuntimeError as the snippet's and exited 1, where python ran the snippet without one.
    The snippet's own pass is the one checked then, though it has no steps: with none,
    check read no .grad and printed "No NaN or infinity" over an x.grad of [inf, 0.5]
    (``x.sqrt()`` at 0 under compiled autograd), with no gradient table."""
    from gradstep.commands.check import _one_pass

    class Session:
        def backward(self, gradient=None):
            return {"steps": [], "error": {"kind": "freed_buffers"}}

    own = {"steps": [], "freed": True, "error": None}
    result = {"ok": True, "trace": {"root": "n0", "nodes": [{"id": "n0", "name": "SumBackward0",
                                                              "shape": []}]},
              "calls": [{"timeline": own, "drawn": True}]}
    assert _one_pass(Session(), result) is own  # its leaves' .grad are still torch's to show
    result["calls"] = []  # no pass of the snippet's freed it: torch's error is the snippet's
    assert _one_pass(Session(), result)["error"]["kind"] == "freed_buffers"
    # a call on a graph of its own (not drawn) freed none of this one's buffers: with --root
    # chosen, check's own pass is asked for; without, gradstep starts none (rootcall)
    result["calls"] = [{"timeline": own, "drawn": False}]
    assert _one_pass(Session(), result, chosen=True)["error"]["kind"] == "freed_buffers"
    assert _one_pass(Session(), result) is None


def test_a_pass_through_another_graph_numbered_alike_is_not_taken_for_the_drawn_ones():
    """A backward call on a graph of its own numbers its nodes n0, n1, ... too: check took
    the first call whose step names matched the drawn graph's as its pass, so
    ``a.sqrt().sum().backward()`` at ``a = [0, 4]`` (an inf gradient), then a drawn
    ``loss = x.sqrt().sum()`` at ``x = [1, 4]``, reported "Infinity starts in the gradient
    of sqrt, line 6" and exited 1 (fidelity hunt). Only a call drawn on the traced graph is."""
    from gradstep.commands.check import _one_pass

    ran = []

    class Session:
        def backward(self, gradient=None):
            ran.append(gradient)
            return {"steps": [{"node": "n0", "name": "SumBackward0"}], "error": None}

    other = {"steps": [{"node": "n0", "name": "SumBackward0"}], "freed": True, "error": None}
    result = {"ok": True, "trace": {"root": "n0", "nodes": [{"id": "n0", "name": "SumBackward0",
                                                              "shape": []}]},
              "calls": [{"timeline": other, "drawn": False}]}
    assert _one_pass(Session(), result) is None and ran == []  # (rootcall: no pass of its own)
    assert _one_pass(Session(), result, chosen=True) is not other and ran == [None]  # --root
    result["calls"][0]["drawn"] = True
    assert _one_pass(Session(), result) is other


def test_the_text_report_writes_non_finite_numbers_as_torch_prints_them():
    """In process: check's text reads sqrt(-1.) = nan and a |grad| of nan (torch prints
    ``tensor(nan)``), its JSON "NaN" (strict JSON, docs/schema.md)."""
    from types import SimpleNamespace

    from gradstep.commands import check

    class Session:  # what check reads of a run: the trace, its pass, the gradient norms
        def grad_stats(self):
            return {"params": [{"node": "n4", "label": "x", "scope": "", "shape": [2], "numel": 2,
                                "grad_norm": "NaN", "weight_norm": 6.08, "zeros": 0, "nan": 1,
                                "inf": 0}]}

    from tests.autograd.test_findings_pure import CHAIN
    result = {"ok": True, "trace": CHAIN, "calls": [{"drawn": True, "timeline": {"steps": [
        {"index": 0, "node": "n0", "name": "SumBackward0"}]}}]}
    written = {}
    for json_out in (False, True):
        args = SimpleNamespace(json=json_out, deep_values=False)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert check._check(args, Session(), result, "", "s.py") == 1
        written[json_out] = out.getvalue()
    assert "line 2: sqrt(-1.) = nan\n" in written[False]
    assert re.search(r"^x +nan +6\.08 +nan", written[False], re.M), written[False]
    data = json.loads(written[True])
    assert data["findings"][0]["cause"] == "sqrt(-1) = NaN" and data["grad_norms"] == {"x": "NaN"}


def test_an_error_the_snippet_caught_in_its_own_pass_is_no_failure(capsys):
    """The snippet's ``try: s.sum().backward()`` / ``except RuntimeError`` (a tensor it saved
    was changed in place) on the drawn graph, then its own good pass: python ends well, and
    ``gradstep backward`` says "The snippet caught this error" and exits 0 (hunt 13); check
    took that first call as its pass, reported its error as the snippet's failure and exited
    1 (fidelity hunt). It is explained as caught; check exits as its findings say."""
    from types import SimpleNamespace

    from gradstep.commands import check
    from tests.autograd.test_findings_pure import leaf, op, small

    class Session:
        def grad_stats(self):
            return {"params": []}

    trace = {"root": "n0", "nodes": [op("n0", "SumBackward0", 1, small(6.0), line=5),
                                     op("n1", "MulBackward0", 0, small([2.0, 4.0]), line=4),
                                     leaf("n2", small([1.0, 2.0]), "x")],
             "edges": [{"source": "n0", "target": "n1", "slot": 0, "input_nr": 0},
                       {"source": "n1", "target": "n2", "slot": 0, "input_nr": 0}]}
    caught = {"kind": "modified_inplace", "type": "RuntimeError", "line": 6, "code": "y.sum()",
              "message": "one of the variables needed for gradient computation has been "
                         "modified by an inplace operation"}
    first = {"steps": [{"index": 0, "node": "n0", "name": "SumBackward0"}], "error": caught}
    result = {"ok": True, "trace": trace, "calls": [{"drawn": True, "timeline": first}]}
    args = SimpleNamespace(json=True, deep_values=False)
    assert check._check(args, Session(), result, "", "s.py") == 0
    err = capsys.readouterr().err  # check's status is its findings': no "exit status 0"
    assert "The snippet caught this error" in err and "exit status 0" not in err
    result["ok"] = False  # the snippet itself failed there: check fails with it
    result["error"] = caught
    assert check._check(args, Session(), result, "", "s.py") == 1


def test_the_layer_table_writes_whole_module_names():
    """A BERT's "encoder.layer.0.attention.output.dense" and "...output.LayerNorm" were
    cut to their first 32 characters, the same for both: two rows named alike."""
    from gradstep.commands.check import format_report
    from tests.autograd.test_findings_pure import flow_trace, stats

    dense, norm = "encoder.layer.0.attention.output.dense", "encoder.layer.0.attention.output.LayerNorm"
    data = stats((dense + ".weight", dense, 0.5, 1.0, 4, 0), (norm + ".weight", norm, 0.25, 1.0, 4, 0))
    diagnosis = diagnose_flow(flow_trace(2), stats=data)
    text = format_report(diagnosis, flow_trace(2))
    assert re.search(r"^encoder\.layer\.0\.attention\.output\.dense +0\.5 +1 +0\.5 +0%$", text, re.M)
    assert re.search(rf"^{re.escape(norm)} +0\.25 +1 +0\.25 +0%$", text, re.M), text


def test_many_origins_are_cut_to_a_few_lines_and_counted():
    """A ResNet-18 after an SGD step with lr=1e6 holds NaN in all 62 parameters: check
    wrote 62 alike findings and 62 "carried on by" lines before its table. It writes the
    first ORIGINS_SHOWN and counts the rest; --json keeps them all."""
    from gradstep.commands.check import ORIGINS_SHOWN, format_report
    from tests.autograd.test_findings_pure import edge, leaf, op, small

    count = ORIGINS_SHOWN + 3
    nodes = [leaf(f"p{k}", small(["NaN"]), f"w{k}") for k in range(count)]
    nodes += [op(f"m{k}", "MulBackward0", k, small(["NaN"])) for k in range(count)]
    trace = {"root": f"m{count - 1}", "nodes": nodes,
             "edges": [edge(f"m{k}", f"p{k}") for k in range(count)]}
    diagnosis = diagnose_flow(trace)
    assert len(diagnosis.nonfinite()) == count  # all kept (the JSON's findings)
    text = format_report(diagnosis, trace)
    assert len(re.findall(r"^nan_forward: ", text, re.M)) == ORIGINS_SHOWN, text
    assert "... and 3 more places where NaN or infinity starts (--json lists all)" in text


def test_a_leaf_that_carries_nan_on_is_named_by_its_label():
    """sqrt(0) in a loss on a timm model: the gradient's NaN reaches fc.bias, which the
    carriers line called "accumulate_grad (n6)" (every leaf's node is AccumulateGrad)."""
    from types import SimpleNamespace

    from gradstep.commands.check import format_report
    from gradstep.schema.findings import Finding
    from tests.autograd.test_findings_pure import leaf, op, small

    trace = {"root": "n0", "nodes": [op("n0", "AddmmBackward0", 1, small([1.0]), line=10),
                                     leaf("n6", small([0.5]), "fc.bias")], "edges": []}
    finding = Finding(kind="nan_grad", node="n0", message="NaN starts in the gradient of addmm",
                      carriers=["n0", "n6"])
    diagnosis = SimpleNamespace(nonfinite=lambda: [finding], rows=[], findings=[finding])
    text = format_report(diagnosis, trace)
    assert "carried on by: addmm (n0, line 10), fc.bias (n6)\n" in text, text


def test_leaves_a_real_pass_carried_infinity_to_are_named_by_their_labels():
    """sqrt(0) after a Linear: torch's own .grad of its weight and bias is infinite, and
    the carriers line names those leaves by the labels the layer table uses, not as
    accumulate_grad."""
    from gradstep.autograd.session import Session
    from gradstep.commands.check import format_report

    source = """\
torch.manual_seed(0)
fc = nn.Linear(3, 2)
loss = (fc(torch.ones(4, 3)) - fc(torch.ones(4, 3)).detach()).sqrt().sum()
loss.backward()
"""
    plain = {"torch": torch, "nn": torch.nn}
    exec(compile(source, "<plain>", "exec"), plain)
    assert all(torch.isinf(p.grad).all() for p in plain["fc"].parameters())  # torch's
    session = Session()
    result = session.run(source)
    passes = [c["timeline"] for c in result["calls"] if c.get("timeline")][:1]
    diagnosis = diagnose_flow(result["trace"], passes, session.grad_stats())
    text = format_report(diagnosis, result["trace"], source)
    [carried] = [line for line in text.splitlines() if line.startswith("  carried on by: ")]
    leaves = [row.name for row in diagnosis.rows]
    assert sorted(leaves) == ["bias", "weight"]
    for name in leaves:
        assert re.search(rf"[ ,]{name} \(n\d+\)", carried), carried
    assert "accumulate_grad" not in carried, carried


def test_the_layer_table_keeps_its_columns_for_long_figures():
    """Figures of 11 characters (``1.23457e-05``: 6 significant digits) pushed their row's
    later columns out of line under headers 10 wide."""
    from gradstep.commands.check import format_report
    from tests.autograd.test_findings_pure import flow_trace, stats

    data = stats(("a.weight", "a", 1.2345678e-05, 2.5, 4, 1), ("b.weight", "b", 0.5, 1.2345678e+10, 4, 0),
                 ("c.weight", "c", 3.0, 1.0, 4, 0))
    text = format_report(diagnose_flow(flow_trace(3), stats=data), flow_trace(3))
    table = [line for line in text.splitlines() if line.startswith(("layer", "a ", "b ", "c "))]
    assert len(table) == 4 and "1.23457e-05" in table[1] and "1.23457e+10" in table[2], text
    ends = [[m.end() for m in re.finditer(r"\S+", line)][-4:] for line in table]
    assert all(row == ends[0] for row in ends), text


def test_a_real_runs_layer_table_keeps_its_columns():
    """The same on a real run: a gradient scaled by 1e-7 gives torch's norms of 11
    characters (``4.89898e-07``), each under its header."""
    from gradstep.autograd.session import Session
    from gradstep.commands.check import format_report

    source = ("torch.manual_seed(0)\nfc = nn.Linear(3, 2)\nout = nn.Linear(2, 1)\n"
              "loss = (out(fc(torch.ones(4, 3))) * 1e-7).sum()\nloss.backward()\n")
    session = Session()
    result = session.run(source)
    passes = [c["timeline"] for c in result["calls"] if c.get("timeline")]
    text = format_report(diagnose_flow(result["trace"], passes, session.grad_stats()),
                         result["trace"], source)
    table = [line for line in text.splitlines() if line.startswith(("layer", "fc ", "out "))]
    assert len(table) == 3 and re.search(r"\d\.\d{5}e-0\d", table[1] + table[2]), text
    ends = [[m.end() for m in re.finditer(r"\S+", line)][-4:] for line in table]
    assert all(row == ends[0] for row in ends), text
