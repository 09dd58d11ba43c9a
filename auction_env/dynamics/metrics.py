"""Collusion metrics of repeated play (Banchio and Skrzypacz 2022; Calvano et al. 2020).

Per round: the revenue, the *competitive* revenue (what the mechanism earns on the same values
and participation when every present bidder plays the one-shot game's equilibrium bid,
:meth:`mechanisms.base.Mechanism.equilibrium_bids`), the mean bid and the mean equilibrium bid
of the present bidders, and whether each item's winner changed since the last round. Over a run:
revenue / competitive revenue (below 1: bidders keep prices down), mean bid / equilibrium bid,
and the winner-rotation rate (the share of items, sold in two consecutive rounds, whose winner
changed: high rotation with low bids is the signature of bidders taking turns).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from mechanisms.base import Mechanism
from mechanisms.priors import Prior
from mechanisms.setting import RoundBatch, Setting

__all__ = ["RoundMetrics", "CollusionMetrics", "round_metrics", "winners"]


@dataclass(frozen=True)
class RoundMetrics:
    """One round of a batch of episodes; each field ``(batch,)`` float64. ``competitive_revenue``
    and ``equilibrium_bid`` are NaN where the mechanism has no known equilibrium;
    ``winner_changed`` is the share of comparable items whose winner changed (NaN: none comparable)."""

    revenue: Tensor
    competitive_revenue: Tensor
    mean_bid: Tensor
    equilibrium_bid: Tensor
    winner_changed: Tensor


def winners(allocation: Tensor) -> Tensor:
    """``(batch, n_items)`` long: each item's winner, the bidder with more than half of it (-1: none)."""
    share, who = allocation.max(dim=1)
    return torch.where(share > 0.5, who, torch.full_like(who, -1))


def round_metrics(
    setting: Setting,
    mechanism: Mechanism,
    prior: Prior,
    played: RoundBatch,
    previous_winners: Tensor | None,
    high: Tensor,
    generator: torch.Generator | None,
) -> tuple[RoundMetrics, Tensor]:
    """The metrics of ``played`` and this round's winners (for the next round's comparison).

    Args:
        prior: the prior in force this round (the bidders' belief for the equilibrium bid).
        previous_winners: :func:`winners` of the round before, or None in an episode's first round.
        high: ``(n_bidders, n_items)`` upper bids (equilibrium bids are clipped to it).
        generator: the benchmark run's randomness (keep it apart from the episode's).
    """
    present = played.participation
    weight = present.unsqueeze(-1).to(played.bids.dtype).expand_as(played.bids)
    cells = weight.sum((1, 2)).clamp(min=1.0)
    mean_bid = (played.bids * weight).sum((1, 2)) / cells
    eq = mechanism.equilibrium_bids(played.valuations, present, prior)
    nan = torch.full_like(mean_bid, float("nan"))
    if eq is None:
        competitive, eq_bid = nan, nan
    else:
        eq = eq.clamp(torch.zeros_like(high), high)
        benchmark = setting.resolve(mechanism, played.valuations, present, eq, generator, check=False)
        competitive, eq_bid = benchmark.revenue, (eq * weight).sum((1, 2)) / cells
    now = winners(played.outcome.allocation)
    if previous_winners is None:
        changed = nan
    else:
        comparable = (now >= 0) & (previous_winners >= 0)
        count = comparable.sum(-1).to(mean_bid.dtype)
        differ = ((now != previous_winners) & comparable).sum(-1).to(mean_bid.dtype)
        changed = torch.where(count > 0, differ / count.clamp(min=1.0), nan)
    as64 = lambda t: t.detach().double()  # noqa: E731
    metrics = RoundMetrics(as64(played.revenue), as64(competitive), as64(mean_bid), as64(eq_bid), as64(changed))
    return metrics, now


class CollusionMetrics:
    """Running sums of :class:`RoundMetrics` over rounds and episodes, and their ratios."""

    def __init__(self) -> None:
        self._sums = torch.zeros(6, dtype=torch.float64)  # revenue, competitive, bid, eq bid, changed, comparable
        self._known = True

    def add(self, metrics: RoundMetrics) -> None:
        """Add one round of a batch of episodes."""
        if bool(torch.isnan(metrics.competitive_revenue).any()):
            self._known = False
        rotation = metrics.winner_changed
        seen = ~torch.isnan(rotation)
        values = torch.stack(
            (
                metrics.revenue.sum(),
                torch.nan_to_num(metrics.competitive_revenue).sum(),
                metrics.mean_bid.sum(),
                torch.nan_to_num(metrics.equilibrium_bid).sum(),
                rotation[seen].sum(),
                seen.sum().double(),
            )
        )
        self._sums += values.cpu()

    def summary(self) -> dict[str, float | None]:
        """``revenue_ratio`` (revenue / competitive revenue), ``bid_ratio`` (mean bid / equilibrium
        bid), ``winner_rotation``; None where not defined (no equilibrium known, nothing sold twice)."""
        rev, comp, bid, eq, changed, comparable = self._sums.tolist()
        known = self._known and comp > 0
        return {
            "revenue_ratio": rev / comp if known else None,
            "bid_ratio": bid / eq if self._known and eq > 0 else None,
            "winner_rotation": changed / comparable if comparable > 0 else None,
        }
