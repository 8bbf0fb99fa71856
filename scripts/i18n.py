"""Keep gradstep's translations in step with its source.

    .venv/bin/python scripts/i18n.py update     # new texts into every .po and .ts, then .qm
    .venv/bin/python scripts/i18n.py release    # .ts -> .qm only (after editing a .ts)
    .venv/bin/python scripts/i18n.py new fr     # start a language: locale/fr.po, gradstep_fr.ts

Two catalogues per language (docs/languages.md):
- ``gradstep/resources/locale/<code>.po``: the pure parts (errors, command line, examples,
  findings), texts given to ``_``/``N_``/``lazy``; found by ``gradstep.i18n.extract``.
- ``gradstep/resources/translations/gradstep_<code>.ts``: the window, texts given to
  ``tr()``; found by Qt's ``pyside6-lupdate``, compiled by ``pyside6-lrelease`` into the
  ``.qm`` the window loads (committed; ``tests/i18n`` checks it matches the ``.ts``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gradstep.i18n.extract import merged, source_texts  # noqa: E402

LOCALE = ROOT / "gradstep" / "resources" / "locale"
TRANSLATIONS = ROOT / "gradstep" / "resources" / "translations"
BIN = Path(sys.executable).parent


def qt_sources() -> list[str]:
    """Return the modules whose ``tr()`` texts belong in the ``.ts`` files (relative paths)."""
    files = sorted((ROOT / "gradstep" / "ui").glob("*.py")) + [ROOT / "gradstep" / "commands" / "gui.py"]
    return [str(p.relative_to(ROOT)) for p in files]


def update_po(code: str) -> Path:
    path = LOCALE / f"{code}.po"
    old = path.read_text(encoding="utf-8") if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(merged(old, source_texts(), code), encoding="utf-8")
    return path


def update_ts(code: str) -> Path:
    path = TRANSLATIONS / f"gradstep_{code}.ts"
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "pyside6-lupdate"), *qt_sources(), "-no-obsolete",
                    "-locations", "none", "-target-language", code, "-ts", str(path)],
                   cwd=ROOT, check=True)
    return path


def release(code: str) -> Path:
    ts = TRANSLATIONS / f"gradstep_{code}.ts"
    qm = ts.with_suffix(".qm")
    subprocess.run([str(BIN / "pyside6-lrelease"), "-silent", str(ts), "-qm", str(qm)],
                   cwd=ROOT, check=True)
    return qm


def languages() -> list[str]:
    return sorted(p.stem for p in LOCALE.glob("*.po"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("update", "release", "new"))
    parser.add_argument("code", nargs="?", help="language code for `new` (e.g. fr, pt_BR)")
    args = parser.parse_args(argv)
    if args.command == "new":
        if not args.code:
            parser.error("new needs a language code, e.g. fr")
        codes = [args.code]
    else:
        codes = languages()
    for code in codes:
        if args.command in ("update", "new"):
            print(update_po(code).relative_to(ROOT))
            print(update_ts(code).relative_to(ROOT))
        print(release(code).relative_to(ROOT))
    if args.command == "new":
        print(f"Now add {args.code!r} and its own name to LANGUAGES in "
              "gradstep/i18n/languages.py, and translate both files.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
