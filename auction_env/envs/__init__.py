"""Registered environments, by versioned id."""

from __future__ import annotations

from mechanisms.common.registry import Registry

__all__ = ["registry"]

registry: Registry = Registry("environment")
registry.register(
    "sealed_bid_v0",
    "auction_env.envs.sealed_bid:SealedBidAuctionEnv",
    description="repeated sealed-bid multi-item auctions (PettingZoo ParallelEnv)",
)
registry.register(
    "credible_v0",
    "auction_env.envs.credible:CredibleAuctionEnv",
    description="repeated auctions with an auctioneer agent, commitments, audits and a penalty",
)
