"""Item-wise first-price auction (pay your bid). Not truthful, on purpose."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mechanisms.base import NumpyOutcome, Outcome
from mechanisms.exact.itemwise import ReservePriced, at_least, one_hot_allocation, one_hot_numpy, top_two, top_two_numpy

__all__ = ["FirstPrice"]


class FirstPrice(ReservePriced):
    """Each item goes to its highest bidder if the bid is at least the reserve; the winner pays
    its own bid. Ties are broken uniformly at random. Bidders gain by shading their bids.

    Args:
        reserve: one reserve price for every item, or a list with one per item.
    """

    truthful = False

    def outcome(self, bids: Tensor, generator: torch.Generator | None) -> Outcome:
        reserve = self.reserve_for(bids)
        winner, top, _ = top_two(bids, generator)
        allocation = one_hot_allocation(winner, at_least(top, reserve), bids)
        item_payments = allocation * bids
        return Outcome(allocation, item_payments.sum(-1), item_payments)

    def outcome_numpy(self, bids: np.ndarray, generator: torch.Generator | None) -> NumpyOutcome:
        winner, top, _ = top_two_numpy(bids, generator)
        allocation = one_hot_numpy(winner, top >= self.reserve_numpy(bids), bids)
        item_payments = allocation * bids
        return allocation, item_payments.sum(-1), item_payments
