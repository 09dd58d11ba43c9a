"""Item-wise second-price auction: VCG for additive bidders, with an optional reserve."""

from __future__ import annotations

import torch
from torch import Tensor

from mechanisms.base import Outcome
from mechanisms.exact.itemwise import ReservePriced, at_least, charge, one_hot_allocation, top_two

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
