"""Files the kernel writes itself (``gradstep.kernel.writing``) are byte for byte the files
the command line wrote from the trace it received on the pipe."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gradstep.autograd.graph_json import graph_from_json
from gradstep.autograd.session import Session
from gradstep.drawing.export import export_graph
from gradstep.examples import EXAMPLES, load_example
from gradstep.kernel import protocol, writing
from gradstep.kernel.client import Kernel
from gradstep.policies.strict_json import json_line, write_json_line
from gradstep.schema import kernel as records
from gradstep.schema.graph import FORMULA_FIELDS
from gradstep.schema.validate import problems

NAN_SNIPPET = ("x = torch.tensor([-1.0, 0.0, 4.0], requires_grad=True)\n"
               "loss = (torch.sqrt(x) + torch.log(x) * float('inf')).sum()\n")
OPTIONS = [({}, ".svg"), ({}, ".dot"), ({}, ".graphml"), ({}, ".json"),
           ({"rankdir": "LR", "collapse": 1}, ".svg"), ({"collapse": 1}, ".json")]


def _through_the_pipe(trace: dict) -> dict:
    """The trace as the command line received it before: encoded, framed and decoded."""
    reader = protocol.FrameReader()
    reader.feed(protocol.encode(trace))
    return reader.pop()


def _snippets():
    return [pytest.param(load_example(e.id), id=e.id) for e in EXAMPLES] + [
        pytest.param(NAN_SNIPPET, id="nan_and_inf")]


@pytest.mark.parametrize("source", _snippets())
def test_the_kernel_writes_what_the_command_drew_from_the_pipe(source, tmp_path):
    result = Session().run(source)
    if not result["ok"] or not result["trace"]:
        reply = writing.after_run(result, keep=True)
        assert reply is result and writing.Kept.trace is None  # sent as always
        return
    received = _through_the_pipe(result["trace"])
    for options, suffix in OPTIONS:
        before, after = tmp_path / f"before{suffix}", tmp_path / f"after{suffix}"
        export_graph(graph_from_json(received), before, rankdir=options.get("rankdir", "TB"),
                     collapse=options.get("collapse"))
        reply = writing.after_run(result, keep=True)
        assert reply["trace"] is None and reply["trace_kept"] is True
        assert problems(reply, records.RunReply) == []
        written = writing.write({"path": str(after), "kind": "text", **options})
        assert written == {"written": str(after), "refused": None, "error": None}
        assert after.read_bytes() == before.read_bytes(), (options, suffix)
    writing.after_run(result, keep=True)
    assert writing.write({"path": str(tmp_path / "t.json"), "kind": "trace"})["written"]
    assert (tmp_path / "t.json").read_bytes() == json_line(received)
    surrogate = {"nodes": [{"id": "n0", "label": "\ud800"}]}
    write_json_line(surrogate, tmp_path / "s.json")
    assert (tmp_path / "s.json").read_bytes() == json_line(surrogate) == b'{"nodes": [{"id": "n0", "label": "\\ud800"}]}\n'


def test_a_write_without_a_kept_trace_or_with_a_bad_path_is_refused_in_words(tmp_path):
    result = Session().run("x = torch.ones(2, requires_grad=True)\nloss = (x * 2).sum()\n")
    writing.after_run(result, keep=False)
    refused = writing.write({"path": str(tmp_path / "a.svg")})
    assert refused["written"] is None and "no trace is kept" in refused["refused"]
    writing.after_run(result, keep=True)
    bad = writing.write({"path": str(tmp_path / "a.png")})
    assert bad["written"] is None and ".svg" in bad["refused"]
    writing.after_run(result, keep=True)
    missing = writing.write({"path": str(tmp_path / "no" / "such" / "a.svg")})
    assert missing["written"] is None  # the system's "No such file" turned into what to do
    assert missing["refused"] == (f"could not write {tmp_path / 'no' / 'such' / 'a.svg'}: the folder "
                                  f"{tmp_path / 'no' / 'such'} does not exist; create it first")
    assert writing.write({"path": str(tmp_path / "b.svg")})["written"] is None  # forgotten
    for reply in (refused, bad, missing):
        assert problems(reply, records.WriteReply) == []


@pytest.fixture(scope="module")
def kernel():
    with Kernel(timeout=60) as k:
        yield k


def test_a_kernel_keeps_a_finished_trace_and_writes_it_where_the_graph_lives(kernel, tmp_path):
    source = load_example(EXAMPLES[0].id)
    if kernel.alive:  # the module's kernel ran a test before: both runs from a fresh process
        kernel.restart()
    expected = kernel.run(source)["trace"]
    kernel.restart()  # a fresh process: torch's node sequence numbers start again
    run = kernel.run(source, keep_trace=True)
    assert run["ok"] and run["trace"] is None and run["trace_kept"]
    assert problems(run, records.RunReply) == []
    reply = kernel.write(str(tmp_path / "t.json"), kind="trace")
    assert problems(reply, records.WriteReply) == []
    assert json.loads((tmp_path / "t.json").read_text("utf-8")) == expected
    after = kernel.backward()  # the session forgot its records: no graph to step through
    assert after["error"] and "nothing to step through" in after["error"]["message"]
    failed = kernel.run("x = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\n"
                        "raise ValueError('late')\n", keep_trace=True)
    assert not failed["ok"] and failed["trace"] and "trace_kept" not in failed
    assert kernel.write(str(tmp_path / "g.svg"))["refused"]
    assert Path(tmp_path / "g.svg").exists() is False


def test_the_trace_is_written_in_pieces_as_the_same_text_as_in_one_go(tmp_path):
    nodes = [{"id": f"n{i}", "value": {"data": [float("nan"), i, -0.0], "shape": []},
              "label": "λ" if i % 7 else "\ud800", "saved": []} for i in range(23)]
    data = {"root": "n0", "nodes": nodes, "edges": [], 3: [1.5, float("inf")],
            "roots": ["n0"], "more": nodes[:4]}
    for batch in (1, 2, 5, 100):
        write_json_line(data, tmp_path / "pieces.json", batch=batch)
        assert (tmp_path / "pieces.json").read_bytes() == json_line(data), batch
    clean = {**data, "nodes": [{**n, "label": "ok"} for n in nodes]}
    write_json_line(clean, tmp_path / "clean.json", batch=4)
    assert (tmp_path / "clean.json").read_bytes() == json_line(clean)
    assert json.loads((tmp_path / "clean.json").read_text("utf-8"))["3"] == [1.5, "Infinity"]


def test_a_trace_file_that_fails_halfway_leaves_the_old_file(tmp_path, monkeypatch):
    """``gradstep trace -o t.json``: a full disk after some pieces left part of a trace where
    the old file was. It is written whole or not at all (``whole_file.replacing``), as the
    exports are; the kernel's refusal names the file in words."""
    import errno
    import os

    from gradstep.policies import strict_json

    path = tmp_path / "t.json"
    path.write_bytes(b"old\n")
    real = strict_json._write_pieces

    def then_full(data, stream, *args, **kwargs):
        real({"nodes": data["nodes"][:1]}, stream, *args, **kwargs)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(strict_json, "_write_pieces", then_full)
    result = Session().run("x = torch.ones(2, requires_grad=True)\nloss = (x * 2).sum()\n")
    writing.after_run(result, keep=True)
    reply = writing.write({"path": str(path), "kind": "trace"})
    assert reply["refused"] == (f"could not write {path}: the disk is full; free some space "
                                "or write into another folder")
    assert path.read_bytes() == b"old\n" and os.listdir(tmp_path) == ["t.json"]


