"""The plain words gradstep shows for each kind of error: a title, what went
wrong, and how to fix it. ``errors.py`` decides the kind; this module words it.

Every text is a ``gradstep.i18n.lazy`` message (English here, translated in
``gradstep/resources/locale/<code>.po``): the error dict keeps them in ``words`` so
the command line and the window word them in the person's language."""

from __future__ import annotations

import re

from gradstep.autograd.exit_status import ended_well
from gradstep.autograd.keyword_names import meant_keyword
from gradstep.i18n import N_, lazy


def describe(kind: str, exc: BaseException, detail: str, context: dict) -> dict:
    """Return ``{"title", "explanation", "fix"}`` for an exception of ``kind``.
    ``context`` may hold ``target`` (the tensor being differentiated) and
    ``inputs`` (the names passed to autograd.grad)."""
    wording = _AUTOGRAD.get(kind)
    if wording is not None:
        return wording(detail, context)
    if kind == "syntax":
        return _syntax(exc, detail)
    if kind == "memory":
        return describe_plain("memory", detail)
    live = context.get("live", False)  # raised in gradstep.backward's pass: no marked line
    if isinstance(exc, NameError) and getattr(exc, "name", None) and not live:
        near = context.get("near")
        return _words(
            N_("Unknown name"),
            lazy("This line uses `{name}`, which has not been defined (yet). torch, nn and F "
                 "are already imported.", name=exc.name),
            lazy("Did you mean `{near}`? Check the spelling, and that the line defining it "
                 "comes before this one.", near=near) if near else
            N_("Check the spelling, and that the line defining it comes before this one."))
    keyword = _UNKNOWN_KEYWORD.search(detail) if isinstance(exc, TypeError) else None
    if keyword:
        return _unknown_keyword(*keyword.groups())
    return _python(exc, detail, live=live)


_UNKNOWN_KEYWORD = re.compile(r"([\w.]+)\(\) got an unexpected keyword argument '(\w+)'")


def _unknown_keyword(function: str, name: str) -> dict:
    near = meant_keyword(function, name)
    return _words(
        N_("Unknown keyword argument"),
        lazy("`{function}()` has no argument named `{name}`.", function=function, name=name),
        lazy("Did you mean `{near}=`? Check the spelling (help() on the function lists its "
             "arguments).", near=near) if near else
        N_("Check the spelling (help() on the function lists its arguments)."))


def describe_plain(kind: str, message: str) -> dict:
    """Return ``{"title", "explanation", "fix"}`` for a failure that is not an
    exception (or for the generic wording of ``kind``)."""
    return _words(*_PLAIN.get(kind, _PLAIN["other"]))


def _words(title, explanation, fix) -> dict:
    """Return the three texts; each a ``lazy`` message, or a plain string made into one."""
    return {"title": _lazy(title), "explanation": _lazy(explanation), "fix": _lazy(fix)}


def _lazy(text):
    return lazy(text) if isinstance(text, str) else text


def _name(context: dict, key: str = "target", default=None):
    """Return the tensor's source text as code (`loss`), else ``default`` (a message)."""
    value = context.get(key)
    return f"`{value}`" if value else (default or lazy("the tensor"))


# ---------------------------------------------------------------- autograd errors


_NO_GRAD_HEADER = "with torch.no_grad():"  # (where the source gives no header)


