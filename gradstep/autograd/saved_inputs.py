"""Which saved tensors of a torch node are the op's *inputs*, as torch's codegen decides it.

torch's backward unpacks a saved input without handing it the node, a saved output with it
(``gen_autograd_functions.py``: ``self_.unpack()``, ``unpack_list(self_, nullptr)`` against
``result_.unpack(getptr())``), so only a saved input can be refused as "detached in-place"
(``b.detach_()`` since it was saved), and only for an input is unpacking it that way a
question torch's backward asks too (a saved output always reads as detached there).

derivatives.yaml says which is which: a name its formulas read that is an argument of the
op's schema is an input (``self``, ``query``, ``x1``, ``grad_output``, ``tensors``), one that
is ``result``, ``resultN`` or a return name (``output``, ``indices``, ``Q``) an output
(``derivatives.BackwardEntry.saved``, ``SavedName.is_output``; the tests check every node
class torch ships against it). A node with no entry (a custom ``autograd.Function``, or a
torch without the yaml) has no saved input known here: nothing of it is taken for detached.
Reads the yaml's entry of the class once (a trace reads it anyway, for the formulas).
"""

from __future__ import annotations

from gradstep.autograd.derivatives import load_table
from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.node_class_caches import class_dict

_KNOWN: dict[type, frozenset[str]] = class_dict({})  # node class -> saved_input_names' answer


def saved_input_names(node_type: type) -> frozenset[str]:
    """Return the saved-tensor names (``_raw_saved_<name>``) that ``node_type`` keeps as the
    op's inputs; empty where derivatives.yaml has no entry for the class."""
    known = _KNOWN.get(node_type)
    if known is None:
        known = _KNOWN[node_type] = _from_table(node_type.__name__)
    return known


def _from_table(class_name: str) -> frozenset[str]:
    try:
        entry = load_table().entry(class_name)
    except Exception as exc:  # an odd yaml: shown less, never an error of gradstep's
        reraise_if_handlers(exc)
        return frozenset()
    if entry is None:
        return frozenset()
    return frozenset(s.name for s in entry.saved if not s.is_output)
