"""Several pass records joined into one backward reply (``combine_passes``), and where a
failed one stopped, in words. Pure data, no torch: ``gradstep backward`` joins the
snippet's own passes in the command's process, which never loads torch."""

from __future__ import annotations

from gradstep.i18n import lazy, with_words


def explanation_of(error: dict):
    """Return the error's explanation as a message when it has one, else its text."""
    return (error.get("words") or {}).get("explanation") or error.get("explanation") or ""


def combine_passes(records: list[dict]) -> dict:
    """Return one timeline from consecutive pass records (steps numbered across passes)."""
    steps, summaries = [], []
    for number, record in enumerate(records):
        first = len(steps)
        for step in record["steps"]:
            steps.append({**step, "index": len(steps), "pass": number})
        summary = {
            "pass": number, "first_step": first, "steps": len(record["steps"]),
            "leaf_grads": record["leaf_grads"], "returned": record.get("returned"),
            "freed": record["freed"],
            "error": record["error"],
        }
        if record.get("grad_moved"):  # (grad_marks: each pass's own, its steps' state)
            summary["grad_moved"] = list(record["grad_moved"])
        summaries.append(summary)
    last = records[-1]
    if last["error"] is not None:
        last["error"] = _where_it_stopped(last["error"], len(records) - 1, len(records), steps)
    joined = {
        **last, "steps": steps, "passes": summaries,
        "freed": any(r["freed"] for r in records),
        "freed_before": records[0]["freed_before"],
    }
    # what torch would refuse as changed in place, as the first pass began; where a later
    # pass began in another state, none is claimed (the trace's probe, step_state)
    # likewise why no steps are shown, and several roots: said where every pass says it
    for key in ("changed_before", "no_steps", "graph_root"):
        found = [r.get(key) for r in records]
        joined.pop(key, None)
        if all(c == found[0] for c in found) and found[0] is not None:
            joined[key] = found[0]
    # the leaves whose .grad the snippet's code changed are per pass, in ``passes``: a list
    # joined over several passes would hide the steps of a pass that changed none, and
    # those before another pass's AccumulateGrad not at all (one timeline of them all)
    if len(records) > 1:
        joined.pop("grad_moved", None)
    return joined


def _where_it_stopped(error: dict, number: int, count: int, steps: list) -> dict:
    """Return ``error`` with ``pass`` and ``node`` set and the place named in its explanation."""
    failed = next((s for s in reversed(steps) if s.get("error")), None)
    where = (lazy("pass {number} of {count}", number=number + 1, count=count) if count > 1
             else lazy("the backward pass"))
    if failed is not None:
        where = lazy("{where}, at {node} ({name})", where=where, node=failed["node"],
                     name=failed["name"])
    stopped = lazy("It stopped in {where}.", where=where)
    explanation = explanation_of(error)
    if explanation:
        stopped = lazy("{text} {more}", text=explanation, more=stopped)
    return with_words({**error, "pass": number, "node": failed["node"] if failed else None},
                      explanation=stopped)
