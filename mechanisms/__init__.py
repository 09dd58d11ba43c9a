"""Auction mechanisms: the contract, valuation priors, exact baselines, and the registry.

>>> import mechanisms
>>> mech = mechanisms.make("second_price", reserve=0.1)
>>> mechanisms.available()  # doctest: +ELLIPSIS
[...]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mechanisms.common.registry import Registry

if TYPE_CHECKING:
    from mechanisms.base import Mechanism, Outcome, check_bids
    from mechanisms.priors import Prior, UniformPrior, prior_registry

#: Names that import torch, loaded on first use (so ``import mechanisms.common`` and the CLI's
#: ``--help`` stay fast): name -> module.
_LAZY = {
    "Mechanism": "mechanisms.base",
    "Outcome": "mechanisms.base",
    "check_bids": "mechanisms.base",
    "Prior": "mechanisms.priors",
    "UniformPrior": "mechanisms.priors",
    "prior_registry": "mechanisms.priors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mechanisms' has no attribute {name!r}")


__all__ = [
    "Mechanism",
    "Outcome",
    "Prior",
    "UniformPrior",
    "check_bids",
    "make",
    "available",
    "registry",
    "prior_registry",
    "make_prior",
    "load",
]

#: Parameters the environment injects: ``prior`` (Myerson), the setting's size and valuation kind.
CONTEXT = ("prior", "n_bidders", "n_items", "valuation")

registry: Registry["Mechanism"] = Registry("mechanism", context_params=CONTEXT)
registry.register(
    "second_price",
    "mechanisms.exact.second_price:SecondPrice",
    description="item-wise second price (VCG for additive bidders), optional reserve",
    aliases=("vcg",),
)
registry.register(
    "myerson",
    "mechanisms.exact.myerson:Myerson",
    description="item-wise Myerson: highest non-negative virtual value wins, pays its threshold",
)
registry.register(
    "first_price",
    "mechanisms.exact.first_price:FirstPrice",
    description="item-wise first price (pay your bid), optional reserve; not truthful",
)


def make(name: str, /, context: dict[str, Any] | None = None, **params: Any) -> Mechanism:
    """Build the registered mechanism ``name`` (see :func:`available`).

    Args:
        name: registered name, e.g. ``"myerson"``.
        context: environment-provided values (``prior``, ``n_bidders``, ``n_items``).
        **params: the mechanism's own parameters.
    """
    return registry.make(name, context=context, **params)


def available() -> list[str]:
    """Names of all registered mechanisms."""
    return registry.available()


def load(name_or_path: str, **params: Any) -> Mechanism:
    """A shipped or saved learned mechanism, ready to run, its setting from the model card.

    >>> mech = load("regretnet_2x2")              # doctest: +SKIP
    >>> mech.setting.prior, mech.card["evaluation"]["revenue_mean"]  # doctest: +SKIP

    Args:
        name_or_path: a shipped checkpoint (``mechanisms.learned.checkpoints.shipped()``) or a card path.
        **params: the mechanism's other parameters, e.g. ``noise_std=0.1``.
    """
    from mechanisms.learned.checkpoints import load as load_checkpoint

    return load_checkpoint(name_or_path, **params)


def make_prior(n_bidders: int, n_items: int, type: str = "uniform", **params: Any) -> Prior:
    """Build a registered prior, e.g. ``make_prior(2, 2, low=0, high={"per_bidder": [1, 2]})``."""
    from mechanisms.priors import prior_registry

    return prior_registry.make(type, context={"n_bidders": n_bidders, "n_items": n_items}, **params)


registry.register(
    "regretnet",
    "mechanisms.learned.factories:make_regretnet",
    description="RegretNet (Dütting et al.): MLP, softmax allocation, sigmoid payment fraction",
)
registry.register(
    "algnet",
    "mechanisms.learned.factories:make_algnet",
    description="ALGNet (Rahme et al.): sell probability x softmax allocation, separate payment net",
)
registry.register(
    "certnet",
    "mechanisms.learned.factories:make_certnet",
    description="certifiable RegretNet (Curry et al.): shared trunk, sparsemax allocation, piecewise-linear payment",
)
registry.register(
    "equivariant",
    "mechanisms.learned.factories:make_equivariant",
    description="EquivariantNet (Rahme et al.): exchangeable layers, any size, absent bidders masked out",
)
registry.register(
    "rochetnet",
    "mechanisms.learned.factories:make_rochetnet",
    description="RochetNet (Dütting et al.): learned menu for one bidder; DSIC and IR by construction",
)
registry.register(
    "lottery_ama",
    "mechanisms.learned.factories:make_lottery_ama",
    description="Lottery AMA (Curry et al.): learned affine maximizer over lottery allocations; DSIC and IR",
)
