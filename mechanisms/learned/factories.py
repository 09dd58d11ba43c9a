"""Registry factories for learned mechanisms: build a fresh network, or load a checkpoint
(:mod:`mechanisms.learned.checkpoints`) and check it fits the given setting. With a checkpoint
and no setting, the card's is used: ``mechanisms.make("regretnet", checkpoint="2x2")``."""

from __future__ import annotations

from typing import Any

from mechanisms.learned.algnet import ALGNet
from mechanisms.learned.certnet import CertNet
from mechanisms.learned.checkpoints import CLASSES, load_model
from mechanisms.learned.equivariant import EquivariantNet
from mechanisms.learned.menus import LotteryAMA, RochetNet
from mechanisms.learned.regretnet import RegretNet
from mechanisms.priors import Prior

__all__ = ["make_regretnet", "make_algnet", "make_certnet", "make_rochetnet", "make_lottery_ama", "make_equivariant"]


def make_regretnet(
    n_bidders: int | None = None,
    n_items: int | None = None,
    prior: Prior | None = None,
    checkpoint: str | None = None,
    hidden: int | None = None,
    layers: int | None = None,
    valuation: str = "additive",
    noise_std: float = 0.0,
) -> RegretNet:
    """A RegretNet, fresh (``hidden``, ``layers``) or from ``checkpoint``.

    Args:
        n_bidders, n_items, prior, valuation: the setting (injected by the environment).
        checkpoint: a shipped name (``"2x2"``, ``"regretnet_2x2"``) or a path to a card/weights.
        noise_std: σ of the Gaussian noise on the allocation logits (privacy; 0 = none).
    """
    model = _build("regretnet", checkpoint, n_bidders, n_items, prior, valuation, hidden=hidden, layers=layers)
    model.noise_std = noise_std
    return model  # type: ignore[return-value]


def make_algnet(
    n_bidders: int | None = None,
    n_items: int | None = None,
    prior: Prior | None = None,
    checkpoint: str | None = None,
    hidden: int | None = None,
    layers: int | None = None,
    valuation: str = "additive",
    noise_std: float = 0.0,
) -> ALGNet:
    """An ALGNet (additive valuations only), fresh or from ``checkpoint`` (see :func:`make_regretnet`)."""
    if valuation != "additive":
        raise ValueError(f"algnet supports additive valuations only, not {valuation}")
    model = _build("algnet", checkpoint, n_bidders, n_items, prior, valuation, hidden=hidden, layers=layers)
    model.noise_std = noise_std
    return model  # type: ignore[return-value]


def make_certnet(
    n_bidders: int | None = None,
    n_items: int | None = None,
    prior: Prior | None = None,
    checkpoint: str | None = None,
    hidden: int | None = None,
    layers: int | None = None,
    ir: str | None = None,
    valuation: str = "additive",
    noise_std: float = 0.0,
) -> CertNet:
    """A certifiable RegretNet (sparsemax allocation; ``ir``: ``construction`` or ``penalty``),
    fresh or from ``checkpoint`` (see :func:`make_regretnet`)."""
    model = _build("certnet", checkpoint, n_bidders, n_items, prior, valuation, hidden=hidden, layers=layers, ir=ir)
    model.noise_std = noise_std
    return model  # type: ignore[return-value]


def make_equivariant(
    n_bidders: int | None = None,
    n_items: int | None = None,
    prior: Prior | None = None,
    checkpoint: str | None = None,
    hidden: int | None = None,
    layers: int | None = None,
    valuation: str = "additive",
    noise_std: float = 0.0,
) -> EquivariantNet:
    """A permutation-equivariant network for any number of bidders and items (additive
    valuations), fresh or from ``checkpoint``; a checkpoint runs in a setting of another size
    than its card's, with a warning when the card does not list that size as trained."""
    if valuation != "additive":
        raise ValueError(f"equivariant supports additive valuations only, not {valuation}")
    model = _build("equivariant", checkpoint, n_bidders, n_items, prior, valuation, hidden=hidden, layers=layers)
    model.noise_std = noise_std
    return model  # type: ignore[return-value]


def make_rochetnet(
    n_bidders: int | None = None,
    n_items: int | None = None,
    prior: Prior | None = None,
    checkpoint: str | None = None,
    menu_size: int | None = None,
    valuation: str = "additive",
) -> RochetNet:
    """A RochetNet (one bidder), fresh (``menu_size`` options) or from ``checkpoint``."""
    return _build("rochetnet", checkpoint, n_bidders, n_items, prior, valuation, menu_size=menu_size)  # type: ignore[return-value]


def make_lottery_ama(
    n_bidders: int | None = None,
    n_items: int | None = None,
    prior: Prior | None = None,
    checkpoint: str | None = None,
    menu_size: int | None = None,
    valuation: str = "additive",
    init: str | None = None,
) -> LotteryAMA:
    """A Lottery AMA, fresh (``menu_size`` allocations, ``init`` ``random`` or ``myerson``) or
    from ``checkpoint``."""
    if checkpoint is not None and init is not None:
        raise ValueError("init applies to a fresh menu, not to a checkpoint")
    return _build("lottery_ama", checkpoint, n_bidders, n_items, prior, valuation, menu_size=menu_size, init=init)  # type: ignore[return-value]


def _build(
    mechanism: str,
    checkpoint: str | None,
    n_bidders: int | None,
    n_items: int | None,
    prior: Prior | None,
    valuation: str,
    **architecture: Any,
) -> Any:
    """Load ``checkpoint`` (checking the given architecture), or build a fresh network."""
    params = {k: v for k, v in architecture.items() if v is not None}
    if checkpoint is not None:
        return load_model(mechanism, checkpoint, n_bidders, n_items, prior, valuation, **params)
    if n_bidders is None or n_items is None:
        raise ValueError(f"a fresh {mechanism} needs n_bidders and n_items (or a checkpoint)")
    if mechanism == "algnet":
        return ALGNet(n_bidders, n_items, prior, **params)
    return CLASSES[mechanism](n_bidders, n_items, prior, valuation=valuation, **params)
