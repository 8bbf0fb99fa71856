"""gradstep.autograd.derivatives against its two oracles: torchgen's own loader (the
code torch was generated with) and the node classes torch actually built."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from gradstep.autograd import derivatives
from gradstep.autograd.derivatives import load_table, op_prefix
from gradstep.autograd.formulas import no_formula_reason
from gradstep.autograd.schema_text import parse_schema, return_names

pytest.importorskip("yaml")


@pytest.fixture(scope="module")
def table():
    found = load_table()
    assert found.unavailable is None, found.unavailable
    return found


@pytest.fixture(scope="module")
def torchgen_infos():
    """torchgen's DifferentiabilityInfo per generated class name (seconds to load)."""
    load_derivatives = pytest.importorskip("torchgen.packaged.autograd.load_derivatives")
    import torchgen

    packaged = os.path.join(os.path.dirname(torchgen.__file__), "packaged")
    infos, _ = load_derivatives.load_derivatives(
        os.path.join(packaged, "autograd", "derivatives.yaml"),
        os.path.join(packaged, "ATen", "native", "native_functions.yaml"),
        os.path.join(packaged, "ATen", "native", "tags.yaml"),
    )
    return {info.op: info for per_key in infos.values() for info in per_key.values() if info.op}


def _torch_node_classes() -> dict[str, type]:
    module = torch._C._functions
    return {name: getattr(module, name) for name in dir(module) if not name.startswith("__")}


@pytest.mark.slow
def test_every_entry_is_what_torchgen_makes_of_it(table, torchgen_infos):
    """Class name, differentiable inputs in order, formulas, and saved values in order."""
    assert len(torchgen_infos) > 600
    assert set(torchgen_infos) == {n for n in torchgen_infos if table.entry(n) is not None}
    assert set(table.entries) == {n for n in torchgen_infos if not n.endswith("_copy")}
    for name, info in torchgen_infos.items():
        entry = table.entry(name)
        assert [a.name for a in info.args_with_derivatives] == [i.name for i in entry.inputs], name
        ours = [(d.inputs, d.formula, d.evaluated) for d in entry.derivatives]
        assert ours == [(d.var_names, d.original_formula, d.formula) for d in info.derivatives], name
        assert [str(s.nctype.name) for s in info.all_saved_inputs] == [
            s.name for s in entry.saved if not s.is_output], name
        assert [str(s.nctype.name) for s in info.all_saved_outputs] == [
            s.name for s in entry.saved if s.is_output], name
        assert entry.forward.split(".")[0] == info.name.split(".")[0], name
        if entry.view_copy_of is None:
            assert entry.schema == str(info.func.func), name


def test_op_prefix_is_torchgens(table):
    load_derivatives = pytest.importorskip("torchgen.packaged.autograd.load_derivatives")
    bases = {e.forward.split(".")[0] for e in table.entries.values()}
    for base in bases:
        assert op_prefix(base) == load_derivatives._create_op_prefix(base)
    assert op_prefix("upsample_bilinear2d") == "UpsampleBilinear2DBackward"  # str.title() quirk
    assert op_prefix("nll_loss_forward") == "NllLossBackward"


def test_every_node_class_torch_built_resolves(table):
    """Each class in torch._C._functions is a yaml entry or a hand-written node we explain."""
    classes = _torch_node_classes()
    assert len(classes) > 600
    unresolved = [n for n in classes if table.entry(n) is None]
    assert all(no_formula_reason(n) for n in unresolved)
    assert len(unresolved) < 15, unresolved  # the hand-written ones: AccumulateGrad, CopySlices, ...
    for name in table.entries:  # and every entry is a class torch has
        assert name in classes, name


def test_exposed_saved_values_are_the_node_class_attributes(table):
    """``_saved_<name>`` on the real class == the saved names torch exposes, for every class."""
    for name, cls in _torch_node_classes().items():
        entry = table.entry(name)
        if entry is None:
            continue
        real = {a.removeprefix("_saved_") for a in dir(cls) if a.startswith("_saved_")}
        assert real == {s.name for s in entry.saved if s.exposed}, name


