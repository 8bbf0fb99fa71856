"""The command line behaves like other command-line programs: --version, a mistyped
command is an error (never the window), FILE.py still opens the window, a missing
file says so, Ctrl+C ends with one line and status 130, a segfault's report names
the snippet's line and none of gradstep's own frames, and no display means one
clear line instead of Qt aborting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gradstep import installed_version
from gradstep.cli import INTERRUPTED, SUBCOMMANDS, build_parser, main
from gradstep.commands.gui import display_problem
from tests.deadline import wait_until

ROOT = Path(__file__).resolve().parents[1]
HEADLESS = {k: v for k, v in os.environ.items()
            if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}


def gradstep(*args: str, env: dict | None = None, cwd=ROOT, timeout: float = 120):
    return subprocess.run([sys.executable, "-m", "gradstep", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_version_comes_from_the_package_metadata(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"gradstep {installed_version()}\n"


def test_python_dash_m_gradstep_is_the_gradstep_command():
    done = subprocess.run([sys.executable, "-m", "gradstep", "--version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, f"gradstep {installed_version()}\n")


@pytest.mark.parametrize(("word", "hint"), [("frob", ""), ("trcae", "Did you mean 'trace'?")])
def test_a_mistyped_command_is_an_error_listing_the_commands(capsys, monkeypatch, word, hint):
    monkeypatch.setattr("gradstep.commands.gui.run", lambda args: pytest.fail("the window opened"))
    with pytest.raises(SystemExit) as stop:
        main([word])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"'{word}' is neither a command nor a file" in err and hint in err
    assert all(command in err for command in SUBCOMMANDS)


def test_a_mistyped_command_without_a_display_does_not_abort():
    done = gradstep("frob", env=HEADLESS, timeout=60)
    assert done.returncode == 2 and "neither a command nor a file" in done.stderr


@pytest.mark.parametrize("argv", [["snippet.py"], ["snippet.py", "--run"], ["notes"],
                                  ["--run", "snippet.py"], []])
def test_a_file_or_no_argument_opens_the_window(monkeypatch, tmp_path, argv):
    (tmp_path / "notes").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    opened = []
    monkeypatch.setattr("gradstep.commands.gui.run", lambda args: opened.append(args) or 0)
    assert main(argv) == 0
    assert opened[0].command == "gui"
    assert opened[0].run == ("--run" in argv)


@pytest.mark.slow
def test_gradstep_file_opens_the_window_on_that_file(tmp_path):
    snippet = tmp_path / "mine.py"
    snippet.write_text("x = torch.ones(1, requires_grad=True)\ny = (x * 2).sum()\n")
    shot = tmp_path / "shot.png"
    env = dict(HEADLESS, QT_QPA_PLATFORM="offscreen", GRADSTEP_SCREENSHOT=str(shot),
               GRADSTEP_STATE_DIR=str(tmp_path / "state"))
    done = gradstep(str(snippet), env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.exists()
    recent = (tmp_path / "state" / "settings.ini").read_text()
    assert str(snippet) in recent  # the file was opened (and so remembered)


@pytest.mark.parametrize("command", [["trace"], ["backward"], ["export", "-o", "x.svg"]])
def test_a_missing_file_says_no_such_file(capsys, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    assert main([command[0], "nope.py", *command[1:]]) == 2
    err = capsys.readouterr().err
    assert "No such file" in err and "nope.py" in err
    assert "The snippet raised an error" not in err and "marked line" not in err


def test_a_missing_file_for_the_window_says_so_without_opening_one(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["nope.py", "--run"]) == 2
    assert "No such file: nope.py" in capsys.readouterr().err


def test_display_problem_names_the_variables_and_the_fix():
    line = display_problem({}, "linux")
    assert "DISPLAY" in line and "WAYLAND_DISPLAY" in line and "QT_QPA_PLATFORM=offscreen" in line
    assert "\n" not in line
    assert display_problem({"DISPLAY": ":0"}, "linux") == ""
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") == ""
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") == ""
    assert display_problem({}, "darwin") == ""


def test_no_display_is_one_clear_line_not_sigabrt(tmp_path):
    snippet = tmp_path / "s.py"
    snippet.write_text("x = 1\n")
    done = gradstep(str(snippet), env=HEADLESS, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "QT_QPA_PLATFORM=offscreen" in done.stderr


def test_a_display_that_cannot_be_reached_is_one_clear_line_not_sigabrt(tmp_path):
    snippet = tmp_path / "s.py"
    snippet.write_text("x = 1\n")
    env = dict(HEADLESS, DISPLAY=":4711", XAUTHORITY=str(tmp_path / "none"))
    done = gradstep(str(snippet), env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "DISPLAY=:4711" in done.stderr and "QT_QPA_PLATFORM=offscreen" in done.stderr


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.slow
def test_ctrl_c_ends_with_one_line_and_status_130(tmp_path):
    marker = tmp_path / "kernel.pid"
    snippet = tmp_path / "forever.py"
    snippet.write_text(f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\n"
                       "while True:\n    time.sleep(0.05)\n")
    # Ctrl+C as in a terminal, also when the suite itself runs where SIGINT is ignored (a
    # background job without job control): a child would inherit the ignoring
    proc = subprocess.Popen([sys.executable, "-m", "gradstep", "trace", str(snippet), "--json"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert wait_until(lambda: marker.exists() and marker.read_text(), 120)
    kernel_pid = int(marker.read_text())
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == INTERRUPTED
    assert err == "gradstep: interrupted\n" and out == ""
    assert wait_until(lambda: _gone(kernel_pid), 5)  # the snippet does not run on after gradstep ended


@pytest.mark.slow
def test_a_segfault_report_names_the_snippet_line_and_no_internal_frames(tmp_path):
    snippet = tmp_path / "crash.py"
    snippet.write_text("import ctypes\nx = 1\nctypes.string_at(0)\n")
    done = gradstep("trace", str(snippet), "--json")
    assert done.returncode == 1
    assert f"{snippet}:3" in done.stderr and "ctypes.string_at(0)" in done.stderr
    assert "SIGSEGV" in done.stderr
    for internal in ("Fatal Python error", "worker.py", "runner.py", "session.py"):
        assert internal not in done.stderr


def test_the_parser_lists_version_and_the_commands():
    usage = build_parser().format_help()
    assert "--version" in usage and all(command in usage for command in SUBCOMMANDS)
