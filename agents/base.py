"""The policy contract: batched observations in, batched actions out."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

__all__ = ["BidderPolicy", "ResponsePolicy"]


class BidderPolicy(ABC):
    """A bidder's strategy, acting on a batch of rounds at once.

    The environment calls it with batch 1; the scenario runner with thousands of rounds.
    Observations follow :mod:`agents.observation`: ``[values (n_items), participating,
    round_fraction]``. Optional hooks for repeated play (:mod:`auction_env.dynamics`): a policy
    with ``sees_feedback = True`` also gets the feedback window (:mod:`agents.feedback`); one with
    ``learns = True`` has ``learn(observations, bids, utilities, next_observations, generator)``
    called after every round and ``begin_episodes(batch, generator)`` before each batch of
    episodes (the Q-learner).
    """

    @abstractmethod
    def act(self, observations: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Choose bids.

        Args:
            observations: ``(batch, n_items + 2)``.
            generator: randomness for stochastic policies.

        Returns:
            ``(batch, n_items)`` bids in value units, on ``observations.device``.
        """

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class ResponsePolicy(BidderPolicy):
    """A bidder that sees the other bidders' reports of the same round before bidding.

    White-box adversaries (e.g. the oracle misreporter) are of this kind. The core lets every
    ordinary policy bid first, then calls :meth:`respond` with those reports (absent bidders'
    zeroed; other response policies appear as truthful). Outside the core there are no reports
    to show, so :meth:`act` raises.
    """

    sees_reports = True

    @abstractmethod
    def respond(self, observations: Tensor, reports: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Choose bids knowing the others' reports.

        Args:
            observations: ``(batch, n_items + 2)``, this bidder's.
            reports: ``(batch, n_bidders, n_items)``, everyone's reports (this bidder's column
                holds its values and is to be ignored).

        Returns:
            ``(batch, n_items)`` bids.
        """

    def act(self, observations: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        raise TypeError(
            f"{type(self).__name__} needs the other bidders' reports: play it through AuctionCore.play, "
            "a scenario, or SingleLearnerEnv (as an opponent), or call respond(observations, reports)"
        )