def test_forgetting_the_records_keeps_the_snippets_tensors_and_graph_alive():
    session = Session()
    result = session.run("x = torch.ones(2, requires_grad=True)\nloss = (x * 3).sum()\n")
    root = session.state.root
    writing.after_run(result, keep=True, session=session)
    assert session.state.trace is None and session.state.values == {}
    assert session.state.root is root and session.state.namespace["loss"] is root
    root.backward()  # torch's own graph is untouched
    assert session.state.namespace["x"].grad.tolist() == [3.0, 3.0]


def test_a_run_stopped_by_its_time_limit_sends_its_trace_even_when_the_snippet_caught_the_stop(
        kernel):
    source = ("import time\ntry:\n    time.sleep(30)\nexcept KeyboardInterrupt:\n    pass\n"
              "x = torch.ones(2, requires_grad=True)\nloss = (x * 2).sum()\n")
    run = kernel.run(source, keep_trace=True, timeout=1.0)
    assert not run["ok"] and run["error"]["kind"] == "timeout"
    assert run["trace"] and "trace_kept" not in run  # drawn with its failure, as before
    assert kernel.write("/nonexistent/never.svg")["refused"]  # nothing was kept


def test_a_drawing_out_of_memory_says_so_in_the_drawings_words(monkeypatch, tmp_path):
    from gradstep.kernel import worker

    def no_memory(params):
        raise MemoryError("cannot allocate")

    monkeypatch.setattr(writing, "write", no_memory)
    reply = worker.write_kept({"path": str(tmp_path / "g.svg")}, 8 << 30)
    assert reply["written"] is None and reply["error"]["kind"] == "memory"
    assert "drawing its graph" in reply["error"]["explanation"]
    assert problems(reply, records.WriteReply) == []


