"""Shared pieces of item-by-item single-winner auctions.

Per-item quantities keep the bidder axis with size 1, ``(batch, 1, n_items)``, so they
broadcast against ``(batch, n_bidders, n_items)`` without reshaping (fewer ops at batch 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from mechanisms.base import Mechanism

__all__ = [
    "top_two",
    "winners_numpy",
    "at_least",
    "one_hot_allocation",
    "charge",
    "item_reserve",
    "constant",
    "ReservePriced",
]

_CONSTANTS: dict[tuple[float, torch.dtype, torch.device], Tensor] = {}


def constant(value: float, like: Tensor) -> Tensor:
    """A cached 0-dim tensor of ``value`` with ``like``'s dtype and device.

    Passing a tensor instead of a Python number skips per-call scalar wrapping, which
    dominates at batch size 1 (the PettingZoo step).
    """
    key = (value, like.dtype, like.device)
    found = _CONSTANTS.get(key)
    if found is None:
        found = _CONSTANTS[key] = torch.tensor(value, dtype=like.dtype, device=like.device)
    return found


_TOPK_FROM = 16_384  # batch x items from which top_two takes topk: one pass, faster on large batches,
# slower on small ones (benchmarks/throughput.py measures the core at both)


def top_two(scores: Tensor, generator: torch.Generator | None) -> tuple[Tensor, Tensor, Tensor]:
    """Per item: the winner (ties broken uniformly at random), the top score and the runner-up.

    Args:
        scores: ``(batch, n_bidders, n_items)``.
        generator: source of the tie-breaking draws (drawn on its device, then moved). Draws
            happen only when some item has a tie for the top, so continuous bids cost none.

    Returns:
        ``winner`` ``(batch, 1, n_items)`` (long), ``top`` ``(batch, 1, n_items)`` and
        ``second`` ``(batch, 1, n_items)``: the best score among the other bidders (equal to
        ``top`` on a tie, ``-inf`` with a single bidder).
    """
    if scores.shape[1] > 1 and scores.shape[0] * scores.shape[2] >= _TOPK_FROM:
        values, indices = scores.topk(2, dim=1)  # one pass (at large batch, faster than the two below)
        winner, top, second = indices[:, :1], values[:, :1], values[:, 1:]
    else:
        top, winner = scores.max(dim=1, keepdim=True)
        second = scores.scatter(1, winner, float("-inf")).amax(dim=1, keepdim=True)
    if bool((second == top).any()):
        device = generator.device if generator is not None else scores.device
        u = torch.rand(scores.shape, generator=generator, device=device, dtype=scores.dtype).to(scores.device)
        # Every tied bidder gets an independent U[0,1) key; the largest key wins, uniformly.
        # (`max(...).indices`, not `argmax`: on CPU argmax over a short strided axis is ~20x slower.)
        winner = torch.where(scores == top, u, constant(-1.0, scores)).max(dim=1, keepdim=True).indices
    return winner, top, second


def winners_numpy(scores: np.ndarray, generator: torch.Generator | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`top_two` on a NumPy array, with the same tie-breaking draws from ``generator``, the
    winners as a mask.

    The NumPy twin for :meth:`Mechanism.run_numpy`: the same winner, top and runner-up, bit for
    bit. Returns ``won`` ``(batch, n_bidders, n_items)`` bool, True at each item's winner (the 1s
    of :func:`one_hot_allocation` before a reserve), and ``top``, ``second`` ``(batch, 1,
    n_items)``. Without a tie at the top, ``won`` is ``scores == top`` (no argmax, no one-hot).
    """
    if scores.shape[1] == 1:
        return np.ones(scores.shape, dtype=bool), scores, np.full_like(scores, -np.inf)
    ranked = np.sort(scores, axis=1)
    top, second = ranked[:, -1:], ranked[:, -2:-1]
    if np.count_nonzero(second == top):  # a tie at the top (count_nonzero: no Python layer, unlike .any())
        u = torch.rand(scores.shape, generator=generator, dtype=torch.from_numpy(scores[:0]).dtype).numpy()
        winner = np.where(scores == top, u, -1.0).argmax(axis=1)[:, None]
        return _bidder_index(scores.shape[1]) == winner, top, second
    return scores == top, top, second


