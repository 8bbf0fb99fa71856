"""The words of the readable formulas and the formula notes in the person's language, the
mathematics untouched: every maths token of the English is in each translation, the trace
JSON stays English, and the Values panel's data words them in the language shown (the
window itself, its hover text and captions: tests/ui/test_classroom.py)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from gradstep import i18n
from gradstep.autograd import formulas
from gradstep.autograd.formula_math import COMPOSITE_MATH, NODE_MATH
from gradstep.autograd.formula_step import formulas_at
from gradstep.autograd.formula_words import (
    NO_TABLE,
    TEMPLATES,
    UNREADABLE_SOURCE,
    UNREADABLE_TABLE,
    worded,
)

CODES = [code for code in i18n.LANGUAGES if code != i18n.ENGLISH]
CJK = re.compile(r"[\u4e00-\u9fff]")
# characters that are mathematics or code wherever they stand: each must survive translation
MATH_CHARS = set("0123456789=+*/^_[]|<>")
# names that are mathematics, not English, in a text without a translation
MATH_WORDS = {"ln", "log", "tanh", "relu", "gelu", "sign", "out", "max", "mean", "sum", "rsub",
              "torch", "softmax"}
NOTED = ["AccumulateGrad", "CopySlices", "GraphRoot", "Error", "DelayedError", "NotImplemented",
         "UndefinedGrad", "UndefinedGradBackward", "CopyBackwards", "SendRpcBackward",
         "BackwardHookFunctionBackward", "MyFunctionBackward", "SomethingElse"]


@pytest.fixture(autouse=True)
def english_again():
    yield
    i18n.set_language(None)


def readable_texts() -> list[str]:
    """Every text of the readable tables: what each node computes, what its letters mean,
    and each input's formula."""
    texts = []
    for math in NODE_MATH.values():
        texts += [math.about, math.where] + [f.text for f in math.formulas]
    texts += [f.text for f in COMPOSITE_MATH.values()]
    return sorted({t for t in texts if t})


def note_texts() -> list[str]:
    """Every note saying why a node has no formula, and the templates filled in."""
    notes = [formulas.no_formula_reason(name) for name in NOTED]
    notes += [NO_TABLE.format(reason=i18n.N_("pyyaml is not installed (pip install pyyaml)")),
              NO_TABLE.format(reason=UNREADABLE_TABLE.format(path="/x/derivatives.yaml",
                                                              error="bad indentation")),
              UNREADABLE_SOURCE.format(function="Square", error="could not get source code")]
    return [n for n in notes if n]


def maths_tokens(text: str) -> list[str]:
    """Return the pieces of ``text`` that are mathematics or code: a word holding a digit,
    an operator or a letter outside ASCII (``∂L/∂xᵢ``, ``softmax(a)``, ``w_c/W``, ``dim0``),
    without the prose punctuation around it (which a translation writes its own way)."""
    tokens = []
    for word in text.split():
        word = word.strip(",;:.'").lstrip("(").rstrip(")")
        if re.fullmatch(r"[A-Za-z]+-\d+", word):
            continue  # "size-1" is English around a number (the number is counted below)
        if word and any(c in MATH_CHARS or not c.isascii() for c in word):
            tokens.append(word)
    return tokens


def maths_characters(text: str) -> Counter:
    """Return how often each maths character is in ``text``: digits, operators and every
    letter outside ASCII (∂, Σ, ᵢ, −, ·, δ, ...), CJK aside."""
    return Counter(c for c in text if (c in MATH_CHARS or not c.isascii()) and not CJK.match(c)
                   and c not in "，。：；（）、")


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("text", readable_texts() + note_texts())
def test_a_translation_keeps_every_maths_token_of_the_english(code, text):
    shown = worded(text, code)
    for token in maths_tokens(text):
        assert token in shown, (token, shown)
    missing = maths_characters(text) - maths_characters(shown)
    assert not missing, (dict(missing), shown)


