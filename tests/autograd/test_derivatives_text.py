"""derivatives_text.read_entries against its oracle, pyyaml: the same values, in the same
order, on torch's own derivatives.yaml (whole and entry by entry), and None, never a
different value, on what lies outside its subset."""

from __future__ import annotations

import json

import pytest

from gradstep.autograd import derivatives
from gradstep.autograd.derivatives_text import read_entries

yaml = pytest.importorskip("yaml")


def pyyaml(text: str):
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def same(ours, theirs) -> bool:
    """Equal values with mappings in the same order (the order names the node classes)."""
    return json.dumps(ours, default=str) == json.dumps(theirs, default=str)


@pytest.fixture(scope="module")
def torch_text() -> str:
    path = derivatives.derivatives_yaml_path()
    if path is None:
        pytest.skip("this torch ships no derivatives.yaml")
    with open(path, encoding="utf-8") as stream:
        return stream.read()


def test_torchs_file_reads_as_pyyaml_reads_it_whole_and_entry_by_entry(torch_text):
    whole = read_entries(torch_text)
    assert whole is not None and same(whole, pyyaml(torch_text))
    items = derivatives.item_index(torch_text)
    assert len(items) == len(whole) > 600
    for _stem, start, end in items:
        part = torch_text[start:end]
        assert same(read_entries(part), pyyaml(part)), part[:80]


INSIDE = {
    "folded double quotes": '- name: f(Tensor self) -> Tensor\n  self: "a ? b\n     :  c  \n   + d"\n',
    "plain over lines": "- name: f(Tensor self) -> Tensor\n  self: grad *\n      other  +  1\n",
    "comments after values": ('- name: f(Tensor self) -> (Tensor a, Tensor b)\n'
                              '  self: g(x) # a note\n  output_differentiability: [True, False]  # why\n'
                              '  result: "q"  # more\n'),
    "a quoted condition in a list": '- name: f(Tensor self) -> Tensor\n  output_differentiability: ["!d || x(*d)"]\n',
    "single quotes": "- name: f(Tensor self) -> Tensor\n  self: 'not_implemented(\"f\")'\n  other: 'it''s'\n"
                     "  result: 'a' # b''c\n",
    "dispatch with comments": ("# top\n- name: f(Tensor self) -> Tensor\n  dispatch:\n    Default:\n"
                               "      # inside\n      self: a\n      result: auto_linear\n"
                               "    AutogradNestedTensor:\n      self: b\n\n- name: g(Tensor x) -> Tensor\n"
                               "  x: non_differentiable\n"),
    "keys with commas, an empty list": ("- name: f(Tensor a, Tensor b) -> Tensor\n  a, b: h(grad)\n"
                                        "  output_differentiability: []\n"),
    "a spaced list with a comma in a string": ('- name: f(Tensor self) -> Tensor\n'
                                               '  output_differentiability: [ true ,"a, b",FALSE ]#c\n'),
    "signs and digits inside formulas": "- name: f(Tensor x1) -> Tensor\n  x1: -2.0 / sqrt(M_PI) * grad\n",
}


@pytest.mark.parametrize("name", INSIDE)
def test_the_subset_reads_as_pyyaml_reads_it(name):
    text = INSIDE[name]
    ours = read_entries(text)
    assert ours is not None and same(ours, pyyaml(text))


