"""RLlib on the auction environments (optional extra: ``pip install 'auction-env[rllib]'``).

RLlib runs PettingZoo parallel environments through its ``ParallelPettingZooEnv`` wrapper;
this module registers ours under a name and builds a multi-agent PPO config with one policy
shared by all bidders (parameter sharing) or one policy per bidder, and one policy per other
role (the ``observer`` of ``sealed_bid_v0``, the ``auctioneer`` of ``credible_v0``)::

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

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["ENV_NAME", "local_ray", "register", "policy_mapping", "ppo_config", "bid_function"]

ENV_NAME = "auction_env_parallel"
SHARED = "shared"
ENVS = ("sealed_bid_v0", "credible_v0")


def _require_rllib() -> None:
    try:
        import ray.rllib  # noqa: F401
    except ImportError:
        raise ImportError("RLlib is an optional extra: pip install 'auction-env[rllib]'") from None


@contextmanager
def local_ray(num_cpus: int = 2) -> Iterator[None]:
    """A local Ray for the block, its files in a temp folder (Ray's socket paths must stay short),
    shut down after; a Ray already running (a cluster, a caller's) is used and left running."""
    _require_rllib()
    import tempfile

    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(
            num_cpus=num_cpus,
            include_dashboard=False,
            log_to_driver=False,
            _temp_dir=tempfile.mkdtemp(prefix="ray", dir="/tmp"),
        )
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def register(name: str | None = None, env: str = "sealed_bid_v0") -> str:
    """Register the parallel environment ``env`` (``sealed_bid_v0`` or ``credible_v0``) with
    RLlib under ``name`` (default: ``auction_env_parallel`` for sealed-bid, else ``auction_env_<env>``)."""
    _require_rllib()
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
    from ray.tune.registry import register_env

    import auction_env

    if env not in ENVS:
        raise ValueError(f"env must be one of {', '.join(ENVS)}, got {env!r}")
    name = name or (ENV_NAME if env == "sealed_bid_v0" else f"auction_env_{env}")
    register_env(name, lambda config: ParallelPettingZooEnv(auction_env.make(env, **dict(config))))
    return name


def policy_mapping(shared: bool) -> Callable[..., str]:
    """RLlib's ``policy_mapping_fn``: every bidder to the ``shared`` policy (or each to its own);
    the observer and the auctioneer to policies of their own names."""

    def mapping(agent_id: Any, *args: Any, **kwargs: Any) -> str:
        agent = str(agent_id)
        return SHARED if shared and agent.startswith("bidder_") else agent

    return mapping


def ppo_config(
    env_config: Mapping[str, Any],
    *,
    env: str = "sealed_bid_v0",
    shared: bool = True,
    env_runners: int = 2,
    seed: int = 0,
    **training: Any,
) -> Any:
    """A multi-agent PPO config (RLlib's new API stack) on our environment.

    Args:
        env_config: keyword arguments of the environment (:func:`auction_env.make`).
        env: ``sealed_bid_v0`` (bidders, and the ``observer`` when configured) or
            ``credible_v0`` (bidders and the ``auctioneer``).
        shared: one policy for all bidders (they must have the same spaces) or one per bidder;
            the observer and the auctioneer always have their own.
        env_runners: Ray actors collecting experience (0: sample in the driver).
        seed: seeds RLlib (its env runners reset their environments with derived seeds).
        **training: passed to ``PPOConfig.training`` (e.g. ``lr``, ``gamma``, ``train_batch_size_per_learner``).
    """
    _require_rllib()
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    import auction_env

    mapping = policy_mapping(shared)
    policies = {mapping(agent) for agent in auction_env.make(env, **dict(env_config)).possible_agents}
    return (
        PPOConfig()
        .environment(register(env=env), env_config=dict(env_config))
        .env_runners(num_env_runners=env_runners)
        .multi_agent(policies=policies, policy_mapping_fn=mapping)
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
