"""How an auctioneer can deviate from the published mechanism, given the sealed bids.

``max_revenue`` and ``shill_bid`` announce another outcome; ``seed_grind`` reruns the mechanism
with many seeds and keeps the most profitable draw of its noise; ``drop_bidder`` marks a present
bidder absent. Each is feasible and none charges a bidder more than the mechanism could, so a
bidder cannot tell from its own outcome alone; only an audit reveals them (the tests in
``tests/auction_env/test_credible_attacks.py`` mount each against the protocol's log).

Shapes: bids ``(batch, n_bidders, n_items)`` -> :class:`~mechanisms.base.Outcome`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mechanisms.base import Mechanism, Outcome
from mechanisms.exact.itemwise import one_hot_allocation, top_two, winners_numpy

__all__ = [
    "max_revenue",
    "shill_bid",
    "seed_grind",
    "drop_bidder",
    "DEVIATIONS",
    "deviate",
    "deviate_numpy",
    "deviation_revenue_numpy",
    "auctioneer_regret",
]


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


def _most_revenue(outcomes: list[Outcome]) -> Outcome:
    """Per row of the batch, the outcome with the highest revenue among ``outcomes``."""
    best = torch.stack([o.revenue for o in outcomes]).argmax(0)  # (batch,)
    rows = torch.arange(best.shape[0], device=best.device)

    def pick(tensors: list[Tensor]) -> Tensor:
        return torch.stack(tensors)[best, rows]

    items = None
    if all(o.item_payments is not None for o in outcomes):
        items = pick([o.item_payments for o in outcomes])
    return Outcome(pick([o.allocation for o in outcomes]), pick([o.payments for o in outcomes]), items)


def seed_grind(
    mechanism: Mechanism, bids: Tensor, generator: torch.Generator | None = None, *, tries: int = 32
) -> Outcome:
    """Seed grinding: run the published mechanism ``tries`` times, each with fresh randomness
    from ``generator``, and keep the draw that raises the most revenue. Pays only for mechanisms
    with output noise or random tie-breaking; the protocol binds the seed before the bids."""
    return _most_revenue([mechanism.run(bids, generator=generator, check=False) for _ in range(tries)])


def drop_bidder(mechanism: Mechanism, bids: Tensor, generator: torch.Generator | None = None) -> Outcome:
    """Falsified participation: mark one bidder absent (its bids zeroed, nothing to it) and run
    the published mechanism; per round, the bidder whose removal raises the most revenue."""
    outcomes = []
    for i in range(bids.shape[1]):
        keep = torch.ones(bids.shape[1], dtype=bids.dtype, device=bids.device)
        keep[i] = 0.0
        out = mechanism.run(bids * keep[:, None], generator=generator, check=False)
        items = out.item_payments * keep[:, None] if out.item_payments is not None else None
        outcomes.append(Outcome(out.allocation * keep[:, None], out.payments * keep, items))
    return _most_revenue(outcomes)


DEVIATIONS = {"max_revenue": max_revenue, "shill_bid": shill_bid, "seed_grind": seed_grind, "drop_bidder": drop_bidder}


def deviate(
    name: str, mechanism: Mechanism, bids: Tensor, participation: Tensor, generator: torch.Generator | None = None
) -> Outcome:
    """The outcome the deviation ``name`` announces for ``bids`` (absent bidders' bids zeroed);
    absent bidders get nothing and pay nothing, as in :meth:`AuctionCore.resolve`."""
    out = DEVIATIONS[name](mechanism, bids, generator)
    present = participation.unsqueeze(-1).to(out.allocation.dtype)
    items = out.item_payments * present if out.item_payments is not None else None
    return Outcome(out.allocation * present, out.payments * present.squeeze(-1), items)


def _max_revenue_numpy(bids: np.ndarray, generator: torch.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`max_revenue` in NumPy, with the same tie-breaking draws (the twin of the PettingZoo step)."""
    if bids.shape[0] == 1:  # one round (the PettingZoo step): Python lists cost less than NumPy calls
        columns = list(zip(*bids[0].tolist()))  # per item, every bidder's bid
        tops = [max(column) for column in columns]
        if all(column.count(top) == 1 for column, top in zip(columns, tops)):  # no tie: no draws
            rows = zip(*[[float(b == top > 0) for b in column] for column, top in zip(columns, tops)])
            allocation = np.array([list(rows)], dtype=bids.dtype)
            return allocation, np.add.reduce(allocation * bids, -1)
    won, top, _ = winners_numpy(bids, generator)
    allocation = (won & (top > 0)).astype(bids.dtype)
    return allocation, np.add.reduce(allocation * bids, -1)


def deviate_numpy(
    name: str,
    mechanism: Mechanism,
    bids: np.ndarray,
    participation: np.ndarray | None,
    generator: torch.Generator | None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`deviate` on a small batch of NumPy bids (absent bidders' zeroed): ``(allocation,
    payments)`` as arrays; ``participation`` None when every bidder takes part. ``max_revenue``
    has a NumPy twin (same outcome, for the one-round PettingZoo step, where torch's per-op
    dispatch costs more than the arithmetic); the other deviations go through :func:`deviate`."""
    if name == "max_revenue":
        allocation, payments = _max_revenue_numpy(bids, generator)
    else:
        everyone = np.ones(bids.shape[:2], dtype=bool) if participation is None else participation
        with torch.inference_mode():
            out = deviate(name, mechanism, torch.from_numpy(bids), torch.from_numpy(everyone), generator)
        allocation, payments = out.allocation.numpy(), out.payments.numpy()
    if participation is None:
        return allocation, payments
    present = participation.astype(bids.dtype)
    return allocation * present[..., None], payments * present


def deviation_revenue_numpy(
    name: str,
    mechanism: Mechanism,
    bids: np.ndarray,
    participation: np.ndarray | None,
    generator: torch.Generator,
    seed: int,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """The ``(batch,)`` revenue the deviation ``name`` would announce for NumPy ``bids`` (absent
    bidders' zeroed), and its outcome if finding the revenue made it, else None.

    ``generator`` is seeded with ``seed`` before the deviation draws from it. ``max_revenue``'s
    revenue is each item's highest bid, whichever tied bidder wins it, so it needs no allocation
    and no draws: its outcome (None here) is :func:`deviate_numpy` with the generator seeded with
    ``seed``, made only if announced. Every other deviation's outcome is made here.
    """
    if name == "max_revenue" and bids.shape[0] == 1:  # one round: Python lists cost less than NumPy calls
        return np.array([sum(max(0.0, *column) for column in zip(*bids[0].tolist()))]), None
    if name == "max_revenue":
        return np.add.reduce(np.maximum(bids.max(axis=1), 0.0), -1), None
    allocation, payments = deviate_numpy(name, mechanism, bids, participation, generator.manual_seed(seed))
    return np.add.reduce(payments, -1), (allocation, payments)


def auctioneer_regret(published: Outcome, deviation: Outcome) -> Tensor:
    """``(batch,)`` aRgt: the deviation's revenue minus the published mechanism's."""
    return deviation.revenue - published.revenue