def _no_grad_fn(detail: str, context: dict) -> dict:
    target = _name(context, default=lazy("the tensor you differentiate"))
    block = context.get("no_grad_line")
    if block:
        return _words(
            N_("Computed where autograd records nothing"),
            lazy("{target} was computed inside the `{block}` block of line {line}. Inside it "
                 "autograd records no graph, so {target} has no grad_fn and there is nothing "
                 "to differentiate.", target=target, line=block,
                 block=context.get("no_grad_block") or _NO_GRAD_HEADER),
            lazy("Compute {target} outside the no_grad block (keep no_grad for evaluation "
                 "and parameter updates).", target=target),
        )
    gradient = context.get("grad_without_graph")
    if gradient:
        return _words(
            N_("A gradient computed without a graph"),
            lazy("`{name}` is a gradient that torch.autograd.grad returned on line {line} "
                 "without create_graph=True: autograd computes such a gradient without "
                 "recording a graph, so {target} has no grad_fn and there is nothing to "
                 "differentiate.", name=gradient["name"], line=gradient["line"], target=target),
            lazy("Pass create_graph=True to torch.autograd.grad on line {line} to "
                 "differentiate its result again (a second derivative), then compute "
                 "{target} again.", line=gradient["line"], target=target),
        )
    switched = context.get("grad_off_statement")
    if switched:
        return _words(
            N_("Computed where autograd records nothing"),
            lazy("{target} was computed after `{call}` on line {line}, which turned "
                 "autograd's recording off for the lines that run after it. So {target} has "
                 "no grad_fn and there is nothing to differentiate.", target=target,
                 call=switched["call"], line=switched["line"]),
            lazy("Remove `{call}` of line {line} (or turn grad back on with "
                 "`torch.set_grad_enabled(True)` before computing {target}); to leave "
                 "evaluation and parameter updates unrecorded, put them in a `with "
                 "torch.no_grad():` block instead. Then compute {target} again.",
                 call=switched["call"], line=switched["line"], target=target),
        )
    called = context.get("no_grad_call")
    if called:
        return _words(
            N_("Computed where autograd records nothing"),
            lazy("{target} is what `{function}` returned on line {call}, and `{function}` "
                 "computes it with grad off (the no_grad block or decorator of line {line}). "
                 "There autograd records no graph, so {target} has no grad_fn and there is "
                 "nothing to differentiate.", target=target, function=called["function"],
                 call=called["call_line"], line=called["block_line"]),
            lazy("Remove the no_grad decorator of line {line} from `{function}` (keep no_grad "
                 "for evaluation and parameter updates), then compute {target} again.",
                 function=called["function"], line=called["block_line"], target=target)
            if called.get("decorated") else
            lazy("Compute the result of `{function}` outside the no_grad block (keep no_grad "
                 "for evaluation and parameter updates), then compute {target} again.",
                 function=called["function"], target=target),
        )
    if not context.get("nothing_requires_grad"):
        # something in the snippet may require grad: which cause cut the graph is not known
        explanation = lazy(
            "{target} has no grad_fn: autograd recorded no graph for it, so there is "
            "nothing to differentiate. Either it was computed only from tensors that do "
            "not require grad, or its graph was cut on the way: computed under "
            "`torch.no_grad()`, `torch.inference_mode()` or "
            "`torch.set_grad_enabled(False)` (also inside a function it came from), "
            "from a `.detach()`ed tensor or `.data`, or by an operation without a "
            "gradient (a comparison, argmax, a cast to integers).", target=target)
        noted = context.get("no_grad_input")
        if noted:  # a fact on the way, not asserted as the cause
            explanation = lazy(
                "{general} Here {target} was computed from `{name}`, and `{name}` was "
                "computed inside the `{block}` block of line {line}, where autograd records "
                "no graph.", general=explanation, target=target, name=noted["name"],
                line=noted["line"], block=noted.get("block") or _NO_GRAD_HEADER)
        detached = context.get("detached_input")
        if detached:
            explanation = lazy(
                "{general} Here {target} was computed from `{expr}` (line {line}), which "
                "holds the values without their graph.", general=explanation,
                target=target, expr=detached["expr"], line=detached["line"])
        return _words(
            N_("No graph was recorded for this tensor"),
            explanation,
            lazy("Follow {target} back from this line to its leaf tensors: give the one you "
                 "differentiate requires_grad=True, and compute {target} from it outside "
                 "no_grad, without detach() or .data, through operations that have a "
                 "gradient; then compute it again.", target=target),
        )
    return _words(
        N_("Nothing here requires grad"),
        lazy("{target} was computed only from tensors that do not require grad, so autograd "
             "recorded no graph for it: it has no grad_fn and there is nothing to "
             "differentiate.", target=target),
        lazy("Create the leaf tensor with requires_grad=True (for example "
             "`w = torch.full([1], 2., requires_grad=True)`), or call `w.requires_grad_()` "
             "BEFORE computing {target}, then compute it again.", target=target),
    )


