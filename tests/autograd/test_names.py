"""names.walk_modules / walk_parameters: what named_modules / named_parameters give,
without calling a snippet's overrides of them."""

from __future__ import annotations

import torch
from torch import nn

from gradstep.autograd.names import walk_modules, walk_parameters


def _models() -> list[nn.Module]:
    shared = nn.Linear(2, 2)

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = shared
            self.b = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), shared)
            self.c = nn.ModuleDict({"x": nn.Conv2d(1, 1, 1), "y": nn.LayerNorm(3)})
            self.register_parameter("p", nn.Parameter(torch.ones(1)))
            self.register_parameter("none", None)
            self.tied = self.a.weight
            self.b.add_module("empty", None)

    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, enable_nested_tensor=False)
    return [Tied(), encoder, nn.LSTM(3, 4, 2), nn.Sequential()]


def test_the_walks_give_what_torch_names_in_its_order():
    for model in _models():
        assert [(n, id(m)) for n, m in walk_modules(model)] == [(n, id(m)) for n, m in model.named_modules()]
        assert ([(n, id(p)) for n, p in walk_parameters(model)]
                == [(n, id(p)) for n, p in model.named_parameters()])


def test_the_walks_call_no_override():
    class Loud(nn.Sequential):
        def named_modules(self, *args, **kwargs):
            raise AssertionError("named_modules was called")

        def named_parameters(self, *args, **kwargs):
            raise AssertionError("named_parameters was called")

    model = Loud(nn.Linear(1, 1), Loud(nn.Linear(1, 2)))
    assert [n for n, _ in walk_modules(model)] == ["", "0", "1", "1.0"]
    assert [n for n, _ in walk_parameters(model)] == ["0.weight", "0.bias", "1.0.weight", "1.0.bias"]
