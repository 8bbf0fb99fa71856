"""Loading a snippet: files, standard input, -c, and every way that can go wrong."""

import codecs
import io
import os

import pytest

from gradstep.autograd.snippet import SnippetLoadError, load_snippet


def _load_error(*args, **kwargs) -> dict:
    with pytest.raises(SnippetLoadError) as info:
        load_snippet(*args, **kwargs)
    return info.value.error


def test_reads_a_utf8_file_with_chinese_names_and_comments(tmp_path):
    text = "# 假设构建的是 pred = wx + b 的线性模型\n权重 = torch.ones(1)\n"
    path = tmp_path / "中文.py"
    path.write_text(text, encoding="utf-8")
    assert load_snippet(str(path), None) == (text, str(path))


def test_a_utf8_bom_is_dropped(tmp_path):
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbfx = 1\n")
    assert load_snippet(str(path), None)[0] == "x = 1\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_is_refused_as_python_refuses_it(tmp_path, encoding):
    """UTF-16 ran under gradstep, where python refuses it ("Non-UTF-8 code starting with
    '\\xff' ... on line 1")."""
    path = tmp_path / "wide.py"
    data = "x = '梯度'\n".encode("utf-16")
    path.write_bytes(data if encoding == "utf-16" else codecs.BOM_UTF16_BE
                     + "x = '梯度'\n".encode(encoding))
    status, message, line = _python_says(path)
    err = _load_error(str(path), None)
    assert status == 1 and (err["type"], err["message"], err["line"]) == ("SyntaxError", message, 1)
    assert "UTF-16" in err["explanation"] and "UTF-8" in err["fix"]


def test_windows_line_endings_become_newlines(tmp_path):
    path = tmp_path / "crlf.py"
    path.write_bytes(b"x = 1\r\ny = 2\r\n")
    assert load_snippet(str(path), None)[0] == "x = 1\ny = 2\n"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.py"
    path.write_bytes(b"")
    err = _load_error(str(path), None)
    assert err["kind"] == "empty"
    assert "empty" in err["message"]
    assert err["exit_status"] == 1


def test_whitespace_only_file(tmp_path):
    path = tmp_path / "blank.py"
    path.write_text("  \n\t\n\n")
    err = _load_error(str(path), None)
    assert err["kind"] == "empty"
    assert "whitespace" in err["message"]


def test_binary_garbage_with_nul_bytes(tmp_path):
    path = tmp_path / "garbage.py"
    path.write_bytes(os.urandom(2000) + b"\x00" + os.urandom(100))
    err = _load_error(str(path), None)
    assert err["kind"] == "not_text"
    assert "NUL" in err["message"]
    assert err["explanation"] and err["fix"]


BOM = b"\xef\xbb\xbf"


def _python_says(path) -> tuple[int, str, int | None]:
    """Return ``python FILE``'s exit status, its SyntaxError's message and line (None where
    it names none): the oracle (python refuses such a file before running any of it)."""
    import re
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          cwd=path.parent, timeout=60)
    last = done.stderr.rstrip("\n").rsplit("\n", 1)[-1]
    line = re.search(r'line (\d+)', done.stderr)
    return done.returncode, last.removeprefix("SyntaxError: "), int(line[1]) if line else None


@pytest.mark.parametrize(("data", "line"), [
    (b"x = 1\n# caf\xe9\n", 2),  # no coding line: "Non-UTF-8 code starting with '\xe9'"
    (b"# caf\xe9\nx = 1\n", 1),  # (tokenize said only "invalid or missing encoding ...")
    (b"\n# caf\xe9\n", 2),
    (BOM + b'x = "caf\xe9"\n', 1),  # declared UTF-8: python decodes strings, not comments
    (BOM + b'x = 1\ny = "\xe9"\n', 2),  # (the byte was named 0x3d: the BOM's 3 not counted)
    (b"# coding: utf-8\ny = '\xe9'\n", 2),
    (b"# coding: ascii\nx = 1\nz = 3  # caf\xe9\n", 3),  # "encoding problem: ascii"
])
def test_bytes_python_cannot_read_are_refused_with_pythons_own_message(tmp_path, data, line):
    """The message is python's SyntaxError, word for word; the line is python's, or (where
    python names none) the bad byte's; the words say which encoding, in English and Chinese
    (they said "not UTF-8 text" for a file that declares ascii)."""
    from gradstep import i18n
    from gradstep.autograd.errors import format_error

    path = tmp_path / "bad.py"
    path.write_bytes(data)
    status, message, python_line = _python_says(path)
    err = _load_error(str(path), None)
    assert status == 1 and err["exit_status"] == 1
    assert (err["type"], err["message"]) == ("SyntaxError", message)
    assert err["line"] == (python_line or line) == line
    assert format_error(err, "bad.py").startswith(f"bad.py:{line}: SyntaxError: {message}\n")
    assert "0xe9" in err["explanation"] and f"line {line}" in err["explanation"].lower()
    declared = b"coding: ascii" in data
    assert ("ascii" in err["explanation"]) == declared
    assert ("UTF-8" in err["explanation"]) != declared
    chinese = i18n.localized(err, "zh_CN")
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in chinese[k]) for k in ("explanation", "fix"))


