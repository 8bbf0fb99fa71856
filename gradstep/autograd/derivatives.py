"""torch's own derivative formulas, read from the derivatives.yaml its wheel ships.

Every generated backward node (``MulBackward0``, ``AddmmBackward0``, ...) is made
by torch's codegen from one entry of ``torchgen/packaged/autograd/derivatives.yaml``.
This module reads that file (once, on first use, never at import) and names each
entry's node class exactly as the codegen does (``load_derivatives.py``):
``CamelCase(base name) + "Backward" + N``, N counting the entries with that base
name in file order (``mul.Tensor`` -> ``MulBackward0``, ``mul.Scalar`` ->
``MulBackward1``), with the dispatch key in between for non-default kernels
(``SelectBackwardAutogradNestedTensor0``), and ``_copy`` after the name for the
``{view}_copy`` twins of view ops. torchgen's own loader gives the same names
but first parses native_functions.yaml (seconds); the tests check that both agree
on every entry.
"""

from __future__ import annotations

import importlib.util
import os
import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache

from gradstep.autograd.derivatives_text import read_entries
from gradstep.autograd.formula_words import UNREADABLE_TABLE
from gradstep.autograd.saved_names import SavedName, dedup, mentions, saved_variables
from gradstep.autograd.schema_text import Schema, parse_schema, return_names
from gradstep.i18n import N_

_GRADS_INDEX = re.compile(r"(?:^|\W)grads\[(\d+)\]")  # torchgen's GRAD_INDEX_REGEX
_YAML_PARTS = ("packaged", "autograd", "derivatives.yaml")
NO_PYYAML = N_("pyyaml is not installed (pip install pyyaml)")


@dataclass(frozen=True)
class DifferentiableInput:
    """A forward argument that gets a gradient; its slots follow each other in
    ``next_functions`` in this order (one slot, or one per element of a list)."""

    name: str
    type: str  # schema type: "Tensor", "Tensor?", "Tensor[]"
    is_list: bool


@dataclass(frozen=True)
class Derivative:
    """One formula of an entry: the gradient of ``inputs`` (several when one
    call returns a tuple of gradients, e.g. ``input, weight, bias``)."""

    inputs: tuple[str, ...]
    formula: str  # as written in derivatives.yaml
    evaluated: str  # as the node's C++ evaluates it, over saved names (self.sym_sizes() -> self_sym_sizes)
    saved: tuple[SavedName, ...]  # what it reads from the node, inputs first
    gradients: tuple[str, ...]  # which incoming gradients it reads: "grad", "grads[1]", "grad_values"

    @property
    def implemented(self) -> bool:
        """False for ``not_implemented("...")``: torch raises when this gradient is needed."""
        return not self.formula.lstrip().startswith("not_implemented(")


@dataclass(frozen=True)
class BackwardEntry:
    """What torch's codegen knows about one backward node class."""

    node_name: str  # "MulBackward0"
    forward: str  # "mul.Tensor"
    schema: str  # "mul.Tensor(Tensor self, Tensor other) -> Tensor"
    dispatch_key: str  # "Default", or "AutogradNestedTensor" for a kernel of its own
    inputs: tuple[DifferentiableInput, ...]
    derivatives: tuple[Derivative, ...]
    saved: tuple[SavedName, ...]  # every saved value, inputs then outputs, each once
    outputs: tuple[str, ...]  # the names formulas use for outputs: "result", "values", ...
    non_differentiable: tuple[str, ...] = ()
    output_differentiability: tuple = ()  # bools per output, or one condition string; () = all
    view_copy_of: str | None = None  # for ViewBackward0_copy: "ViewBackward0"

    def derivative_for(self, name: str) -> Derivative | None:
        """Return the derivative giving the gradient of input ``name`` (None if none)."""
        return next((d for d in self.derivatives if name in d.inputs), None)


@dataclass
class DerivativeTable:
    """All entries by node class name, or why there are none (``unavailable``)."""

    entries: Mapping[str, BackwardEntry] = field(default_factory=dict)
    path: str | None = None
    load_seconds: float = 0.0
    unavailable: str | None = None

    def entry(self, node_name: str) -> BackwardEntry | None:
        """Return the entry of ``node_name`` (``MulBackward0``, ``ViewBackward0_copy``) or None."""
        found = self._get(node_name)
        if found is None and node_name.endswith("_copy"):
            view = self._get(node_name.removesuffix("_copy"))
            if view is not None:  # the {view}_copy twin shares the view's formulas
                base, _, overload = view.forward.partition(".")
                forward = f"{base}_copy" + (f".{overload}" if overload else "")
                found = replace(view, node_name=node_name, forward=forward, view_copy_of=view.node_name)
        return found

    def _get(self, node_name: str) -> BackwardEntry | None:
        """Look an entry up; one that cannot be read when first asked for (it needs pyyaml,
        missing, or pyyaml fails on it) makes the table unavailable, with the reason."""
        try:
            return self.entries.get(node_name)
        except ImportError:
            self.unavailable = NO_PYYAML
        except ValueError as exc:
            self.unavailable = UNREADABLE_TABLE.format(path=self.path, error=exc)
        return None


