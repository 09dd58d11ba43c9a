"""Parameter sharing: every bidder is the same learning policy, through SuperSuit, for SB3.

SuperSuit turns the PettingZoo env into a vector env with one sub-env per bidder
(``pettingzoo_env_to_vec_env_v1``) and concatenates copies (``concat_vec_envs_v1``).
Known issue (SuperSuit 3.11, SB3 2.9): ``PPO(..., seed=s)`` calls ``env.seed(s)``, which
SuperSuit's ``ConcatVecEnv`` lacks (``'ConcatVecEnv' object has no attribute 'seed'``).
:class:`SeededSB3VecEnv` stores the seed and passes it to the next ``reset``, so seeded runs
repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import supersuit as ss
from gymnasium import spaces
from pettingzoo.utils.wrappers import BaseParallelWrapper
from supersuit.vector.sb3_vector_wrapper import SB3VecEnvWrapper

from auction_env.envs.boxes import bounded_box
from auction_env.rl.learner import to_bids
from mechanisms.common.errors import ConfigError

__all__ = ["UnitActionWrapper", "SeededSB3VecEnv", "shared_policy_vec_env"]


class UnitActionWrapper(BaseParallelWrapper):
    """Actions in ``Box(-1, 1)`` per bidder, rescaled to bids in ``[0, upper support]``."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._high = {a: env.action_space(a).high.astype(np.float32) for a in env.possible_agents}
        self._spaces = {a: bounded_box(-1.0, 1.0, shape=h.shape, dtype=np.float32) for a, h in self._high.items()}

    def action_space(self, agent: str) -> spaces.Box:
        return self._spaces[agent]

    def step(self, actions: Mapping[str, Any]):
        bids = {a: to_bids(np.asarray(x, dtype=np.float32), self._high[a]) for a, x in actions.items()}
        return self.env.step(bids)


class SeededSB3VecEnv(SB3VecEnvWrapper):
    """SuperSuit's SB3 wrapper with ``seed`` (stored, applied at the next ``reset``)."""

    _pending_seed: int | None = None

    def seed(self, seed: int | None = None) -> list[int | None]:
        self._pending_seed = seed
        return [None if seed is None else seed + i for i in range(self.num_envs)]

    def reset(self, seed: int | None = None, options: dict | None = None):
        seed = seed if seed is not None else self._pending_seed
        self._pending_seed = None
        observations, self.reset_infos = self.venv.reset(seed=seed, options=options)
        return observations


def shared_policy_vec_env(scenario: str | Mapping[str, Any] | None = None, *, copies: int = 1, **env_config: Any):
    """An SB3 ``VecEnv`` with one sub-env per bidder (x ``copies``), for one shared policy.

    Args:
        scenario: a scenario whose ``env`` section gives the setting (optional).
        copies: independent copies of the auction, concatenated.
        env_config: ``env`` keys (``n_bidders``, ``mechanism``, ``rounds``, ``seed`` ...).

    Raises:
        ConfigError: the bidders' spaces differ (asymmetric priors
            cannot share one policy).
    """
    from auction_env.envs.sealed_bid import parallel_env

    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
        raise ConfigError(f"copies must be an integer >= 1, got {copies!r}", "copies")
    env = UnitActionWrapper(parallel_env(scenario=scenario, **env_config))
    agents = env.possible_agents
    first = env.observation_space(agents[0])
    if any(env.observation_space(a) != first for a in agents):
        raise ConfigError("a shared policy needs identical bidders: the prior differs across bidders", "env.prior")
    vec = ss.pettingzoo_env_to_vec_env_v1(env)
    concat = ss.concat_vec_envs_v1(vec, copies, num_cpus=0, base_class="gymnasium")
    return SeededSB3VecEnv(concat)
