"""How gradients flow through the layers after a backward pass (pure; no torch).

Input: the per-leaf statistics the kernel computed from the real ``.grad`` tensors
(``grad_stats.grad_stats``: norms with torch's own ``vector_norm``). Rows are ordered
from the input side to the output side by when the forward pass first used each
parameter (the smallest ``seq`` among the ops that read it); folded rows group the
parameters of one module (the leaf's ``scope``), with norms combined as the norm of
all their elements together.

Thresholds. A layer's learning speed under plain SGD is ``r = |grad| / |weight|``:
one step of rate η changes it by η·r of its size. Measured on seeded models (batch 64
unless said, modules folded as here; ``scripts/diagnose_numbers.py --flow`` prints the
table, docs/commands.md has it):

- **vanishing**: ``r`` below ``VANISHING_RELATIVE`` (1e-5) times the largest ``r`` among
  the layers that are not exploding: the layer learns 100,000 times slower than the
  fastest one. Healthy models keep every layer at 1.3e-4 of the largest or more
  (GPT-2 with 2 layers 3.6e-4, ResNet-18 3.6e-4, a 10-layer ReLU MLP with torch's
  default init 1.3e-4, with Kaiming init 4.5e-3, tanh with Xavier 1.6e-2, a small CNN
  5.6e-2): a margin of 13x. A 10-layer sigmoid MLP with the default init has its first
  layer at 1.7e-10 and six of eleven layers below the line; a 6-layer one sits at it
  (1.5e-5). Not relative to the median: the layers next to the loss always carry far
  larger ratios, and where gradients vanish the median lies inside the vanishing part
  (10-layer sigmoid MLP: smallest/median 3.5e-5; 6-layer: 0.039).
- **exploding**: ``r`` above ``EXPLODING_RATIO`` (1e3): a step of rate 1e-3, a small
  one, changes the layer by more than its own size. Healthy models stay below 20
  (ResNet-18 18.3, the Kaiming MLP's head 10.6, GPT-2 3.5); the same MLP with twice
  Kaiming's standard deviation has every layer above 9e3 (up to 1.2e7). Absolute, not
  relative: an exploding network is large everywhere. (ResNet-18 fed batches of two
  32x32 images is flagged too: its last BatchNorm normalises two numbers per channel.)
- **dead**: at least ``DEAD_SHARE`` (half) of a layer's gradient elements are exactly
  zero — the rows of units whose ReLU was off for every sample of the batch.
  Healthy ReLU MLPs at batch 8 or more: at most 0.19; a layer pushed dead (bias -10):
  1.0. With a batch of one sample about half of any ReLU layer is off, so such a
  batch is flagged too (the message says so). Not for an embedding table that only
  lookups read (``nn.Embedding``, ``EmbeddingBag``): torch gives the rows of ids not in
  the batch a gradient of exactly zero (a BERT's word, position and token-type tables:
  78%, 50%, 50% zero on a batch of sixteen tokens), which says nothing about ReLUs.

Layers whose weights are all zero (zero-initialised) have no ratio and are not flagged
as vanishing or exploding; gradients holding NaN/Inf are the NaN findings' business.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gradstep.autograd.elements import figure_text
from gradstep.i18n import _
from gradstep.policies.strict_json import json_float
from gradstep.schema.findings import Finding

VANISHING_RELATIVE = 1e-5
EXPLODING_RATIO = 1e3
DEAD_SHARE = 0.5
LOOKUPS = frozenset({"EmbeddingBackward0", "EmbeddingBagBackward0"})  # zero rows: ids not looked up


@dataclass
class FlowRow:
    """One bar of the gradient-flow chart: a parameter, or a module's parameters folded."""

    name: str
    nodes: list[str]
    params: list[str]
    order: float
    numel: int = 0
    grad_norm: float | None = None
    weight_norm: float | None = None
    zeros: int = 0
    nonfinite: int = 0
    scope: str = ""
    shape: list[int] = field(default_factory=list)
    lookup: bool = False  # an embedding table: only lookups read it (no dead check)
    written_after: bool = False  # weights written during or after the last recorded pass
    written_during: bool = False  # some of them during it (a hook's step)
    written_later: bool = False  # some of them after it, not during (opt.step() after it)

    @property
    def ratio(self) -> float | None:
        """``grad_norm / weight_norm`` (None without a gradient or with all-zero weights)."""
        if self.grad_norm is None or not self.weight_norm:
            return None
        return self.grad_norm / self.weight_norm

    @property
    def zero_fraction(self) -> float | None:
        if self.grad_norm is None or not self.numel:
            return None
        return self.zeros / self.numel

    def as_json(self) -> dict:
        def number(x):
            return None if x is None else json_float(x)

        return {"name": self.name, "nodes": self.nodes, "params": self.params,
                "numel": self.numel, "grad_norm": number(self.grad_norm),
                "weight_norm": number(self.weight_norm), "ratio": number(self.ratio),
                "zero_fraction": self.zero_fraction, "nonfinite": self.nonfinite}


def _number(x) -> float | None:
    """Return a float from JSON data (``"NaN"``, ``"Infinity"`` included), None for None."""
    if x is None:
        return None
    return float(x)