def _stale_graph(detail: str, context: dict) -> dict:
    target = _name(context, default=lazy("the tensor you differentiate"))
    return _words(
        N_("The graph was built before requires_grad was set"),
        lazy("{target} was computed before `requires_grad_()` was called, so its graph was "
             "recorded while nothing required grad. Setting requires_grad afterwards does "
             "not change a graph that already exists: {target} still has no grad_fn.",
             target=target),
        lazy("Rebuild the graph: run the line that computes {target} again after "
             "`requires_grad_()`, then differentiate it.", target=target),
    )


def _not_requiring_grad(detail: str, context: dict) -> dict:
    inputs = context.get("inputs") or []
    which = ", ".join(f"`{i}`" for i in inputs) if inputs else lazy("the inputs")
    one = len(inputs) == 1 and context.get("inputs_listed")  # ``grad(loss, [x])``: that one
    return _words(
        N_("An input does not require grad"),
        lazy("torch.autograd.grad was asked for the gradient with respect to {input}, but "
             "{input} does not require grad, so autograd cannot give its gradient.",
             input=which) if one else
        lazy("torch.autograd.grad was asked for the gradient with respect to {inputs}, but "
             "one of them does not require grad, so autograd cannot give its gradient.",
             inputs=which),
        N_("Create that tensor with requires_grad=True (or call `.requires_grad_()` on it "
           "before the loss is computed, then recompute the loss), or leave it out of the "
           "inputs list."),
    )


def _freed_buffers(detail: str, context: dict) -> dict:
    return _words(
        N_("Backward through the graph a second time"),
        N_("The first backward (or autograd.grad) freed the tensors the graph had saved for "
           "computing gradients. A second backward through the same graph needs them and "
           "they are gone."),
        N_("Pass retain_graph=True to the FIRST backward/autograd.grad call if you need to "
           "go through the graph again, or recompute the forward pass (rebuild the loss) "
           "before the second backward."),
    )


def _non_scalar(detail: str, context: dict) -> dict:
    out = context.get("target") or "out"
    return _words(
        N_("backward() of a tensor that is not a scalar"),
        lazy("`{out}` has more than one element, so torch cannot guess the gradient to "
             "start backward with: it only creates one implicitly (1.0) for a scalar.", out=out),
        lazy("Reduce it to a scalar first (`{out}.sum()` or `{out}.mean()`), or pass the "
             "starting gradient yourself: `{out}.backward(gradient=torch.ones_like({out}))` "
             "(for torch.autograd.grad: `grad_outputs=torch.ones_like({out})`).", out=out),
    )


def _unused_input(detail: str, context: dict) -> dict:
    found = re.search(r"at index (\d+)", detail)
    # the names of the inputs as the call lists them; one name holding a list (`params`)
    # does not name its element at that index
    inputs = (context.get("inputs") or []) if context.get("inputs_listed", True) else []
    name = lazy("an input")
    if found:
        index = int(found.group(1))
        name = f"`{inputs[index]}`" if index < len(inputs) else lazy("input {index}", index=index)
    return _words(
        N_("An input was not used to compute the output"),
        lazy("{name} does not take part in computing the tensor you differentiate, so it has "
             "no gradient to give.", name=name),
        N_("Check that this input really feeds the output (a typo or a detach() can cut it "
           "off); if a missing gradient is what you expect, pass allow_unused=True (its "
           "gradient comes back as None) or materialize_grads=True (zeros)."),
    )


def _inplace(detail: str, context: dict) -> dict:
    found = re.search(r"inplace operation: (\[.*?\]\]?), which is (.*?);", detail)
    what = lazy("A tensor autograd saved was saved during the forward pass to compute "
                "gradients and was then modified in place (+=, mul_, relu(inplace=True), "
                "x[...] = ...). Its version no longer matches, so its gradient would be wrong.")
    if found:
        # torch's own words for the tensor and its version: they stay as torch wrote them
        what = lazy("The tensor {tensor}, {version}, was saved during the forward pass to "
                    "compute gradients and was then modified in place (+=, mul_, "
                    "relu(inplace=True), x[...] = ...). Its version no longer matches, so its "
                    "gradient would be wrong.", tensor=found.group(1), version=found.group(2))
    return _words(
        N_("A saved tensor was changed in place"),
        what,
        N_("Use the out-of-place form (x = x + 1 instead of x += 1, torch.relu(x) instead "
           "of relu_, inplace=False), or clone() the tensor before modifying it."),
    )


