"""The JSON text of a trace's nodes, made from templates (``trace --json``).

``json``'s C encoder spends most of a 100,000-node trace's ~2 s on what every node
repeats: its sixteen keys, a value summary's ten, and the float texts of a summary
whose min, max, mean and data are mostly one number. ``NodeTexts.text`` writes a node
whose fields are those ``trace_graph`` makes, in that order, from a template of its
keys' texts, each string's text made once per write and each float's once in a while;
what it has no template for (the saved entries, an unusual summary) goes to the C
encoder on its own. The text is what ``strict_json.dumps`` gives for the node: where it
could differ (a NaN, a type ``json`` does not know, a field out of place) ``text``
raises ``NotPlain``, and the caller encodes the node's batch as before.
"""

from __future__ import annotations

import json
import struct
from json.encoder import c_make_encoder, encode_basestring

from gradstep.policies.strict_json import plain
from gradstep.schema.graph import FORMULA_FIELDS, NODE_FIELDS

# The fields of a leaf node: a leaf has no formula of its own.
LEAF_FIELDS = tuple(name for name in NODE_FIELDS if name not in FORMULA_FIELDS)
# The keys of a small CPU tensor's summary, as ``values.unpacked`` makes it.
SUMMARY_FIELDS = ("shape", "dtype", "device", "min", "max", "mean", "std", "nan", "inf", "data")


class NotPlain(ValueError):
    """A node whose text these templates cannot vouch for: encode it as before."""


def _template(fields: tuple) -> str:
    """Return ``{"a": %s, "b": %s}`` for ``fields`` (``%`` formatting)."""
    return "{" + ", ".join(json.dumps(name) + ": %s" for name in fields) + "}"


_NODE, _LEAF, _SUMMARY = _template(NODE_FIELDS), _template(LEAF_FIELDS), _template(SUMMARY_FIELDS)
_AFTER_SHAPE = _SUMMARY.removeprefix('{"shape": %s')  # a summary's text after its shape


class _StringTexts(dict):
    """str (or None) -> its JSON text (``json``'s own escaping), made on first use."""

    def __missing__(self, text):
        if text is None:
            encoded = "null"
        elif type(text) is str:
            encoded = encode_basestring(text)
        else:
            raise NotPlain(text)
        self[text] = encoded
        return encoded


class _FloatTexts(dict):
    """A finite float -> its JSON text (``float.__repr__``, as ``json`` writes it).

    Equal nonzero floats are the same double, so they share a text; 0.0 and -0.0 are
    equal but spelled apart, so zeros are never kept. Ask only for floats: 1 and True
    equal 1.0 too.
    """

    def __missing__(self, x):
        text = float.__repr__(x)
        if text in ("nan", "inf", "-inf"):
            raise NotPlain(x)  # strict JSON spells them as text: the batch goes through plain
        if x:
            self[x] = text
        return text


_FLOAT, _INT = {float}, {int}
_FLOATS_KEPT = 10_000


class _SummaryTexts(dict):
    """A small summary's numbers and fields -> its text after ``"shape": [...]``, for the
    traces whose values repeat (a wide random DAG's: ~3 in 4 of its first 60,000).

    Keyed by the numbers' bytes (``packed``), not the numbers: 0.0 and -0.0 are equal but
    spelled apart, and their bytes differ; the same bytes are the same double, the same
    text. Emptied when it holds ``KEPT``; dropped for the rest of the write after a round
    of ``KEPT`` that found fewer than one in ``RARE`` (a chain's values are all new: no
    key is made for each).
    """

    KEPT, RARE = 1024, 8

    def __init__(self):
        super().__init__()
        self.asked, self.found = 0, 0

    def keep(self, key: tuple, rest: str) -> bool:
        """Keep ``rest``, the text after the shape of a summary not found; return False
        (nothing kept) when the round just ended found too few to go on."""
        if len(self) >= self.KEPT:
            if self.found * self.RARE < self.asked:
                return False
            self.asked = self.found = 0
            self.clear()
        self[key] = rest
        return True


def packed(numbers: list) -> bytes:
    """Return the bytes of ``numbers`` (floats) as doubles."""
    pack = _PACKS.get(len(numbers))
    if pack is None:
        pack = _PACKS[len(numbers)] = struct.Struct(f"{len(numbers)}d").pack
    return pack(*numbers)


_PACKS: dict = {}  # a count -> struct's pack of that many doubles


