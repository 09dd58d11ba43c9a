"""Auctioneer policies and deviations (``agents.auctioneers.make(name)``)."""

from __future__ import annotations

from typing import Any

from agents.auctioneers.scripted import AuctioneerPolicy
from mechanisms.common.registry import Registry

__all__ = ["AuctioneerPolicy", "registry", "make", "available"]

registry: Registry[AuctioneerPolicy] = Registry("auctioneer")
registry.register("honest", "agents.auctioneers.scripted:Honest", description="always run the published mechanism")
registry.register("always_deviate", "agents.auctioneers.scripted:AlwaysDeviate", description="deviate every round")
registry.register(
    "threshold", "agents.auctioneers.scripted:Threshold", description="deviate when aRgt >= penalty / T (A.2)"
)


def make(name: str, /, **params: Any) -> AuctioneerPolicy:
    """Build the registered auctioneer ``name``."""
    return registry.make(name, **params)


def available() -> list[str]:
    return registry.available()