@pytest.mark.parametrize("source", _snippets())
def test_a_run_that_forgets_its_records_sends_the_same_trace(source):
    """``keep_records=False`` (the kernel keeping the trace for a file) changes nothing in
    the reply; the records are gone only after a run that ended well."""
    kept, forgetting = Session(), Session()
    result, other = kept.run(source), forgetting.run(source, keep_records=False)
    assert json_line(_without_seq(other)) == json_line(_without_seq(result))
    if result["ok"] and result["trace"]:
        assert forgetting.state.trace is None and forgetting.state.values == {}
        assert forgetting.state.namespace  # the snippet's variables stay
    else:
        assert (forgetting.state.trace is None) == (kept.state.trace is None)


def _without_seq(result: dict) -> dict:
    """``result`` without its nodes' ``seq``, its calls' ``seq_mark`` and the printed
    output: torch's sequence numbers go on from one run to the next in a process, and a
    lesson prints an object's address (the command line's outputs are compared whole
    elsewhere)."""
    for node in (result.get("trace") or {}).get("nodes", []):
        node.pop("seq", None)
    for call in result.get("calls") or []:
        call.pop("seq_mark", None)
    return {key: value for key, value in result.items() if key != "output"}


def test_what_a_write_drew_from_is_freed_when_the_next_request_comes(tmp_path):
    import weakref

    from gradstep.kernel import worker

    result = Session().run("x = torch.ones(2, requires_grad=True)\nloss = (x * 2).sum()\n")
    trace = result["trace"]
    writing.after_run(result, keep=True)
    assert writing.write({"path": str(tmp_path / "g.svg")})["written"]
    graph = writing.Kept.spent  # kept past the reply: the command line's next request ends the kernel
    assert sorted(graph.nodes) == sorted(n["id"] for n in trace["nodes"])
    drawn = weakref.ref(graph)
    del graph
    worker.answer(None, {"id": 7, "method": "no_such_method"}, 0)  # any request releases it
    assert writing.Kept.spent is None and drawn() is None
    writing.after_run(result, keep=True)
    assert writing.write({"path": str(tmp_path / "t.json"), "kind": "trace"})["written"]
    assert writing.Kept.spent is trace and writing.Kept.trace is None
    writing.release()
    assert writing.Kept.spent is None


@pytest.mark.parametrize("source", _snippets())
def test_a_trace_written_in_small_pieces_with_shared_formulas_is_the_same_text(source, tmp_path):
    # batch=2: every list goes through the shared-value path (a lesson has < 1000 nodes)
    result = Session().run(source)
    if not result["trace"]:
        pytest.skip("no trace")
    trace = result["trace"]
    write_json_line(trace, tmp_path / "t.json", batch=2, shared=FORMULA_FIELDS)
    assert (tmp_path / "t.json").read_bytes() == json_line(trace)


