"""Item-wise first-price auction (pay your bid). Not truthful, on purpose."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from mechanisms.base import NumpyOutcome, Outcome
from mechanisms.exact.itemwise import ReservePriced, at_least, one_hot_allocation, top_two, winners_numpy
from mechanisms.priors import ConstantPrior, UniformPrior
from mechanisms.reference import first_price_equilibrium_bid

__all__ = ["FirstPrice"]


class FirstPrice(ReservePriced):
    """Each item goes to its highest bidder if the bid is at least the reserve; the winner pays
    its own bid. Ties are broken uniformly at random. Bidders gain by shading their bids.

    Args:
        reserve: one reserve price for every item, or a list with one per item.
    """

    truthful = False

    def equilibrium_bids(self, valuations: Tensor, present: Tensor | None, prior: Any) -> Tensor | None:
        """Item by item the symmetric Bayes-Nash bid for i.i.d. uniform (or known) values
        (:func:`mechanisms.reference.first_price_equilibrium_bid`), with the number of bidders
        present in the round taken as known; None for asymmetric or other priors, or a reserve."""
        low, high = prior.low.to(valuations.device), prior.high.to(valuations.device)
        if not (
            isinstance(prior, (UniformPrior, ConstantPrior))
            and bool((low == low[0]).all())
            and bool((high == high[0]).all())
        ):
            return None
        if bool((self.reserve_for(valuations) > 0).any()):
            return None
        count = (
            valuations.new_full(valuations.shape[:2], valuations.shape[1])
            if present is None
            else present.sum(-1, keepdim=True).expand(valuations.shape[:2]).to(valuations.dtype)
        )
        return first_price_equilibrium_bid(valuations, low, count.clamp(min=1).unsqueeze(-1))

    def relaxed_outcome(self, bids: Tensor, temperature: float) -> Outcome:
        """Each item split by a softmax of the bids over ``temperature`` (a reserve, if any, as one
        more competitor keeping the item unsold); every bidder pays its bid on its share. Tends to
        the first-price outcome (ties split) as the temperature goes to 0."""
        reserve = self.reserve_for(bids).expand(bids.shape[0], 1, bids.shape[2])
        shares = torch.softmax(torch.cat((bids, reserve), dim=1) / temperature, dim=1)[:, :-1]
        item_payments = shares * bids
        return Outcome(shares, item_payments.sum(-1), item_payments)

    def outcome(self, bids: Tensor, generator: torch.Generator | None) -> Outcome:
        reserve = self.reserve_for(bids)
        winner, top, _ = top_two(bids, generator)
        allocation = one_hot_allocation(winner, at_least(top, reserve), bids)
        item_payments = allocation * bids
        return Outcome(allocation, item_payments.sum(-1), item_payments)

    def outcome_numpy(self, bids: np.ndarray, generator: torch.Generator | None) -> NumpyOutcome:
        won, top, _ = winners_numpy(bids, generator)
        allocation = (won & (top >= self.reserve_numpy(bids))).astype(bids.dtype)
        item_payments = allocation * bids
        return allocation, np.add.reduce(item_payments, -1), item_payments  # (.sum's Python layer skipped)