OUTSIDE = {
    "a number": "- name: f\n  self: 1\n",
    "a float": "- name: f\n  self: -2.5\n",
    "a boolean": "- name: f\n  self: yes\n",
    "null": "- name: f\n  self: ~\n",
    "an empty value": "- name: f\n  self:\n  other: a\n",
    "an empty value last": "- name: f\n  self:\n",
    "double quotes not closed": '- name: f\n  self: "a\n    b\n',
    "more after the quotes": '- name: f\n  self: "a" b\n',
    "quotes never closed": '- name: f\n  self: "# a\n',
    "more after a list": "- name: f\n  output_differentiability: [True] x\n",
    "a boolean key": "- name: f\n  on: a\n",
    "a date": "- name: f\n  self: 2001-12-14\n",
    "a time": "- name: f\n  self: 2001-12-14t21:59:43.10-05:00\n",
    "a colon and a space inside": "- name: f\n  self: a ? b: c\n",
    "a carriage return": "- name: f\r\n  self: a\r\n",
    "a trailing tab": "- name: f\n  self: a\t\n",
    "a next-line character": "- name: f\n  self: a\x85  other: b\n",
    "a line separator": "- name: f\n  self: a\u2028b\n",
    "an escape": '- name: f\n  self: "a\\tb"\n',
    "a tab": "- name: f\n  self:\ta\n",
    "a block scalar": "- name: f\n  self: |\n    a\n",
    "a folded scalar": "- name: f\n  self: >\n    a\n    b\n",
    "an empty line inside": "- name: f\n  self: a\n\n    b\n",
    "an anchor": "- name: f\n  self: &x a\n  other: *x\n",
    "a tag": "- name: f\n  self: !!str 1\n",
    "a flow mapping": "- name: f\n  self: {a: b}\n",
    "a list of numbers": "- name: f\n  output_differentiability: [1, 0]\n",
    "single quotes over lines": "- name: f\n  self: 'a\n    b'\n",
    "a duplicate key": "- name: f\n  self: a\n  self: b\n",
    "a document marker": "---\n- name: f\n  self: a\n",
    "not a list": "name: f\n",
    "a block list": "- name: f\n  self:\n    - a\n",
    "a comment line inside a scalar": "- name: f\n  self: a\n    # c\n    b\n",
    "an empty text": "",
    "only a comment": "# c\n",
    "an empty item": "- \n- name: x\n",
    "an item of a comment": "- # c\n- name: x\n",
    "a dash alone": "- name: -\n",
    "a question mark alone": "- name: f\n  self: ?\n",
    "a dash and a space": "- name: f\n  self: - a\n",
    "a question mark and a space": "- name: f\n  self: ? a\n",
    "a value ending in a colon": "- name: f\n  self: a:\n",
    "a space before the colon": "- name: f\n  self : a\n",
    "a long key": "- name: f\n  " + "k" * 1030 + ": x\n",
    "lines after the closing quote": '- name: "a\n    b" # c\n    d\n',
    "a key line after the closing quote": '- name: "a\n    b" #\n    c: d\n',
    "a character YAML refuses": "- name: \uffff\n",
}


@pytest.mark.parametrize("name", OUTSIDE)
def test_outside_the_subset_the_answer_is_none_and_pyyaml_reads_it(name):
    text = OUTSIDE[name]
    assert read_entries(text) is None
    try:
        expected = pyyaml(text)
    except yaml.YAMLError:
        with pytest.raises(derivatives.YamlError):
            derivatives.read_yaml(text)
    else:
        assert same(derivatives.read_yaml(text), expected)


def test_the_characters_sent_to_pyyaml_are_those_outside_the_plain_ranges():
    """``_UNSURE`` lists the characters it finds, and finds exactly every code point outside
    the ranges read directly (escapes, control characters, YAML's other line breaks, a
    byte order mark, what YAML's reader refuses): the same set as the complement pattern
    it stands for (which took 4.5 ms to compile in every kernel)."""
    import re

    from gradstep.autograd.derivatives_text import _UNSURE

    outside = re.compile(r"[^\n\x20-\x5b\x5d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe"
                         r"\uff00-\ufffd\U00010000-\U0010ffff]")
    every = "".join(map(chr, range(0x110000)))
    found = [m.start() for m in _UNSURE.finditer(every)]
    assert found == [m.start() for m in outside.finditer(every)]
    assert len(found) == 10 + 21 + 1 + 33 + 2 + 2048 + 1 + 2
