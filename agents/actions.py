"""The unit action space of RL bidders: actions in ``[-1, 1]`` per item map to bids in
``[0, upper support]`` (symmetric boxes suit SB3's Gaussian policies better than ``Box(0, high)``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["to_bids", "to_actions", "grid_bids", "grid_levels", "check_levels"]


def to_bids(actions: Any, high: Any) -> Any:
    """Map actions in ``[-1, 1]`` (clipped) to bids in ``[0, high]``; tensors or NumPy arrays."""
    clipped = actions.clamp(-1.0, 1.0) if isinstance(actions, torch.Tensor) else np.clip(actions, -1.0, 1.0)
    return (clipped + 1.0) * 0.5 * high


def to_actions(bids: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`to_bids` (bids clipped to ``[0, high]``)."""
    return bids.clamp(torch.zeros_like(high), high) / high * 2.0 - 1.0


def grid_bids(levels: Any, count: int, high: Any) -> Any:
    """Discrete bidding: level ``l`` of ``count`` is the bid ``l / (count - 1) * high`` (0 to the
    upper support, evenly spaced); tensors or NumPy arrays."""
    return levels * (high / (count - 1))


def grid_levels(bids: torch.Tensor, count: int, high: torch.Tensor) -> torch.Tensor:
    """The grid level at or just below each bid (long): continuous bids snap down, so a bidder never
    bids more than it asked for. Inverse of :func:`grid_bids` on grid points."""
    scaled = bids.clamp(torch.zeros_like(high), high) * ((count - 1) / high)
    return torch.floor(scaled + 1e-4).long().clamp(0, count - 1)


def check_levels(action: Any, count: int, n_items: int) -> np.ndarray:
    """An action of grid levels as ``(n_items,)`` int64: whole numbers in ``[0, count)``, one per
    item (a plain number with one item).

    Raises:
        ValueError: not whole numbers, the wrong shape, or a level out of range (one line).
    """
    try:
        arr = np.asarray(action)
    except Exception:
        raise ValueError(f"action must be {n_items} grid level(s), got {type(action).__name__}") from None
    whole = arr.dtype.kind in "iu" or (
        arr.dtype.kind == "f" and np.isfinite(arr).all() and (arr == np.round(arr)).all()
    )
    if not whole:
        raise ValueError(f"action must be whole grid levels in [0, {count}), got {action!r}")
    arr = arr.reshape(-1) if arr.shape in ((), (1,)) and n_items == 1 else arr
    if arr.shape != (n_items,):
        raise ValueError(f"action must have shape ({n_items},), got {arr.shape}")
    if (arr < 0).any() or (arr >= count).any():
        raise ValueError(f"grid level must be in [0, {count}), got {arr.tolist()}")
    return arr.astype(np.int64)
