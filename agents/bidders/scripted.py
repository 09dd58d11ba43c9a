"""Scripted bidders: truthful, proportional shading, and uniform random bids."""

from __future__ import annotations

import torch
from torch import Tensor

from agents.base import BidderPolicy
from agents.observation import values
from mechanisms.base import random_uniform
from mechanisms.priors import Prior

__all__ = ["Truthful", "Shading", "RandomBidder"]


class Truthful(BidderPolicy):
    """Bids its valuation on every item."""

    def act(self, observations: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        return values(observations).clone()


class Shading(BidderPolicy):
    """Bids ``factor x value`` on every item (e.g. ``(n-1)/n`` is the first-price equilibrium
    with ``n`` symmetric U[0, 1] bidders).

    Args:
        factor: shading factor, >= 0 (1 is truthful).
    """

    def __init__(self, factor: float = 0.5) -> None:
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor >= 0:
            raise ValueError(f"factor must be a number >= 0, got {factor!r}")
        self.factor = float(factor)

    def act(self, observations: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        return self.factor * values(observations)


class RandomBidder(BidderPolicy):
    """Bids uniformly at random in ``[0, upper support of its value]`` on each item.

    Args:
        prior: the valuation prior (injected).
        bidder: this bidder's index (injected).
    """

    def __init__(self, prior: Prior, bidder: int) -> None:
        self.high = prior.high[bidder].clone()

    def act(self, observations: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        v = values(observations)
        return random_uniform(tuple(v.shape), v, generator) * self.high.to(v.device, v.dtype)
