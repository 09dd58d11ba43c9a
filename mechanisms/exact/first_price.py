"""Item-wise first-price auction (pay your bid). Not truthful, on purpose."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from mechanisms.base import Mechanism, Outcome
from mechanisms.exact.itemwise import at_least, item_reserve, one_hot_allocation, top_two

__all__ = ["FirstPrice"]


class FirstPrice(Mechanism):
    """Each item goes to its highest bidder if the bid is at least the reserve; the winner pays
    its own bid. Ties are broken uniformly at random. Bidders gain by shading their bids.

    Args:
        reserve: one reserve price for every item, or a list with one per item.
    """

    truthful = False

    def __init__(self, reserve: float | Sequence[float] = 0.0) -> None:
        super().__init__()
        self.register_buffer("reserve", item_reserve(reserve), persistent=False)
        self._per_item = not isinstance(reserve, (int, float))

    def outcome(self, bids: Tensor, generator: torch.Generator | None) -> Outcome:
        reserve = self.reserve.to(device=bids.device, dtype=bids.dtype)
        if self._per_item and reserve.numel() != bids.shape[2]:
            raise ValueError(f"reserve has {reserve.numel()} prices but bids have {bids.shape[2]} items")
        winner, top, _ = top_two(bids, generator)
        allocation = one_hot_allocation(winner, at_least(top, reserve), bids)
        return Outcome(allocation, torch.linalg.vecdot(allocation, bids))

    def extra_repr(self) -> str:
        return f"reserve={self.reserve.tolist()}"
