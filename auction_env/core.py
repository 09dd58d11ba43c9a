"""The batched auction round: prior -> participation -> bids -> mechanism -> outcome.

Everything that plays auctions (the PettingZoo environment, the scenario runner, training
data) goes through :class:`AuctionCore`, so they share one definition of a round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from agents.base import BidderPolicy
from auction_env.observation import bidder_observations
from auction_env.participation import Always, Participation
from mechanisms.base import Mechanism, Outcome
from mechanisms.priors import Prior

__all__ = ["AuctionCore", "RoundBatch", "RoundArrays"]


@dataclass(frozen=True)
class RoundBatch:
    """A batch of played rounds.

    Attributes:
        valuations: ``(batch, n_bidders, n_items)`` private values.
        participation: ``(batch, n_bidders)`` bool.
        bids: ``(batch, n_bidders, n_items)`` bids the mechanism saw (absent bidders' are 0).
        outcome: allocation ``(batch, n_bidders, n_items)`` and payments ``(batch, n_bidders)``;
            absent bidders get nothing and pay nothing.
        utilities: ``(batch, n_bidders)`` ``<v_i, a_i> - p_i`` (0 for absent bidders).
    """

    valuations: Tensor
    participation: Tensor
    bids: Tensor
    outcome: Outcome
    utilities: Tensor

    @property
    def revenue(self) -> Tensor:
        """``(batch,)`` total payments."""
        return self.outcome.revenue

    @property
    def welfare(self) -> Tensor:
        """``(batch,)`` total value of the allocated items."""
        return self.outcome.welfare(self.valuations)


@dataclass(frozen=True)
class RoundArrays:
    """A small batch of played rounds as NumPy arrays (:meth:`AuctionCore.resolve_numpy`);
    the fields and shapes of :class:`RoundBatch`, with the outcome unpacked."""

    valuations: np.ndarray
    participation: np.ndarray
    bids: np.ndarray
    allocation: np.ndarray
    payments: np.ndarray
    item_payments: np.ndarray | None
    utilities: np.ndarray

    def to_batch(self) -> RoundBatch:
        """The same rounds as a :class:`RoundBatch` of CPU tensors (sharing memory)."""
        t = torch.from_numpy
        items = None if self.item_payments is None else t(self.item_payments)
        outcome = Outcome(t(self.allocation), t(self.payments), items)
        return RoundBatch(t(self.valuations), t(self.participation), t(self.bids), outcome, t(self.utilities))


class AuctionCore:
    """One auction setting: a prior, a participation model and a mechanism.

    Args:
        mechanism: the auction run each round.
        prior: valuation prior; fixes ``n_bidders`` and ``n_items``.
        participation: who takes part; default everyone.
        valuation: ``additive`` or ``unit_demand``; the mechanism must support it.

    Raises:
        ValueError: the mechanism is built for another number of bidders or items.
    """

    def __init__(
        self, mechanism: Mechanism, prior: Prior, participation: Participation | None = None, valuation: str = "additive"
    ) -> None:
        if valuation not in mechanism.valuations:
            raise ValueError(
                f"mechanism {type(mechanism).__name__} supports {', '.join(mechanism.valuations)} valuations, not {valuation}"
            )
        self.valuation = valuation
        self.mechanism = mechanism
        self.prior = prior
        self.n_bidders, self.n_items = prior.n_bidders, prior.n_items
        self.participation = participation if participation is not None else Always(self.n_bidders)
        if self.participation.n_bidders != self.n_bidders:
            raise ValueError(
                f"participation model is for {self.participation.n_bidders} bidders, prior for {self.n_bidders}"
            )
        for what, want, got in (("bidders", self.n_bidders, mechanism.n_bidders), ("items", self.n_items, mechanism.n_items)):
            if got is not None and got != want:
                raise ValueError(f"mechanism {type(mechanism).__name__} is built for {got} {what}, the setting has {want}")

    def sample(self, batch: int, generator: torch.Generator | None, device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
        """Draw valuations ``(batch, n_bidders, n_items)`` and participation ``(batch, n_bidders)``."""
        valuations = self.prior.sample(batch, generator, device)
        return valuations, self.participation.sample(batch, generator, valuations.device)

    def bid_bounds(self, device: torch.device | str) -> tuple[Tensor, Tensor]:
        """``(low, high)`` of the bid space, each ``(n_bidders, n_items)``: 0 and the upper support."""
        _, high = self.prior.bounds(device)
        return torch.zeros_like(high), high

    def resolve(
        self,
        valuations: Tensor,
        participation: Tensor,
        bids: Tensor,
        generator: torch.Generator | None,
        *,
        check: bool = True,
    ) -> RoundBatch:
        """Run the mechanism on ``bids`` and score the outcome.

        Args:
            valuations: ``(batch, n_bidders, n_items)``.
            participation: ``(batch, n_bidders)`` bool.
            bids: ``(batch, n_bidders, n_items)``; absent bidders' bids are zeroed here.
            generator: randomness for the mechanism (tie-breaking, noise).
            check: validate the bids (shape, finite, >= 0) before running.
        """
        if self.participation.always:
            outcome = self.mechanism.run(bids, generator=generator, check=check)
        else:
            present = participation.unsqueeze(-1).to(bids.dtype)
            bids = bids * present
            raw = self.mechanism.run(bids, generator=generator, check=check)
            # An item allocated to an absent bidder goes unsold; absent bidders pay nothing.
            items = raw.item_payments * present if raw.item_payments is not None else None
            outcome = Outcome(raw.allocation * present, raw.payments * present.squeeze(-1), items)
        return RoundBatch(valuations, participation, bids, outcome, outcome.utilities(valuations))

    def resolve_numpy(
        self, valuations: np.ndarray, participation: np.ndarray, bids: np.ndarray, generator: torch.Generator | None
    ) -> RoundArrays:
        """:meth:`resolve` for a small CPU batch of validated NumPy bids (the PettingZoo step).

        The same round: absent bidders' bids are zeroed, they get nothing and pay nothing. The
        mechanism runs through :meth:`Mechanism.run_numpy` (NumPy twins of the exact
        mechanisms, bit for bit; others through :meth:`Mechanism.run`), and utilities are
        summed in NumPy, so they may differ from :meth:`resolve`'s in the last bit.

        Args:
            valuations: ``(batch, n_bidders, n_items)``.
            participation: ``(batch, n_bidders)`` bool.
            bids: ``(batch, n_bidders, n_items)`` within the bid space.
            generator: randomness for the mechanism (tie-breaking, noise).
        """
        if self.participation.always:
            allocation, payments, items = self.mechanism.run_numpy(bids, generator=generator)
        else:
            present = participation.astype(bids.dtype)
            bids = bids * present[..., None]
            allocation, payments, items = self.mechanism.run_numpy(bids, generator=generator)
            allocation, payments = allocation * present[..., None], payments * present
            items = items * present[..., None] if items is not None else None
        utilities = (valuations * allocation).sum(-1) - payments
        return RoundArrays(valuations, participation, bids, allocation, payments, items, utilities)

    def truthful_utility(self, played: RoundBatch, bidder: int, generator: torch.Generator | None) -> Tensor:
        """``(batch,)`` what ``bidder`` would have earned bidding its values in the rounds ``played``
        (the others' bids unchanged): the baseline of a strategic bidder's gain over truthful bidding."""
        low, high = self.bid_bounds(played.valuations.device)
        bids = played.bids.clone()
        bids[:, bidder] = played.valuations[:, bidder].clamp(low[bidder], high[bidder])
        return self.resolve(played.valuations, played.participation, bids, generator, check=False).utilities[:, bidder]

    def play(
        self,
        policies: Sequence[BidderPolicy],
        batch: int,
        generator: torch.Generator | None,
        *,
        round_fraction: float = 0.0,
        device: torch.device | str | None = None,
    ) -> RoundBatch:
        """Sample a batch of rounds, let each bidder's policy bid, and resolve them.

        Bids are clipped to the bid space ``[0, upper support]``, as in the environment.

        Raises:
            ValueError: a policy returned bids of the wrong shape or with NaN/inf.
        """
        if len(policies) != self.n_bidders:
            raise ValueError(f"expected {self.n_bidders} policies, got {len(policies)}")
        valuations, participation = self.sample(batch, generator, device)
        obs = bidder_observations(valuations, participation, round_fraction)
        bids = self.collect_bids(policies, obs, valuations, participation, generator)
        return self.resolve(valuations, participation, bids, generator, check=False)

    def collect_bids(
        self,
        policies: Sequence[BidderPolicy],
        observations: Tensor,
        valuations: Tensor,
        participation: Tensor,
        generator: torch.Generator | None,
    ) -> Tensor:
        """Ask every policy for its bids; ``(batch, n_bidders, n_items)`` clipped to the bid space.

        Ordinary policies bid first; response policies (:class:`agents.base.ResponsePolicy`)
        then see those reports (absent bidders' zeroed, other responders' as truthful).

        Raises:
            ValueError: a policy returned bids of the wrong shape or with NaN/inf.
        """
        low, high = self.bid_bounds(valuations.device)
        bids = valuations.clone()
        responders = []
        for i, policy in enumerate(policies):
            if getattr(policy, "sees_reports", False):
                responders.append(i)
                continue
            bids[:, i] = self._checked(i, policy, policy.act(observations[:, i], generator=generator), valuations.shape[0])
        if responders:
            reports = bids.clamp(low, high) * participation.unsqueeze(-1).to(bids.dtype)
            for i in responders:
                bid = policies[i].respond(observations[:, i], reports, generator=generator)
                bids[:, i] = self._checked(i, policies[i], bid, valuations.shape[0])
        return bids.clamp(low, high)

    def _checked(self, i: int, policy: BidderPolicy, bid: Any, batch: int) -> Tensor:
        if not isinstance(bid, Tensor) or tuple(bid.shape) != (batch, self.n_items):
            shape = tuple(bid.shape) if isinstance(bid, Tensor) else type(bid).__name__
            raise ValueError(f"bidder_{i} ({policy!r}) returned bids {shape}, expected {(batch, self.n_items)}")
        if not bool(torch.isfinite(bid).all()):
            raise ValueError(f"bidder_{i} ({policy!r}) returned NaN or infinite bids")
        return bid
