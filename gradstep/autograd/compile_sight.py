"""Keep gradstep's global module hooks out of what ``torch.compile`` traces.

Dynamo decides how to trace a module call by reading torch's global hook dicts itself
(``NNModuleVariable.call_function``: any hook there and it inlines ``Module._call_impl``'s
slow path, hooks and all, instead of the module's ``forward``). With gradstep's two hooks
in them, it traced that slow path, which hands the call's arguments to the hooks before
``forward`` reads the parameters: the graph took its inputs in another order, and
``torch.compile(model, backend="aot_eager")`` made a ``CompiledFunctionBackward`` whose
``next_functions`` put the input first (slots 1-4 for the parameters where a plain run
has 0, 1, 3, 4). While dynamo compiles a frame, gradstep's hooks are out of the dicts
(dynamo's own compile callbacks, ``torch._dynamo.callback_handler``), so it traces what a
plain run traces; its guards on those dicts check only their type, so the hooks back in
place between compiles cause no recompilation. The callbacks outlive the snippet's own
``torch._dynamo.reset()`` (``_Kept``). Dynamo is imported by the snippet, never
here (seconds, and an import the plain run lacks): the callbacks go in once it is.
"""

from __future__ import annotations

import contextlib
import sys

DYNAMO = "torch._dynamo"


class _CompileWatch:
    """Run ``set_aside()`` (a context manager) around each outermost dynamo compile."""

    def __init__(self, set_aside):
        self._set_aside = set_aside
        self._open = None
        self._handler = None

    def start(self, _args=None) -> None:
        if self._open is None:
            block = self._set_aside()
            block.__enter__()
            self._open = block

    def end(self, _args=None) -> None:
        block, self._open = self._open, None
        if block is not None:
            block.__exit__(None, None, None)

    def attach(self, dynamo) -> None:
        handler = getattr(dynamo, "callback_handler", None)
        if handler is None or self._handler is not None:
            return
        try:
            for name, callback in (("start_callbacks", self.start), ("end_callbacks", self.end)):
                callbacks = _Kept(getattr(handler, name))
                callbacks.kept = callback
                callbacks.append(callback)
                setattr(handler, name, callbacks)
        except Exception:  # another torch: no callbacks
            self._put_back(handler)
            return
        self._handler = handler

    def detach(self) -> None:
        handler, self._handler = self._handler, None
        if handler is not None:
            self._put_back(handler)
        self.end()

    def _put_back(self, handler) -> None:
        """The handler's lists as plain lists again, without gradstep's callbacks."""
        for name in ("start_callbacks", "end_callbacks"):
            callbacks = getattr(handler, name, None)
            if type(callbacks) is _Kept:
                setattr(handler, name, [c for c in callbacks if c != callbacks.kept])


class _Kept(list):
    """A list of dynamo's compile callbacks whose ``clear()`` keeps gradstep's: the
    snippet's ``torch._dynamo.reset()`` (also ``torch.compiler.reset()``) empties them
    ("as if you had started a fresh process"), and the next compile saw the hooks again."""

    __slots__ = ("kept",)

    def clear(self) -> None:
        super().clear()
        self.append(self.kept)


class _AfterImport:
    """A meta path finder that lets the finders after it find ``name`` and calls
    ``then(module)`` once its module has run; it takes itself off ``sys.meta_path`` then.

    It asks each later finder once, in order, with the import system's own arguments, and
    returns the first spec found (or None, or the error a finder raised), so every finder
    is asked exactly what a plain import asks it: a snippet's own finder before this one
    was asked ``torch._dynamo`` twice when it asked ``importlib.util.find_spec``, which
    walks the whole of ``sys.meta_path`` again."""

    def __init__(self, name: str, then):
        self.name, self.then = name, then

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        spec = _later_spec(self, fullname, path, target)
        loader = getattr(spec, "loader", None)
        run = getattr(loader, "exec_module", None)
        if run is None or "exec_module" in getattr(loader, "__dict__", ("exec_module",)):
            return spec  # a loader that is a class, or has its own: left as it is, unwatched

        def exec_module(module):
            try:
                run(module)
            finally:
                with contextlib.suppress(Exception):
                    del loader.exec_module  # torch's loader is as it was
                self.leave()
            self.then(module)

        loader.exec_module = exec_module
        return spec

    def leave(self) -> None:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)


def _later_spec(finder, fullname, path, target):
    """The spec the finders after ``finder`` on ``sys.meta_path`` find, asked as
    ``importlib._bootstrap._find_spec`` asks them (a finder without ``find_spec`` skipped)."""
    finders = list(sys.meta_path)
    place = next((i for i, each in enumerate(finders) if each is finder), len(finders))
    for each in finders[place + 1:]:
        find = getattr(each, "find_spec", None)
        if find is not None and (spec := find(fullname, path, target)) is not None:
            return spec
    return None


@contextlib.contextmanager
def hooks_out_of_compiles(set_aside):
    """While the block runs, every dynamo compile runs inside ``set_aside()``."""
    watch = _CompileWatch(set_aside)
    finder = None
    dynamo = sys.modules.get(DYNAMO)
    if dynamo is not None:
        watch.attach(dynamo)
    else:
        finder = _AfterImport(DYNAMO, watch.attach)
        sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        if finder is not None:
            finder.leave()
        watch.detach()
