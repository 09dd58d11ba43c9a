"""Play scenario policies in the PettingZoo environment and record what happened.

Recorded trajectories make regression tests of environment dynamics: record once, store as
JSON, and compare exactly after every change (``scripts/record_trajectories.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.actions import grid_levels
from agents.base import BidderPolicy
from agents.feedback import base_observation
from agents.observation import participating, values
from auction_env.catalog import Scenario, load_scenario
from auction_env.core import AuctionCore
from auction_env.envs.sealed_bid import SealedBidAuctionEnv
from auction_env.setting import build_policies
from mechanisms.common.seeding import make_generators

__all__ = ["act", "record_trajectory"]


def act(
    policies: Sequence[BidderPolicy],
    observations: Mapping[str, np.ndarray],
    agents: Sequence[str],
    generator: torch.Generator | None = None,
    core: AuctionCore | None = None,
) -> dict[str, np.ndarray]:
    """Each agent's bid from its batched policy, called with batch size 1.

    With ``core`` given, response policies (e.g. the oracle misreporter) also get to see the
    others' reports of the round, as in :meth:`AuctionCore.collect_bids`.
    """
    if core is None:
        actions = {}
        for agent, policy in zip(agents, policies):
            obs = torch.as_tensor(observations[agent]).unsqueeze(0)
            actions[agent] = policy.act(obs, generator=generator)[0].numpy()
        return actions
    obs = torch.as_tensor(np.stack([observations[a] for a in agents])).unsqueeze(0)  # (1, n, m + 2 [+ feedback])
    base = base_observation(obs, core.n_items)
    with torch.inference_mode():
        bids = core.collect_bids(policies, obs, values(base), participating(base), generator)
    return {agent: bids[0, i].numpy().copy() for i, agent in enumerate(agents)}


def record_trajectory(scenario: str | Path | Scenario, *, rounds: int = 6, seed: int = 0) -> dict[str, Any]:
    """Play ``rounds`` rounds of a scenario's env with its agents' policies and record them.

    A sweep scenario is played at its base values (the sweep is ignored).

    Returns:
        ``{"scenario", "seed", "rounds": [{valuations, participation, bids, allocation,
        payments, rewards}, ...]}`` with plain lists of floats.
    """
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    env = SealedBidAuctionEnv(**{**loaded.config.env.model_dump(), "rounds": rounds})
    policies = build_policies(loaded.config.agents, env.setting)
    (policy_gen,) = make_generators(seed + 1, 1)
    observations, _ = env.reset(seed=seed)
    steps = []
    while env.agents:
        actions = act(policies, observations, env.agents, policy_gen, env.core)
        if env.levels is not None:  # a bid grid: the env takes levels (bids snap down to the grid)
            high = torch.from_numpy(env.bid_high)
            actions = {
                a: grid_levels(torch.from_numpy(b), env.levels, high[i]).numpy() if a in env.bidder_agents else b
                for i, (a, b) in enumerate(actions.items())
            }
        observations, rewards, _, _, _ = env.step(actions)
        r = env.last_round
        assert r is not None
        steps.append(
            {
                "valuations": r.valuations[0].tolist(),
                "participation": r.participation[0].tolist(),
                "bids": r.bids[0].tolist(),
                "allocation": r.outcome.allocation[0].tolist(),
                "payments": r.outcome.payments[0].tolist(),
                "rewards": [rewards[a] for a in env.possible_agents],
            }
        )
    return {"scenario": loaded.name, "seed": seed, "rounds": steps}