def test_shared_values_keep_the_text_when_the_data_holds_a_marker_nan_or_odd_text(tmp_path):
    formula = {"self": "grad * 2", "note": "\u03b8 \ud800"}
    math_ = {"about": "x", "inputs": {"self": {"text": "2", "latex": "2"}}}
    marker = "\x00gradstep-shared:" + str(id(formula))
    nodes = [{"id": f"n{i}", "formula": formula, "formula_math": math_ if i % 2 else None,
              "value": float("nan") if i == 3 else 1.5, "label": marker if i == 5 else "mul"}
             for i in range(9)]
    data = {"root": "n0", "nodes": nodes, "edges": [{"source": "n0", "target": "n1"}] * 5}
    for batch in (1, 2, 4, 1000):
        write_json_line(data, tmp_path / "t.json", batch=batch, shared=FORMULA_FIELDS)
        assert (tmp_path / "t.json").read_bytes() == json_line(data)
    assert b'"label": "\\u0000gradstep-shared:' in json_line(data)  # the marker text itself kept


def test_a_shared_dict_spelled_differently_around_a_nan_stays_in_place(tmp_path):
    # json writes a True key "true", plain() (taken when a NaN is in the list) "True"
    odd = {True: "g", None: 1}
    nodes = [{"id": "n0", "formula": odd}, {"id": "n1", "formula": odd, "value": float("nan")},
             {"id": "n2", "formula": odd}, {"id": "n3", "formula": odd}]
    data = {"nodes": nodes}
    for batch in (1, 2, 4):
        write_json_line(data, tmp_path / "t.json", batch=batch, shared=FORMULA_FIELDS)
        assert (tmp_path / "t.json").read_bytes() == b"".join(
            json_line(nodes[i:i + batch])[1:-2] + (b", " if i + batch < 4 else b"")
            for i in range(0, 4, batch)).join([b'{"nodes": [', b"]}\n"])


@pytest.mark.parametrize("source", _snippets())
def test_a_graph_the_session_kept_writes_what_its_trace_json_drew(source, tmp_path):
    """The kernel's own path (``Session.run(keep_graph=True)``, ``take_graph``): the graph
    is written without becoming trace JSON and back, to the bytes the command line drew
    from that run's JSON."""
    session = Session()
    for options, suffix in OPTIONS:
        before, after = tmp_path / f"before{suffix}", tmp_path / f"after{suffix}"
        kept = session.run(source, keep_graph=True)
        reply = writing.after_run(kept, keep=True, session=session)
        if reply is kept:  # failed or no graph: the session kept none, sends it as always
            assert session.take_graph() is None and writing.Kept.trace is None
            assert json_line(_without_seq(kept)) == json_line(_without_seq(Session().run(source)))
            return
        assert reply["trace"] is None and reply["trace_kept"] is True
        assert problems(reply, records.RunReply) == []
        received = _through_the_pipe(writing._json_of(writing.Kept.trace))
        export_graph(graph_from_json(received), before, rankdir=options.get("rankdir", "TB"),
                     collapse=options.get("collapse"))
        assert writing.write({"path": str(after), "kind": "text", **options})["written"]
        assert after.read_bytes() == before.read_bytes(), (options, suffix)
    writing.after_run(session.run(source, keep_graph=True), keep=True, session=session)
    received = _through_the_pipe(writing._json_of(writing.Kept.trace))
    assert writing.write({"path": str(tmp_path / "t.json"), "kind": "trace"})["written"]
    assert (tmp_path / "t.json").read_bytes() == json_line(received)


def test_a_kept_graph_not_kept_goes_back_into_the_reply():
    """A run the user stopped, which the snippet caught, ends well but is not kept: its
    graph goes back into the reply as the trace JSON it would have sent."""
    source = "x = torch.ones(2, requires_grad=True)\nloss = (x * 2).sum()\n"
    session = Session()
    reply = writing.after_run(session.run(source, keep_graph=True), keep=False, session=session)
    assert writing.Kept.trace is None and session.take_graph() is None
    expected = Session().run(source)
    assert json_line(_without_seq(reply)) == json_line(_without_seq(expected))


def test_a_kept_graph_that_cannot_become_json_fails_the_run_not_the_kernel(monkeypatch):
    """The reply's trace JSON of a kept graph is made after the run (a stop the snippet
    caught): running out of memory there is the run's failure, as it was inside the run."""
    from gradstep.kernel import worker

    def no_memory(graph):
        raise MemoryError("cannot allocate")

    monkeypatch.setattr(writing, "_json_of", no_memory)
    session = Session()
    source = "x = torch.ones(2, requires_grad=True)\nloss = (x * 2).sum()\n"
    params = {"source": source}
    reply = worker._after_run(session.run(source, keep_graph=True), False, session, params)
    assert reply["ok"] is False and reply["error"]["kind"] == "memory"
    assert worker.upgrade_memory_error(reply, 8 << 30)["error"]["kind"] == "memory"


