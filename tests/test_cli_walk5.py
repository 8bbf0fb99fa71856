"""What a new user typed at the command line (walk 5): every refusal says what was wrong
with what they typed, never that their snippet failed, and nothing they gave is dropped."""

from pathlib import Path

import pytest

from gradstep.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "gradstep" / "resources" / "examples"


def test_bad_passes_does_not_say_the_snippet_raised(capsys):
    """--passes 0 is refused before the snippet runs: it said 'The snippet raised an error.'"""
    assert main(["backward", str(EXAMPLES / "mse_backward.py"), "--passes", "0"]) == 2
    err = capsys.readouterr().err
    assert "--passes 0: run at least one pass (--passes 1 or more)" in err
    assert "raised" not in err and "not run" in err
    assert "How to fix" not in err  # a generic example command under the useful line


def test_a_file_and_c_code_together_are_refused(capsys):
    """-c CODE beside a FILE ran CODE and said nothing of the file."""
    assert main(["trace", str(EXAMPLES / "mse_backward.py"), "-c", "x = 1"]) == 2
    err = capsys.readouterr().err
    assert "mse_backward.py" in err and "-c" in err
    assert not err.startswith("<string>:"), err  # neither snippet is the one at fault


def test_an_unknown_option_is_refused_with_the_commands_usage_and_a_near_name(capsys):
    """torch's spelling --retain_graph got the top level's usage (no option of backward in
    it) and no hint (walk 5)."""
    with pytest.raises(SystemExit) as info:
        main(["backward", str(EXAMPLES / "mse_backward.py"), "--retain_graph"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: gradstep backward" in err and "--passes" in err
    assert "--retain_graph" in err and "did you mean --retain-graph?" in err


@pytest.mark.parametrize("seconds", ["0", "-1", "nan"])
def test_a_time_limit_that_is_not_positive_is_refused(capsys, seconds):
    """--timeout 0 stopped the snippet at once and --timeout -1 ran it without a limit, both
    without a word (walk 5)."""
    with pytest.raises(SystemExit) as info:
        main(["trace", "-c", "x = 1", "--timeout", seconds])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--timeout" in err and "positive number of seconds" in err


def test_a_time_limit_that_is_not_a_number_still_says_so(capsys):
    with pytest.raises(SystemExit):
        main(["trace", "-c", "x = 1", "--timeout", "soon"])
    assert "invalid float value: 'soon'" in capsys.readouterr().err


@pytest.mark.parametrize("seconds", ["inf", "1e400"])
def test_an_infinite_time_limit_is_refused_not_a_traceback(capsys, seconds):
    """--timeout inf passed the positive check and the kernel's deadline raised
    OverflowError (a traceback, exit status 1)."""
    with pytest.raises(SystemExit) as info:
        main(["trace", "-c", "x = 1", "--timeout", seconds])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--timeout" in err and "finite number of seconds" in err


def test_no_snippet_given_says_so_and_blames_no_snippet(capsys, monkeypatch):
    """``gradstep trace`` alone said "<snippet>: The snippet failed: No snippet given ...",
    "The snippet raised an error." and "correct the marked line", of a snippet that does
    not exist."""
    import io
    import sys

    from gradstep import i18n

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["trace"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradstep: No snippet given: pass a FILE"), err
    assert "raised" not in err and "marked line" not in err and "<snippet>" not in err
    assert "How to fix: Put the file after the command (`gradstep trace model.py`)" in err
    with i18n.using("zh_CN"):
        assert main(["backward"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradstep: 没有给出代码片段") and "怎么改：把文件放在命令后面" in err, err
