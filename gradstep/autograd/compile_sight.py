"""Keep gradstep's global module hooks out of what ``torch.compile`` traces.

Dynamo decides how to trace a module call by reading torch's global hook dicts itself
(``NNModuleVariable.call_function``: any hook there and it inlines ``Module._call_impl``'s
slow path, hooks and all, instead of the module's ``forward``). With gradstep's two hooks
in them, it traced that slow path, which hands the call's arguments to the hooks before
``forward`` reads the parameters: the graph took its inputs in another order, and
``torch.compile(model, backend="aot_eager")`` made a ``CompiledFunctionBackward`` whose
``next_functions`` put the input first (slots 1-4 for the parameters where a plain run
has 0, 1, 3, 4). While dynamo compiles a frame, gradstep's hooks are out of the dicts, so
it traces what a plain run traces; its guards on those dicts check only their type, so the
hooks back in place between compiles cause no recompilation.

The window is torch's own: dynamo enters ``torch.compiler._compile_session_context()``
around each frame it compiles (``convert_frame.compile_inner``; it makes
``torch.compiler.is_compiling()`` true there), looking the function up on
``torch.compiler`` each time. While the snippet runs that name is a wrapper that also sets
the hooks aside. ``torch.compiler`` is loaded with torch, so nothing is imported here and
nothing waits for dynamo's import; the snippet's ``torch._dynamo.reset()`` does not touch
it. (A strict export compiles without that context: ``observe._exports_without_hooks``.)
"""

from __future__ import annotations

import contextlib
import functools
import sys

ENTRY = "_compile_session_context"


@contextlib.contextmanager
def hooks_out_of_compiles(set_aside):
    """While the block runs, every frame dynamo compiles is compiled inside ``set_aside()``
    (a context manager; a nested compile's finds the hooks out already and does nothing)."""
    compiler = sys.modules.get("torch.compiler")
    original = getattr(compiler, ENTRY, None)
    if original is None:  # another torch: left as it is
        yield
        return

    @functools.wraps(original)
    @contextlib.contextmanager
    def compile_session(*args, **kwargs):
        with original(*args, **kwargs), set_aside():
            yield

    setattr(compiler, ENTRY, compile_session)
    try:
        yield
    finally:
        if getattr(compiler, ENTRY, None) is compile_session:
            setattr(compiler, ENTRY, original)
