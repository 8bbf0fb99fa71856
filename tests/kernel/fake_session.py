"""A tiny stand-in for ``gradstep.autograd.session.Session`` that imports no torch.

It lets the kernel's own tests (process, stop, crash, output) run fast and
without the tracer. Like the real Session it catches ``Exception`` only, so
``SystemExit`` and ``KeyboardInterrupt`` reach the worker.
"""

from __future__ import annotations

import traceback

from gradstep.policies.script_name import script_path

SPEC = "tests.kernel.fake_session:FakeSession"


class FakeSession:
    def __init__(self) -> None:
        self.namespace: dict | None = None

    def run(self, source, *, device="cpu", root=None, filename="<snippet>") -> dict:
        """Return {"ok", "trace", "error", "calls", "output"}; trace lists the namespace's names."""
        self.namespace = {"__name__": "__main__"}
        try:  # compiled under the name python gives the script's code, as Session does
            exec(compile(source, script_path(filename), "exec"), self.namespace)
        except Exception as exc:
            return {"ok": False, "trace": None, "error": _error(exc, script_path(filename)),
                    "calls": [], "output": ""}
        names = sorted(k for k in self.namespace if not k.startswith("__"))
        # a snippet can set `extra` to make the reply carry any value (even one JSON cannot hold)
        return {"ok": True, "trace": {"names": names, "device": device}, "error": None,
                "calls": [], "output": "", "extra": self.namespace.get("extra")}

    def backward(self, *, mode="backward", retain_graph=False, passes=1, gradient=None) -> dict:
        """Return a backward-shaped dict that names the namespace's value of ``answer``."""
        value = (self.namespace or {}).get("answer")
        return {"mode": mode, "retain_graph": retain_graph, "steps": [], "leaf_grads": {},
                "freed": not retain_graph, "error": None, "answer": value}

    def inspect(self, node_id) -> dict:
        """Return the repr of the namespace entry called ``node_id``."""
        return {"id": node_id, "repr": repr((self.namespace or {}).get(node_id))}

    def reset(self) -> None:
        self.namespace = None


def _error(exc: BaseException, filename: str) -> dict:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    line = frames[-1].lineno if frames else getattr(exc, "lineno", None)
    return {"kind": "other", "type": type(exc).__name__, "message": str(exc), "line": line,
            "column": None, "code": None, "title": type(exc).__name__, "explanation": "",
            "fix": ""}
