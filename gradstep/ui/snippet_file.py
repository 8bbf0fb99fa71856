"""A snippet saved to a file runs as plain Python (pure text, no Qt).

The window runs snippets with ``torch``, ``nn`` and ``F`` already imported; a file
saved from it gets the imports it uses and lacks, at the top (after a leading
comment block), so ``python FILE`` works too.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

IMPORTS = {
    "torch": "import torch",
    "nn": "from torch import nn",
    "F": "import torch.nn.functional as F",
}


def missing_imports(text: str) -> list[str]:
    """Return the import lines for ``torch``, ``nn`` and ``F`` that ``text`` uses without
    binding them itself (by import or assignment), in that order."""
    try:
        tree = ast.parse(text)
    except SyntaxError:  # unreadable: look at the words only
        used = {name for name in IMPORTS if re.search(rf"\b{name}\.", text)}
        bound = {name for name in IMPORTS
                 if re.search(rf"^\s*(import|from)\b.*\b{name}\b", text, re.MULTILINE)}
        return [IMPORTS[n] for n in IMPORTS if n in used - bound]
    used, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else used).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            bound.add(node.name)
    return [IMPORTS[n] for n in IMPORTS if n in used and n not in bound]


def with_imports(text: str) -> tuple[str, list[str]]:
    """Return ``(text with the missing imports added, the lines added)``.

    The imports go after the leading comments and docstring-free blank lines, so a
    file's first comment (what it is about) stays first.
    """
    lines = missing_imports(text)
    if not lines:
        return text, []
    body = text.splitlines(keepends=True)
    at = 0
    while at < len(body) and body[at].lstrip().startswith("#"):
        at += 1
    block = "".join(line + "\n" for line in lines)
    return "".join(body[:at]) + block + "".join(body[at:]), lines


def file_bytes(text: str) -> bytes:
    """Return the bytes that save ``text`` so that python reads it back as ``text``: in the
    encoding its coding line declares (``# -*- coding: latin-1 -*-``), UTF-8 where none
    does. UTF-8 bytes under a latin-1 coding line read back as other characters (``é`` as
    ``Ã©``). Raises UnicodeEncodeError where that encoding has no bytes for a character."""
    data = text.encode("utf-8")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        codec = encoding if encoding != "utf-8-sig" else "utf-8"
        if codec == "utf-8" or "# \n".encode(codec) != b"# \n":
            return data  # (a coding line python cannot read the file by, utf-16: as typed)
        return text.encode(codec)
    except (SyntaxError, LookupError):  # no encoding python knows: python tells it at the run
        return data