def derivatives_yaml_path() -> str | None:
    """Return where this torch's derivatives.yaml is, without importing torchgen (None if absent)."""
    spec = importlib.util.find_spec("torchgen")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], *_YAML_PARTS)
    return path if os.path.isfile(path) else None


@cache
def load_table() -> DerivativeTable:
    """Return the table of this torch's derivative formulas, read on the first call only."""
    started = time.perf_counter()
    path = derivatives_yaml_path()
    if path is None:
        return DerivativeTable(unavailable=N_("this torch build does not ship torchgen's derivatives.yaml"))
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
        items = item_index(text)
        if items is not None:  # each entry read when first asked for (a trace needs a few)
            entries = IndexedEntries(text, items, read_yaml)
        else:
            entries = build_entries(read_yaml(text))
    except ImportError:
        return DerivativeTable(path=path, unavailable=NO_PYYAML)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # YamlError: ValueError
        return DerivativeTable(path=path, unavailable=UNREADABLE_TABLE.format(path=path, error=exc))
    return DerivativeTable(entries, path, time.perf_counter() - started)


class YamlError(ValueError):
    """pyyaml could not read the text (its own error, as a ValueError)."""


def read_yaml(text: str) -> list:
    """Return the entries of derivatives.yaml's ``text``: read directly where it is the plain
    subset torch writes (``derivatives_text``: no pyyaml import, ~12 ms), else by pyyaml,
    imported then (an ImportError when it is not installed)."""
    entries = read_entries(text)
    if entries is not None:
        return entries
    import yaml  # optional (the formulas say so without it)

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is ten times faster
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise YamlError(str(exc)) from exc


_ITEM = re.compile(r"^- name: *(\w+)", re.MULTILINE)
# anything at column 0 but an item's "- name:", a comment or a blank line; YAML's
# anchors, aliases, tags and document markers: the file is then read whole
_NOT_PLAIN = re.compile(r"^(?!- name: |#|[ \t]|$)|(?:: |- )[&*!]", re.MULTILINE)


def item_index(text: str) -> list[tuple[str, int, int]] | None:
    """Return ``(class name stem, start, end)`` of each top-level entry of derivatives.yaml's
    text, in file order (the stem from ``op_prefix`` of the entry's base name), or None when
    the text is not a plain list of ``- name:`` entries that can be read one by one."""
    if _NOT_PLAIN.search(text):
        return None
    starts = [(op_prefix(m[1]), m.start()) for m in _ITEM.finditer(text)]
    if not starts:
        return None
    ends = [start for _, start in starts[1:]] + [len(text)]
    return [(stem, start, end) for (stem, start), end in zip(starts, ends)]


class IndexedEntries(Mapping):
    """``{node class name: BackwardEntry}`` over derivatives.yaml's text, reading only the
    entries that can name a class when it is first asked for.

    A class name is ``op_prefix(base) + dispatch key + N``, N counting in file order the
    entries whose stem and key are the same, so every entry that counts towards a name has
    a stem the name starts with: those entries, read in file order by ``build_entries``,
    number it as the whole file does. Iterating (or ``len``) reads the whole file.
    """

    def __init__(self, text: str, items: list[tuple[str, int, int]], load):
        self._text, self._items, self._load = text, items, load
        self._found: dict[str, BackwardEntry | None] = {}
        self._whole: Mapping[str, BackwardEntry] | None = None

    def __getitem__(self, node_name: str) -> BackwardEntry:
        if self._whole is not None:
            return self._whole[node_name]
        if node_name not in self._found:
            parts = [self._text[start:end] for stem, start, end in self._items
                     if node_name.startswith(stem)]
            entries = build_entries(self._load("".join(parts))) if parts else {}
            self._found[node_name] = entries[node_name] if node_name in entries else None
        found = self._found[node_name]
        if found is None:
            raise KeyError(node_name)
        return found

    def _all(self) -> Mapping[str, BackwardEntry]:
        if self._whole is None:
            self._whole = build_entries(self._load(self._text))
        return self._whole

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def build_entries(definitions: list[dict]) -> Mapping[str, BackwardEntry]:
    """Return the entries of a parsed derivatives.yaml by node class name, in file order.

    Only the names are worked out here (they number the entries of one base name in
    file order); an entry's formulas are read when it is first asked for (a trace
    needs a few of the ~700, and reading all of them took ~0.3 s per process).
    """
    counter: Counter[str] = Counter()
    specs: dict[str, tuple] = {}
    for definition in definitions:
        definition = dict(definition)
        schema = parse_schema(definition.pop("name"))
        differentiability = definition.pop("output_differentiability", None) or ()
        per_key = definition.pop("dispatch", None) or {"Default": definition}
        argument_names = {a.name for a in schema.arguments}
        for key, formulas in per_key.items():
            with_gradient = _names_with_gradient(argument_names, formulas)
            if not any(a.name in with_gradient for a in schema.arguments):
                continue  # the codegen names no class for an op without gradients
            prefix = op_prefix(schema.base) + ("" if key == "Default" else key)
            node_name = f"{prefix}{counter[prefix]}"
            counter[prefix] += 1
            specs[node_name] = (schema, key, formulas, differentiability)
    return LazyEntries(specs)


