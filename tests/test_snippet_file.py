"""The bytes the window saves a snippet as: python reads back the text the editor held."""

from __future__ import annotations

import pytest

from gradstep.ui.snippet_file import file_bytes


@pytest.mark.parametrize("text", [
    "s = 'caf\u00e9'\n",  # no coding line: UTF-8
    "# -*- coding: latin-1 -*-\ns = 'caf\u00e9'\n",  # was saved as UTF-8: python read 'cafÃ©'
    "# vim: set fileencoding=gbk :\ns = '\u4e2d\u6587'\n",
    "# coding: utf-8\ns = '\u4e2d'\n",
])
def test_python_reads_back_the_text_saved(text):
    """Python as the oracle: ``compile`` of the saved bytes honours the coding line as
    ``python FILE`` does; the string it reads is the one the editor held."""
    plain: dict = {}
    exec(compile(file_bytes(text), "<saved>", "exec"), plain)
    assert plain["s"] == text.split("'")[1]


def test_a_character_the_declared_encoding_has_no_bytes_for_is_refused():
    with pytest.raises(UnicodeEncodeError):
        file_bytes("# coding: latin-1\ns = '\u4e2d'\n")
    # a coding line python reads no file by (utf-16): the text as typed, in UTF-8
    assert file_bytes("# coding: utf-16\nx = 1\n") == b"# coding: utf-16\nx = 1\n"
