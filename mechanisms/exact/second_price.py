"""Item-wise second-price auction: VCG for additive bidders, with an optional reserve."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mechanisms.base import NumpyOutcome, Outcome
from mechanisms.exact.itemwise import (
    ReservePriced,
    at_least,
    charge,
    one_hot_allocation,
    top_two,
    winners_numpy,
)

__all__ = ["SecondPrice"]


class SecondPrice(ReservePriced):
    """Each item goes to its highest bidder if the bid is at least the reserve; the winner pays
    the larger of the second-highest bid and the reserve. Ties are broken uniformly at random.

    With additive valuations and no reserve this is exactly VCG, hence DSIC and IR.

    Args:
        reserve: one reserve price for every item, or a list with one per item.
    """

    truthful = True

    def outcome(self, bids: Tensor, generator: torch.Generator | None) -> Outcome:
        reserve = self.reserve_for(bids)
        winner, top, second = top_two(bids, generator)
        price = torch.maximum(second, reserve)  # >= 0: reserves are non-negative
        allocation = one_hot_allocation(winner, at_least(top, reserve), bids)
        return Outcome(allocation, charge(allocation, price), allocation * price)

    def outcome_numpy(self, bids: np.ndarray, generator: torch.Generator | None) -> NumpyOutcome:
        reserve = self.reserve_numpy(bids)
        won, top, second = winners_numpy(bids, generator)
        price = np.maximum(second, reserve)
        allocation = (won & (top >= reserve)).astype(bids.dtype)
        item_payments = allocation * price
        return allocation, np.add.reduce(item_payments, -1), item_payments  # (.sum's Python layer skipped)
