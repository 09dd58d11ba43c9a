"""The batched auction round with players: a setting, a mechanism and the bidders' policies.

:class:`AuctionCore` joins a :class:`mechanisms.setting.Setting` (prior, participation,
valuation kind) to one mechanism and adds what needs policies: collecting bids and playing
whole batches. The PettingZoo environments and the scenario runner all play through it, so they
share one definition of a round.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from agents.base import BidderPolicy
from agents.observation import bidder_observations
from mechanisms.base import Mechanism
from mechanisms.participation import Participation
from mechanisms.priors import Prior
from mechanisms.setting import RoundArrays, RoundBatch, Setting

__all__ = ["AuctionCore", "RoundBatch", "RoundArrays"]


class AuctionCore:
    """One auction setting with its mechanism: a prior, a participation model and a mechanism.

    Args:
        mechanism: the auction run each round.
        prior: valuation prior; fixes ``n_bidders`` and ``n_items``.
        participation: who takes part; default everyone.
        valuation: ``additive`` or ``unit_demand``; the mechanism must support it.
        config: the ``env`` section it was built from (:func:`auction_env.setting.build_setting`), if any.

    Raises:
        ValueError: the mechanism is built for another number of bidders or items.
    """

    def __init__(
        self,
        mechanism: Mechanism,
        prior: Prior,
        participation: Participation | None = None,
        valuation: str = "additive",
        *,
        config: Any = None,
    ) -> None:
        self.setting = Setting(prior, participation, valuation)
        self.setting.check(mechanism)
        self.mechanism = mechanism
        self.prior, self.participation, self.valuation = prior, self.setting.participation, valuation
        self.n_bidders, self.n_items = self.setting.n_bidders, self.setting.n_items
        self.config = config

    def sample(
        self, batch: int, generator: torch.Generator | None, device: torch.device | str | None = None
    ) -> tuple[Tensor, Tensor]:
        """Draw valuations ``(batch, n_bidders, n_items)`` and participation ``(batch, n_bidders)``."""
        return self.setting.sample(batch, generator, device)

    def bid_bounds(self, device: torch.device | str) -> tuple[Tensor, Tensor]:
        """``(low, high)`` of the bid space, each ``(n_bidders, n_items)``: 0 and the upper support."""
        return self.setting.bid_bounds(device)

    def resolve(
        self,
        valuations: Tensor,
        participation: Tensor,
        bids: Tensor,
        generator: torch.Generator | None,
        *,
        check: bool = True,
    ) -> RoundBatch:
        """Run the mechanism on ``bids`` and score the outcome (:meth:`Setting.resolve`)."""
        return self.setting.resolve(self.mechanism, valuations, participation, bids, generator, check=check)

    def resolve_numpy(
        self, valuations: np.ndarray, participation: np.ndarray, bids: np.ndarray, generator: torch.Generator | None
    ) -> RoundArrays:
        """:meth:`resolve` for a small CPU batch of validated NumPy bids (:meth:`Setting.resolve_numpy`)."""
        return self.setting.resolve_numpy(self.mechanism, valuations, participation, bids, generator)

    def truthful_utility(self, played: RoundBatch, bidder: int, generator: torch.Generator | None) -> Tensor:
        """``(batch,)`` what ``bidder`` would have earned bidding its values in the rounds ``played``."""
        return self.setting.truthful_utility(self.mechanism, played, bidder, generator)

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
        *,
        high: Tensor | None = None,
    ) -> Tensor:
        """Ask every policy for its bids; ``(batch, n_bidders, n_items)`` clipped to the bid space.

        ``observations`` may carry a feedback window after the first ``n_items + 2`` entries
        (:mod:`agents.feedback`): only policies with ``sees_feedback = True`` get it, the others
        the first entries. ``high`` replaces the prior's upper support as the bid bound (a
        nonstationary prior's highest). Ordinary policies bid first; response policies
        (:class:`agents.base.ResponsePolicy`) then see those reports (absent bidders' zeroed,
        other responders' as truthful).

        Raises:
            ValueError: a policy returned bids of the wrong shape or with NaN/inf.
        """
        low, bound = self.bid_bounds(valuations.device)
        high = bound if high is None else high.to(valuations.device)
        bids = valuations.clone()
        responders = []
        base = self.n_items + 2
        seen = [
            observations[:, i] if getattr(p, "sees_feedback", False) else observations[:, i, :base]
            for i, p in enumerate(policies)
        ]
        outputs: list[tuple[int, Tensor]] = []  # each policy's bids as it returned them
        for i, policy in enumerate(policies):
            if getattr(policy, "sees_reports", False):
                responders.append(i)
                continue
            bids[:, i] = self._checked(i, policies, policy.act(seen[i], generator=generator), len(bids), outputs)
        if responders:
            self._check_finite(bids, policies, outputs)
            reports = bids.clamp(low, high) * participation.unsqueeze(-1).to(bids.dtype)
            for i in responders:
                bid = policies[i].respond(seen[i], reports, generator=generator)
                bids[:, i] = self._checked(i, policies, bid, len(bids), outputs)
        self._check_finite(bids, policies, outputs)
        return bids.clamp(low, high)

    def _checked(
        self, i: int, policies: Sequence[BidderPolicy], bid: Any, batch: int, outputs: list[tuple[int, Tensor]]
    ) -> Tensor:
        """``bid`` (recorded in ``outputs``) if it has the shape of one bidder's bids; a bidder
        before it with NaN or inf bids is named first, as when each was checked in turn."""
        if not isinstance(bid, Tensor) or tuple(bid.shape) != (batch, self.n_items):
            self._check_finite(None, policies, outputs)
            shape = tuple(bid.shape) if isinstance(bid, Tensor) else type(bid).__name__
            raise ValueError(f"bidder_{i} ({policies[i]!r}) returned bids {shape}, expected {(batch, self.n_items)}")
        outputs.append((i, bid))
        return bid

    @staticmethod
    def _check_finite(bids: Tensor | None, policies: Sequence[BidderPolicy], outputs: list[tuple[int, Tensor]]) -> None:
        """Name the first bidder whose bids, as its policy returned them, hold a NaN or inf; one
        reduction over ``bids`` (all of them, as written) when nothing is wrong."""
        if bids is not None and bool(torch.isfinite(bids.sum())):
            return
        for i, bid in outputs:  # a finite bid too large for the bids' dtype is not an error: it is clipped
            if not bool(torch.isfinite(bid).all()):
                raise ValueError(f"bidder_{i} ({policies[i]!r}) returned NaN or infinite bids")
