"""One bidder learns, the others follow fixed policies: a Gymnasium ``Env`` for stable-baselines3."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from agents.actions import check_levels, grid_bids
from agents.base import BidderPolicy
from agents.observation import bidder_observations
from auction_env.rl.learner import (
    LearnerSetup,
    OpponentSpec,
    build_learner_setup,
    opponent_bids,
    to_bids,
    with_learner,
)
from mechanisms.common.errors import check_render_mode
from mechanisms.common.seeding import make_generators

__all__ = ["SingleLearnerEnv"]

#: Rounds whose valuations (and non-reactive opponents' bids) are drawn in one batched call.
_BLOCK = 256


class SingleLearnerEnv(gym.Env):
    """A Gymnasium view of the auction environment from one learning bidder's seat.

    ## Description
    Each step is one round of the sealed-bid auction of :mod:`auction_env.envs.sealed_bid`; the
    learning bidder submits its bid, the other bidders bid with their policies (given by name,
    mapping or object, or taken from a scenario's ``agents``), and the mechanism decides.

    ## Action Space
    ``Box(-1, 1, (n_items,), float32)``, rescaled to the bid ``(a + 1) / 2 x upper support``
    (SB3 recommends symmetric, normalised actions); out-of-range actions are clipped. With a bid
    grid (``bidding: {levels: k}``) the grid levels: ``Discrete(k)`` or ``MultiDiscrete``.

    ## Observation Space
    As in the environment: ``[v_1 ... v_m, participating (0/1), round / rounds]``, followed by the
    feedback window when the env has ``feedback`` (``docs/repeated-auctions.md``). With any
    repeated-auction option the rounds run through :class:`auction_env.dynamics.EpisodeBatch`
    (one episode); opponents that learn (the Q-learner) keep learning within the episode.

    ## Rewards
    The learner's utility ``<v, a> - p`` (0 when it is absent from the round). ``info`` holds
    its ``bid``, ``allocation`` row, ``payment`` and ``participating``.

    ## Episode End
    Truncation after ``rounds`` rounds.

    ## Arguments
    ``scenario`` (YAML path, shipped name or mapping), ``learner`` (bidder index, default 0; or
    ``"auctioneer"`` for the auctioneer's seat of the credible protocol, see
    :class:`~auction_env.rl.auctioneer.AuctioneerLearnerEnv`, with ``credible=`` and ``bidders=``),
    ``opponents`` (one spec or one per other bidder; default the scenario's agents or
    truthful), ``render_mode`` (``"ansi"``), and any ``env`` key (``n_bidders``, ``mechanism``,
    ``rounds``, ``seed`` ...) overriding the scenario.
    """

    metadata = {"render_modes": ["ansi"]}

    def __new__(cls, *args: Any, learner: int | str = 0, **kwargs: Any) -> Any:
        # The auctioneer's seat is another Gymnasium view (see auction_env.rl.auctioneer).
        if learner == "auctioneer" and cls is SingleLearnerEnv:
            from auction_env.rl.auctioneer import AuctioneerLearnerEnv

            return AuctioneerLearnerEnv(*args, **kwargs)
        return super().__new__(cls)

    def __init__(
        self,
        scenario: str | Mapping[str, Any] | None = None,
        *,
        learner: int = 0,
        opponents: OpponentSpec | Sequence[OpponentSpec] | None = None,
        render_mode: str | None = None,
        **env_config: Any,
    ) -> None:
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.render_mode = render_mode
        self.setup: LearnerSetup = build_learner_setup(scenario, learner=learner, opponents=opponents, **env_config)
        self.setup.setting.mechanism.eval()
        self.learner = self.setup.learner
        self.rounds = self.setup.rounds
        self.action_space = self.setup.action_space()
        self.observation_space = self.setup.observation_space()
        self._high_np = self.setup.bid_high().numpy().astype(np.float32)
        self._engine = self.setup.engine  # repeated-auction options: one episode at batch 1
        self.levels = self.setup.levels
        self._reactive = any(getattr(p, "sees_reports", False) for p in self.setup.policies if p is not None)
        self._sample_gen: torch.Generator | None = None
        self._mech_gen: torch.Generator | None = None
        self._bench_gen: torch.Generator | None = None
        self._round = 0
        self._last: dict[str, Any] | None = None

    @property
    def mechanism(self):
        return self.setup.setting.mechanism

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or self._sample_gen is None:
            self._sample_gen, self._mech_gen, self._bench_gen = make_generators(
                seed if seed is not None else self.setup.seed, 3
            )
        self._round = 0
        self._last = None
        if self._engine is not None:
            self._engine.reset(1, self._sample_gen, policies=self.setup.policies)
            obs = self._engine.observations()[0, self.learner].numpy().copy()
            return obs, {"participating": bool(self._engine.participation[0, self.learner])}
        self._fill_block()
        return self._obs_np[0].copy(), {"participating": bool(self._part[0, self.learner])}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._round >= self.rounds:
            raise RuntimeError("the episode is over: call reset() before step()")
        bid = self._bid(action)
        if self._engine is not None:
            return self._step_engine(bid)
        k, i = self._pos, self.learner
        if self._reactive:  # responders see this round's reports
            with torch.inference_mode():
                vals, part = self._vals[k : k + 1], self._part[k : k + 1]
                bids = opponent_bids(
                    self.setup, self._obs[k : k + 1], vals, part, torch.from_numpy(bid).unsqueeze(0), self._sample_gen
                ).numpy()[0]
        else:  # the opponents' bids were drawn with the block
            bids = self._bids_np[k].copy()
            bids[i] = bid
        # One NumPy round of the core around one mechanism call: this step is the RL inner loop.
        played = self.setup.setting.resolve_numpy(
            self._vals_np[k : k + 1], self._present[k : k + 1], bids[None], self._mech_gen
        )
        reward = float(played.utilities[0, i])
        info = self._record(
            self._vals_np[k], played.bids[0], played.allocation[0], played.payments[0], self._present[k]
        )
        self._round += 1
        truncated = self._round >= self.rounds
        if not truncated:
            self._pos += 1
            if self._pos >= self._obs.shape[0]:
                self._fill_block()
            obs = self._obs_np[self._pos].copy()
        else:
            obs = self._obs_np[self._pos].copy()
            obs[-1] = 1.0
        return obs, reward, False, truncated, info

    def _bid(self, action: Any) -> np.ndarray:
        """The learner's bid ``(n_items,)`` for ``action``, or a ``ValueError`` saying what is expected."""
        m = self.setup.n_items
        if self.levels is not None:
            levels = check_levels(action, self.levels, m)
            return grid_bids(levels.astype(np.float32), self.levels, self._high_np).astype(np.float32)
        a = np.asarray(action, dtype=np.float32).reshape(-1)
        if a.shape != (m,) or not np.isfinite(a).all():
            raise ValueError(f"action must be {m} finite numbers in [-1, 1], got {action!r}")
        return to_bids(a, self._high_np)

    def _step_engine(self, bid: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """One round through the dynamics engine: the opponents act on their observations (and
        learn, if they do), the learner's bid is ``bid``."""
        i = self.learner
        with torch.inference_mode():
            policies = with_learner(self.setup, torch.from_numpy(bid).unsqueeze(0))
            played = self._engine.step(policies, self._mech_gen, self._bench_gen).round
        info = self._record(
            played.valuations[0].numpy(),
            played.bids[0].numpy(),
            played.outcome.allocation[0].numpy(),
            played.outcome.payments[0].numpy(),
            played.participation[0].numpy(),
        )
        self._round += 1
        obs = self._engine.observations()[0, i].numpy().copy()
        return obs, float(played.utilities[0, i]), False, self._round >= self.rounds, info

    def _record(
        self, values: np.ndarray, bids: np.ndarray, allocation: np.ndarray, payments: np.ndarray, present: np.ndarray
    ) -> dict[str, Any]:
        """Keep the round for :meth:`render` and return the learner's info."""
        i = self.learner
        self._last = {
            "round": self._round,
            "values": values,
            "bids": bids,
            "allocation": allocation,
            "payments": payments,
        }
        return {
            "bid": bids[i].copy(),
            "allocation": allocation[i].copy(),
            "payment": float(payments[i]),
            "participating": bool(present[i]),
        }

    def render(self) -> str | None:
        if self.render_mode is None:
            return None
        if self._last is None:
            return f"round 0/{self.rounds}: no bids yet\n"
        last, i = self._last, self.learner
        utility = float(last["values"][i] @ last["allocation"][i] - last["payments"][i])
        return (
            f"round {last['round'] + 1}/{self.rounds}  learner bidder_{i}: value {last['values'][i].tolist()} "
            f"bid {last['bids'][i].tolist()} allocation {last['allocation'][i].tolist()} "
            f"pays {float(last['payments'][i]):.3f} utility {utility:.3f}\n"
        )

    def _fill_block(self) -> None:
        """Draw the next rounds' valuations (and the non-reactive opponents' bids) in one call."""
        size = min(_BLOCK, self.rounds - self._round)
        with torch.inference_mode():
            vals, part = self.setup.setting.sample(size, self._sample_gen)
            fractions = (self._round + torch.arange(size, dtype=vals.dtype)) / self.rounds
            obs = bidder_observations(vals, part, 0.0)
            obs[..., -1] = fractions.unsqueeze(-1)
            if not self._reactive:
                self._bids_np = opponent_bids(
                    self.setup, obs, vals, part, vals[:, self.learner], self._sample_gen
                ).numpy()
        self._vals, self._part, self._obs = vals, part, obs
        self._vals_np = vals.numpy()
        self._present = part.numpy()
        self._obs_np = obs[:, self.learner].numpy().astype(np.float32)
        self._pos = 0

    def policies(self) -> list[BidderPolicy | None]:
        """The bidders' policies (``None`` at the learner's seat)."""
        return list(self.setup.policies)