def test_known_names(table):
    expected = {
        "MulBackward0": "mul.Tensor", "MulBackward1": "mul.Scalar", "AddmmBackward0": "addmm",
        "NativeLayerNormBackward0": "native_layer_norm", "SoftmaxBackward0": "_softmax",
        "MseLossBackward0": "mse_loss", "ViewBackward0": "view",
        "ReshapeAliasBackward0": "_reshape_alias", "NllLossBackward0": "nll_loss_forward",
        "ViewBackward0_copy": "view_copy", "SelectBackwardAutogradNestedTensor0": "select.int",
        "UpsampleBilinear2DBackward0": "upsample_bilinear2d",
    }
    assert {n: table.entry(n).forward for n in expected} == expected
    mul = table.entry("MulBackward0")
    assert mul.derivative_for("other").formula == "mul_tensor_backward(grad, self, other.scalar_type())"
    sizes = [s for s in table.entry("ViewBackward0").saved if s.name == "self_sym_sizes"]
    assert sizes[0].text == "self.sym_sizes()" and sizes[0].source == "self" and sizes[0].exposed
    layer_norm = table.entry("NativeLayerNormBackward0")
    assert layer_norm.derivative_for("bias").inputs == ("input", "weight", "bias")
    assert [s.name for s in layer_norm.saved if s.is_output] == ["result1", "result2"]


def test_schema_reader():
    schema = parse_schema("max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)")
    assert (schema.name, [a.name for a in schema.arguments]) == ("max.dim", ["self", "dim", "keepdim"])
    assert return_names(schema) == ["values", "indices"]
    inplace = parse_schema("add_.Tensor(Tensor(a!) self, Tensor other, *, Scalar alpha=1) -> Tensor(a!)")
    assert inplace.arguments[0].type == "Tensor" and inplace.arguments[2].kwarg_only
    assert return_names(inplace) == ["result"]
    assert return_names(parse_schema("f(Tensor self) -> (Tensor, Tensor)")) == ["result0", "result1"]
    assert parse_schema("g(int[2] k=[1, 1]) -> ()").arguments[0].default == "[1, 1]"
    with pytest.raises(ValueError):
        parse_schema("not a schema")


def test_no_yaml_or_no_pyyaml_gives_a_reason(monkeypatch):
    monkeypatch.setattr(derivatives, "derivatives_yaml_path", lambda: None)
    missing_file = derivatives.load_table.__wrapped__()
    assert missing_file.entries == {} and "derivatives.yaml" in missing_file.unavailable
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "yaml", None)  # "import yaml" now raises ImportError
    plain = derivatives.load_table.__wrapped__()  # torch's file is the plain subset: no pyyaml needed
    assert plain.unavailable is None and plain.entry("MulBackward0").forward == "mul.Tensor"


def test_without_pyyaml_an_entry_outside_the_plain_subset_says_why(monkeypatch, tmp_path):
    """An entry only pyyaml can read (here a block scalar) makes the table unavailable,
    with the reason, when pyyaml is missing; the entries read before stay."""
    path = tmp_path / "derivatives.yaml"
    path.write_text("- name: mul.Tensor(Tensor self, Tensor other) -> Tensor\n  self: grad * other\n"
                    "  other: grad * self\n\n- name: exp(Tensor self) -> Tensor\n  self: |\n"
                    "    grad * result\n", encoding="utf-8")
    monkeypatch.setattr(derivatives, "derivatives_yaml_path", lambda: str(path))
    monkeypatch.setitem(sys.modules, "yaml", None)
    table = derivatives.load_table.__wrapped__()
    assert table.entry("MulBackward0").derivative_for("self").formula == "grad * other"
    assert table.entry("ExpBackward0") is None and "pyyaml" in table.unavailable
    assert "pyyaml" in no_formula_reason_with(monkeypatch, table, "ExpBackward0")
    monkeypatch.delitem(sys.modules, "yaml")  # with pyyaml, the same file reads whole
    pytest.importorskip("yaml")
    table = derivatives.load_table.__wrapped__()
    assert table.entry("ExpBackward0").derivative_for("self").formula == "grad * result\n"


