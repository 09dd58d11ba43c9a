"""The policy contract: batched observations in, batched actions out."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

__all__ = ["BidderPolicy"]


class BidderPolicy(ABC):
    """A bidder's strategy, acting on a batch of rounds at once.

    The environment calls it with batch 1; the scenario runner with thousands of rounds.
    Observations follow :mod:`auction_env.observation`: ``[values (n_items), participating,
    round_fraction]``.
    """

    @abstractmethod
    def act(self, observations: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Choose bids.

        Args:
            observations: ``(batch, n_items + 2)``.
            generator: randomness for stochastic policies.

        Returns:
            ``(batch, n_items)`` bids in value units, on ``observations.device``.
        """

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"