@pytest.mark.parametrize("data", [
    b"# coding: utf-8\n# caf\xe9 passed over\ns = 'ok \xe8'\n",  # was "Line 3 holds byte 0xe9"
    BOM + b'print(1)\n"""\ndoc \xe9\n"""\n',  # python names line 5, the string's end
])
def test_the_byte_named_is_the_one_python_refused_on_the_line_that_holds_it(tmp_path, data):
    """A comment's bad byte (passed over) before the string's was named as the refused one."""
    import re

    path = tmp_path / "bad.py"
    path.write_bytes(data)
    status, message, python_line = _python_says(path)
    err = _load_error(str(path), None)
    assert status == 1 and (err["message"], err["line"]) == (message, python_line)
    byte = re.search(r"byte 0x([0-9a-f]{2})", message)[1]
    said = re.search(r"Line (\d+) holds byte 0x([0-9a-f]{2})", err["explanation"])
    assert said[2] == byte
    assert bytes([int(byte, 16)]) in data.splitlines()[int(said[1]) - 1]
    assert f"line {said[1]}" in err["fix"]


@pytest.mark.parametrize("data", [
    BOM + b"print('ran')  # caf\xe9\n",  # python 3.11 runs it: comments are not decoded
    BOM + b"# caf\xe9\nprint('ran')\n",
    b"# coding: utf-8\nprint('ran')  # \xe9\xff\n",
])
def test_a_bad_byte_in_a_comment_of_a_declared_utf8_file_runs_as_under_python(tmp_path, data):
    from gradstep.autograd.runner import run_snippet

    path = tmp_path / "runs.py"
    path.write_bytes(data)
    status, _message, _line = _python_says(path)
    assert status == 0  # python ran it
    source, _name = load_snippet(str(path), None)
    result = run_snippet(source)
    assert result.output == "ran\n"


def test_latin1_bytes_in_the_first_two_lines_keep_their_line(tmp_path):
    path = tmp_path / "latin1.py"
    path.write_bytes("# café\nx = 1\n".encode("latin-1"))
    err = _load_error(str(path), None)
    assert err["kind"] == "not_text" and err["line"] == 1


def test_a_coding_line_naming_no_encoding_is_refused(tmp_path):
    path = tmp_path / "unknown.py"
    path.write_bytes(b"# -*- coding: nosuchcodec -*-\nx = 1\n")
    err = _load_error(str(path), None)
    assert err["kind"] == "not_text" and "nosuchcodec" in err["message"]


def test_latin1_with_a_coding_line_is_honoured(tmp_path):
    path = tmp_path / "declared.py"
    path.write_bytes("# -*- coding: latin-1 -*-\n# café\n".encode("latin-1"))
    assert "café" in load_snippet(str(path), None)[0]


def test_a_directory(tmp_path):
    err = _load_error(str(tmp_path), None)
    assert err["type"] == "IsADirectoryError"
    assert "directory" in err["message"]
    assert err["exit_status"] == 2


def test_a_missing_file(tmp_path):
    missing = tmp_path / "nope.py"
    err = _load_error(str(missing), None)
    assert err["type"] == "FileNotFoundError"
    assert str(missing) in err["message"]
    assert err["exit_status"] == 2


def test_nothing_given():
    err = _load_error(None, None)
    assert "-c" in err["message"]
    assert err["exit_status"] == 2


def test_dash_reads_binary_stdin():
    stdin = io.TextIOWrapper(io.BytesIO("y = '反向传播'\n".encode()), encoding="utf-8")
    assert load_snippet("-", None, stdin=stdin) == ("y = '反向传播'\n", "<stdin>")


def test_dash_reads_a_text_only_stream():
    assert load_snippet("-", None, stdin=io.StringIO("z = 3\n")) == ("z = 3\n", "<stdin>")


def test_dash_with_empty_stdin():
    err = _load_error("-", None, stdin=io.StringIO(""))
    assert err["kind"] == "empty"


def test_dash_with_binary_stdin():
    stdin = io.TextIOWrapper(io.BytesIO(b"\x00\x01\x02garbage"))
    assert _load_error("-", None, stdin=stdin)["kind"] == "not_text"


def test_code_option_beside_a_file_is_refused():
    """One of the two would be dropped without a word (the file was, walk 5)."""
    err = _load_error("other.py", "a = 1")
    assert err["exit_status"] == 2 and "other.py" in err["detail"]


def test_empty_code_option():
    assert _load_error(None, "   ")["kind"] == "empty"


def test_a_jupyter_notebook_is_refused_with_how_to_get_a_snippet(tmp_path):
    """A learner gives a .ipynb: it was run as Python and failed with "name 'null' is not
    defined ... check the spelling". Now it is named a notebook, with the two ways on."""
    from gradstep.i18n import localized, using

    notebook = ('{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {},\n'
                ' "outputs": [], "source": ["import torch\\n"]}],\n'
                ' "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n')
    path = tmp_path / "lesson.ipynb"
    path.write_text(notebook, encoding="utf-8")
    err = _load_error(str(path), None)
    assert err["kind"] == "not_text" and err["exit_status"] == 1
    assert err["title"] == "A notebook, not a snippet"
    assert "is a Jupyter notebook (JSON)" in err["message"]
    assert f"jupyter nbconvert --to script {path}" in err["fix"]
    with using("zh_CN"):
        assert localized(err)["title"] == "这是笔记本，不是代码片段"
    assert _load_error("-", None, stdin=io.StringIO(notebook))["title"] == err["title"]
    for text in ('{"cells": 1}\n', '{"a": 1}\n', "{1: 2}\n", '{"cells": [], "nbformat": 4'):
        path.write_text(text, encoding="utf-8")  # a dict of Python, or JSON of another kind
        assert load_snippet(str(path), None)[0] == text
