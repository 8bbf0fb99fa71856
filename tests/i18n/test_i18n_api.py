"""The Python API's refusals speak the person's language, as the command line does
(``LANG=zh_CN.UTF-8``): the same catalogue, the English text as the msgid."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import gradstep
from gradstep import i18n
from gradstep.render_process import ViewOptions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def english_again():
    yield
    i18n.set_language(None)


def refusals() -> list[str]:
    """The words of a few refusals of the API, each raised by the call a person makes."""
    said = []
    leaf = torch.ones(2, requires_grad=True)
    y = leaf * 2
    for call in (lambda: gradstep.trace(torch.ones(2)),  # no grad_fn
                 lambda: gradstep.trace(leaf),  # a leaf
                 lambda: gradstep.trace(torch.nn.Linear(2, 2)),  # a module
                 lambda: gradstep.draw(y, step=1),  # a step without a timeline
                 lambda: gradstep.backward(y, mode="forward"),
                 lambda: ViewOptions(rankdir="RL")):
        with pytest.raises((ValueError, TypeError)) as caught:
            call()
        said.append(str(caught.value))
    return said


def test_the_apis_refusals_are_english_by_default_and_chinese_under_zh_cn():
    with i18n.using("en"):
        english = refusals()
    with i18n.using("zh_CN"):
        chinese = refusals()
    assert english[0].startswith("the root tensor has no grad_fn")
    assert "not the Linear module" in english[2]
    for en, zh in zip(english, chinese):
        assert zh != en and any("\u4e00" <= ch <= "\u9fff" for ch in zh), (en, zh)
    assert "grad_fn" in chinese[0] and "torch.no_grad()" in chinese[0]  # code stays code
    assert "Linear" in chinese[2] and "'RL'" in chinese[5]  # the arguments are filled in


def test_a_program_under_lang_zh_cn_is_refused_in_chinese():
    """The locale alone, as a person's program has it (no set_language)."""
    code = "import torch, gradstep\ntry:\n    gradstep.trace(torch.ones(2))\n" \
           "except ValueError as exc:\n    print(exc)\n"
    env = {**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("根张量没有 grad_fn"), done.stdout


@pytest.mark.parametrize(("chosen", "locale"), [("zh_CN", "C.UTF-8"), ("en", "zh_CN.UTF-8")])
def test_a_drawing_speaks_the_language_set_in_the_callers_process(monkeypatch, chosen, locale):
    """``gradstep.draw`` renders in a child process: its pills follow ``set_language`` in
    the caller's process (they followed the child's locale), and a drawing kept from before
    a switch is drawn again in the new language."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.setenv(name, locale)
    x = torch.ones(3, requires_grad=True)
    y = (x * x.exp()).sum()
    timeline = gradstep.backward(y)  # (the pills of the saved tensors at its end)
    i18n.set_language(chosen)
    drawing = gradstep.draw(y, timeline=timeline)
    svg = drawing.svg
    pill = {"zh_CN": "已保存：", "en": "saved: "}
    assert pill[chosen] in svg
    assert pill["zh_CN" if chosen == "en" else "en"] not in svg
    other = "en" if chosen == "zh_CN" else "zh_CN"
    i18n.set_language(other)
    assert pill[other] in drawing.svg


def test_a_path_with_spaces_between_chinese_characters_keeps_them(tmp_path, capsys):
    """In Chinese the spaces the translation puts between CJK words are taken out; the same
    pass took them out of the values filled in: ``-o "新 目录/图 一.png"`` was named
    ``新目录/图一.png``, a path that does not exist, even inside a message filled into another
    (the command line's usage error)."""
    from gradstep.cli import main

    out = tmp_path / "新 目录" / "图 一.png"
    with i18n.using("zh_CN"):
        assert main(["export", "-c", "raise SystemExit('must not run')", "-o", str(out)]) == 2
        nested = i18n.render(i18n.lazy("{option} {path}: the folder {folder} does not exist; "
                                       "create it first", option="-o", path=out,
                                       folder=i18n.lazy("{path}", path=out.parent)))
    err = capsys.readouterr().err
    assert f"-o {out}：文件夹 {out.parent} 不存在；请先创建它" in err, err
    assert nested == f"-o {out}：文件夹 {out.parent} 不存在；请先创建它"


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_value_with_private_use_characters_comes_back_as_it_is(lang):
    """The spaces of a value filled into a Chinese message are kept with private-use marks;
    a value holding those characters itself (a file name, torch's text) lost them, in English
    too, and a nested message's did as well. Each value is written exactly as ``format``
    writes it, in both languages."""
    value = "a\ue000b\ue001c\ue002d 新 目录\ue002 "
    message = i18n.lazy("could not write {path}: the folder {folder} does not exist; create it "
                        "first", path=value, folder=i18n.lazy("{path}", path=Path(value)))
    text = i18n.render(message, lang)
    assert text.count(value) == 2, ascii(text)
    assert text == i18n.translate(message["msgid"], lang).format(path=value, folder=value)
