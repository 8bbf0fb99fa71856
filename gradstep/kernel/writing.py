"""Files the kernel writes itself for the command line: the trace JSON, and the pictures and
graph files that need no Qt (SVG, DOT, GraphML, JSON).

The graph lives in the kernel. Writing the file there spares the command line the
trace's round trip: encoding it for the pipe, decoding it, and importing networkx and
numpy a second time (a 100,000-node trace is ~99 MB of JSON). ``run`` with
``keep_trace`` keeps the trace here instead of sending it, only when the snippet ran to
its end (a failed run sends it as always, to be drawn with its failure), and the
session then forgets its own records of the run; ``write`` writes the trace and forgets it.
A ``Session`` keeps its graph rather than the trace JSON (``keep_graph``): a file is
drawn from the graph, and the JSON made only for ``trace --json``. ``run``'s time limit
covers the snippet, not this writing, as when the command line drew the file itself.

What a ``write`` drew from (the trace, or the graph made of it) is freed when the next
request comes (``release``), not before the reply: the command line's next request is
``shutdown``, which ends the process (``os._exit``) without freeing anything. Freeing a
100,000-node graph costs ~0.4 s (~2 M objects, and networkx's cached views make it a
cycle that only a collection frees).
"""

from __future__ import annotations

import gc
from pathlib import Path

from gradstep.kernel.trace_text import NodeTexts
from gradstep.policies.gc_pause import without_gc
from gradstep.policies.number_text import DEFAULT, options_of, printed_with
from gradstep.policies.strict_json import write_json_line
from gradstep.schema.graph import FORMULA_FIELDS


class Kept:
    """The trace of the last ``run`` that asked to keep it (None once written or replaced),
    and what the last ``write`` drew from (``spent``: freed by ``release``)."""

    trace: object = None  # the trace JSON dict, or the graph a session kept (take_graph)
    spent: object = None
    print_options = DEFAULT  # its run's reply's (set_printoptions): the file's texts follow them


def release() -> None:
    """Free what the last ``write`` drew from, if anything, with one collection (its graph is
    a cycle): the kernel does this when the next request comes, before it runs any snippet."""
    if Kept.spent is not None:
        Kept.spent = None
        gc.collect()


def after_run(result: object, keep: bool, session=None) -> object:
    """Return ``run``'s reply: without its trace, kept here, when ``keep`` and the snippet
    ran to its end; else ``result`` as it is (and any older kept trace is forgotten).

    A session that kept its graph instead of the trace JSON (``Session.run(keep_graph=True)``,
    which forgets its own records of the run: the snippet's variables stay, the memory
    goes to the drawing, a 100,000-node export stays under 1 GB) hands it over
    (``take_graph``): the graph is kept, and made JSON only when the reply must carry it.
    Otherwise the trace JSON is kept and the session, if it can, forgets its records.
    """
    Kept.trace = None
    Kept.print_options = options_of(result.get("print_options") if isinstance(result, dict) else None)
    graph = session.take_graph() if hasattr(session, "take_graph") else None
    ok = isinstance(result, dict) and result.get("ok")
    if graph is not None and not (keep and ok):  # sent as always (a stop the snippet caught)
        return {**result, "trace": _json_of(graph)} if ok else result
    if graph is None and not (keep and ok and result.get("trace")):
        return result
    Kept.trace = graph if graph is not None else result["trace"]
    if graph is None and hasattr(session, "forget_records"):
        session.forget_records()
    return {**result, "trace": None, "trace_kept": True}


def _json_of(graph) -> dict:
    """Return the trace JSON of a kept graph (``Session.take_graph``)."""
    from gradstep.autograd.serialize import graph_to_json

    return graph_to_json(graph, device=graph.graph.get("device"), share=True)


@without_gc  # gradstep's own bulk work (and its imports), no user code: no full collections
def write(params: dict) -> dict:
    """Write the kept trace as ``params`` say (``schema.kernel.WriteRequest``), then forget
    it; return the ``WriteReply``. A path or options that cannot be used are ``refused``
    in words."""
    if Kept.trace is None:
        return _reply(refused="no trace is kept: the last run did not ask for keep_trace, "
                              "failed, or was written already")
    path = Path(params["path"])
    try:
        if params.get("kind") == "trace":
            kept = _take()
            trace = kept if isinstance(kept, dict) else _json_of(kept)
            Kept.spent = trace if kept is trace else (kept, trace)
            write_json_line(trace, path, shared=FORMULA_FIELDS, templates=NodeTexts)
        else:
            with printed_with(Kept.print_options):
                Kept.spent = _write_text_file(path, params)
    except (ValueError, OSError, RuntimeError) as exc:  # ExportError is a ValueError
        if isinstance(exc, OSError):  # the system's words (English): say what to fix
            from gradstep.drawing.formats import unwritten  # no Qt, networkx or numpy

            exc = unwritten(path, exc)
        return _reply(refused=str(exc))  # in the kernel's language (its locale)
    finally:
        Kept.trace = None
    return _reply(written=str(path))


def _take() -> object:
    """Return the kept trace (JSON or graph) and keep it no more: the caller holds the only
    reference, so its memory can go as soon as the caller is done with it (a 100,000-node
    trace: ~0.2 GB)."""
    trace, Kept.trace = Kept.trace, None
    return trace


def _write_text_file(path: Path, params: dict):
    """Write the kept trace's graph to ``path``; return the graph (networkx), for ``release``."""
    # Imported here: a kernel that only runs snippets for the window never loads drawing.
    from gradstep.autograd.graph_json import graph_from_json
    from gradstep.drawing.files import TEXT_FORMATS, ExportError, write_text_file
    from gradstep.i18n import lazy

    if path.suffix.lower() not in TEXT_FORMATS:
        raise ExportError(lazy("{name}: the kernel writes {known} only", name=repr(path.name),
                               known=", ".join(TEXT_FORMATS)))
    kept = _take()  # the kept graph, or the trace JSON: its dicts go here, sharing values
    graph = graph_from_json(kept) if isinstance(kept, dict) else kept
    write_text_file(graph, path, rankdir=params.get("rankdir", "TB"),
                    engine=params.get("layout", "layered"), collapse=params.get("collapse"),
                    size=params.get("scale", 1.0))
    return graph


def _reply(*, written: str | None = None, refused: str | None = None) -> dict:
    return {"written": written, "refused": refused, "error": None}