_AUTOGRAD = {
    "no_grad_fn": _no_grad_fn,
    "stale_graph": _stale_graph,
    "not_requiring_grad": _not_requiring_grad,
    "freed_buffers": _freed_buffers,
    "non_scalar": _non_scalar,
    "unused_input": _unused_input,
    "inplace": _inplace,
}


# ---------------------------------------------------------------- Python errors


def _syntax(exc: BaseException, detail: str) -> dict:
    kind = type(exc).__name__
    message = str(getattr(exc, "msg", "") or "")
    for start, explanation, fix in _INDENTATION if kind == "IndentationError" else ():
        if message.startswith(start):
            return _words(N_("Indentation error"), explanation, fix)
    if kind in ("IndentationError", "TabError"):
        return _words(
            N_("Indentation error"),
            N_("The lines of a block are not indented consistently, so Python cannot read "
               "the snippet."),
            N_("Indent every line of a block by the same amount, with spaces only (no tabs)."),
        )
    return _words(
        N_("Syntax error"),
        N_("Python cannot read this line, so nothing in the snippet ran."),
        SYNTAX_FIX if getattr(exc, "offset", None) else SYNTAX_FIX_NO_COLUMN,
    )


# Python's IndentationError messages (how each starts), each with what is wrong and the fix
_INDENTATION = [
    ("unexpected indent",
     N_("This line is indented, but no block (`if ...:`, `for ...:`, `def ...:`) opens "
        "above it, so Python cannot read the snippet."),
     N_("Remove the spaces at the start of this line; or, if it belongs to a block, "
        "end the line that opens the block with a colon.")),
    ("expected an indented block",
     N_("A line ending with a colon opens a block, but the line after it is not "
        "indented, so Python cannot read the snippet."),
     N_("Indent the lines that belong to the block (4 spaces more than the line with "
        "the colon), or write `pass` there for an empty block.")),
    ("unindent does not match",
     N_("This line is indented by an amount that matches no block above it, so Python "
        "cannot read the snippet."),
     N_("Line it up with the block it belongs to: the same number of spaces as the "
        "lines of that block.")),
]
SYNTAX_FIX = N_("Look at the marked column (and the end of the line before it) for a missing "
                "bracket, quote, comma or colon.")
SYNTAX_FIX_NO_COLUMN = N_("Look at the marked line (and the end of the line before it) for a "
                          "missing bracket, quote, comma or colon.")


_MATMUL = re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")


# torch's three refusals of a gradient's shape in a backward pass (torch.autograd's
# _make_grads for the starting gradient, engine.cpp's validate_outputs for a node's return,
# python_hook.cpp for a hook's): the shapes named, not the generic words. The output's index
# is read (the words name the output; torch finds each index with list.index).
_START_SHAPE = re.compile(r"Mismatch in shape: grad_output\[\d+\] has a shape of "
                          r"torch\.Size\(\[([^\]]*)\]\) and output\[(\d+)\] has a shape of "
                          r"torch\.Size\(\[([^\]]*)\]\)")
_RETURNED_SHAPE = re.compile(r"Function (\w+) returned an invalid gradient at index (\d+) - "
                             r"got \[([^\]]*)\] but expected shape compatible with \[([^\]]*)\]")
_HOOK_SHAPE = re.compile(r"hook '([^']*)' has changed the size of value")


