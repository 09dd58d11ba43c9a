"""Item-wise second-price auction: VCG for additive bidders, with an optional reserve."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from mechanisms.base import Mechanism, Outcome
from mechanisms.exact.itemwise import at_least, charge, item_reserve, one_hot_allocation, top_two

__all__ = ["SecondPrice"]


class SecondPrice(Mechanism):
    """Each item goes to its highest bidder if the bid is at least the reserve; the winner pays
    the larger of the second-highest bid and the reserve. Ties are broken uniformly at random.

    With additive valuations and no reserve this is exactly VCG, hence DSIC and IR.

    Args:
        reserve: one reserve price for every item, or a list with one per item.
    """

    truthful = True

    def __init__(self, reserve: float | Sequence[float] = 0.0) -> None:
        super().__init__()
        table = item_reserve(reserve)
        self.register_buffer("reserve", table, persistent=False)
        self._per_item = not isinstance(reserve, (int, float))

    def outcome(self, bids: Tensor, generator: torch.Generator | None) -> Outcome:
        reserve = self.reserve.to(device=bids.device, dtype=bids.dtype)
        if self._per_item and reserve.numel() != bids.shape[2]:
            raise ValueError(f"reserve has {reserve.numel()} prices but bids have {bids.shape[2]} items")
        winner, top, second = top_two(bids, generator)
        price = torch.maximum(second, reserve)  # >= 0: reserves are non-negative
        allocation = one_hot_allocation(winner, at_least(top, reserve), bids)
        return Outcome(allocation, charge(allocation, price))

    def extra_repr(self) -> str:
        return f"reserve={self.reserve.tolist()}"