class LazyEntries(Mapping):
    """``{node class name: BackwardEntry}``, each entry built on first use."""

    def __init__(self, specs: dict[str, tuple]):
        self._specs = specs
        self._built: dict[str, BackwardEntry] = {}

    def __getitem__(self, node_name: str) -> BackwardEntry:
        found = self._built.get(node_name)
        if found is None:
            found = self._built[node_name] = _entry_of(node_name, *self._specs[node_name])
        return found

    def __iter__(self):
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


def _names_with_gradient(argument_names: set, formulas: dict) -> set:
    """Return the arguments some backward formula of one dispatch key gives a gradient to
    (what ``_derivatives`` keeps, without reading the formulas)."""
    names: set = set()
    for raw_names in formulas:
        parts = tuple(n.strip() for n in raw_names.split(","))
        if parts[0] in argument_names and str(formulas[raw_names]).lower().strip() != "non_differentiable":
            names.update(parts)
    return names


def op_prefix(base_name: str) -> str:
    """Return the class name stem of an op: ``mse_loss`` -> ``MseLossBackward``.

    torchgen's ``_create_op_prefix``: title-case each ``_`` part (so ``conv2d``
    gives ``Conv2D``) and drop a ``Forward`` before ``Backward``
    (``nll_loss_forward`` -> ``NllLossBackward``).
    """
    camel = "".join(part.title() for part in base_name.split("_"))
    return (camel + "Backward").replace("ForwardBackward", "Backward")


def _entry_of(node_name: str, schema: Schema, key: str, formulas: dict,
              differentiability) -> BackwardEntry:
    """Return the entry of one dispatch key of one yaml definition (its formulas read now)."""
    derivatives, non_differentiable = _derivatives(schema, formulas)
    with_gradient = {name for d in derivatives for name in d.inputs}
    inputs = tuple(
        DifferentiableInput(a.name, a.type, a.is_tensor_list)
        for a in schema.arguments
        if a.name in with_gradient
    )
    saved = dedup(s for d in derivatives for s in d.saved if not s.is_output)
    saved += dedup(s for d in derivatives for s in d.saved if s.is_output)
    return BackwardEntry(
        node_name=node_name,
        forward=schema.name,
        schema=schema.text,
        dispatch_key=key,
        inputs=inputs,
        derivatives=tuple(derivatives),
        saved=saved,
        outputs=tuple(return_names(schema)),
        non_differentiable=tuple(non_differentiable),
        output_differentiability=tuple(differentiability),
    )


def _derivatives(schema: Schema, formulas: dict) -> tuple[list[Derivative], list[str]]:
    """Return the backward formulas of one dispatch key and the arguments marked non-differentiable.

    Keys naming outputs (``result: auto_element_wise``) are forward-mode formulas and skipped.
    Keys are read sorted, as torchgen reads them (it decides the order of saved values).
    """
    argument_names = {a.name for a in schema.arguments}
    arguments = [(a.name, a.type) for a in schema.arguments]
    outputs = list(zip(return_names(schema), (r.type for r in schema.returns)))
    derivatives: list[Derivative] = []
    non_differentiable: list[str] = []
    for raw_names in sorted(formulas):
        names = tuple(n.strip() for n in raw_names.split(","))
        formula = str(formulas[raw_names])
        if names[0] not in argument_names:
            continue
        if formula.lower().strip() == "non_differentiable":
            non_differentiable.extend(names)
            continue
        evaluated, saved_inputs = saved_variables(formula, arguments, is_output=False)
        evaluated, saved_outputs = saved_variables(evaluated, outputs, is_output=True)
        saved = dedup(saved_inputs) + dedup(saved_outputs)
        gradients = _gradients_used(evaluated, outputs)
        derivatives.append(Derivative(names, formula, evaluated, saved, gradients))
    return derivatives, non_differentiable


def _gradients_used(formula: str, outputs: list[tuple[str, str]]) -> tuple[str, ...]:
    """Return the incoming gradients a formula reads: ``grad``, ``grads``, ``grads[i]``, ``grad_<output>``."""
    used = [name for name in ("grad", "grads") if mentions(formula, name)]
    used += [f"grads[{i}]" for i in sorted({int(i) for i in _GRADS_INDEX.findall(formula)})]
    used += [f"grad_{name}" for name, _ in outputs if mentions(formula, f"grad_{name}")]
    return tuple(used)
