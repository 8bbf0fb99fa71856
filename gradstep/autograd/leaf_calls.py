"""Which of a snippet's recorded backward calls ran on leaves only, and where its recorded
calls are (no torch import: the commands read it from a run's reply)."""

from __future__ import annotations


def leaf_call_lines(calls: list) -> str:
    """Return the lines (at most 3, comma separated) of the recorded backward calls of
    ``calls`` (records of ``autograd.calls``) where every one ran on leaves themselves
    (``x.backward(g)``: each of its nodes a leaf's AccumulateGrad, see ``leaf_root``), else
    "" (also where none was recorded)."""
    recorded = [call for call in calls or () if call.get("timeline")]
    if not recorded or not all(call.get("nodes") and all(node["name"] == "AccumulateGrad"
                                                          for node in call["nodes"])
                               for call in recorded):
        return ""
    return recorded_call_lines(recorded)


def recorded_call_lines(calls: list) -> str:
    """Return the lines (at most 3, comma separated) of the recorded backward calls of
    ``calls`` ("" where none was recorded): ``gradstep backward FILE`` prints their passes
    where the snippet left no graph to draw (a loss local to ``main()``, a thread's)."""
    recorded = [call for call in calls or () if call.get("timeline")]
    return ", ".join(str(line) for line in list(dict.fromkeys(c["line"] for c in recorded))[:3])
