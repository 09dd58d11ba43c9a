"""How an auctioneer can deviate from the published mechanism, given the sealed bids.

Both deviations are feasible and bid-IR (no bidder pays more than its bid for what it gets), so
a bidder cannot tell from its own outcome alone; only an audit (Definition 4.1) reveals them.

Shapes: bids ``(batch, n_bidders, n_items)`` -> :class:`~mechanisms.base.Outcome`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mechanisms.base import Mechanism, Outcome
from mechanisms.exact.itemwise import one_hot_allocation, top_two

__all__ = ["max_revenue", "shill_bid", "DEVIATIONS", "deviate", "auctioneer_regret"]


def max_revenue(mechanism: Mechanism, bids: Tensor, generator: torch.Generator | None = None) -> Outcome:
    """The most revenue any feasible, bid-IR outcome can raise: each item to its highest bidder at
    that bidder's bid (first price). ``mechanism`` is unused (the deviation ignores it)."""
    winner, top, _ = top_two(bids, generator)
    allocation = one_hot_allocation(winner, (top > 0).to(bids.dtype), bids)
    item_payments = allocation * bids
    return Outcome(allocation, item_payments.sum(-1), item_payments)


def shill_bid(
    mechanism: Mechanism, bids: Tensor, generator: torch.Generator | None = None, *, margin: float = 1e-3
) -> Outcome:
    """Run the published mechanism with a fake bid just under the highest on every item.

    The mechanism has a fixed number of seats, so the shill takes the runner-up's place in the
    price computation: each item's second-highest bid is raised to ``highest - margin``. In a
    second-price style auction the winner then pays (almost) its own bid.
    """
    winner, top, second = top_two(bids, generator)
    shill = torch.maximum(second, top - margin).clamp_min(0.0)  # (batch, 1, m)
    is_winner = torch.nn.functional.one_hot(winner.squeeze(1), bids.shape[1]).permute(0, 2, 1).bool()  # (b, n, m)
    runner_up = (~is_winner) & (bids == second)
    first_runner_up = runner_up & (runner_up.cumsum(1) == 1)
    raised = torch.where(first_runner_up, shill.expand_as(bids), bids)
    return mechanism.run(raised, generator=generator, check=False)


DEVIATIONS = {"max_revenue": max_revenue, "shill_bid": shill_bid}


def deviate(
    name: str, mechanism: Mechanism, bids: Tensor, participation: Tensor, generator: torch.Generator | None = None
) -> Outcome:
    """The outcome the deviation ``name`` announces for ``bids`` (absent bidders' bids zeroed);
    absent bidders get nothing and pay nothing, as in :meth:`AuctionCore.resolve`."""
    out = DEVIATIONS[name](mechanism, bids, generator)
    present = participation.unsqueeze(-1).to(out.allocation.dtype)
    items = out.item_payments * present if out.item_payments is not None else None
    return Outcome(out.allocation * present, out.payments * present.squeeze(-1), items)


def auctioneer_regret(published: Outcome, deviation: Outcome) -> Tensor:
    """``(batch,)`` aRgt: the deviation's revenue minus the published mechanism's."""
    return deviation.revenue - published.revenue
