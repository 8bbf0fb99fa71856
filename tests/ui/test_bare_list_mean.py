"""A small gradient arrives in the window as bare numbers (no summary): the Values panel
shows their min and max (exact: any order gives the same), and no mean, since a sum
made here is not torch's ``t.mean()`` (a float32 vectorised sum over n: it differs in
the last bits from the exact mean in most float32 tensors). Where the mean is sure it
is shown: one element (itself), a NaN or both infinities (nan in any order)."""

import math

import torch

from gradstep.ui.tensor_text import stats


def test_a_bare_lists_statistics_show_no_mean_torch_did_not_make():
    g = torch.tensor([0.1, 0.2, 0.3])
    text = stats(g.tolist())
    assert "min" in text and "max" in text and "mean" not in text
    assert "mean nan" in stats([1.0, float("nan")])  # torch's mean of a NaN: nan
    assert "mean nan" in stats([math.inf, -math.inf, 1.0])
    assert "mean inf" not in stats([math.inf, 1.0])  # order-dependent once sums overflow
    assert "mean 2." in stats([2.0])  # one element: itself


def test_a_summary_with_no_mean_shows_min_and_max_only():
    """A small value of a trace past ``values.SMALL_MEANS_LIMIT`` has no mean and no std
    (null): the Values panel and the one-line summary show its min and max, no "None"."""
    from gradstep.ui.tensor_text import summary_words

    value = {"shape": [3], "dtype": "float32", "device": "cpu", "min": 0.1, "max": 0.3,
             "mean": None, "std": None, "nan": 0, "inf": 0, "data": [0.1, 0.2, 0.3]}
    assert stats(value).split("\n")[1:] == ["min 0.1000", "max 0.3000"]
    assert summary_words(value) == "3: min 0.1000 max 0.3000"
