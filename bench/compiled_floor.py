"""What a recorder outside Python would at least cost: C++ hooks on every node of a backward pass.

``bench/bench_backward.py``'s Python floor is a pass with a Python pre-hook and hook on
every node that only ``detach()`` each gradient and keep it, plus torch's own calls in
the value summaries. This script measures the same floor with the hooks written in C++:
a tiny extension (built once with ``torch.utils.cpp_extension.load_inline``, cached under
``/tmp``) puts a ``torch::autograd::FunctionPreHook`` and a ``FunctionPostHook`` on every
node (the ``Node`` read from the Python ``grad_fn``: a ``THPCppFunction``'s ``cdata``, or a
Python custom Function's ``THPFunction.cdata``, its ``PyNode``), which keep a reference to
each gradient (or a ``detach()``-ed alias, ``--detach``) and the step order in C++
vectors; the hooks are removed after the pass and the record handed to Python as lists
(the same shape the Python floor's hooks keep: one list of tensors or ``None`` a call).

Timed in one process, in turns, on fresh graphs of the bench's model (CPU time, one torch
thread, GC paused for every hooked pass as the recorder does): plain ``backward()``; two
empty Python hooks a node; the Python floor's hooks; the C++ hooks (install, pass,
removal, the hand-off to Python and letting go of what was handed off, each timed, as the
Python floor's time includes letting go of its list); and gradstep's ``record_backward``.
Each is printed as a ratio of medians to plain. The compiled floor adds to the C++ pass
the bench's "torch's own calls in the summaries" (``bench_backward.time_reductions``:
timed inside a recorded pass): the least an exact recorder outside Python pays that shows
torch's numbers. Before timing, one pass carries both the Python floor's hooks and the
C++ hooks: the two must keep the same calls in the same order and ``torch.equal``
gradients, or the script stops.

    .venv/bin/python bench/compiled_floor.py [--rounds 15] [--layers 48] [--d-model 32]
"""

from __future__ import annotations

import gc
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_backward import (  # noqa: E402
    build_model,
    forward,
    model_arguments,
    time_detach_hooks,
    time_empty_hooks,
    time_plain,
    time_recorded,
    time_reductions,
)

from gradstep.autograd.frame_names import graph_ids  # noqa: E402

SOURCE = r"""
#include <torch/extension.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/python_cpp_function.h>
#include <torch/csrc/autograd/python_function.h>

using torch::autograd::FunctionPostHook;
using torch::autograd::FunctionPreHook;
using torch::autograd::Node;
using torch::autograd::variable_list;

struct Record {
  bool detach = false;
  std::vector<int64_t> order;   // node index * 2 + (0 pre-hook, 1 hook), in call order
  std::vector<size_t> starts;   // where each call's gradients begin in grads
  std::vector<at::Tensor> grads;

  void keep(int64_t code, const variable_list& gs) {
    order.push_back(code);
    starts.push_back(grads.size());
    for (const auto& g : gs) {
      grads.push_back(detach && g.defined() ? g.detach() : g);
    }
  }
};

struct KeepPre : FunctionPreHook {
  Record* record;
  int64_t code;
  KeepPre(Record* r, int64_t c) : record(r), code(c) {}
  variable_list operator()(const variable_list& grads) override {
    record->keep(code, grads);
    return grads;
  }
};

struct KeepPost : FunctionPostHook {
  Record* record;
  int64_t code;
  KeepPost(Record* r, int64_t c) : record(r), code(c) {}
  variable_list operator()(const variable_list& outputs,
                           const variable_list& inputs) override {
    record->keep(code, outputs);  // Python's hook(grad_inputs, grad_outputs): outputs
    return outputs;
  }
};

struct Installed {
  c10::intrusive_ptr<Node> node;
  FunctionPreHook* pre;
  uintptr_t post;
};

struct Recorder {
  Record record;
  std::vector<Installed> installed;

  explicit Recorder(bool detach) { record.detach = detach; }

  // Put a keeping pre-hook and hook on each grad_fn; return (C++ nodes, Python
  // custom Function nodes, objects skipped).
  std::tuple<int64_t, int64_t, int64_t> install(const py::list& fns) {
    int64_t cpp = 0, custom = 0, skipped = 0;
    installed.reserve(installed.size() + fns.size());
    int64_t index = 0;
    for (auto item : fns) {
      PyObject* obj = item.ptr();
      c10::intrusive_ptr<Node> node;
      if (torch::autograd::THPCppFunction_Check(obj)) {
        node = ((torch::autograd::THPCppFunction*)obj)->cdata;
        ++cpp;
      } else if (THPFunction_Check(obj)) {
        node = ((THPFunction*)obj)->cdata;
        ++custom;
      }
      if (!node) {
        ++skipped;
        ++index;
        continue;
      }
      auto pre = std::make_unique<KeepPre>(&record, index * 2);
      FunctionPreHook* pre_ptr = pre.get();
      node->add_pre_hook(std::move(pre));
      uintptr_t post = node->add_post_hook(std::make_unique<KeepPost>(&record, index * 2 + 1));
      installed.push_back({std::move(node), pre_ptr, post});
      ++index;
    }
    return {cpp, custom, skipped};
  }

  void remove() {
    for (auto& it : installed) {
      auto& pres = it.node->pre_hooks();
      for (auto p = pres.begin(); p != pres.end(); ++p) {
        if (p->get() == it.pre) {
          pres.erase(p);
          break;
        }
      }
      it.node->del_post_hook(it.post);
    }
    installed.clear();
  }

  // Hand the record to Python: (order as a list of ints, one list a call of the
  // tensors kept, None for an undefined gradient); the C++ record is let go.
  py::tuple take() {
    size_t calls = record.order.size();
    py::list order(calls);
    py::list grads(calls);
    for (size_t i = 0; i < calls; ++i) {
      order[i] = py::int_(record.order[i]);
      size_t begin = record.starts[i];
      size_t end = i + 1 < calls ? record.starts[i + 1] : record.grads.size();
      py::list kept(end - begin);
      for (size_t j = begin; j < end; ++j) {
        const at::Tensor& g = record.grads[j];
        if (g.defined()) {
          kept[j - begin] = py::reinterpret_steal<py::object>(THPVariable_Wrap(g));
        } else {
          kept[j - begin] = py::none();
        }
      }
      grads[i] = std::move(kept);
    }
    record.order.clear();
    record.starts.clear();
    record.grads.clear();
    return py::make_tuple(order, grads);
  }

  void clear() {
    record.order.clear();
    record.starts.clear();
    record.grads.clear();
  }

  ~Recorder() { remove(); }
};

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  py::class_<Recorder>(m, "Recorder")
      .def(py::init<bool>())
      .def("install", &Recorder::install)
      .def("remove", &Recorder::remove)
      .def("take", &Recorder::take)
      .def("clear", &Recorder::clear);
}
"""

