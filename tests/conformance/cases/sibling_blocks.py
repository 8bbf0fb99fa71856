"""A helper module imported by file_and_sibling.py from its own folder (not a case)."""

import warnings

import torch
from torch import nn


class TwoLayer(nn.Module):
    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.first = nn.Linear(n_in, 5)
        self.second = nn.Linear(5, n_out)

    def forward(self, x):
        return self.second(torch.relu(self.first(x)))


def scaled(t):
    # A DeprecationWarning raised from a module other than __main__ is hidden by
    # Python's default warning filters.
    warnings.warn("scaled() is deprecated", DeprecationWarning, stacklevel=1)
    return t * 2.0