def test_edges_whose_slots_cannot_be_ordered_list_as_before():
    from gradstep.autograd.serialize import graph_to_json

    data = {"root": "n0", "device": "cpu", "edges": [
        {"source": "n0", "target": "n1", "slot": None, "input_nr": 0},
        {"source": "n0", "target": "n2", "slot": None, "input_nr": 0}],
        "nodes": [{"id": f"n{i}", "kind": "op", "name": "X"} for i in range(3)]}
    assert [e["target"] for e in graph_to_json(graph_from_json(data))["edges"]] == ["n1", "n2"]


def test_the_kernels_files_and_trace_are_written_without_networkx(monkeypatch, tmp_path):
    """A run that keeps its graph for the kernel's own writes (``keep_graph``) keeps it in a
    ``PlainGraph``: the run and writing SVG, DOT, JSON and the trace JSON from it import no
    networkx (~70-100 ms of every `gradstep export -o x.svg`), to the same bytes."""
    source = load_example(EXAMPLES[0].id)
    session = Session()
    for suffix in (".svg", ".dot", ".json", ".trace"):
        before, after = tmp_path / f"before{suffix}", tmp_path / f"after{suffix}"
        with monkeypatch.context() as blocked:
            blocked.setitem(sys.modules, "networkx", None)  # `import networkx` fails
            writing.after_run(session.run(source, keep_graph=True), keep=True, session=session)
        assert "networkx" not in type(writing.Kept.trace).__module__
        received = _through_the_pipe(writing._json_of(writing.Kept.trace))
        if suffix == ".trace":
            before.write_bytes(json_line(received))
        else:
            export_graph(graph_from_json(received), before)
        with monkeypatch.context() as blocked:
            blocked.setitem(sys.modules, "networkx", None)
            kind = "trace" if suffix == ".trace" else "text"
            assert writing.write({"path": str(after), "kind": kind})["written"]
        assert after.read_bytes() == before.read_bytes(), suffix


def test_a_failed_runs_kept_graph_is_plain_too(monkeypatch):
    """A run that keeps its graph and then fails still sends its trace JSON, made from a
    ``PlainGraph``: networkx imported after the snippet would run in what the snippet left
    and, after a timeout's stop, inside the stop's short grace (the picture was lost)."""
    source = "import torch\nx = torch.ones(2, requires_grad=True)\ny = (x * x).sum()\nraise ValueError('late')\n"
    with monkeypatch.context() as blocked:
        blocked.setitem(sys.modules, "networkx", None)  # `import networkx` fails
        result = Session().run(source, keep_graph=True)
    assert not result["ok"] and result["error"]["type"] == "ValueError"
    assert [n["name"] for n in result["trace"]["nodes"]] == ["SumBackward0", "MulBackward0",
                                                            "AccumulateGrad"]


def test_networkx_is_loaded_before_the_snippet_unless_the_kept_trace_needs_none(monkeypatch):
    """The kernel loads networkx before a run whose trace it sends or whose write needs it
    (GraphML, folded scopes), never after the snippet; a kept SVG/DOT/JSON's run loads none."""
    from gradstep.kernel import worker

    loaded = []
    monkeypatch.setattr(worker, "load_networkx", lambda: loaded.append(True))

    class Fake:  # records the order: the load before the run
        def take_graph(self):
            return None

        def run(self, **params):
            loaded.append(("run", params.get("keep_graph", False)))
            return {"ok": True, "trace": None}

    monkeypatch.setattr(worker, "call", lambda session, method, params: session.run(**params))
    monkeypatch.setattr(worker, "_after_run", lambda result, keep, session, params: result)
    for params, expected in (({"keep_trace": True}, [("run", True)]),
                             ({"keep_trace": True, "networkx": True}, [True, ("run", True)]),
                             ({}, [True, ("run", False)])):
        loaded.clear()
        worker.answer(Fake(), {"id": 1, "method": "run", "params": {"source": "", **params}}, 0)
        assert loaded == expected, params
