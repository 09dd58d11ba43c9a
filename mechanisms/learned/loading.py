"""Registry factories for learned mechanisms: build fresh, or load a checkpoint and check it
fits the environment's setting."""

from __future__ import annotations

from typing import Any

import torch

from auction_env.errors import CheckpointError
from mechanisms import checkpoints
from mechanisms.learned.algnet import ALGNet
from mechanisms.learned.base import LearnedMechanism
from mechanisms.learned.certnet import CertNet
from mechanisms.learned.menus import LotteryAMA, RochetNet
from mechanisms.learned.regretnet import RegretNet
from mechanisms.priors import Prior

__all__ = ["make_regretnet", "make_algnet", "make_certnet", "make_rochetnet", "make_lottery_ama", "load", "setting_of"]

_CLASSES = {"regretnet": RegretNet, "algnet": ALGNet, "certnet": CertNet, "rochetnet": RochetNet, "lottery_ama": LotteryAMA}


def setting_of(n_bidders: int, n_items: int, prior: Prior | None, valuation: str = "additive") -> dict[str, Any]:
    """The setting a checkpoint is trained for, as stored in model cards."""
    spec = prior.spec() if prior is not None else None
    return {"n_bidders": n_bidders, "n_items": n_items, "prior": spec, "valuation": valuation}


def make_regretnet(
    n_bidders: int,
    n_items: int,
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
    n_bidders: int,
    n_items: int,
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
    n_bidders: int,
    n_items: int,
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


def make_rochetnet(
    n_bidders: int,
    n_items: int,
    prior: Prior | None = None,
    checkpoint: str | None = None,
    menu_size: int | None = None,
    valuation: str = "additive",
) -> RochetNet:
    """A RochetNet (one bidder), fresh (``menu_size`` options) or from ``checkpoint``."""
    return _build("rochetnet", checkpoint, n_bidders, n_items, prior, valuation, menu_size=menu_size)  # type: ignore[return-value]


def make_lottery_ama(
    n_bidders: int,
    n_items: int,
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


def _build(mechanism: str, checkpoint: str | None, n_bidders: int, n_items: int, prior: Prior | None, valuation: str,
           **architecture: Any) -> Any:
    """Load ``checkpoint`` (checking the given architecture), or build a fresh network."""
    params = {k: v for k, v in architecture.items() if v is not None}
    if checkpoint is not None:
        return load(mechanism, checkpoint, n_bidders, n_items, prior, valuation, **params)
    if mechanism == "algnet":
        return ALGNet(n_bidders, n_items, prior, **params)
    return _CLASSES[mechanism](n_bidders, n_items, prior, valuation=valuation, **params)


def load(
    mechanism: str,
    checkpoint: str,
    n_bidders: int | None,
    n_items: int | None,
    prior: Prior | None,
    valuation: str = "additive",
    **overrides: Any,
) -> LearnedMechanism:
    """Load a checkpoint of ``mechanism`` and check that it fits the setting.

    Raises:
        CheckpointError: not found, corrupt, of another mechanism, or trained for another setting.
    """
    card_path = checkpoints.find(checkpoint, mechanism)
    card = checkpoints.load_card(card_path)
    name = card_path.stem
    if card["mechanism"] != mechanism:
        raise CheckpointError(f"checkpoint '{name}' holds a {card['mechanism']} mechanism, not {mechanism}")
    arch = dict(card["architecture"])
    for key, value in overrides.items():
        if arch.get(key) != value:
            raise CheckpointError(f"checkpoint '{name}' has {key}={arch.get(key)!r}; do not set {key}={value!r} with a checkpoint")
    setting = card["setting"]
    want = (n_bidders if n_bidders is not None else setting["n_bidders"], n_items if n_items is not None else setting["n_items"])
    if (setting["n_bidders"], setting["n_items"]) != want:
        raise CheckpointError(
            f"checkpoint '{name}' is for {setting['n_bidders']} bidders x {setting['n_items']} items; "
            f"the setting has {want[0]} x {want[1]}"
        )
    if setting.get("valuation", "additive") != valuation:
        raise CheckpointError(f"checkpoint '{name}' is for {setting.get('valuation', 'additive')} valuations; the setting has {valuation}")
    if prior is not None and setting.get("prior") is not None:
        spec = prior.spec()
        for bound in ("low", "high"):
            ours, theirs = torch.tensor(spec[bound]), torch.tensor(setting["prior"][bound])
            if spec["type"] != setting["prior"]["type"] or ours.shape != theirs.shape or not torch.allclose(ours, theirs):
                raise CheckpointError(
                    f"checkpoint '{name}' was trained for prior {setting['prior']}, the setting has {spec}"
                )
    model = _CLASSES[mechanism](setting["n_bidders"], setting["n_items"], prior, **arch)
    checkpoints.load_state(card_path, model)
    model.checkpoint_name = name
    model.card = card
    return model.eval()
