"""The command line in the person's language: LANG=zh_CN.UTF-8 explains errors in Chinese
(torch's own message verbatim), any other locale in English; JSON stays English."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "gradstep" / "resources" / "examples"
TORCH_SAYS = "element 0 of tensors does not require grad and does not have a grad_fn"
CJK = re.compile(r"[\u4e00-\u9fff]")


def gradstep(*args: str, **locale: str) -> subprocess.CompletedProcess:
    """Run ``python -m gradstep ARGS`` with only the locale variables given."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    env.update(locale)
    return subprocess.run([sys.executable, "-m", "gradstep", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=180)


@pytest.mark.slow
def test_a_chinese_locale_explains_the_error_in_chinese_and_keeps_torchs_words():
    done = gradstep("backward", str(EXAMPLES / "requires_grad_error.py"), "--json",
                    LANG="zh_CN.UTF-8")
    assert done.returncode == 1
    assert TORCH_SAYS in done.stderr  # verbatim: people search for it
    assert "`mse` 只由不需要梯度的张量算出来，所以 autograd 没有为它记录计算图" in done.stderr
    assert "怎么改：创建叶子张量时就加上 requires_grad=True" in done.stderr
    assert "How to fix" not in done.stderr


def test_error_dicts_stay_english_and_carry_their_words_for_any_language():
    from gradstep import i18n
    from gradstep.autograd.errors import format_error
    from gradstep.autograd.session import Session

    source = (EXAMPLES / "requires_grad_error.py").read_text(encoding="utf-8")
    error = Session().run(source, filename="lesson.py")["error"]
    assert error["explanation"].startswith("`mse` was computed only from tensors")  # the contract
    assert error["words"]["explanation"]["args"] == {"target": "`mse`"}
    assert json.loads(json.dumps(error)) == error
    with i18n.using("zh_CN"):
        text = format_error(error, "lesson.py")
    assert text.splitlines()[0] == f"lesson.py:14: RuntimeError: {TORCH_SAYS}"
    assert text.splitlines()[-1].startswith("怎么改：")


@pytest.mark.slow
@pytest.mark.parametrize("locale", [{"LANG": "C"}, {"LANG": "en_US.UTF-8"}, {}])
def test_any_other_locale_explains_in_english(locale):
    done = gradstep("trace", "-c", "x = torch.ones(2)\ny = x * 2", **locale)
    assert done.returncode == 1
    assert "Create `x` (line 1) as a leaf that requires grad" in done.stderr
    assert not CJK.search(done.stderr), done.stderr


@pytest.mark.slow
def test_language_lists_come_first_and_usage_errors_are_translated_too():
    done = gradstep("trace", "-c", "x = torch.ones(2)", LANGUAGE="fr:zh_CN", LANG="en_US.UTF-8")
    assert "把 `x`（第 1 行）创建成需要梯度的叶子张量" in done.stderr
    done = gradstep("frob", LANG="zh_CN.UTF-8")
    assert done.returncode == 2 and "'frob' 既不是命令也不是文件" in done.stderr
    done = gradstep("trace", "--help", LANG="zh_CN.UTF-8")
    assert "代码片段文件，用 - 表示标准输入" in done.stdout


@pytest.mark.slow
def test_check_reports_in_chinese_and_its_json_stays_english(tmp_path):
    snippet = tmp_path / "nan.py"
    snippet.write_text("a = torch.tensor([4.0, -1.0], requires_grad=True)\n"
                       "r = torch.sqrt(a)\nloss = r.sum()\n", encoding="utf-8")
    done = gradstep("check", str(snippet), LANG="zh_CN.UTF-8")
    assert done.returncode == 1
    assert "nan_forward: NaN 从 sqrt (r) 开始出现，第 2 行：sqrt(-1.) = nan" in done.stdout
    done = gradstep("check", str(snippet), "--json", LANG="zh_CN.UTF-8")
    finding = json.loads(done.stdout)["findings"][0]
    assert finding["message"] == "NaN starts at sqrt (r), line 2: sqrt(-1) = NaN"


@pytest.mark.parametrize(("argv", "chinese", "english"), [
    (["backward", "--mode", "foo", "x.py"], "参数 --mode：无效的选项 'foo'", "invalid choice"),
    (["trace", "x.py", "--bogus"], "无法识别的参数：--bogus", "unrecognized"),
    (["export", "x.py"], "缺少以下必需的参数：-o/--output", "are required"),
    (["backward", "--passes", "two", "x.py"], "参数 --passes：无效的 int 值：'two'", "invalid int"),
    (["backward", "--json=yes", "x.py"], "参数 --json：不接受值，却给了 'yes'", "ignored explicit"),
])
def test_argparse_own_errors_are_in_the_persons_language(capsys, argv, chinese, english):
    """argparse words its errors through its own gettext domain, which has no Chinese here:
    "gradstep：错误：" was followed by English."""
    from gradstep import i18n
    from gradstep.cli import main

    with i18n.using("zh_CN"), pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and chinese in err and english not in err
    with i18n.using("en"), pytest.raises(SystemExit):
        main(argv)
    assert english in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["export", "-c", "x = 1", "-o", "g.bmp"],
                                  ["backward", "-c", "x = 1", "--passes", "0"]])
