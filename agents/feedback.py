"""What a bidder learns after each round (repeated-auction feedback) and where it sits in its
observation.

With feedback on, a bidder's observation is the usual ``[values (m), participating, round
fraction]`` followed by a window of the last ``k`` rounds' feedback, newest first, each slot
``[filled, participated, ...]`` (``filled`` is 0 in the zero-padded slots before round k). The
modes are nested: each one's slot is a prefix of the next one's.

=========  ==================================================================  ============
mode       slot after ``[filled, participated]``                                entries
=========  ==================================================================  ============
none       (no slots)                                                           0
own        own allocation (m), own payment                                      m + 1
winning    own, then each item's lowest winning bid for this bidder: the         2m + 1
           highest bid among the others present (the winning bid when the
           bidder lost; the "minimum bid to win" of first-price ad auctions)
public     winning, then the whole public outcome: every allocation (n x m)      2m + 1 + nm + n
           and every payment (n)
=========  ==================================================================  ============

No mode shows another bidder's values; only ``winning`` and ``public`` show one bid per item
(the highest competing one).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "FEEDBACK_MODES",
    "feedback_size",
    "slot_size",
    "slot_bounds",
    "round_feedback",
    "slots",
    "base_observation",
    "lowest_winning_bids",
]

#: Feedback modes, each revealing more than the one before.
FEEDBACK_MODES = ("none", "own", "winning", "public")

#: Entries of a bidder's observation before the feedback window: values come first (``n_items``),
#: then the participation flag and the round fraction.
_BASE_EXTRA = 2


def feedback_size(mode: str, n_bidders: int, n_items: int) -> int:
    """Entries a mode reveals per round after ``participated`` (see the module table)."""
    if mode not in FEEDBACK_MODES:
        raise ValueError(f"feedback mode must be one of {', '.join(FEEDBACK_MODES)}, got {mode!r}")
    sizes = {"none": 0, "own": n_items + 1, "winning": 2 * n_items + 1}
    return sizes.get(mode, 2 * n_items + 1 + n_bidders * n_items + n_bidders)


def slot_size(mode: str, n_bidders: int, n_items: int) -> int:
    """Entries of one window slot: ``filled``, ``participated`` and the mode's feedback (0 for none)."""
    return 0 if mode == "none" else 2 + feedback_size(mode, n_bidders, n_items)


def slot_bounds(mode: str, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` of every bidder's slot, each ``(n_bidders, slot_size)`` float32, from the
    bid bounds ``high`` ``(n_bidders, n_items)``: flags and allocations in [0, 1], payments up to
    the bidder's total upper bid, competing bids up to the others' highest upper bid."""
    n, m = high.shape
    size = slot_size(mode, n, m)
    upper = np.zeros((n, size), dtype=np.float32)
    if size == 0:
        return upper.copy(), upper
    upper[:, : 2 + m] = 1.0
    upper[:, 2 + m] = high.sum(1)
    if mode in ("winning", "public"):
        for i in range(n):
            others = np.delete(high, i, axis=0)
            upper[i, 3 + m : 3 + 2 * m] = others.max(0) if len(others) else 0.0
    if mode == "public":
        start = 3 + 2 * m
        upper[:, start : start + n * m] = 1.0
        upper[:, start + n * m :] = high.sum(1)[None, :]
    return np.zeros_like(upper), upper


def lowest_winning_bids(bids: Tensor, present: Tensor) -> Tensor:
    """``(batch, n_bidders, n_items)``: for each bidder and item the highest bid among the other
    present bidders (0 when nobody else is present)."""
    masked = bids * present.unsqueeze(-1).to(bids.dtype)
    n = bids.shape[1]
    if n == 1:
        return torch.zeros_like(bids)
    top2 = masked.topk(2, dim=1).values  # (batch, 2, n_items)
    best, second = top2[:, :1], top2[:, 1:]
    # The bidder holding the highest bid sees the second highest; everyone else the highest.
    holder = masked.argmax(dim=1, keepdim=True) == torch.arange(n, device=bids.device)[None, :, None]
    return torch.where(holder, second, best)


def round_feedback(mode: str, bids: Tensor, present: Tensor, allocation: Tensor, payments: Tensor) -> Tensor:
    """Every bidder's slot for one played round, ``(batch, n_bidders, slot_size)`` with ``filled = 1``.

    Args:
        mode: one of :data:`FEEDBACK_MODES` (``none`` gives an empty last axis).
        bids, allocation: ``(batch, n_bidders, n_items)``; absent bidders' bids are ignored.
        present: ``(batch, n_bidders)`` bool.
        payments: ``(batch, n_bidders)``.
    """
    batch, n, m = bids.shape
    if slot_size(mode, n, m) == 0:  # also checks the mode
        return bids.new_zeros(batch, n, 0)
    flags = torch.stack((torch.ones_like(payments), present.to(bids.dtype)), dim=-1)
    parts = [flags, allocation, payments.unsqueeze(-1)]
    if mode in ("winning", "public"):
        parts.append(lowest_winning_bids(bids, present))
    if mode == "public":
        public = torch.cat((allocation.reshape(batch, 1, n * m), payments.unsqueeze(1)), dim=-1)
        parts.append(public.expand(batch, n, n * m + n))
    return torch.cat(parts, dim=-1)


def base_observation(observations: Tensor, n_items: int) -> Tensor:
    """The first ``n_items + 2`` entries: values, participating, round fraction (what policies that
    do not read feedback are given)."""
    return observations[..., : n_items + _BASE_EXTRA]


def slots(observations: Tensor, n_items: int, size: int) -> Tensor:
    """The feedback window of ``observations`` ``(..., n_items + 2 + k * size)`` as ``(..., k, size)``,
    newest first."""
    window = observations[..., n_items + _BASE_EXTRA :]
    return window.reshape(*window.shape[:-1], -1, size)
