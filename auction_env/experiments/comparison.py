"""Gains of strategic bidders over truthful bidding, side by side with the evaluator's regret.

One seat (bidder 0 by default), the others truthful (or as given), the same valuation profiles
for every policy and for the evaluator, so an oracle misreporter's mean gain and the
evaluator's regret of that bidder measure the same thing under the same attack protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agents.base import BidderPolicy
from auction_env.experiments.bidder_training import score_bidder, scored_profiles
from auction_env.rl.learner import OpponentSpec, build_learner_setup
from mechanisms.evaluation import evaluate
from mechanisms.evaluation import protocol as lookup_protocol

__all__ = ["compare_bidders"]


def compare_bidders(
    policies: Mapping[str, BidderPolicy | OpponentSpec],
    *,
    profiles: int = 1000,
    seed: int = 0,
    protocol: str = "default",
    learner: int = 0,
    opponents: OpponentSpec | Sequence[OpponentSpec] | None = "truthful",
    **env_config: Any,
) -> list[dict[str, Any]]:
    """Score each policy at the ``learner`` seat, then the evaluator's regret of that bidder.

    Args:
        policies: display name -> policy object or spec (``{"policy": "gradient", ...}``).
        profiles: valuation profiles (the same for every row; at most 50,000).
        protocol: the evaluator's attack protocol (give oracle misreporters the same one).
        env_config: the setting (``n_bidders``, ``n_items``, ``mechanism`` ...).

    Returns:
        One row per policy (``gain_mean``, ``gain_stderr``, ``utility_mean``) and a last row
        ``evaluator regret`` (``gain_mean`` = mean regret of the bidder, with its stderr).
    """
    rows = []
    for name, policy in policies.items():
        score = score_bidder(policy, learner=learner, opponents=opponents, n_rounds=profiles, seed=seed, **env_config)
        rows.append(
            {
                "bidder": name,
                "gain_mean": score.gain_mean,
                "gain_stderr": score.gain_stderr,
                "utility_mean": score.utility_mean,
            }
        )
    setup = build_learner_setup(learner=learner, opponents=opponents, **env_config)
    v, part = scored_profiles(n_rounds=profiles, seed=seed, **env_config)
    result = evaluate(
        setup.setting.mechanism,
        setup.setting.prior,
        protocol=protocol,
        valuations=v * part.unsqueeze(-1).to(v.dtype),
        seed=seed,
    )
    regret = result.regret_per_bidder[learner]
    rows.append(
        {
            "bidder": "evaluator regret",
            "gain_mean": regret["mean"],
            "gain_stderr": (regret["ci95"][1] - regret["mean"]) / 1.96,
            "utility_mean": None,
            "protocol": lookup_protocol(protocol).describe(setup.n_items, setup.setting.mechanism.differentiable),
        }
    )
    return rows
