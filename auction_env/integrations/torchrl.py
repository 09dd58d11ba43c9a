"""TorchRL on the auction environments (``pip install torchrl``; in the dev extras).

TorchRL's own ``torchrl.envs.PettingZooWrapper`` takes our environments as they are: the info
keys are the same from ``reset`` on, every Box is flat, and ``state()`` feeds
``return_state=True``. In a parallel env TorchRL groups ``bidder_0, bidder_1, ...`` into one
``bidder`` group by itself; in an AEC env it makes one group per agent. :func:`wrap` groups by
role in both (``bidder``, ``observer``, ``auctioneer``), so a policy shared by the bidders sees
one stacked group::

    from auction_env.integrations.torchrl import wrap

    env = wrap(auction_env.parallel_env(mechanism="first_price", rounds=10), seed=0)
    rollout = env.rollout(100)  # rollout["bidder", "observation"]: (100, n_bidders, n_items + 2)

Bidders with different priors have different spaces and cannot share a group; pass
``group_map=MarlGroupMapType.ONE_GROUP_PER_AGENT`` for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["role_groups", "wrap"]


def role_groups(agents: Sequence[str]) -> dict[str, list[str]]:
    """Agents grouped by role: ``bidder_i`` into ``bidder``, every other agent on its own."""
    groups: dict[str, list[str]] = {}
    for agent in agents:
        groups.setdefault("bidder" if agent.startswith("bidder_") else agent, []).append(agent)
    return groups


def wrap(env: Any, *, return_state: bool = True, seed: int | None = None, **kwargs: Any) -> Any:
    """``torchrl.envs.PettingZooWrapper`` around a parallel or AEC auction env, grouped by role.

    Args:
        env: ``auction_env.parallel_env(...)``, ``auction_env.make(...)`` or an AEC env.
        return_state: add the env's ``state()`` (the whole round) under ``"state"``.
        seed: seeds the first reset.
        **kwargs: passed to ``PettingZooWrapper`` (``group_map`` overrides the role groups).
    """
    from pettingzoo import AECEnv
    from torchrl.envs import PettingZooWrapper

    kwargs.setdefault("group_map", role_groups(env.possible_agents))
    aec = isinstance(env, AECEnv)
    kwargs.setdefault("use_mask", aec)  # in AEC only the agent to act is live
    return PettingZooWrapper(env=env, return_state=return_state, seed=seed, **kwargs)
