"""Shared pieces of item-by-item single-winner auctions."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from mechanisms.base import random_uniform

__all__ = ["winners_random_ties", "runner_up", "one_hot_allocation", "item_reserve"]


def winners_random_ties(scores: Tensor, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
    """Per item, the bidder with the highest score; ties broken uniformly at random.

    Args:
        scores: ``(batch, n_bidders, n_items)``.
        generator: source of the tie-breaking draws.

    Returns:
        ``winner`` ``(batch, n_items)`` (long) and ``top`` ``(batch, n_items)``, the highest score.
    """
    top = scores.amax(dim=1, keepdim=True)
    # Every tied bidder gets an independent U[0,1) key; the largest key wins, uniformly.
    keys = torch.where(scores == top, random_uniform(tuple(scores.shape), scores, generator), -1.0)
    return keys.argmax(dim=1), top.squeeze(1)


def runner_up(scores: Tensor, floor: float) -> Tensor:
    """``(batch, n_items)`` second-highest score per item, at least ``floor``.

    On a tie for the top, this equals the top score. With a single bidder it is ``floor``.
    """
    if scores.shape[1] < 2:
        return torch.full_like(scores[:, 0, :], floor)
    return scores.topk(2, dim=1).values[:, 1, :].clamp(min=floor)


def one_hot_allocation(winner: Tensor, sold: Tensor, like: Tensor) -> Tensor:
    """``(batch, n_bidders, n_items)`` allocation giving each sold item to its winner."""
    return torch.zeros_like(like).scatter_(1, winner.unsqueeze(1), sold.unsqueeze(1).to(like.dtype))


def item_reserve(reserve: float | Sequence[float], n_items: int | None = None) -> Tensor:
    """Check a reserve (one number, or one per item) and return it as a float32 tensor."""
    if isinstance(reserve, bool):
        raise ValueError("reserve must be a number or a list of numbers, one per item")
    if isinstance(reserve, (int, float)):
        values = [float(reserve)]
    elif isinstance(reserve, Sequence) and not isinstance(reserve, str):
        values = [float(r) for r in reserve]
        if n_items is not None and len(values) != n_items:
            raise ValueError(f"reserve lists one price per item: expected {n_items}, got {len(values)}")
    else:
        raise ValueError("reserve must be a number or a list of numbers, one per item")
    table = torch.tensor(values, dtype=torch.float32)
    if not bool(torch.isfinite(table).all()) or bool((table < 0).any()):
        raise ValueError("reserve must be finite and >= 0")
    return table
