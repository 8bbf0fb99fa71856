"""Which of a snippet's recorded backward calls ran on leaves only, and where its recorded
calls are (no torch import: the commands read it from a run's reply)."""

from __future__ import annotations


def leaf_call_lines(calls: list) -> list[tuple[int, bool]]:
    """Return the recorded backward calls of ``calls`` (records of ``autograd.calls``), as
    ``recorded_call_lines`` does, where every one ran on leaves themselves (``x.backward(g)``:
    each of its nodes a leaf's AccumulateGrad, see ``leaf_root``), else [] (also where none
    was recorded)."""
    recorded = [call for call in calls or () if call.get("timeline")]
    if not recorded or not all(call.get("nodes") and all(node["name"] == "AccumulateGrad"
                                                          for node in call["nodes"])
                               for call in recorded):
        return []
    return recorded_call_lines(recorded)


def recorded_call_lines(calls: list) -> list[tuple[int, bool]]:
    """Return the recorded backward calls of ``calls`` on their first 3 lines ([] where none
    was recorded), each ``(line, whether it is an autograd.grad call)``, a line's calls of one
    kind at most twice (``freed_by.calls_named``'s words: "call at line 5", "calls at lines
    5, 6"): ``gradstep backward FILE`` prints their passes where the snippet left no graph to
    draw (a loss local to ``main()``, a thread's)."""
    recorded = [call for call in calls or () if call.get("timeline")]
    lines = list(dict.fromkeys(c["line"] for c in recorded))[:3]
    out: list[tuple[int, bool]] = []
    for call in recorded:
        item = (call["line"], call.get("api") == "torch.autograd.grad")
        if call["line"] in lines and out.count(item) < 2:
            out.append(item)
    return out