def _backward_shape(detail: str) -> dict | None:
    """Return the wording for a gradient of the wrong shape in a backward pass (None when
    ``detail`` is not one)."""
    found = _START_SHAPE.search(detail)
    if found:
        got, index, want = found.groups()
        return _words(
            N_("The starting gradient has the wrong shape"),
            lazy("The gradient given for output {index} (from 0) of this backward call has "
                 "shape [{got}], but that output has shape [{want}]: the gradient a backward pass "
                 "starts from must have the shape of the tensor it starts at.",
                 index=index, got=got, want=want),
            N_("Pass a gradient shaped like the tensor (`y.backward(torch.ones_like(y))`), "
               "or reduce the tensor to a scalar first (`y.sum().backward()`)."))
    found = _RETURNED_SHAPE.search(detail)
    if found:
        node, index, got, want = found.groups()
        return _words(
            N_("A backward returned a gradient of the wrong shape"),
            lazy("`{node}` returned a gradient of shape [{got}] for the input torch counts as "
                 "index {index} (from 0, counting only the inputs that are tensors), but that "
                 "input has shape [{want}].", node=node, index=index, got=got, want=want),
            N_("Make that backward return, for that input, a gradient of the input's shape, or "
               "None if it needs no gradient. A custom autograd.Function's `backward` returns "
               "one value per argument of its `forward`, None for those that are not "
               "tensors."))
    found = _HOOK_SHAPE.search(detail)
    if found:
        return _words(
            N_("A hook changed a gradient's shape"),
            lazy("A hook (torch names it `{hook}`) returned a gradient of another shape than "
                 "the one it was given: a hook may change a gradient's values, never its shape.",
                 hook=found.group(1)),
            N_("Make the hook (a tensor's `register_hook`, a grad_fn's hook or a module's "
               "backward hook) return gradients of the shapes it was given "
               "(`lambda g: g * 2`), or None to leave them as they are."))
    return None


def _python(exc: BaseException, detail: str, live: bool = False) -> dict:
    """Return the wording for an ordinary Python or torch exception (``live``: raised in a
    pass ``gradstep.backward`` ran, where there is no snippet and no marked line)."""
    in_backward = _backward_shape(detail) if isinstance(exc, RuntimeError) else None
    if in_backward is not None:
        return in_backward
    matmul = _MATMUL.search(detail)
    if matmul:  # the two inner sizes named: which number is off, not only 'shapes'
        rows1, cols1, rows2, cols2 = matmul.groups()
        where = (N_("Print the shapes (`print(t.shape)`) of the tensors the hook or backward "
                    "multiplies to see which one is off.") if live else
                 N_("Print the shapes (`print(t.shape)`) of the tensors on this line to see "
                    "which one is off."))
        return _words(
            N_("Shapes do not fit"),
            lazy("A matrix product needs the first matrix's columns to equal the second's "
                 "rows: here {a} times {b}, and {cols} is not {rows}.",
                 a=f"{rows1}x{cols1}", b=f"{rows2}x{cols2}", cols=cols1, rows=rows2),
            lazy("Make the inner sizes equal: transpose one of the two (.T), or create it with "
                 "the shape you meant; for an nn.Linear layer, its in_features ({rows}) must "
                 "equal the last size of its input ({cols}). {where}",
                 cols=cols1, rows=rows2, where=lazy(where)))
    for matches, words in _PYTHON_HINTS:
        if matches(exc, detail):
            if live and any("this line" in str(text).lower() for text in words):
                # gradstep.backward has no snippet and no marked line: "this line" named none
                return _words(*_LIVE_HINTS.get(words[0], (
                    lazy("{type} during the backward pass", type=type(exc).__name__),
                    _LIVE_EXPLANATION, _LIVE_FIX)))
            return _words(*words)
    if live:
        return _words(lazy("{type} during the backward pass", type=type(exc).__name__),
                      _LIVE_EXPLANATION, _LIVE_FIX)
    return _words(
        lazy("{type} in the snippet", type=type(exc).__name__),
        N_("The snippet raised this error at the marked line."),
        N_("Read the message above and correct that line."),
    )


_LIVE_EXPLANATION = N_("This error was raised in the pass gradstep.backward ran: by torch, or "
                       "by your code that runs in it (a hook, a custom Function's backward).")
_LIVE_FIX = N_("Read the message above; run the same pass yourself "
               "(`loss.backward(retain_graph=True)`) to see its traceback.")

