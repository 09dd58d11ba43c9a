"""Moved to :mod:`auction_env.rl`; this path keeps working."""

from __future__ import annotations

from typing import Any

__all__ = ["SingleLearnerEnv", "AuctioneerLearnerEnv", "AuctionVecEnv", "shared_policy_vec_env", "UnitActionWrapper"]


def __getattr__(name: str) -> Any:
    import auction_env.rl

    if name in __all__:
        return getattr(auction_env.rl, name)
    raise AttributeError(f"module 'auction_env.wrappers' has no attribute {name!r}")