_BIDDER_INDEX: dict[int, np.ndarray] = {}


def _bidder_index(n: int) -> np.ndarray:
    """``arange(n)`` shaped ``(1, n, 1)``, cached."""
    index = _BIDDER_INDEX.get(n)
    if index is None:
        index = _BIDDER_INDEX[n] = np.arange(n).reshape(1, n, 1)
    return index


def at_least(top: Tensor, threshold: Tensor) -> Tensor:
    """Float 0/1 mask, 1 where ``top >= threshold`` (one op: ``heaviside(top - threshold, 1)``)."""
    return torch.heaviside(top - threshold, constant(1.0, top))


def one_hot_allocation(winner: Tensor, sold: Tensor, like: Tensor) -> Tensor:
    """``(batch, n_bidders, n_items)`` allocation giving each sold item to its winner.

    Args:
        winner: ``(batch, 1, n_items)`` winning bidder per item.
        sold: ``(batch, 1, n_items)`` float 0/1, whether the item is sold (see :func:`at_least`).
        like: a tensor of the output's shape, dtype and device.
    """
    return torch.zeros_like(like).scatter_(1, winner, sold)


def charge(allocation: Tensor, price: Tensor) -> Tensor:
    """``(batch, n_bidders)`` payments: each bidder pays ``price`` ``(batch, 1, n_items)`` per item won.

    A batched matrix product: fast at batch 1 and at batch 100,000 alike (a broadcast
    multiply-and-sum is ~6x slower at large batch on CPU).
    """
    return torch.bmm(allocation, price.mT).squeeze(-1)


class ReservePriced(Mechanism):
    """Base of item-wise auctions with a reserve price: one for all items or one per item.

    Args:
        reserve: one reserve price for every item, or a list with one per item.
    """

    def __init__(self, reserve: float | Sequence[float] = 0.0) -> None:
        super().__init__()
        self.register_buffer("reserve", item_reserve(reserve), persistent=False)
        self._per_item = not isinstance(reserve, (int, float))

    def reserve_for(self, bids: Tensor) -> Tensor:
        """The reserve on ``bids``' device and dtype; checks a per-item list against the items."""
        reserve = self.reserve.to(device=bids.device, dtype=bids.dtype)
        if self._per_item and reserve.numel() != bids.shape[2]:
            raise ValueError(f"reserve has {reserve.numel()} prices but bids have {bids.shape[2]} items")
        return reserve

    def reserve_numpy(self, bids: np.ndarray) -> np.ndarray:
        """:meth:`reserve_for` for a NumPy batch of bids (a cached CPU copy of the reserve)."""
        reserve = self._buffers["reserve"]  # (not through Module.__getattr__: this runs every round)
        key = (reserve.data_ptr(), bids.dtype)  # moved, replaced (.data too) or another dtype
        cached = self.__dict__.get("_reserve_numpy")
        if cached is None or cached[0] != key:
            cached = self.__dict__["_reserve_numpy"] = (key, reserve.cpu().numpy().astype(bids.dtype))
        if self._per_item and cached[1].size != bids.shape[2]:
            raise ValueError(f"reserve has {cached[1].size} prices but bids have {bids.shape[2]} items")
        return cached[1]

    def extra_repr(self) -> str:
        return f"reserve={self.reserve.tolist()}"


def item_reserve(reserve: float | Sequence[float]) -> Tensor:
    """Check a reserve (one number, or one per item) and return it as a float32 tensor."""
    if isinstance(reserve, bool):
        raise ValueError("reserve must be a number or a list of numbers, one per item")
    if isinstance(reserve, (int, float)):
        values = [float(reserve)]
    elif isinstance(reserve, Sequence) and not isinstance(reserve, str):
        if not reserve or any(isinstance(r, bool) or not isinstance(r, (int, float)) for r in reserve):
            raise ValueError("reserve must be a number or a non-empty list of numbers, one per item")
        values = [float(r) for r in reserve]
    else:
        raise ValueError("reserve must be a number or a list of numbers, one per item")
    table = torch.tensor(values, dtype=torch.float32)
    if not bool(torch.isfinite(table).all()) or bool((table < 0).any()):
        raise ValueError("reserve must be finite and >= 0")
    return table
