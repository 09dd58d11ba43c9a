"""Item-wise Myerson auction: revenue-optimal for independent regular priors, one item at a time."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mechanisms.base import Mechanism, NumpyOutcome, Outcome
from mechanisms.exact.itemwise import at_least, constant, one_hot_allocation, top_two, winners_numpy
from mechanisms.priors import Prior

__all__ = ["Myerson"]


class Myerson(Mechanism):
    """Per item, the bidder with the highest non-negative virtual value ``phi_i(b_ij)`` wins and
    pays its threshold bid ``max(low_ij, phi_i^{-1}(max(0, max_{k != i} phi_k(b_kj))))``:
    the smallest bid in its support that would still win (Myerson 1981).

    Handles asymmetric priors (a different ``phi_i`` per bidder); ties in virtual value are broken
    uniformly at random. DSIC and IR; optimal for independent regular priors such as uniform.
    With U[0, 1] values the reserve is 0.5 and one item earns
    ``(n - 1)/(n + 1) + 0.5^n / (n + 1)`` in expectation.

    Args:
        prior: the valuation prior (injected by the environment from its ``prior`` setting).
    """

    truthful = True

    def __init__(self, prior: Prior) -> None:
        if not isinstance(prior, Prior):
            raise ValueError("myerson needs a valuation prior")
        super().__init__(prior.n_bidders, prior.n_items)
        self.prior = prior
        # The threshold is at least the reserve phi^{-1}(0); clamp to `low` only if that can be below it.
        self._clamp_low = bool((prior.reserve() > prior.inverse_virtual_value(torch.zeros_like(prior.low))).any())

    def outcome(self, bids: Tensor, generator: torch.Generator | None) -> Outcome:
        phi = self.prior.virtual_value(bids)
        winner, top_phi, second_phi = top_two(phi, generator)
        threshold = torch.maximum(second_phi, constant(0.0, phi))  # competing virtual value, floored at 0
        price = self.prior.inverse_virtual_value(threshold)
        if self._clamp_low:
            price = torch.maximum(price, self.prior.bounds(bids.device)[0])
        allocation = one_hot_allocation(winner, at_least(top_phi, constant(0.0, bids)), bids)
        item_payments = allocation * price  # price is per bidder
        return Outcome(allocation, item_payments.sum(-1), item_payments)

    def outcome_numpy(self, bids: np.ndarray, generator: torch.Generator | None) -> NumpyOutcome:
        phi = self.prior.virtual_value(bids)
        won, top_phi, second_phi = winners_numpy(phi, generator)
        price = self.prior.inverse_virtual_value(np.maximum(second_phi, 0.0))
        if self._clamp_low:
            price = np.maximum(price, self.prior.low.numpy())
        allocation = (won & (top_phi >= 0.0)).astype(bids.dtype)
        item_payments = allocation * price
        return allocation, np.add.reduce(item_payments, -1), item_payments  # (.sum's Python layer skipped)

    def extra_repr(self) -> str:
        return f"prior={self.prior!r}"
