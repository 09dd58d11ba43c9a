"""Scripted bidders act on batches and stay in the bid space."""

from __future__ import annotations

import torch

import agents
import mechanisms
from agents.observation import bidder_observations


def test_scripted_policies_on_a_batch():
    """truthful bids values, shading scales them, random stays in [0, upper support]."""
    prior = mechanisms.make_prior(2, 3, high={"per_bidder": [1, 2]})
    g = torch.Generator().manual_seed(0)
    values = prior.sample(500, g)
    obs = bidder_observations(values, torch.ones(500, 2, dtype=torch.bool), 0.0)[:, 1]
    assert torch.equal(agents.make("truthful").act(obs), values[:, 1])
    assert torch.allclose(agents.make("shading", factor=0.25).act(obs), 0.25 * values[:, 1])
    rand = agents.make("random", context={"prior": prior, "bidder": 1}).act(obs, generator=g)
    assert rand.shape == (500, 3) and rand.min() >= 0 and rand.max() <= 2 and rand.max() > 1.5