def param_rows(graph, params: list[dict]) -> list[FlowRow]:
    """Return one FlowRow per leaf statistic, input side first. ``graph`` is a
    ``nonfinite.GraphData`` of the same trace (for the order of first use)."""
    rows = []
    for p in params:
        node_id = p.get("node")
        order = graph.order(node_id) if node_id in graph.nodes else math.inf
        rows.append(FlowRow(
            name=p["label"], nodes=[node_id], params=[p["label"]], order=order,
            numel=int(p.get("numel") or 0), grad_norm=_number(p.get("grad_norm")),
            weight_norm=_number(p.get("weight_norm")), zeros=int(p.get("zeros") or 0),
            nonfinite=int(p.get("nan") or 0) + int(p.get("inf") or 0),
            scope=p.get("scope") or "", shape=list(p.get("shape") or []),
            lookup=_only_looked_up(graph, node_id), written_after=bool(p.get("written_after")),
            written_during=bool(p.get("written_after") and p.get("written_during")),
            written_later=bool(p.get("written_after") and not p.get("written_during"))))
    return sorted(rows, key=lambda r: r.order)


def _only_looked_up(graph, node_id) -> bool:
    """Return True when every op that reads the leaf is an embedding lookup (a table
    shared with an output layer, as GPT-2's, is read by a matmul too: False)."""
    if node_id not in graph.nodes:
        return False
    users = graph.consumers.get(node_id) or []
    return bool(users) and all(graph.nodes.get(u, {}).get("name") in LOOKUPS for u in users)


def fold_rows(rows: list[FlowRow]) -> list[FlowRow]:
    """Return the rows of ``param_rows`` grouped by module (scope); a leaf outside any
    module stays on its own. Norms combine as ``sqrt(sum of squares)``."""
    groups: dict[str, list[FlowRow]] = {}
    for row in rows:
        groups.setdefault(row.scope or f"\0{row.name}", []).append(row)
    folded = []
    for key, members in groups.items():
        with_grad = [m for m in members if m.grad_norm is not None]
        folded.append(FlowRow(
            name=key.lstrip("\0"), nodes=[n for m in members for n in m.nodes],
            params=[p for m in members for p in m.params], order=min(m.order for m in members),
            numel=sum(m.numel for m in with_grad),
            grad_norm=_combined([m.grad_norm for m in with_grad]) if with_grad else None,
            weight_norm=_combined([m.weight_norm for m in with_grad]) if with_grad else None,
            zeros=sum(m.zeros for m in with_grad), nonfinite=sum(m.nonfinite for m in members),
            scope=members[0].scope, lookup=all(m.lookup for m in members),
            written_after=any(m.written_after for m in members),
            written_during=any(m.written_during for m in members),
            written_later=any(m.written_later for m in members)))
    return sorted(folded, key=lambda r: r.order)


def written_when(rows: list[FlowRow]) -> str | None:
    """Return when the weights of ``rows`` were written in place around the last recorded
    backward call: ``"after"`` (none during it), ``"during"`` (a hook's step; none only
    after it), ``"during or after"`` (both), None where none was."""
    during = any(row.written_during for row in rows)
    later = any(row.written_later for row in rows)
    if not (during or later):
        return None
    return "during or after" if during and later else "during" if during else "after"


def _combined(norms: list) -> float | None:
    known = [n for n in norms if n is not None]
    return math.sqrt(sum(n * n for n in known)) if known else None


def flow_findings(rows: list[FlowRow]) -> list[Finding]:
    """Return the vanishing, exploding and dead findings of the rows, input side first."""
    ratios = {id(r): r.ratio for r in rows}
    finite = {k: v for k, v in ratios.items() if v is not None and math.isfinite(v)}
    calm = [v for v in finite.values() if v <= EXPLODING_RATIO]
    reference = max(calm) if calm else None
    found = []
    for row in rows:
        if row.grad_norm is None or row.nonfinite:
            continue
        ratio = finite.get(id(row))
        share = row.zero_fraction
        if share is not None and share >= DEAD_SHARE and not row.lookup:
            found.append(_finding("dead", row, reference))
        if ratio is None or row.grad_norm == 0:
            continue
        if ratio > EXPLODING_RATIO:
            found.append(_finding("exploding", row, reference))
        elif reference and ratio < VANISHING_RELATIVE * reference:
            found.append(_finding("vanishing", row, reference))
    return found


def _finding(kind: str, row: FlowRow, reference: float | None) -> Finding:
    ratio = row.ratio
    relative = ratio / reference if ratio is not None and reference else None
    what = f"{row.name} ({', '.join(row.params)})" if row.params != [row.name] else row.name
    if kind == "dead":
        message = _("{share} of the gradient of {what} is exactly zero: units that were off "
                    "for every sample (dead ReLUs?); with a batch of one sample about half are "
                    "off anyway", share=f"{row.zero_fraction:.0%}", what=what)
    elif kind == "exploding":
        message = _("gradients explode in {what}: |grad|/|weight| = {ratio}, so a step of rate "
                    "1e-3 changes it by more than its own size", what=what,
                    ratio=figure_text(ratio))
    else:
        message = _("gradients vanish in {what}: |grad|/|weight| = {ratio}, {relative} of the "
                    "largest layer's", what=what, ratio=figure_text(ratio),
                    relative=figure_text(relative))
    return Finding(
        kind=kind, node=row.nodes[0] if row.nodes else None, name="AccumulateGrad",
        label=row.name, scope=row.scope, message=message,
        extra={"module": row.name, "params": row.params, "grad_norm": row.grad_norm,
               "weight_norm": row.weight_norm, "ratio": ratio, "relative": relative,
               "zero_fraction": row.zero_fraction})