class NodeTexts:
    """``text(node)``: the JSON text of one trace node, for one write. (Edges, four small
    fields, are no faster this way than through the C encoder.)"""

    def __init__(self):
        self.strings = _StringTexts()
        self.floats = _FloatTexts()
        self.summaries = _SummaryTexts()
        self.shared: dict = {}  # id of a formula field's value -> its text
        self.held: list = []  # those values: their ids stay their own
        # json.dumps's encoder without its check for cycles (a cycle: RecursionError, as plain)
        self.encoder = None if c_make_encoder is None else c_make_encoder(
            None, _refuse, encode_basestring, None, ": ", ", ", False, False, False)

    def text(self, node) -> str:
        """Return the JSON text of ``node`` (a trace node dict); raise ``NotPlain`` where
        ``strict_json.dumps`` might write it otherwise (``ValueError`` from ``json``,
        ``TypeError`` for an object it does not know)."""
        if type(node) is not dict or self.encoder is None:  # None: no C speedups in json
            raise NotPlain(node)
        fields = tuple(node)
        strings, shared = self.strings, self.shared
        if fields == NODE_FIELDS:
            (node_id, name, kind, label, scope, shape, dtype, device, value, saved,
             formula, formula_math, formula_note, seq, line, slots) = node.values()
            return _NODE % (
                strings[node_id], strings[name], strings[kind], strings[label], strings[scope],
                self.shape(shape), strings[dtype], strings[device], self.value(value),
                "".join(self.encoder(saved, 0)),
                shared.get(id(formula)) or self.share(formula),
                shared.get(id(formula_math)) or self.share(formula_math),
                shared.get(id(formula_note)) or self.share(formula_note),
                int.__repr__(seq) if type(seq) is int else self.encode(seq),
                int.__repr__(line) if type(line) is int else self.encode(line),
                int.__repr__(slots) if type(slots) is int else self.encode(slots))
        if fields == LEAF_FIELDS:
            node_id, name, kind, label, scope, shape, dtype, device, value, saved, seq, line, slots = node.values()
            return _LEAF % (
                strings[node_id], strings[name], strings[kind], strings[label], strings[scope],
                self.shape(shape), strings[dtype], strings[device], self.value(value),
                "".join(self.encoder(saved, 0)), self.encode(seq), self.encode(line),
                self.encode(slots))
        raise NotPlain(fields)

    def value(self, value) -> str:
        """Return the text of a node's value: a small CPU tensor's summary from its template
        (or from the text of one with the same numbers and fields: ``summaries``)."""
        if type(value) is not dict or tuple(value) != SUMMARY_FIELDS:
            return self.encode(value)
        shape, dtype, device, low, high, mean, std, nan, inf, data = value.values()
        one = type(data) is not list
        # std None: one element (torch's x.std() is nan there); mean and std None: a trace
        # past values.SMALL_MEANS_LIMIT; each written as JSON's null
        spread = 0.0 if std is None else std
        average = 0.0 if mean is None else mean
        gaps = (mean is None, std is None)
        numbers = [low, high, average, spread, data] if one else [low, high, average, spread, *data]
        if {*map(type, numbers)} != _FLOAT or not type(nan) is type(inf) is int:
            return self.encode(value)
        if self.summaries is not None:
            return self.known_value(shape, dtype, device, gaps, nan, inf, one, numbers)
        return '{"shape": ' + self.shape(shape) + self.after_shape(dtype, device, gaps, nan,
                                                                   inf, one, numbers)

    def known_value(self, shape, dtype, device, gaps: tuple, nan: int, inf: int, one: bool,
                    numbers: list) -> str:
        """Return the summary's text (its checks passed) from ``summaries``, or made
        (``after_shape``) and kept; ``summaries`` is dropped when a round of them found too
        few."""
        known = self.summaries
        key = (packed(numbers), dtype, device, nan, inf, one, gaps)
        rest = known.get(key)
        known.asked += 1
        if rest is not None:
            known.found += 1
            return '{"shape": ' + self.shape(shape) + rest
        rest = self.after_shape(dtype, device, gaps, nan, inf, one, numbers)
        if not known.keep(key, rest):
            self.summaries = None  # they rarely repeat: no more keys made
        return '{"shape": ' + self.shape(shape) + rest

    def after_shape(self, dtype, device, gaps: tuple, nan: int, inf: int, one: bool,
                    numbers: list) -> str:
        """Return a summary's text after ``"shape": [...]`` (``_AFTER_SHAPE``), its numbers
        (min, max, mean, std, then the data) spelled from ``floats``; ``gaps``: whether
        the mean and the std are None (null)."""
        floats = self.floats
        if len(floats) > _FLOATS_KEPT:  # random data repeats little: keep the memory small
            floats.clear()
        texts = [*map(floats.__getitem__, numbers)]
        data_text = texts[4] if one else "[" + ", ".join(texts[4:]) + "]"
        return _AFTER_SHAPE % (self.strings[dtype], self.strings[device], texts[0], texts[1],
                               "null" if gaps[0] else texts[2], "null" if gaps[1] else texts[3],
                               int.__repr__(nan), int.__repr__(inf), data_text)

    def shape(self, shape) -> str:
        """Return the text of a shape: a list of ints is spelled by Python as by JSON."""
        if type(shape) is list and {*map(type, shape)} <= _INT:
            return list.__repr__(shape)
        return self.encode(shape)

    def encode(self, value) -> str:
        """Return ``json``'s text of ``value`` (strict: no NaN), as ``strict_json.dumps``
        gives it when ``json`` accepts it."""
        return "null" if value is None else "".join(self.encoder(value, 0))

    def share(self, value) -> str:
        """Return the text of a formula field's value, one of a few used over and over, and
        keep it by the value's id."""
        text = self.encode(value)
        # a True or None key is spelled one way by json, another by plain
        if text != json.dumps(plain(value), allow_nan=False, ensure_ascii=False):
            raise NotPlain(value)
        self.held.append(value)
        self.shared[id(value)] = text
        return text


def _refuse(obj):
    raise TypeError(f"not JSON: {type(obj).__name__}")
