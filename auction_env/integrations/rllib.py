"""RLlib on the auction environments (optional extra: ``pip install 'auction-env[rllib]'``).

RLlib runs PettingZoo parallel environments through its ``ParallelPettingZooEnv`` wrapper;
this module registers ours under a name and builds a multi-agent PPO config with one policy
shared by all bidders (parameter sharing) or one policy per bidder::

    from auction_env.integrations.rllib import ppo_config

    config = ppo_config({"n_bidders": 2, "n_items": 1, "mechanism": "first_price", "rounds": 10},
                        shared=True, env_runners=2)
    algo = config.build_algo()          # starts a local Ray if none is running
    for _ in range(20):
        algo.train()

More env runners: ``env_runners=K`` (each a Ray actor stepping its own copy of the env); on a
cluster, ``ray.init(address=...)`` first. Env config keys are those of
:func:`auction_env.parallel_env` (``n_bidders``, ``mechanism``, ``prior``, ``scenario`` ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["ENV_NAME", "register", "policy_mapping", "ppo_config", "bid_function"]

ENV_NAME = "auction_env_parallel"
SHARED = "shared"


def _require_rllib() -> None:
    try:
        import ray.rllib  # noqa: F401
    except ImportError:
        raise ImportError("RLlib is an optional extra: pip install 'auction-env[rllib]'") from None


def register(name: str = ENV_NAME) -> str:
    """Register the sealed-bid parallel environment with RLlib under ``name`` (returned)."""
    _require_rllib()
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
    from ray.tune.registry import register_env

    import auction_env

    register_env(name, lambda config: ParallelPettingZooEnv(auction_env.parallel_env(**dict(config))))
    return name


def policy_mapping(shared: bool) -> Callable[..., str]:
    """RLlib's ``policy_mapping_fn``: every bidder to the ``shared`` policy, or each to its own."""
    if shared:
        return lambda agent_id, *args, **kwargs: SHARED
    return lambda agent_id, *args, **kwargs: str(agent_id)


def ppo_config(
    env_config: Mapping[str, Any], *, shared: bool = True, env_runners: int = 2, seed: int = 0, **training: Any
) -> Any:
    """A multi-agent PPO config (RLlib's new API stack) on our environment.

    Args:
        env_config: keyword arguments of :func:`auction_env.parallel_env`.
        shared: one policy for all bidders (they must have the same spaces) or one per bidder.
        env_runners: Ray actors collecting experience (0: sample in the driver).
        seed: seeds RLlib (its env runners reset their environments with derived seeds).
        **training: passed to ``PPOConfig.training`` (e.g. ``lr``, ``gamma``, ``train_batch_size_per_learner``).
    """
    _require_rllib()
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    import auction_env

    agents = [a for a in auction_env.parallel_env(**dict(env_config)).possible_agents if a.startswith("bidder_")]
    if len(agents) != len(auction_env.parallel_env(**dict(env_config)).possible_agents):
        raise ValueError("RLlib training covers the bidders; turn the observer and auctioneer roles off")
    policies = {SHARED} if shared else set(agents)
    return (
        PPOConfig()
        .environment(register(), env_config=dict(env_config))
        .env_runners(num_env_runners=env_runners)
        .multi_agent(policies=policies, policy_mapping_fn=policy_mapping(shared))
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={p: RLModuleSpec() for p in sorted(policies)}))
        .training(**training)
        .debugging(seed=seed)
    )


def bid_function(algo: Any, policy: str, values: np.ndarray, *, n_items: int, high: float = 1.0) -> np.ndarray:
    """The deterministic bids (the Gaussian's mean) a trained policy places at ``values``
    ``(k, n_items)``, observing them as a participating bidder at the start of an episode."""
    import torch

    module = algo.get_module(policy)
    obs = np.concatenate([values, np.ones((len(values), 1)), np.zeros((len(values), 1))], axis=1).astype(np.float32)
    with torch.no_grad():
        out = module.forward_inference({"obs": torch.from_numpy(obs)})
    mean = out["action_dist_inputs"][:, :n_items].numpy()
    # RLlib normalizes actions by default: the policy acts in [-1, 1], rescaled to the Box.
    return (np.clip(mean, -1.0, 1.0) + 1.0) / 2.0 * high
