"""Observers: reconstruct private bids from public outcomes (``agents.observers.make(name)``)."""

from __future__ import annotations

from typing import Any

from agents.observers.base import ObserverPolicy
from mechanisms.common.registry import Registry

__all__ = ["ObserverPolicy", "registry", "make", "available", "CONTEXT"]

#: Values the environment injects into an observer's constructor when it asks for them.
CONTEXT = ("mechanism", "prior", "n_bidders", "n_items")

registry: Registry[ObserverPolicy] = Registry("observer", context_params=CONTEXT)
registry.register(
    "inversion",
    "agents.observers.inversion:ModelInversion",
    description="white-box model inversion (Stein et al. eq. 5): Levenberg-Marquardt, projected Adam, "
    "or derivative-free search",
)
registry.register(
    "myerson_naive",
    "agents.observers.myerson:naive",
    description="item-wise Myerson: every bid = the item's price (A.3.1)",
)
registry.register(
    "myerson_intelligent",
    "agents.observers.myerson:intelligent",
    description="item-wise Myerson: midpoints of the intervals the outcome implies (A.3.2; as bidder k, A.3.3)",
)
registry.register(
    "learned_inverter",
    "agents.observers.learned:LearnedInverter",
    description="a network trained on simulated outcomes -> bids, one forward pass (refine: then K LM steps)",
)
registry.register("prior_guess", "agents.observers.baselines:PriorGuess", description="random guess from the prior")


def make(name: str, /, context: dict[str, Any] | None = None, **params: Any) -> ObserverPolicy:
    """Build the registered observer ``name`` with ``params``."""
    return registry.make(name, context=context, **params)


def available() -> list[str]:
    """Names of all registered observers."""
    return registry.available()