# the hints of _PYTHON_HINTS that speak of "this line", as said of an error raised in the pass
# gradstep.backward ran (a hook's or a custom backward's code: there is no marked line), by
# the hint's title
_LIVE_HINTS = {
    "Bad value": (
        N_("Bad value"),
        N_("A value in the code the pass ran (a hook, a custom Function's backward) is out "
           "of range or not what a function expects."),
        N_("Check the values and indices that code uses. Run the same pass yourself "
           "(`loss.backward(retain_graph=True)`): its traceback names the line.")),
    "Wrong type of argument": (
        N_("Wrong type of argument"),
        N_("A function in the code the pass ran (a hook, a custom Function's backward) "
           "received an argument of a type (or a number of arguments) it does not accept."),
        N_("Check the arguments against the function's signature (help(function)). Run the "
           "same pass yourself (`loss.backward(retain_graph=True)`): its traceback names "
           "the line.")),
    "No such attribute": (
        N_("No such attribute"),
        N_("An object in the code the pass ran (a hook, a custom Function's backward) has "
           "no attribute or method by that name."),
        N_("Check the spelling and the object's type (print(type(obj))). Run the same pass "
           "yourself (`loss.backward(retain_graph=True)`): its traceback names the line.")),
    "A value is None": (
        N_("A value is None"),
        N_("An object in the code the pass ran (a hook, a custom Function's backward) is "
           "None, not the value the code expected. A tensor's .grad is None until a "
           "backward pass has reached it."),
        N_("Print the values that code uses to find the None. Run the same pass yourself "
           "(`loss.backward(retain_graph=True)`): its traceback names the line.")),
    "Unknown name": (
        N_("Unknown name"),
        N_("The code the pass ran (a hook, a custom Function's backward) uses a name that is "
           "not defined where it runs."),
        N_("Check the spelling, and that the name is defined before the pass runs. Run the "
           "same pass yourself (`loss.backward(retain_graph=True)`): its traceback names "
           "the line.")),
    "Shapes do not fit": (
        N_("Shapes do not fit"),
        N_("The code the pass ran (a hook, a custom Function's backward) combined tensors "
           "whose shapes this operation cannot combine."),
        N_("Print the shapes (`print(t.shape)`) of the tensors that code uses and reshape, "
           "transpose or slice them so they line up.")),
}


def _isa(*types):
    return lambda exc, detail: isinstance(exc, types)


def _says(*needles):
    return lambda exc, detail: any(n in detail for n in needles)


