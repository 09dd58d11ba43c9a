"""Single-learner and vector views of the auction environment, for stable-baselines3.

- :class:`SingleLearnerEnv`: Gymnasium ``Env``; one bidder learns, the others follow policies.
- :class:`AuctionVecEnv`: SB3 ``VecEnv`` of N single-learner auctions in one batched call.
- :func:`shared_policy_vec_env`: all bidders share one policy (SuperSuit), for SB3.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SingleLearnerEnv", "AuctionVecEnv", "shared_policy_vec_env", "UnitActionWrapper"]

_LAZY = {
    "SingleLearnerEnv": "auction_env.wrappers.single_learner",
    "AuctionVecEnv": "auction_env.wrappers.vector",
    "shared_policy_vec_env": "auction_env.wrappers.shared",
    "UnitActionWrapper": "auction_env.wrappers.shared",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'auction_env.wrappers' has no attribute {name!r}")
