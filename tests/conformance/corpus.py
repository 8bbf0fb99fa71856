"""The conformance corpus: which files are cases, their roots, which are heavy.

A case is a ``.py`` file in ``cases/`` (helper modules excepted, see
``HELPERS``) that ends with a bare name: the tensor whose graph gradstep draws
(``loss``). The seed lessons of ``gradstep/resources/examples`` are cases too, run
where they are; their roots are given here (the failing ones draw nothing).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "cases"
EXAMPLES_DIR = HERE.parents[1] / "gradstep" / "resources" / "examples"

# Modules in cases/ that cases import; not cases themselves.
HELPERS = {"vision_shim.py", "sibling_blocks.py", "helper_train.py"}

# Heavy imports: the case is marked slow and needs the package.
HEAVY_MODULES = ("torchvision", "timm", "transformers")

EXAMPLE_ROOTS = {
    "cifar_cnn": "res_loss", "grad_fn_chain": "out", "losses_reduction": "res_cross",
    "mse_autograd_grad": "mse", "mse_backward": "mse", "no_grad": "b",
    "requires_grad_error": None, "retain_graph_error": "p", "retain_graph_fixed": "p",
    "softmax_jacobian": "p", "stale_graph_fixed": "mse", "stale_graph_trap": None,
}


@dataclass(frozen=True)
class Case:
    """One case file: ``name`` (the file's stem, ``example_`` in front for a seed
    lesson), ``path`` (absolute), ``root`` (variable name or None), ``needs`` (the
    heavy packages it imports)."""

    name: str
    path: Path
    root: str | None
    needs: tuple[str, ...] = ()

    @property
    def slow(self) -> bool:
        return bool(self.needs)

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")


def root_name(path: Path) -> str | None:
    """Return the bare name the file ends with, or None."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Name):
        return last.value.id
    return None


def imported_packages(path: Path) -> tuple[str, ...]:
    """Return the heavy packages among the file's top-level imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return tuple(m for m in HEAVY_MODULES if m in found)


def corpus_cases() -> list[Case]:
    """Return the cases of ``cases/``, sorted by name."""
    cases = []
    for path in sorted(CASES_DIR.glob("*.py")):
        if path.name in HELPERS:
            continue
        cases.append(Case(path.stem, path, root_name(path), imported_packages(path)))
    return cases


def example_cases() -> list[Case]:
    """Return the seed lessons of ``gradstep/resources/examples`` as cases."""
    return [Case(f"example_{stem}", EXAMPLES_DIR / f"{stem}.py", root)
            for stem, root in sorted(EXAMPLE_ROOTS.items())]


def all_cases() -> list[Case]:
    return corpus_cases() + example_cases()


def select(names: str | None) -> list[Case]:
    """Return the cases whose name contains one of the comma-separated ``names`` (all when None)."""
    cases = all_cases()
    if not names:
        return cases
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    return [c for c in cases if any(w in c.name for w in wanted)]
