"""A batch of repeated-auction episodes played round by round (the dynamics engine)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import Tensor

from agents.actions import grid_bids, grid_levels
from agents.base import BidderPolicy
from agents.feedback import round_feedback, slot_bounds, slot_size
from auction_env.core import AuctionCore
from auction_env.dynamics.metrics import RoundMetrics, round_metrics
from auction_env.dynamics.values import ValueProcess
from mechanisms.setting import RoundBatch

__all__ = ["EpisodeBatch", "PlayedRound"]


@dataclass(frozen=True)
class PlayedRound:
    """One round of every episode: what was played and, with metrics on, its collusion metrics."""

    round: RoundBatch
    metrics: RoundMetrics | None


class EpisodeBatch:
    """``batch`` episodes of ``rounds`` rounds each, stepped together.

    A bidder's observation is ``[values (m), participating, round / rounds]`` followed by its
    feedback window (:mod:`agents.feedback`, newest round first, zero-padded). Bids are clipped
    to ``[0, upper support]`` (the highest over any prior shift) and, with a bid grid, snapped
    down to the grid.

    Args:
        core: the setting and mechanism.
        rounds: episode length.
        values: how valuations move between rounds; default i.i.d. from the setting's prior.
        feedback: a mode of :data:`agents.feedback.FEEDBACK_MODES`.
        window: rounds of feedback in the observation.
        levels: bid grid size, or None for continuous bids.
        metrics: compute :class:`RoundMetrics` every round.
    """

    def __init__(
        self,
        core: AuctionCore,
        *,
        rounds: int,
        values: ValueProcess | None = None,
        feedback: str = "none",
        window: int = 1,
        levels: int | None = None,
        metrics: bool = False,
    ) -> None:
        self.core = core
        self.rounds = rounds
        self.values = values or ValueProcess(core.setting)
        self.feedback, self.window, self.levels, self.metrics = feedback, window, levels, metrics
        n, m = core.n_bidders, core.n_items
        self.slot = slot_size(feedback, n, m)
        self.observation_size = m + 2 + (window * self.slot if self.slot else 0)
        self.bid_high = self.values.high.clone()
        self.round_index = 0
        self._window: Tensor | None = None

    @classmethod
    def from_config(cls, core: AuctionCore, env: Any) -> EpisodeBatch:
        """Build from an ``env`` section (:class:`auction_env.config.EnvConfig`).

        Raises:
            ConfigError: a prior shift of another size or with bad parameters.
        """
        fb = env.feedback
        return cls(
            core,
            rounds=env.rounds,
            values=ValueProcess.from_config(core.setting, env.values, rounds=env.rounds),
            feedback=fb.mode if fb is not None else "none",
            window=fb.window if fb is not None else 1,
            levels=env.bidding.levels if env.bidding is not None else None,
            metrics=env.metrics,
        )

    # -- spaces ----------------------------------------------------------------------------
    def level_space(self) -> spaces.Discrete | spaces.MultiDiscrete:
        """A bidder's action space on the bid grid: ``Discrete(levels)`` with one item,
        ``MultiDiscrete([levels] * n_items)`` with more."""
        if self.levels is None:
            raise ValueError("no bid grid: give bidding: {levels: k}")
        m = self.core.n_items
        return spaces.Discrete(self.levels) if m == 1 else spaces.MultiDiscrete([self.levels] * m)

    def observation_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` of every bidder's observation, each ``(n_bidders, observation_size)``."""
        low, high = self.values.low.numpy(), self.values.high.numpy()
        n = self.core.n_bidders
        lo = [low, np.zeros((n, 2), np.float32)]
        hi = [high, np.ones((n, 2), np.float32)]
        if self.slot:
            slot_lo, slot_hi = slot_bounds(self.feedback, self.bid_high.numpy())
            lo.append(np.tile(slot_lo, (1, self.window)))
            hi.append(np.tile(slot_hi, (1, self.window)))
        return np.concatenate(lo, 1).astype(np.float32), np.concatenate(hi, 1).astype(np.float32)

    # -- playing ---------------------------------------------------------------------------
    def reset(
        self,
        batch: int,
        generator: torch.Generator | None,
        device: torch.device | str = "cpu",
        policies: Sequence[BidderPolicy | None] = (),
    ) -> None:
        """Start ``batch`` new episodes and draw their first round; ``generator`` draws every
        round's valuations and participation until the next reset. Learning ``policies``
        (those with ``begin_episodes``) start afresh for the new episodes."""
        self.batch, self.device = batch, torch.device(device)
        self._value_gen = generator
        self.round_index = 0
        self.values.reset()
        n = self.core.n_bidders
        self._window = torch.zeros(batch, n, self.window, self.slot, device=self.device)
        self._winners: Tensor | None = None
        self._draw()
        for policy in policies:
            if hasattr(policy, "begin_episodes"):
                policy.begin_episodes(batch, generator)

    def _draw(self) -> None:
        gen = self._value_gen
        self.valuations, self.participation = self.values.draw(self.round_index, self.batch, gen, self.device)

    def observations(self) -> Tensor:
        """``(batch, n_bidders, observation_size)`` every bidder's observation of the coming round."""
        flags = self.participation.unsqueeze(-1).to(self.valuations.dtype)
        fraction = torch.full_like(flags, min(self.round_index / self.rounds, 1.0))
        parts = [self.valuations, flags, fraction]
        if self.slot:
            parts.append(self._window.reshape(self.batch, self.core.n_bidders, -1))
        return torch.cat(parts, dim=-1)

    def grid_bids(self, levels: Tensor) -> Tensor:
        """The bids of grid ``levels`` ``(batch, n_bidders, n_items)``."""
        return grid_bids(levels.to(self.bid_high.dtype), self.levels, self.bid_high.to(levels.device))

    def play(
        self, bids: Tensor, generator: torch.Generator | None, benchmark_generator: torch.Generator | None = None
    ) -> PlayedRound:
        """Resolve the coming round with ``bids`` ``(batch, n_bidders, n_items)``, update the
        feedback windows and draw the next round (unless the episodes are over).

        Args:
            generator: the mechanism's randomness (tie-breaking, noise).
            benchmark_generator: randomness of the metrics' benchmark run (kept apart so that
                turning metrics on does not change the episode).
        """
        high = self.bid_high.to(bids.device)
        bids = bids.clamp(torch.zeros_like(high), high)
        if self.levels is not None:
            bids = self.grid_bids(grid_levels(bids, self.levels, high))
        played = self.core.resolve(self.valuations, self.participation, bids, generator, check=False)
        metrics = None
        if self.metrics:
            prior = self.values.prior_at(self.round_index)
            metrics, self._winners = round_metrics(
                self.core.setting, self.core.mechanism, prior, played, self._winners, high, benchmark_generator
            )
        if self.slot:
            slot = round_feedback(
                self.feedback, played.bids, played.participation, played.outcome.allocation, played.outcome.payments
            )
            self._window = torch.cat((slot.unsqueeze(2).to(self._window.dtype), self._window[:, :, :-1]), dim=2)
        self.round_index += 1
        if self.round_index < self.rounds:
            self._draw()
        return PlayedRound(played, metrics)

    def step(
        self,
        policies: Sequence[BidderPolicy],
        generator: torch.Generator | None,
        benchmark_generator: torch.Generator | None = None,
    ) -> PlayedRound:
        """One round played by ``policies``: each bids on its observation (policies that do not
        read feedback get the first ``n_items + 2`` entries), the round is resolved, and policies
        that learn (``learns = True``) are given what happened (:meth:`learn` of the Q-learner)."""
        observations = self.observations()
        bids = self.core.collect_bids(
            policies, observations, self.valuations, self.participation, generator, high=self.bid_high
        )
        played = self.play(bids, generator, benchmark_generator)
        learners = [i for i, p in enumerate(policies) if getattr(p, "learns", False)]
        if learners:
            after = self.observations()  # after the last round: its values, the window with this round
            for i in learners:
                policies[i].learn(
                    observations[:, i], played.round.bids[:, i], played.round.utilities[:, i], after[:, i], generator
                )
        return played
