"""A tabular Q-learning bidder on a bid grid, batched over independent episodes.

The learners of Banchio and Skrzypacz, "Artificial Intelligence and Auction Design" (2022):
each bidder keeps a table ``Q[state, bid level]``, bids greedily with probability ``1 - eps_t``
(``eps_t = exp(-decay t)``, uniformly at random otherwise) and after each round moves the played
entry toward ``utility + gamma max_b Q[next state, b]`` with step ``alpha`` (Watkins 1989). With
``counterfactual: true`` and feedback that reveals each item's lowest winning bid
(:mod:`agents.feedback`, mode ``winning`` or ``public``), it updates every bid level at once
with the utility that bid would have earned against that competing bid ("synchronous"
updating, Asker, Fershtman and Pakes 2022), which is what makes revealing the winning bid matter.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from agents.actions import grid_bids, grid_levels
from agents.base import BidderPolicy
from agents.feedback import FEEDBACK_MODES, slot_size, slots
from mechanisms.base import Mechanism
from mechanisms.priors import Prior

__all__ = ["QLearner"]

#: Offset of the lowest winning bid (item 0) in a feedback slot: filled, participated, allocation, payment.
_LOWEST_BID = 3


class QLearner(BidderPolicy):
    """Tabular Q-learning over a bid grid for a one-item auction; one table per episode.

    Args:
        prior, bidder, n_bidders, n_items, mechanism: injected by the environment.
        feedback, window, bid_levels: the env's feedback mode, window and bid grid (injected).
        levels: bid grid size when the env has none (default 21: steps of 1/20 of the support).
        alpha: learning rate.
        gamma: discount factor.
        decay: exploration ``eps_t = exp(-decay t)`` after ``t`` rounds.
        state: ``none`` (one state) or ``feedback`` (the last round's lowest winning bid, on the
            grid; needs feedback ``winning`` or ``public``).
        counterfactual: update every bid level with its counterfactual utility (needs feedback
            ``winning`` or ``public``).
        optimism: initial Q-values are drawn uniformly from ``[0, optimism x value / (1 - gamma)]``.

    Raises:
        ValueError: more than one item, or a state or update the feedback mode cannot support.
    """

    sees_feedback = True
    learns = True

    def __init__(
        self,
        prior: Prior,
        bidder: int,
        n_bidders: int,
        n_items: int,
        mechanism: Mechanism,
        feedback: str = "none",
        window: int = 1,
        bid_levels: int | None = None,
        levels: int = 21,
        alpha: float = 0.05,
        gamma: float = 0.95,
        decay: float = 5e-5,
        state: str = "none",
        counterfactual: bool = False,
        optimism: float = 1.0,
    ) -> None:
        if n_items != 1:
            raise ValueError(f"the Q-learner bids on one item; this auction has {n_items}")
        if feedback not in FEEDBACK_MODES:
            raise ValueError(f"unknown feedback mode {feedback!r}")
        if state not in ("none", "feedback"):
            raise ValueError(f"state must be 'none' or 'feedback', got {state!r}")
        reveals = feedback in ("winning", "public")
        if (state == "feedback" or counterfactual) and not reveals:
            raise ValueError("state 'feedback' and counterfactual updates need feedback mode 'winning' or 'public'")
        for name, value, ok, bounds in (
            ("alpha", alpha, 0 <= alpha <= 1, "in [0, 1]"),
            ("gamma", gamma, 0 <= gamma < 1, "in [0, 1)"),
            ("optimism", optimism, 0 <= optimism <= 1e6, "in [0, 1e6]"),
            ("decay", decay, decay >= 0, ">= 0"),
        ):
            if not ok:
                raise ValueError(f"{name} must be {bounds}, got {value}")
        self.bidder, self.n_bidders = bidder, n_bidders
        self.mechanism = mechanism
        self.levels = int(bid_levels if bid_levels is not None else levels)
        if self.levels < 2:
            raise ValueError(f"levels must be >= 2, got {self.levels}")
        self.alpha, self.gamma, self.decay, self.optimism = float(alpha), float(gamma), float(decay), float(optimism)
        self.state, self.counterfactual = state, bool(counterfactual)
        self._slot = slot_size(feedback, n_bidders, n_items)
        self._high = prior.high[bidder].max().item()
        self._states = self.levels + 1 if state == "feedback" else 1
        self.q: Tensor | None = None
        self.steps = 0

    def begin_episodes(self, batch: int, generator: torch.Generator | None) -> None:
        """Fresh tables for ``batch`` new episodes (optimistic random initial values, then no
        exploration discount carried over)."""
        gen_device = generator.device if generator is not None else torch.device("cpu")
        scale = self.optimism * self._high / (1.0 - self.gamma)
        self.q = torch.rand((batch, self._states, self.levels), generator=generator, device=gen_device) * scale
        self.steps = 0

    @property
    def epsilon(self) -> float:
        """The current exploration probability."""
        return math.exp(-self.decay * self.steps)

    def _state(self, observations: Tensor) -> Tensor:
        if self._states == 1:
            return torch.zeros(observations.shape[0], dtype=torch.long, device=observations.device)
        newest = slots(observations, 1, self._slot)[:, 0]
        level = grid_levels(newest[:, _LOWEST_BID : _LOWEST_BID + 1], self.levels, newest.new_tensor([self._high]))
        return torch.where(newest[:, 0] > 0.5, level[:, 0] + 1, torch.zeros_like(level[:, 0]))

    def act(self, observations: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        batch = observations.shape[0]
        if self.q is None or self.q.shape[0] != batch:
            self.begin_episodes(batch, generator)
        q = self.q.to(observations.device)
        rows = q[torch.arange(batch, device=q.device), self._state(observations)]
        greedy = rows.argmax(-1)
        gen_device = generator.device if generator is not None else torch.device("cpu")
        explore = torch.rand(batch, generator=generator, device=gen_device).to(q.device) < self.epsilon
        random = torch.randint(self.levels, (batch,), generator=generator, device=gen_device).to(q.device)
        level = torch.where(explore, random, greedy)
        self.steps += 1
        return grid_bids(level.unsqueeze(-1).to(observations.dtype), self.levels, self._high)

    def learn(
        self,
        observations: Tensor,
        bids: Tensor,
        utilities: Tensor,
        next_observations: Tensor,
        generator: torch.Generator | None,
    ) -> None:
        """Update the tables with one round: ``observations`` before it, the ``bids`` ``(batch, 1)``
        the mechanism saw, the ``utilities`` ``(batch,)`` earned and ``next_observations`` (whose
        newest feedback slot is this round's). Rounds the bidder sat out are not learned from."""
        q = self.q
        batch = torch.arange(q.shape[0], device=q.device)
        present = observations[:, 1] > 0.5
        s, s_next = self._state(observations), self._state(next_observations)
        future = self.gamma * q[batch, s_next].max(-1).values
        if self.counterfactual:
            competing = slots(next_observations, 1, self._slot)[:, 0, _LOWEST_BID]
            payoff = self._counterfactual(observations[:, 0], competing, generator)  # (batch, levels)
            target = payoff + future.unsqueeze(-1)
            row = q[batch, s]
            q[batch, s] = torch.where(present.unsqueeze(-1), row + self.alpha * (target - row), row)
            return
        level = grid_levels(bids, self.levels, bids.new_tensor([self._high]))[:, 0]
        old = q[batch, s, level]
        new = old + self.alpha * (utilities.to(q.dtype) + future - old)
        q[batch, s, level] = torch.where(present, new, old)

    def _counterfactual(self, values: Tensor, competing: Tensor, generator: torch.Generator | None) -> Tensor:
        """``(batch, levels)``: the utility each grid bid would have earned against one rival bidding
        ``competing`` (the highest competing bid decides a one-item first- or second-price auction)."""
        batch, k, n = values.shape[0], self.levels, self.n_bidders
        grid = grid_bids(torch.arange(k, device=values.device, dtype=values.dtype), k, self._high)
        bids = values.new_zeros(batch, k, n, 1)
        bids[:, :, self.bidder, 0] = grid
        if n > 1:
            bids[:, :, (self.bidder + 1) % n, 0] = competing.unsqueeze(-1)
        outcome = self.mechanism.run(bids.reshape(batch * k, n, 1), generator=generator, check=False)
        won = outcome.allocation[:, self.bidder, 0].reshape(batch, k)
        paid = outcome.payments[:, self.bidder].reshape(batch, k)
        return values.unsqueeze(-1) * won - paid