_PYTHON_HINTS = [
    (_says("a view of a leaf Variable that requires grad is being used in an in-place"), (
        N_("In-place change of a view of a leaf that requires grad"),
        N_("This line changes in place (+=, mul_, x[...] = ...) a view of a leaf tensor that "
           "requires grad (a slice such as w[:2], or w.view(...)): that changes the leaf "
           "itself, which autograd does not allow. A leaf is where the graph starts: it has "
           "no grad_fn to record the change on."),
        N_("Compute out of place (v = w[:2] * 2), clone the view first "
           "(v = w[:2].clone(); v.mul_(2)), or, to update the parameter itself (an optimizer "
           "step), do it inside `with torch.no_grad():`."))),
    (_says("a leaf Variable that requires grad is being used in an in-place"), (
        N_("In-place change of a leaf that requires grad"),
        N_("This line changes in place (+=, mul_, x[...] = ...) a leaf tensor that requires "
           "grad, which autograd does not allow. A leaf is where the graph starts: it has no "
           "grad_fn to record the change on."),
        N_("Compute out of place (w2 = w + 1 makes a new tensor from w), or, to update the "
           "parameter itself (an optimizer step), do it inside `with torch.no_grad():`."))),
    (_says("you can only change requires_grad flags of leaf variables"), (
        N_("requires_grad of a tensor computed from others"),
        N_("This line sets requires_grad on a tensor that was computed from others (it has a "
           "grad_fn): only a leaf tensor's flag can be changed."),
        N_("To use its value without a graph, take `t.detach()` (a new tensor that does not "
           "require grad); to make a leaf that requires grad from it, use "
           "`t.detach().requires_grad_()`."))),
    (_says("Can't call numpy() on Tensor that requires grad"), (
        N_("numpy() of a tensor that requires grad"),
        N_("numpy() gives an array that shares the tensor's memory and is outside autograd; "
           "torch refuses it for a tensor that requires grad, so that nothing leaves the "
           "graph unnoticed."),
        N_("Where you only need the values (to print, plot or save them), call "
           "`.detach().numpy()` (`.detach().cpu().numpy()` for a tensor on a GPU); keep "
           "computing with the tensor itself where you need gradients."))),
    (_says("can require gradients"), (
        N_("Integer tensors cannot require grad"),
        N_("Only floating point (and complex) tensors can have gradients; this tensor holds "
           "integers (made from whole numbers, torch.tensor([0, 1, 2]) or torch.full([1], 2) "
           "is int64)."),
        N_("Make it a float tensor: write 2. instead of 2, or pass dtype=torch.float32. "
           "Labels and indices stay integers: they need no gradient, so leave "
           "requires_grad off for them."))),
    (_says("shapes cannot be multiplied", "must match the size", "size mismatch",
           "Expected size", "expected input", "shape '[", "inconsistent tensor size"), (
        N_("Shapes do not fit"),
        N_("The tensors on this line have shapes that this operation cannot combine."),
        N_("Print the shapes (`print(t.shape)`) of the tensors on this line and reshape, "
           "transpose or slice them so they line up."))),
    (_says("Expected all tensors to be on the same device"), (
        N_("Tensors on different devices"),
        N_("An operation mixed tensors that live on different devices."),
        N_("Create all tensors on one device (or move them with .to(device))."))),
    (_says("not compiled with CUDA", "no CUDA GPUs", "MPS backend"), (
        N_("Device not available"),
        N_("The snippet asks for a device this machine's torch cannot use."),
        N_("Run on the CPU: remove .cuda()/.to('cuda'), or choose a device that is "
           "available."))),
    (_isa(NameError), (
        N_("Unknown name"),
        N_("This line uses a name that has not been defined (yet). torch, nn and F are "
           "already imported."),
        N_("Check the spelling, and that the line defining it comes before this one."))),
    (lambda exc, detail: isinstance(exc, AttributeError)
     and detail.startswith("'NoneType' object has no attribute"), (
        N_("A value is None"),
        N_("An object on this line is None, not the value the code expected: something "
           "returned or held None. A tensor's .grad is None until a backward pass has "
           "reached it (and it is kept only for leaves that require grad, unless "
           "retain_grad() was called)."),
        N_("Print the values on this line to find the None; for .grad, run backward() "
           "first (or check that it is not None before using it)."))),
    (_isa(AttributeError), (
        N_("No such attribute"),
        N_("The object on this line has no attribute or method by that name."),
        N_("Check the spelling and the object's type (print(type(obj)))."))),
    (lambda exc, detail: isinstance(exc, RecursionError) and (
        "ast construction" in detail or "compil" in detail), (
        N_("The snippet is nested too deeply"),
        N_("An expression in the snippet is nested so deeply (or is so long a chain) that "
           "Python cannot compile it."),
        N_("Build the long expression in a loop (for i in range(n): x = x + 1) instead of "
           "writing it out on one line."))),
    (_isa(RecursionError), (
        N_("Recursion too deep"),
        N_("A function kept calling itself until Python's recursion limit was reached."),
        N_("Give the recursion a base case that ends it, or write it as a loop."))),
    # input()'s own words: pickle (torch.load of an empty or cut file) raises EOFError too
    (lambda exc, detail: isinstance(exc, EOFError) and "EOF when reading a line" in detail, (
        N_("Nothing to read"),
        N_("input() (or another read of standard input) found nothing to read: the window "
           "gives a snippet no keyboard input, and on the command line standard input was "
           "empty or already read."),
        N_("Write the value into the snippet (`n = 3` instead of `n = int(input())`), or, "
           "on the command line, pipe it in: `echo 3 | gradstep backward FILE`."))),
    (_isa(KeyboardInterrupt), (
        N_("The snippet was interrupted"),
        N_("The snippet raised KeyboardInterrupt, so it stopped at this line."),
        N_("Remove the raise (or the code that interrupts) if the snippet should go on."))),
    (lambda exc, detail: ended_well(exc), (
        # a sys.exit(0) that ended the snippet is no error: this one stopped a call (a hook's,
        # in loss.backward()) and the snippet caught it
        N_("The snippet called exit() with status 0"),
        N_("exit() or sys.exit() with status 0 (or none) ends a python script normally; "
           "raised here, it stopped this line where it was."),
        N_("If the call should finish, do not call exit() inside it."))),
    (_isa(SystemExit), (
        # a failure status: sys.exit() / sys.exit(0) that end the snippet are no error
        N_("The snippet exited with a failure status"),
        N_("The snippet called exit() or sys.exit() with a status other than 0 (or with a "
           "message), which python reports as a failure, so it stopped at this line and the "
           "lines after it did not run."),
        N_("If the snippet succeeded here, call sys.exit(0) (or let it run to its end): "
           "gradstep then draws what it built."))),
    (_isa(TypeError), (
        N_("Wrong type of argument"),
        N_("A function on this line received an argument of a type (or a number of "
           "arguments) it does not accept."),
        N_("Check the arguments against the function's signature (help(function))."))),
    # torch's print after torch.set_printoptions(precision=-1) formats f"{x:.-1f}"; a
    # format string with no digits after its dot (f"{x:.f}") raises the same error
    (lambda exc, detail: isinstance(exc, ValueError) and "missing precision" in detail, (
        N_("A number formatted without a valid precision"),
        N_("A float was formatted with no precision or one below 0: torch prints tensors "
           "with the precision given to torch.set_printoptions(precision=...), and one "
           "below 0 makes every print of a float tensor fail here; a format string with no "
           "digits after its dot (`format(x, '.f')`) fails alike."),
        N_("Give torch.set_printoptions a precision of 0 or more (torch's default is 4), or "
           "write the format's precision (`format(x, '.4f')`)."))),
    (_isa(ValueError, IndexError, KeyError), (
        N_("Bad value"),
        N_("A value on this line is out of range or not what the function expects."),
        N_("Check the values and indices used on this line."))),
]


