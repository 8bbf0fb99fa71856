"""What a new user typed at the command line (walk 5): every refusal says what was wrong
with what they typed, never that their snippet failed, and nothing they gave is dropped."""

from pathlib import Path

from gradstep.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "gradstep" / "resources" / "examples"


def test_bad_passes_does_not_say_the_snippet_raised(capsys):
    """--passes 0 is refused before the snippet runs: it said 'The snippet raised an error.'"""
    assert main(["backward", str(EXAMPLES / "mse_backward.py"), "--passes", "0"]) == 2
    err = capsys.readouterr().err
    assert "--passes 0" in err
    assert "raised" not in err and "not run" in err


def test_a_file_and_c_code_together_are_refused(capsys):
    """-c CODE beside a FILE ran CODE and said nothing of the file."""
    assert main(["trace", str(EXAMPLES / "mse_backward.py"), "-c", "x = 1"]) == 2
    err = capsys.readouterr().err
    assert "mse_backward.py" in err and "-c" in err