def test_an_options_refusal_is_labelled_in_the_persons_language(capsys, argv):
    """A refusal of gradstep's own ("<string>: usage: --passes 0：至少要执行一遍") kept
    the English label "usage" in a Chinese message; the JSON record's ``type`` stays "usage"."""
    from gradstep import i18n
    from gradstep.cli import main

    with i18n.using("zh_CN"):
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("<string>: 用法错误: ") and "usage" not in err, err
    with i18n.using("en"):
        assert main(argv) == 2
    assert capsys.readouterr().err.startswith("<string>: usage: ")


def test_a_snippets_own_exception_called_usage_keeps_its_name(capsys):
    """Only gradstep's own refusal's label is translated: a snippet's ``class usage`` is an
    exception's name, as python prints it ("usage: bad"); it read "用法错误: bad"."""
    from gradstep import i18n
    from gradstep.cli import main

    source = "class usage(Exception):\n    pass\nraise usage('bad')\n"
    with i18n.using("zh_CN"):
        assert main(["trace", "-c", source]) == 1
    err = capsys.readouterr().err
    assert err.startswith("<string>:3: usage: bad") and "用法错误" not in err, err


def test_every_option_of_every_command_is_explained_in_chinese():
    """`gradstep backward --help` listed --retain-graph, --mode and --passes with no words,
    and `gradstep gui --help` explained --data in English under zh_CN."""
    from gradstep import i18n
    from gradstep.cli import build_parser

    with i18n.using("zh_CN"):
        parser = build_parser()
        commands = parser._subparsers._group_actions[0].choices
        for name, sub in commands.items():
            for action in sub._actions:
                assert action.help, f"gradstep {name} {action.option_strings}: no help"
                if action.option_strings:
                    assert CJK.search(action.help), (name, action.option_strings, action.help)


def test_chinese_help_fits_the_terminal_and_keeps_words_whole(monkeypatch):
    """argparse's textwrap counted a CJK character as one column (lines ~1.5x the terminal)
    and, finding no spaces, broke `.gif` into `.gi` / `f`."""
    from gradstep import i18n
    from gradstep.cli import build_parser
    from gradstep.i18n.columns import columns

    monkeypatch.setenv("COLUMNS", "80")
    with i18n.using("zh_CN"):
        commands = build_parser()._subparsers._group_actions[0].choices
        for name, sub in commands.items():
            text = sub.format_help()
            assert max(columns(line) for line in text.splitlines()) <= 78, (name, text)
            if name == "export":
                assert ".gif" in text and "--frames DIR" in text
            usage = text[:text.index("\n\n")].splitlines()  # its options under the first's
            first = usage[0].index("[-h]")
            assert all(columns(line[:len(line) - len(line.lstrip())]) == columns(usage[0][:first])
                       for line in usage[1:]), text
    words = "要写入的文件；由扩展名决定格式（.png、.svg、.pdf、.dot、.graphml、.json；.gif）"
    lines = i18n.columns.wrap(words, 30)
    assert "".join(lines) == words and all(columns(line) <= 30 for line in lines)
    assert not any(line.startswith(("，", "；", "）", "、")) for line in lines)
    assert [".graphml" in line for line in lines].count(True) == 1
    for width in range(8, 40):  # an opening mark stays with what it opens
        lines = i18n.columns.wrap(words, width)
        assert "".join(lines) == words and not any(line.endswith("（") for line in lines)
    # what a terminal draws: unicodedata's widths, a combining accent on the letter before it
    assert [columns(t) for t in ("用法：", "cafe\u0301", "café", "a\u200bb")] == [6, 4, 4, 2]