# ---------------------------------------------------------------- failures that are not exceptions

_PLAIN = {
    "nothing_to_draw": (
        N_("Nothing to draw"),
        N_("The snippet ran, but no tensor in it has a grad_fn, so there is no graph."),
        N_("Did you set requires_grad=True? Create at least one leaf with "
           "requires_grad=True and compute something from it.")),
    "device_unavailable": (
        N_("Device not available"),
        N_("The chosen device cannot be used with this torch on this machine."),
        N_("Choose cpu, or a device torch reports as available.")),
    "empty": (
        N_("The snippet is empty"),
        N_("There is no code to run."),
        N_("Write some Python in the snippet (or open one of the examples).")),
    "not_text": (
        N_("Not a text file"),
        N_("The file is not UTF-8 text (it looks binary or uses another encoding), so it "
           "cannot be a Python snippet."),
        N_("Open a .py file saved as UTF-8.")),
    "timeout": (
        N_("The snippet took too long"),
        N_("It was stopped after the time limit (an endless loop, or a very large "
           "computation)."),
        N_("Look for a loop that never ends, make the tensors smaller, or raise --timeout.")),
    "memory": (
        N_("Out of memory"),
        N_("The snippet tried to allocate more memory than is available."),
        N_("Use smaller tensors (fewer elements or a smaller batch).")),
    "crash": (
        N_("The snippet crashed the engine"),
        N_("The process running the snippet died (a crash inside native code, os._exit, "
           "or the system killing it). Your text is kept."),
        N_("Run again; if it crashes again, look for the line that does it by running "
           "part of the snippet.")),
    "trace_failed": (
        N_("gradstep could not read this graph"),
        N_("The snippet ran to its end as it does in Python; then reading its graph "
           "through torch raised the error above (a kind of tensor or node gradstep does "
           "not read yet). This is gradstep's failure, not the snippet's."),
        N_("Nothing to fix in the snippet. Please report it with the snippet; meanwhile "
           "choose another root (the last expression) to draw part of the graph.")),
    "output": (
        N_("Too much output"),
        N_("The snippet printed more than gradstep keeps; the rest was cut off."),
        N_("Print less (a summary, or the tensor's shape) inside loops.")),
    "other": (
        N_("The snippet failed"),
        N_("The snippet raised an error."),
        N_("Read the message and correct the marked line.")),
}