BUILD_DIR = Path(os.environ.get("GRADSTEP_COMPILED_FLOOR_DIR", "/tmp/gradstep_compiled_floor"))


def build_extension():
    """Return the built extension module, or None (with the reason printed) when no C++
    compiler is found or the build fails."""
    compiler = os.environ.get("CXX", "c++")
    if shutil.which(compiler) is None:
        print(f"skipped: no C++ compiler ({compiler!r} not on PATH); "
              "the compiled floor needs one to build its hooks")
        return None
    from torch.utils.cpp_extension import load_inline

    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        module = load_inline(name="gradstep_compiled_floor", cpp_sources=[SOURCE],
                             build_directory=str(BUILD_DIR), extra_cflags=["-O2"],
                             verbose=False)
    except Exception as error:  # the build's own message is the result
        print(f"skipped: the extension did not build: {type(error).__name__}: {error}")
        return None
    print(f"extension built or loaded from {BUILD_DIR} in {time.perf_counter() - start:.1f} s")
    return module


def cpp_pass(ext, model, tokens, detach: bool) -> dict:
    """Return the CPU seconds of one pass with the C++ keeping hooks on every node, by
    part (install, the pass, removal, the hand-off to Python, letting go of the lists
    handed off), and the install counts."""
    loss = forward(model, tokens)
    nodes = list(graph_ids([loss]))
    recorder = ext.Recorder(detach)
    gc.disable()
    try:
        marks = [time.process_time()]
        counts = recorder.install(nodes)
        marks.append(time.process_time())
        loss.backward()
        marks.append(time.process_time())
        recorder.remove()
        marks.append(time.process_time())
        order, grads = recorder.take()
        marks.append(time.process_time())
        del order, grads  # as the Python floor lets go of its list inside its time
        marks.append(time.process_time())
    finally:
        gc.enable()
    names = ("install", "pass", "remove", "hand-off", "let go")
    parts = {name: b - a for name, a, b in zip(names, marks, marks[1:])}
    parts["counts"] = counts
    return parts


