"""The node a backward call on a leaf itself runs: the leaf's ``AccumulateGrad``.

``x.backward(g)`` (or ``torch.autograd.backward([x, s])``) on a leaf ``x`` runs one
node, ``x``'s AccumulateGrad, which no ``grad_fn`` leads to: torch's engine gets it
itself (``gradient_edge``), making it where the leaf has none alive. To put the step
hooks on it, gradstep gets it first, the way ``torch.autograd.graph.get_gradient_edge``
does (``x.view_as(x).grad_fn.next_functions[0][0]``), and holds it through the call:
the engine then finds that very node (the leaf keeps a weak reference to it) and runs
it as it would have run its own. Torch's own helper makes a ``ViewBackward0`` node on
the caller's thread, which takes a sequence number from that thread's counter: every
later node of the snippet's would be numbered one higher than in the plain run (and
a snippet's mode or profiler would see the ``view_as``). So the view is made on a
thread of gradstep's own (torch counts each thread's nodes apart, and modes are per
thread), out of sight (``unseen``), started without ``threading`` (whose ``start``
the recording notes as the snippet's).

Not under anomaly mode (``torch.autograd.set_detect_anomaly(True)``, a switch of the
whole process): there a node keeps the Python stack of the thread that made it, and
torch prints it when the node fails ("Error detected in AccumulateGrad. Traceback of
forward call that caused the error"); made on gradstep's thread, that traceback named
gradstep's ``leaf_root.py`` and not the snippet's ``x.backward(g)`` line (review of
core7). The engine then makes the node itself, as in the plain run, and the call runs
unrecorded (no step shown), as before core7.
"""

from __future__ import annotations

import _thread

import torch

from gradstep.autograd.safe_reads import is_plain, plain_reads
from gradstep.autograd.unseen import unseen


def leaf_node(tensor):
    """Return the ``AccumulateGrad`` node of ``tensor`` where it is a plain leaf that
    requires grad (the node a backward call on it runs), else None (also under anomaly
    mode: see the module docstring)."""
    if not is_plain(tensor) or torch.is_anomaly_enabled():
        return None
    with plain_reads():
        if not tensor.requires_grad or tensor.grad_fn is not None:
            return None
    found: list = []
    done = _thread.allocate_lock()
    done.acquire()

    def read() -> None:
        try:
            with unseen(), torch.enable_grad():
                found.append(tensor.view_as(tensor).grad_fn.next_functions[0][0])
        except BaseException:  # (an inference tensor, say: the call runs unrecorded)
            pass
        finally:
            done.release()

    _thread.start_new_thread(read, ())
    done.acquire()
    return found[0] if found else None
