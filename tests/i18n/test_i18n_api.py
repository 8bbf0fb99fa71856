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
