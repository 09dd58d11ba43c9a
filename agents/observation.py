"""The bidder observation layout, shared by the environment, the core and every policy.

A bidder observes a flat float vector of length ``n_items + 2``::

    [v_i1, ..., v_im, participating (0/1), round_index / rounds]

In repeated-auction envs with feedback a window of past rounds follows these entries
(:mod:`agents.feedback`); policies without ``sees_feedback = True`` are given only the entries
above, so the helpers here apply to what every policy receives.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["EXTRA", "bidder_observations", "values", "participating", "round_fraction"]

#: Entries after the valuations: the participation flag and the round fraction.
EXTRA = 2


def bidder_observations(valuations: Tensor, participation: Tensor, round_fraction: float) -> Tensor:
    """Build every bidder's observation.

    Args:
        valuations: ``(batch, n_bidders, n_items)``.
        participation: ``(batch, n_bidders)`` bool.
        round_fraction: round index divided by the episode length, in [0, 1].

    Returns:
        ``(batch, n_bidders, n_items + 2)``.
    """
    flags = participation.to(valuations.dtype).unsqueeze(-1)
    rounds = torch.full_like(flags, float(round_fraction))
    return torch.cat((valuations, flags, rounds), dim=-1)


def values(observations: Tensor) -> Tensor:
    """``(..., n_items)`` the observing bidder's own valuations."""
    return observations[..., :-EXTRA]


def participating(observations: Tensor) -> Tensor:
    """``(...,)`` bool, True where the bidder takes part in this round."""
    return observations[..., -2] > 0.5


def round_fraction(observations: Tensor) -> Tensor:
    """``(...,)`` round index over episode length."""
    return observations[..., -1]
