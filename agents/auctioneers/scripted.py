"""Scripted auctioneers: when to deviate from the published mechanism."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

__all__ = ["AuctioneerPolicy", "Honest", "AlwaysDeviate", "Threshold"]


class AuctioneerPolicy(ABC):
    """Decides, per round, whether to announce the deviation's outcome instead of the published one."""

    @abstractmethod
    def decide(self, regret: Tensor, *, penalty: float, rounds: int) -> Tensor:
        """``(batch,)`` bool: deviate in these rounds.

        Args:
            regret: ``(batch,)`` the round's auctioneer regret aRgt (deviation revenue minus
                published revenue), computed from the sealed bids it sees.
            penalty, rounds: the protocol's penalty and episode length T.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Honest(AuctioneerPolicy):
    """Always runs the published mechanism."""

    def decide(self, regret: Tensor, *, penalty: float, rounds: int) -> Tensor:
        return torch.zeros_like(regret, dtype=torch.bool)


class AlwaysDeviate(AuctioneerPolicy):
    """Deviates in every round."""

    def decide(self, regret: Tensor, *, penalty: float, rounds: int) -> Tensor:
        return torch.ones_like(regret, dtype=torch.bool)


class Threshold(AuctioneerPolicy):
    """Deviates when the round's aRgt is at least ``penalty / T`` (credible-auctions paper, A.2)."""

    def decide(self, regret: Tensor, *, penalty: float, rounds: int) -> Tensor:
        return regret >= penalty / rounds