def test_an_entry_pyyaml_cannot_read_makes_the_table_unavailable_with_the_reason(monkeypatch, tmp_path):
    path = tmp_path / "derivatives.yaml"
    path.write_text("- name: mul.Tensor(Tensor self, Tensor other) -> Tensor\n  self: grad * other\n"
                    "  other: grad * self\n\n- name: exp(Tensor self) -> Tensor\n  self: \"grad\n",
                    encoding="utf-8")
    monkeypatch.setattr(derivatives, "derivatives_yaml_path", lambda: str(path))
    table = derivatives.load_table.__wrapped__()
    assert table.entry("MulBackward0").derivative_for("other").formula == "grad * self"
    assert table.entry("ExpBackward0") is None
    assert "could not read" in table.unavailable and str(path) in table.unavailable


def no_formula_reason_with(monkeypatch, table, name: str) -> str:
    from gradstep.autograd import formulas

    monkeypatch.setattr(formulas, "load_table", lambda: table)
    return str(no_formula_reason(name))


def test_loading_is_lazy_and_quick():
    """Importing the formula modules reads nothing; the first use reads the yaml in well under a second."""
    script = textwrap.dedent(
        """
        import sys, time
        import gradstep.autograd.formulas as formulas
        assert "yaml" not in sys.modules and "torch" not in sys.modules, "imported too early"
        assert formulas.load_table.cache_info().currsize == 0
        started = time.perf_counter()
        assert formulas.input_slots("MulBackward0") == {"self": 0, "other": 1}
        assert "yaml" not in sys.modules, "torch's plain file needs no pyyaml"
        print(time.perf_counter() - started)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 1.0  # about 0.15 s here; torchgen's own loader takes ~2.5 s


def test_entries_read_one_by_one_equal_the_whole_file(table):
    """Each class looked up alone (reading only the entries its name can come from) is
    the entry the whole file, read at once, gives it; names it has not are not found."""
    import yaml

    with open(table.path, encoding="utf-8") as stream:
        text = stream.read()
    whole = derivatives.build_entries(yaml.safe_load(text))
    unread = derivatives.load_table.__wrapped__().entries  # never looked into
    assert isinstance(unread, derivatives.IndexedEntries)
    for name in whole:
        # a copy of the unread entries: nothing read before this name (a new load_table()
        # per name indexed the whole file again each time, ~6 of the test's 7 s)
        alone = copy.deepcopy(unread)
        assert alone.get(name) == whole[name], name
    alone = derivatives.load_table.__wrapped__()
    assert [alone.entries.get(n) for n in ("AccumulateGrad", "MulBackward", "MulBackward99")] \
        == [None, None, None]
    assert list(alone.entries) == list(whole)  # iterating reads the whole file


def test_entries_are_read_whole_when_the_file_is_not_a_plain_list():
    plain = "# c\n- name: mul.Tensor(Tensor self, Tensor other) -> Tensor\n  self: grad\n" \
            "\n- name: _mul(Tensor self) -> Tensor\n  self: grad\n"
    items = derivatives.item_index(plain)
    assert [(stem, plain[start:end].split("(")[0]) for stem, start, end in items] == [
        ("MulBackward", "- name: mul.Tensor"), ("MulBackward", "- name: _mul")]
    assert derivatives.item_index(plain + "top: 1\n") is None
    assert derivatives.item_index(plain.replace("self: grad", "self: &a grad", 1)) is None
    assert derivatives.item_index("# only a comment\n") is None