def check_same(ext, model, tokens, detach: bool) -> tuple[int, int, tuple]:
    """Run one pass with the Python floor's hooks (which also note their node) and the C++
    hooks on every node; stop unless both kept the same calls in the same order and
    ``torch.equal`` tensors. Return (calls, gradients compared, the C++ install counts)."""
    loss = forward(model, tokens)
    nodes = list(graph_ids([loss]))
    py_order: list = []
    py_grads: list = []

    def hooks(index):
        def pre(grad_outputs):
            py_order.append(index * 2)
            py_grads.append([g if g is None else g.detach() for g in grad_outputs])

        def post(grad_inputs, grad_outputs):
            py_order.append(index * 2 + 1)
            py_grads.append([g if g is None else g.detach() for g in grad_inputs])
        return pre, post

    handles = []
    for index, fn in enumerate(nodes):
        pre, post = hooks(index)
        handles.append(fn.register_prehook(pre))
        handles.append(fn.register_hook(post))
    recorder = ext.Recorder(detach)
    counts = recorder.install(nodes)
    loss.backward()
    recorder.remove()
    for handle in handles:
        handle.remove()
    cpp_order, cpp_grads = recorder.take()
    if cpp_order != py_order:
        raise SystemExit(f"the C++ hooks ran in another order than the Python hooks "
                         f"({len(cpp_order)} against {len(py_order)} calls)")
    compared = 0
    for call, (ours, theirs) in enumerate(zip(cpp_grads, py_grads)):
        if len(ours) != len(theirs):
            raise SystemExit(f"call {call}: {len(ours)} gradients kept in C++, {len(theirs)} in Python")
        for a, b in zip(ours, theirs):
            if (a is None) != (b is None):
                raise SystemExit(f"call {call}: one side kept None")
            if a is not None:
                if not (a.dtype == b.dtype and a.shape == b.shape and a.stride() == b.stride()
                        and torch.equal(a, b)):
                    raise SystemExit(f"call {call}: the C++ hook's gradient differs from the Python hook's")
                compared += 1
    return len(cpp_order), compared, counts


def main(argv=None) -> int:
    parser = model_arguments(__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--detach", action="store_true",
                        help="the C++ hooks keep a detach()-ed alias, as the Python floor's do, "
                             "not a reference to the gradient itself")
    args = parser.parse_args(argv)
    ext = build_extension()
    if ext is None:
        return 0
    torch.set_num_threads(1)  # as bench_backward.py: both sides on one core
    model = build_model(args.layers, args.d_model)
    tokens = torch.randn(args.batch, args.seq, args.d_model)
    for detach in (False, True):
        calls, compared, counts = check_same(ext, model, tokens, detach)
        print(f"check ({'detach()' if detach else 'reference'}): C++ and Python hooks kept the same "
              f"{calls} calls in the same order and {compared} torch.equal gradients; "
              f"nodes hooked: {counts[0]} C++, {counts[1]} Python custom Function, {counts[2]} skipped")
    time_plain(model, tokens)  # warm up every path
    time_empty_hooks(model, tokens)
    time_detach_hooks(model, tokens)
    cpp_pass(ext, model, tokens, args.detach)
    time_recorded(model, tokens)
    plain, empty, python, recorded, reduced, cpp, steps = [], [], [], [], [], [], 0
    for _ in range(args.rounds):  # in turns, so load changes hit all alike
        plain.append(time_plain(model, tokens)[1])
        empty.append(time_empty_hooks(model, tokens)[1])
        python.append(time_detach_hooks(model, tokens)[1])
        cpp.append(cpp_pass(ext, model, tokens, args.detach))
        elapsed, steps = time_recorded(model, tokens)
        recorded.append(elapsed[1])
        reduced.append(time_reductions(model, tokens))
    med = statistics.median
    p = med(plain)
    parts = {name: med(c[name] for c in cpp) for name in ("install", "pass", "remove", "hand-off", "let go")}
    cpp_total = med(sum(c[name] for name in parts) for c in cpp)
    torch_part = med(reduced)
    e, d, r = med(empty), med(python), med(recorded)
    print(f"model: {args.layers}-layer TransformerEncoder, d_model={args.d_model}, input "
          f"{args.batch}x{args.seq}; {steps} backward steps; {args.rounds} rounds in turns; "
          f"C++ hooks keep {'a detach()-ed alias' if args.detach else 'a reference'}")
    print(f" CPU medians: plain backward() {p * 1e3:.1f} ms; gradstep record_backward {r * 1e3:.1f} ms "
          f"({r / p:.2f}x)")
    print(f"  empty Python hooks (installed, run, removed) {e * 1e3:.1f} ms ({e / p:.2f}x)")
    print(f"  Python floor's hooks (detach() and keep) {d * 1e3:.1f} ms ({d / p:.2f}x)")
    print(f"  C++ keep hooks {cpp_total * 1e3:.1f} ms ({cpp_total / p:.2f}x): " + ", ".join(
        f"{name} {seconds * 1e3:.2f}" for name, seconds in parts.items()) + " ms")
    print(f"  torch's own calls in the summaries (timed inside a recorded pass) {torch_part * 1e3:.1f} ms "
          f"({torch_part / p:.2f}x)")
    python_floor = d + torch_part
    compiled_floor = cpp_total + torch_part
    print(f"Python floor = Python floor's hooks + torch's calls = {python_floor * 1e3:.1f} ms, "
          f"{python_floor / p:.2f}x plain")
    print(f"compiled floor = C++ keep hooks + torch's calls = {compiled_floor * 1e3:.1f} ms, "
          f"{compiled_floor / p:.2f}x plain (target <= 3x); the Python floor is "
          f"{(python_floor - compiled_floor) * 1e3:.1f} ms ({(python_floor - compiled_floor) / p:.2f}x plain) "
          f"above it; gradstep {r / compiled_floor:.2f}x the compiled floor")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
