"""Priors: table forms, sampling with a generator, virtual values; participation models."""

from __future__ import annotations

import pytest
import torch

import mechanisms
from auction_env import participation


def test_table_forms():
    """Scalars, per-bidder, per-item and full tables all expand to (n_bidders, n_items)."""
    p = mechanisms.make_prior(2, 3, low={"per_item": [0, 0.1, 0.2]}, high={"per_bidder": [1, 2]})
    assert p.low.tolist() == [[0, pytest.approx(0.1), pytest.approx(0.2)]] * 2
    assert p.high.tolist() == [[1, 1, 1], [2, 2, 2]]
    q = mechanisms.make_prior(2, 2, high=[[1, 2], [3, 4]])
    assert q.high.tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(high=[1, 2, 3]), "expected 2 rows"),
        (dict(high={"per_item": [1]}), "expected 2 numbers"),
        (dict(high={"rows": [1, 2]}), "per_bidder"),
        (dict(low=-1), ">= 0"),
        (dict(low=1, high=1), "greater than low"),
        (dict(high="big"), "expected a number"),
        (dict(high=float("nan")), "finite"),
    ],
)
def test_bad_tables(kwargs, message):
    """Malformed bounds fail with a message naming the field."""
    with pytest.raises(ValueError, match=message):
        mechanisms.make_prior(2, 2, **kwargs)


def test_sample_in_support_and_seeded():
    """Samples stay in [low, high] per bidder and repeat with the same generator seed."""
    p = mechanisms.make_prior(2, 2, low={"per_bidder": [0.5, 0]}, high={"per_bidder": [1, 3]})
    a = p.sample(10000, torch.Generator().manual_seed(3))
    b = p.sample(10000, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == (10000, 2, 2)
    assert a[:, 0].min() >= 0.5 and a[:, 0].max() <= 1 and a[:, 1].max() <= 3 and a[:, 1].max() > 2.9


def test_uniform_virtual_value_and_reserve():
    """U[0,h]: phi(v) = 2v - h, reserve h/2; the inverse undoes phi."""
    p = mechanisms.make_prior(1, 2, high={"per_item": [1, 4]})
    v = torch.tensor([[[0.25, 3.0]]])
    assert torch.allclose(p.virtual_value(v), torch.tensor([[[-0.5, 2.0]]]))
    assert torch.allclose(p.inverse_virtual_value(p.virtual_value(v)), v)
    assert p.reserve().tolist() == [[0.5, 2.0]]


def test_participation_rates_match_models():
    """Sampled participation frequencies match each model's stated rates."""
    g = torch.Generator().manual_seed(0)
    models = [
        participation.make(3, "always"),
        participation.make(3, "independent", p=[0.9, 0.5, 0.1]),
        participation.make(3, "profiles", profiles=[[1, 1, 0], [0, 1, 1]], probs=[0.25, 0.75]),
    ]
    for model in models:
        mask = model.sample(100_000, g)
        assert mask.dtype == torch.bool and mask.shape == (100_000, 3)
        assert torch.allclose(mask.double().mean(0), torch.tensor(model.rates(), dtype=torch.float64), atol=0.01)
    assert set(map(tuple, models[2].sample(1000, g).int().tolist())) == {(1, 1, 0), (0, 1, 1)}
