"""What a single-learner view needs: the setting, who learns, and the others' policies.

Shared by :class:`~auction_env.rl.single_learner.SingleLearnerEnv` (one auction, Gymnasium)
and :class:`~auction_env.rl.vector.AuctionVecEnv` (N auctions in one batched call, SB3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Union

import numpy as np
import torch
from gymnasium import spaces

from agents.actions import to_actions, to_bids  # noqa: F401 (re-exported)
from agents.base import BidderPolicy
from auction_env.config import AgentConfig, EnvConfig, parse
from auction_env.dynamics import EpisodeBatch
from auction_env.envs.boxes import bounded_box
from auction_env.setting import Setting, build_policies, build_setting
from mechanisms.common.errors import ConfigError

__all__ = [
    "LearnerSetup",
    "build_learner_setup",
    "build_policy",
    "OpponentSpec",
    "opponent_bids",
    "with_learner",
    "to_bids",
    "to_actions",
]

#: An opponent: a registered policy name, ``{"policy": name, "params": {...}}``, or a policy object.
OpponentSpec = Union[str, Mapping[str, Any], BidderPolicy]


@dataclass
class LearnerSetup:
    """A built setting with one learning bidder.

    Attributes:
        setting: prior, participation, mechanism and core.
        learner: index of the learning bidder.
        policies: one policy per bidder; ``policies[learner]`` is None.
        rounds: rounds per episode.
        seed: default seed.
    """

    setting: Setting
    learner: int
    policies: list[BidderPolicy | None]
    rounds: int
    seed: int | None

    @property
    def n_items(self) -> int:
        return self.setting.n_items

    @cached_property
    def engine(self) -> EpisodeBatch | None:
        """The dynamics engine of the setting's repeated-auction options (one per setup: the view
        that owns the setup steps it), or None without any (:attr:`EnvConfig.repeated`)."""
        cfg = self.setting.config
        return EpisodeBatch.from_config(self.setting, cfg) if cfg is not None and cfg.repeated else None

    @property
    def levels(self) -> int | None:
        """The bid grid size, or None for continuous bids."""
        return self.engine.levels if self.engine is not None else None

    def bid_high(self) -> torch.Tensor:
        """``(n_items,)`` the learner's upper bid bound (its upper value support, the highest
        over any prior shift)."""
        high = self.engine.bid_high if self.engine is not None else self.setting.prior.high
        return high[self.learner].clone()

    def action_space(self) -> spaces.Space:
        """``Box(-1, 1, (n_items,))``: SB3's advice; -1 bids 0, +1 bids the upper support. With a
        bid grid, ``Discrete(levels)`` (one item) or ``MultiDiscrete`` (several)."""
        if self.levels is not None:
            return self.engine.level_space()
        return bounded_box(-1.0, 1.0, shape=(self.n_items,), dtype=np.float32)

    def observation_space(self) -> spaces.Box:
        """The learner's observation as in the environment: values, participating, round fraction
        (and the feedback window, when the env has one)."""
        engine = self.engine
        if engine is not None:
            low, high = engine.observation_bounds()
            return bounded_box(low[self.learner], high[self.learner], dtype=np.float32)
        low = self.setting.prior.low[self.learner].numpy()
        high = self.setting.prior.high[self.learner].numpy()
        return bounded_box(
            np.concatenate([low, [0.0, 0.0]]).astype(np.float32),
            np.concatenate([high, [1.0, 1.0]]).astype(np.float32),
            dtype=np.float32,
        )


def build_learner_setup(
    scenario: str | Mapping[str, Any] | None = None,
    *,
    learner: int = 0,
    opponents: OpponentSpec | Sequence[OpponentSpec] | None = None,
    **env_config: Any,
) -> LearnerSetup:
    """Build the setting and the non-learning bidders' policies.

    Args:
        scenario: a scenario (YAML path, shipped name or mapping) giving the ``env`` section and,
            when ``opponents`` is None, the others' policies from its ``agents``.
        learner: the learning bidder's index.
        opponents: one spec for every other bidder, or a list with one per other bidder in
            index order; default the scenario's agents, else ``truthful``.
        env_config: ``env`` keys that override the scenario's (``n_bidders``, ``mechanism`` ...).

    Raises:
        ConfigError: invalid config, learner index or opponent.
    """
    data: dict[str, Any] = {}
    agent_entries: list[AgentConfig] | None = None
    if scenario is not None:
        from auction_env.catalog import load_scenario

        loaded = load_scenario(scenario)
        data.update(loaded.config.env.model_dump())
        agent_entries = list(loaded.config.agents)
    data.update(env_config)
    cfg = parse(EnvConfig, data, prefix="env")
    setting = build_setting(cfg)
    n = setting.n_bidders
    if isinstance(learner, bool) or not isinstance(learner, int) or not 0 <= learner < n:
        raise ConfigError(f"learner must be a bidder index in [0, {n - 1}], got {learner!r}", "learner")
    if opponents is None:
        if agent_entries is not None:
            policies: list[BidderPolicy | None] = list(build_policies(agent_entries, setting))
        else:
            policies = [build_policy(setting, i, "truthful") for i in range(n)]
    else:
        specs = list(opponents) if isinstance(opponents, Sequence) and not isinstance(opponents, str) else None
        if specs is not None and len(specs) != n - 1:
            raise ConfigError(f"give one opponent per other bidder ({n - 1}), got {len(specs)}", "opponents")
        others = [i for i in range(n) if i != learner]
        policies = [None] * n
        for k, i in enumerate(others):
            policies[i] = build_policy(setting, i, specs[k] if specs is not None else opponents)  # type: ignore[arg-type]
    policies[learner] = None
    return LearnerSetup(setting, learner, policies, cfg.rounds, cfg.seed)


def build_policy(setting: Setting, bidder: int, spec: OpponentSpec) -> BidderPolicy:
    """The policy ``spec`` (name, mapping or object) for ``bidder``'s seat in ``setting``."""
    if isinstance(spec, BidderPolicy):
        return spec
    if isinstance(spec, str):
        entry = AgentConfig(policy=spec)
    elif isinstance(spec, Mapping):
        entry = parse(AgentConfig, dict(spec), prefix="opponents")
    else:
        raise ConfigError(
            f"an opponent is a policy name, a mapping or a BidderPolicy, got {type(spec).__name__}", "opponents"
        )
    entry = entry.model_copy(update={"bidders": None})
    policies = build_policies([entry], setting, prefix="opponents")
    return policies[bidder]


def with_learner(setup: LearnerSetup, learner_bids: torch.Tensor) -> list[BidderPolicy]:
    """The bidders' policies with the learner's seat bidding ``learner_bids`` ``(batch, n_items)``."""

    class _Fixed(BidderPolicy):
        def act(self, obs: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
            return learner_bids

    return [p if p is not None else _Fixed() for p in setup.policies]


def opponent_bids(
    setup: LearnerSetup,
    observations: torch.Tensor,
    valuations: torch.Tensor,
    participation: torch.Tensor,
    learner_bids: torch.Tensor,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """All bids ``(batch, n, m)`` given the learner's: others' policies act (responders last)."""
    policies = with_learner(setup, learner_bids)
    return setup.setting.collect_bids(policies, observations, valuations, participation, generator)