def symbol_names(math) -> set[str]:
    """Return the letters and names a node's formulas stand for that are no English word
    (``x``, ``W``, ``dim``, ``dim0``, ``ignore_index``): prose around them may change, they not."""
    names = {letter for f in math.formulas for letter in f.symbols}
    return {n for n in names if len(n) == 1 or n == "dim" or re.search(r"[_\d]", n)}


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("node", sorted(NODE_MATH))
def test_a_translation_keeps_the_names_of_the_formulas_letters(code, node):
    math = NODE_MATH[node]
    for text in [math.about, math.where] + [f.text for f in math.formulas]:
        shown = worded(text, code)
        for name in symbol_names(math):
            alone = rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])"
            if name != "a" and re.search(alone, text):  # "a" is also the English article
                assert re.search(alone, shown), (name, text, shown)


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("text", readable_texts() + note_texts())
def test_every_text_with_words_is_translated(code, text):
    words = {w.lower() for w in re.findall(r"[A-Za-z]{2,}", re.sub(r"[\w.]*[_(.][\w.()]*", " ", text))}
    if not words - MATH_WORDS:
        assert worded(text, code) == text  # mathematics only: the same in every language
        return
    shown = worded(text, code)
    assert shown != text and CJK.search(shown), text


def test_the_templates_are_recognised_in_the_text_they_make():
    for template in TEMPLATES:
        names = i18n.field_names(template)
        english = template.format(**{name: "Q" for name in names})
        assert worded(english, "zh_CN") == i18n.render(i18n.lazy(template, **dict.fromkeys(names, "Q")),
                                                       "zh_CN")
        assert CJK.search(worded(english, "zh_CN")), template
    inner = NO_TABLE.format(reason="pyyaml is not installed (pip install pyyaml)")
    assert worded(inner, "zh_CN") == "没有公式：没有安装 pyyaml（pip install pyyaml）"


def test_english_and_unknown_texts_come_back_as_they_are():
    assert worded("∂(x·y)/∂x = y", "zh_CN") == "∂(x·y)/∂x = y"  # maths only
    assert worded("a note from another version", "zh_CN") == "a note from another version"
    assert worded("each input gets its own slice of g along dim", "en") == (
        "each input gets its own slice of g along dim")
    assert worded(None) is None and worded("") == ""


def test_the_trace_fields_stay_english_whatever_the_language():
    english = {name: formulas.trace_formula_fields({"name": name})
               for name in ("SoftmaxBackward0", "MeanBackward1", "AccumulateGrad", "CatBackward0")}
    i18n.set_language("zh_CN")
    for name, fields in english.items():
        assert formulas.trace_formula_fields({"name": name}) == fields
        assert formulas.formula_fields_of(name, None) == fields
    assert english["SoftmaxBackward0"]["formula_math"]["about"] == (
        "p = softmax(a) along dim: pᵢ = e^aᵢ / Σₖ e^aₖ")
    assert ".grad" in english["AccumulateGrad"]["formula_note"]


def test_the_values_panel_data_is_worded_in_the_language_shown():
    attrs = {"name": "SoftmaxBackward0", "kind": "op", "slots": 1}
    i18n.set_language("zh_CN")
    shown = formulas_at(attrs)
    assert shown["about"] == "p = softmax(a)，沿维度 dim 计算：pᵢ = e^aᵢ / Σₖ e^aₖ"
    assert shown["where"].startswith("i = j 时 δᵢⱼ = 1")
    assert shown["inputs"][0]["math"] == "∂pᵢ/∂aⱼ = pᵢ(δᵢⱼ − pⱼ)，所以 ∂L/∂aⱼ = pⱼ(gⱼ − Σᵢ gᵢpᵢ)"
    assert shown["inputs"][0]["expression"].startswith("_softmax_backward_data(")  # torch's own
    leaf = formulas_at({"name": "x", "kind": "leaf"})
    assert "叶子张量" in leaf["reason"] and ".grad" in leaf["reason"]
    custom = formulas_at({"name": "SquareBackward", "kind": "op"}, inspected={"custom_function": {
        "function": "Square", "source": None, "reason": UNREADABLE_SOURCE.format(
            function="Square", error="could not get source code")}})
    assert custom["custom"]["reason"] == "读不到 Square.backward 的源代码：could not get source code"
    assert custom["reason"].startswith("自定义的 torch.autograd.Function")

