"""Agent policies that act in auction environments, looked up by name.

>>> import agents
>>> policy = agents.make("shading", factor=0.5)
"""

from __future__ import annotations

from typing import Any

from agents.base import BidderPolicy, ResponsePolicy
from mechanisms.common.registry import Registry

__all__ = ["BidderPolicy", "ResponsePolicy", "make", "available", "registry", "CONTEXT"]

#: Values the environment injects into a policy's constructor when it asks for them.
CONTEXT = ("bidder", "n_bidders", "n_items", "prior", "mechanism", "feedback", "window", "bid_levels")

registry: Registry[BidderPolicy] = Registry("agent", context_params=CONTEXT)
registry.register("truthful", "agents.bidders.scripted:Truthful", description="bid your value")
registry.register("shading", "agents.bidders.scripted:Shading", description="bid factor x value")
registry.register(
    "gradient",
    "agents.bidders.gradient:GradientMisreporter",
    description="white-box PGD on own utility (mode oracle | bayesian)",
)
registry.register("sb3", "agents.bidders.sb3:SB3Policy", description="a saved stable-baselines3 model (algo, path)")
registry.register(
    "qlearning",
    "agents.bidders.qlearning:QLearner",
    description="tabular Q-learning on a bid grid, one item (Banchio and Skrzypacz 2022)",
)
registry.register(
    "misreport_net",
    "agents.bidders.misreport_net:load_misreporter",
    description="a learned misreport network saved by LearnedMisreporter.save (path)",
)
registry.register(
    "random", "agents.bidders.scripted:RandomBidder", description="uniform random bid in [0, upper support]"
)


def make(name: str, /, context: dict[str, Any] | None = None, **params: Any) -> BidderPolicy:
    """Build the registered policy ``name`` with ``params`` (see :func:`available`)."""
    return registry.make(name, context=context, **params)


def available() -> list[str]:
    """Names of all registered policies."""
    return registry.available()
