"""The pure catalogue (gradstep.i18n): the .po reader, the locale, lookups with placeholders,
and every text of the source translated in every language, placeholders and code kept."""

from __future__ import annotations

import json
import re

import pytest

from gradstep import i18n
from gradstep.i18n import languages, po
from gradstep.i18n.extract import merged, source_texts, texts_in
from gradstep.shipped import resource

CODES = [code for code in i18n.LANGUAGES if code != i18n.ENGLISH]
CJK = re.compile(r"[\u4e00-\u9fff]")
# Texts that are code or punctuation in every language (a translation equal to them is right)
SAME_EVERYWHERE = {"y = x + 2; z = y**2 * 3; out = z.mean()"}
# Words that stay as code in a translation whenever the English has them
CODE_WORDS = ("retain_graph=True", "requires_grad=True", "requires_grad_()", "torch.autograd.grad",
              "autograd.grad", "backward()", ".grad", "grad_fn", "torch.no_grad()", "--timeout",
              "--deep-values", "--root", "GRADSTEP_MEMORY_LIMIT", "ones_like", "allow_unused=True",
              "materialize_grads=True", "clone()", "detach()", "NaN")


@pytest.fixture(autouse=True)
def english_again():
    yield
    i18n.set_language(None)


def entries(code: str) -> list[po.PoEntry]:
    return po.parse_entries(resource(f"locale/{code}.po").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the .po reader


def test_po_reader_reads_continued_strings_escapes_flags_and_skips_what_msgfmt_skips():
    text = r'''# a comment
msgid ""
msgstr "Language: zh_CN\n"

#: a.py
#, python-brace-format
msgid ""
"two {n} "
"lines\n"
msgstr "两{n}行\n"

#, fuzzy
msgid "guess"
msgstr "猜的"

msgctxt "menu"
msgid "File"
msgstr "文件"

msgid "untranslated"
msgstr ""

msgid "quote \" and \\ backslash\ttab"
msgstr "引号 \" 和 \\ 反斜杠\t制表"
'''
    got = po.read_catalogue(text)
    assert got == {"two {n} lines\n": "两{n}行\n",
                   'quote " and \\ backslash\ttab': '引号 " 和 \\ 反斜杠\t制表'}
    first = po.parse_entries(text)[1]
    assert first.flags == {"python-brace-format"} and first.line == 7


@pytest.mark.parametrize("bad", ['msgid "a\nmsgstr "b"', 'msgid "a\\q"\nmsgstr ""',
                                 '"orphan"', 'msgid_plural "x"'])
def test_po_reader_names_the_line_it_cannot_read(bad):
    with pytest.raises(po.PoError, match="line"):
        po.parse_entries(bad)


def test_quote_is_the_inverse_of_unquote():
    for text in ['plain', 'a "quoted" \\ word', "tab\tand\nnewline", "中文"]:
        assert po.unquote(po.quote(text)) == text


def test_merged_keeps_translations_adds_new_texts_and_drops_obsolete_ones():
    old = 'msgid ""\nmsgstr "Language: xx\\n"\n\nmsgid "kept"\nmsgstr "gardé"\n\nmsgid "gone"\nmsgstr "parti"\n'
    new = po.parse_entries(merged(old, {"kept": ["a.py"], "new {x}": ["b.py"]}, "xx"))
    assert [(e.msgid, e.msgstr) for e in new] == [("", "Language: xx\n"), ("kept", "gardé"),
                                                 ("new {x}", "")]
    assert "python-brace-format" in new[2].flags


def test_merged_keeps_the_files_order_and_places_new_texts_after_their_source_neighbour():
    """``scripts/i18n.py update`` rewrote the catalogue in source order: on a tree whose texts
    had not changed it moved ~100-200 lines of zh_CN.po that helpers had added by hand
    elsewhere. The file's order is kept; a new text goes after the text before it in the
    source (the start where none is), the same place on every run."""
    old = ('msgid ""\nmsgstr "Language: xx\\n"\n\nmsgid "c"\nmsgstr "C"\n\n'
           'msgid "a"\nmsgstr "A"\n\nmsgid "gone"\nmsgstr "G"\n')
    texts = {"first": ["m.py"], "a": ["m.py"], "a2": ["m.py"], "a3": ["n.py"], "c": ["n.py"]}
    once = merged(old, texts, "xx")
    assert [e.msgid for e in po.parse_entries(once)] == ["", "first", "c", "a", "a2", "a3"]
    assert merged(once, texts, "xx") == once  # a second run changes nothing


@pytest.mark.parametrize("code", CODES)
def test_an_update_of_this_tree_changes_no_catalogue(code):
    """What ``scripts/i18n.py update`` writes for the source as it is: the file unchanged
    (every text is translated, ``test_every_source_text_is_translated``)."""
    text = resource(f"locale/{code}.po").read_text(encoding="utf-8")
    assert merged(text, source_texts(), code) == text


def test_extraction_finds_literal_texts_of_the_three_markers_only():
    source = 'from gradstep.i18n import _, N_, lazy\n_("now {a}", a=1)\nN_("mark")\n' \
             'lazy("later")\nlazy(variable)\ntr("qt text")\n'
    assert [t for t, _line in texts_in(source)] == ["now {a}", "mark", "later"]


# ---------------------------------------------------------------- the locale


@pytest.mark.parametrize("environ, expected", [
    ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
    ({"LANG": "zh_CN.GB18030"}, "zh_CN"),
    ({"LANG": "C"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "POSIX"}, "en"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({}, "en"),
    ({"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}, "zh_CN"),  # LANGUAGE first
    ({"LANGUAGE": "fr:zh", "LANG": "en_US.UTF-8"}, "zh_CN"),  # a list: the first one we have
    ({"LANGUAGE": "", "LC_ALL": "zh_CN.UTF-8", "LANG": "C"}, "zh_CN"),  # empty: skipped
    ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),  # LC_ALL before LANG
    ({"LC_MESSAGES": "zh_SG.UTF-8", "LANG": "C"}, "zh_CN"),
    ({"LANG": "zh_TW.UTF-8"}, "en"),  # Traditional: not shown Simplified by guess
    ({"LANGUAGE": "zh_TW:zh_CN", "LANG": "C"}, "zh_CN"),
    ({"LANGUAGE": "zh-Hans"}, "zh_CN"),
    ({"LANG": "zh"}, "zh_CN"),
])
def test_system_language_reads_the_locale_variables_as_gettext_does(environ, expected):
    assert languages.system_language(environ) == expected


def test_normalize_drops_encoding_and_modifier():
    assert languages.normalize("zh_cn.utf8@pinyin") == "zh_CN"
    assert languages.normalize("zh-hans") == "zh_Hans"


def test_the_window_override_wins_over_the_locale_and_using_is_temporary(monkeypatch):
    monkeypatch.setenv("LANGUAGE", "en")
    assert i18n.language() == "en"
    i18n.set_language("zh_CN")
    assert i18n.language() == "zh_CN"
    with i18n.using("en"):
        assert i18n._("Syntax error") == "Syntax error"
    assert i18n._("Syntax error") == "语法错误"
    i18n.set_language(None)
    monkeypatch.setenv("LANGUAGE", "zh_CN")
    assert i18n._("Syntax error") == "语法错误"
    with pytest.raises(ValueError, match="unknown language"):
        i18n.set_language("xx")


# ---------------------------------------------------------------- lookups


def test_lazy_messages_are_plain_data_and_word_their_arguments_in_the_same_language():
    message = i18n.lazy("{target} was computed before `requires_grad_()` was called, so its "
                        "graph was recorded while nothing required grad. Setting requires_grad "
                        "afterwards does not change a graph that already exists: {target} still "
                        "has no grad_fn.", target=i18n.lazy("the tensor you differentiate"))
    assert json.loads(json.dumps(message)) == message  # crosses the kernel's pipe as JSON
    english = i18n.render(message, "en")
    assert english.startswith("the tensor you differentiate was computed before")
    chinese = i18n.render(message, "zh_CN")
    assert chinese.startswith("要求导的张量是在调用 `requires_grad_()` 之前算出来的")
    assert "grad_fn" in chinese and "the tensor" not in chinese


def test_an_unknown_text_or_a_broken_translation_falls_back_to_english(monkeypatch):
    assert i18n.render(i18n.lazy("not in any catalogue {x}", x=1), "zh_CN") == "not in any catalogue 1"
    monkeypatch.setitem(i18n.catalogue("zh_CN"), "Stopped", "{missing}")
    assert i18n.render(i18n.lazy("Stopped"), "zh_CN") == "{missing}"  # no args: not formatted
    monkeypatch.setitem(i18n.catalogue("zh_CN"), "exit code {code}", "退出码 {cod}")
    assert i18n.render(i18n.lazy("exit code {code}", code=3), "zh_CN") == "exit code 3"


def test_with_words_keeps_english_fields_and_localized_words_them_again():
    err = {"kind": "timeout", "message": "torch's own words"}
    i18n.with_words(err, title=i18n.lazy("Timed out"), fix="a plain fix")
    assert err["title"] == "Timed out" and err["fix"] == "a plain fix"
    assert set(err["words"]) == {"title"}
    shown = i18n.localized(err, "zh_CN")
    assert shown["title"] == "超时" and shown["message"] == "torch's own words"
    assert err["title"] == "Timed out"  # a copy: the error itself stays English


# ---------------------------------------------------------------- completeness


@pytest.mark.parametrize("code", CODES)
def test_every_text_of_the_source_has_a_checked_translation_and_none_is_left_over(code):
    texts = source_texts()
    assert len(texts) > 250
    found = {e.msgid: e for e in entries(code) if e.msgid}
    missing = [t for t in texts if t not in found or not found[t].msgstr or found[t].fuzzy]
    assert not missing, f"{code}.po lacks (run scripts/i18n.py update, then translate): {missing}"
    obsolete = sorted(set(found) - set(texts))
    assert not obsolete, f"{code}.po has texts the source no longer has: {obsolete}"


@pytest.mark.parametrize("code", CODES)
def test_every_translation_has_the_placeholders_of_its_text_and_formats(code):
    for entry in entries(code)[1:]:
        names = i18n.field_names(entry.msgid)
        assert i18n.field_names(entry.msgstr) == names, (entry.msgid, entry.msgstr)
        args = {name: "X" for name in names}
        if args:
            entry.msgstr.format(**args)


@pytest.mark.parametrize("code", CODES)
def test_translations_keep_code_as_code(code):
    for entry in entries(code)[1:]:
        for span in re.findall(r"`[^`]+`", entry.msgid):
            assert span in entry.msgstr, (span, entry.msgstr)
        for word in CODE_WORDS:
            assert entry.msgid.count(word) <= entry.msgstr.count(word), (word, entry.msgstr)


def test_the_chinese_is_chinese_and_uses_the_lessons_terms():
    for entry in entries("zh_CN")[1:]:
        words = re.sub(r"`[^`]+`|\{[^}]*\}|[\w.]*[_(.=-][\w.()=-]*", "", entry.msgid)
        if entry.msgid in SAME_EVERYWHERE or not re.search(r"[A-Za-z]{3,}", words):
            continue  # code, placeholders and punctuation only
        assert CJK.search(entry.msgstr), entry.msgid
        assert not re.search(r"[，。：；（）]\s|\s[，。：；（）]", entry.msgstr), entry.msgstr
    zh = i18n.catalogue("zh_CN")
    assert "计算图" in zh["Backward through the graph a second time"]
    assert "释放" in zh["The first backward frees the saved tensors; the second one fails."]
    assert "保留计算图" in zh["Pass retain_graph=True to the FIRST backward/autograd.grad call if you "
                            "need to go through the graph again, or recompute the forward pass "
                            "(rebuild the loss) before the second backward."]
    assert "叶子" in zh["Create the leaf tensor with requires_grad=True (for example "
                      "`w = torch.full([1], 2., requires_grad=True)`), or call "
                      "`w.requires_grad_()` BEFORE computing {target}, then compute it again."]
    assert "雅可比矩阵" in zh["Softmax and its Jacobian"]
    assert "交叉熵" in zh["L1, MSE and CrossEntropy losses"]
    assert "反向传播" in zh["run backward and print the step timeline"]
