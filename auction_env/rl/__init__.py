"""Views of the auction environment for single-agent RL libraries (Gymnasium, stable-baselines3).

- :class:`SingleLearnerEnv`: Gymnasium ``Env``; one bidder learns, the others follow policies.
- :class:`AuctioneerLearnerEnv`: Gymnasium ``Env``; the auctioneer of the credible protocol
  learns when to deviate (``SingleLearnerEnv(learner="auctioneer", ...)`` builds it too).
- :class:`AuctionVecEnv`: SB3 ``VecEnv`` of N single-learner auctions in one batched call.
- :func:`shared_policy_vec_env`: all bidders share one policy (SuperSuit), for SB3.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SingleLearnerEnv", "AuctioneerLearnerEnv", "AuctionVecEnv", "shared_policy_vec_env", "UnitActionWrapper"]

_LAZY = {
    "SingleLearnerEnv": "auction_env.rl.single_learner",
    "AuctioneerLearnerEnv": "auction_env.rl.auctioneer",
    "AuctionVecEnv": "auction_env.rl.vector",
    "shared_policy_vec_env": "auction_env.rl.shared",
    "UnitActionWrapper": "auction_env.rl.shared",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'auction_env.rl' has no attribute {name!r}")
