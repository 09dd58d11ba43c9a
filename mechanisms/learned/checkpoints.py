"""The one checkpoint loader. A checkpoint is ``NAME.pt`` (a state dict, loaded with
``weights_only=True``: no pickled code runs) beside ``NAME.json`` (the model card: setting,
architecture, training, evaluation). Shipped ones live in ``mechanisms/checkpoints/``.

>>> import mechanisms
>>> mech = mechanisms.load("regretnet_2x2")    # setting, prior and participation from the card
>>> mech.setting.n_bidders, mech.setting.n_items
(2, 2)
"""

from __future__ import annotations

import json
import math
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mechanisms.common.config import parse
from mechanisms.common.errors import CheckpointError, ConfigError, out_of_memory
from mechanisms.common.io import save_torch_atomic, write_json_atomic
from mechanisms.common.registry import suggest
from mechanisms.learned.algnet import ALGNet
from mechanisms.learned.base import LearnedMechanism
from mechanisms.learned.certnet import CertNet
from mechanisms.learned.equivariant import EquivariantNet
from mechanisms.learned.menus import LotteryAMA, RochetNet
from mechanisms.learned.regretnet import RegretNet
from mechanisms.priors import Prior
from mechanisms.setting import Setting, SettingConfig

__all__ = [
    "shipped",
    "find",
    "load_card",
    "load_state",
    "save",
    "load",
    "load_model",
    "load_checkpoint",
    "card_setting",
    "CLASSES",
]

#: Learned mechanism classes by registry name.
CLASSES: dict[str, type[LearnedMechanism]] = {
    "regretnet": RegretNet,
    "algnet": ALGNet,
    "certnet": CertNet,
    "rochetnet": RochetNet,
    "lottery_ama": LotteryAMA,
    "equivariant": EquivariantNet,
}

_PACKAGE = "mechanisms.checkpoints"


def shipped(package: str = _PACKAGE) -> list[str]:
    """Names of the checkpoints shipped in ``package`` (default: the mechanisms')."""
    return sorted(p.name[:-5] for p in resources.files(package).iterdir() if p.name.endswith(".json"))


def find(name_or_path: str | Path, mechanism: str | None = None, *, package: str = _PACKAGE) -> Path:
    """The card path (``.json``) of a checkpoint given by path, full name, or short name.

    ``find("2x2", "regretnet")`` finds the shipped ``regretnet_2x2``; ``package`` names
    another folder of shipped checkpoints (e.g. the observers' inverters).

    Raises:
        CheckpointError: nothing matches (lists the shipped checkpoints).
    """
    path = Path(name_or_path)
    for candidate in (path, path.with_suffix(".json")):
        if candidate.suffix == ".json" and candidate.is_file():
            return candidate
    names = shipped(package)
    stem = path.name[: -len(path.suffix)] if path.suffix in (".json", ".pt") else path.name
    for name in (stem, f"{mechanism}_{stem}" if mechanism else None):
        if name in names:
            with resources.as_file(resources.files(package) / f"{name}.json") as found:
                return Path(found)
    hint = suggest(f"{mechanism}_{stem}" if mechanism else stem, names)
    raise CheckpointError(
        f"checkpoint '{name_or_path}' not found (no such file, no shipped checkpoint).{hint} "
        f"Shipped: {', '.join(names) or '(none)'}"
    )


def load_card(card_path: Path, required: tuple[str, ...] = ("mechanism", "setting", "architecture")) -> dict[str, Any]:
    """Read a model card; a missing or malformed card, or one without a ``required`` key,
    raises :class:`CheckpointError`."""
    try:
        card = json.loads(Path(card_path).read_text(encoding="utf-8"))
    except RecursionError:
        raise CheckpointError(f"{card_path}: cannot read model card: JSON nested too deeply") from None
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{card_path}: cannot read model card: {err}") from None
    if not isinstance(card, dict):
        raise CheckpointError(f"{card_path}: a model card must be a JSON object")
    for key in required:
        if key not in card:
            raise CheckpointError(f"{card_path}: model card has no '{key}'")
    return card


def load_state(card_path: Path, model: nn.Module) -> None:
    """Load the weights next to ``card_path`` into ``model`` (``weights_only=True``: no pickled code)."""
    weights = Path(card_path).with_suffix(".pt")
    try:
        with warnings.catch_warnings():  # (torch warns about the pickle protocol of files it then refuses)
            warnings.simplefilter("ignore")
            state = torch.load(weights, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{weights}: weights file missing") from None
    except Exception as err:  # torch raises many types for corrupt files
        raise CheckpointError(
            f"{weights}: cannot load weights (corrupt or not a state dict): {type(err).__name__}"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{weights}: expected a state dict, got {type(state).__name__}")
    for key, value in state.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointError(f"{weights}: weight '{key}' holds NaN or infinite values")
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        raise CheckpointError(
            f"{weights}: weights do not fit the architecture in the card: "
            f"{first[1].strip() if len(first) > 1 else first[0]}"
        ) from None


def save(model: nn.Module, card: dict[str, Any], path: str | Path) -> Path:
    """Write ``path.pt`` (state dict, CPU tensors) and ``path.json`` (card), each atomically."""
    path = Path(path).with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    save_torch_atomic(state, path.with_suffix(".pt"))
    write_json_atomic(path.with_suffix(".json"), card)
    return path.with_suffix(".json")


def load_model(
    mechanism: str,
    checkpoint: str,
    n_bidders: int | None,
    n_items: int | None,
    prior: Prior | None,
    valuation: str = "additive",
    **overrides: Any,
) -> LearnedMechanism:
    """Load a checkpoint of ``mechanism`` and check that it fits the given setting (``None``: the card's).

    Raises:
        CheckpointError: not found, corrupt, of another mechanism, or trained for another setting.
    """
    card_path = find(checkpoint, mechanism)
    card = load_card(card_path)
    name = card_path.stem
    if card["mechanism"] != mechanism:
        raise CheckpointError(f"checkpoint '{name}' holds a {card['mechanism']} mechanism, not {mechanism}")
    arch = _architecture(card, name)
    for key, value in overrides.items():
        if arch.get(key) != value:
            raise CheckpointError(
                f"checkpoint '{name}' has {key}={arch.get(key)!r}; do not set {key}={value!r} with a checkpoint"
            )
    setting = card_setting(card, str(card_path))
    cls = CLASSES[mechanism]
    want = (
        n_bidders if n_bidders is not None else setting.n_bidders,
        n_items if n_items is not None else setting.n_items,
    )
    if (setting.n_bidders, setting.n_items) != want and not cls.any_size:
        raise CheckpointError(
            f"checkpoint '{name}' is for {setting.n_bidders} bidders x {setting.n_items} items; "
            f"the setting has {want[0]} x {want[1]}"
        )
    if setting.valuation != valuation:
        raise CheckpointError(f"checkpoint '{name}' is for {setting.valuation} valuations; the setting has {valuation}")
    if card["setting"].get("prior") is not None:
        theirs = setting.prior.spec()
        if prior is None:  # no setting given: the card's prior sets the input scale
            prior = setting.prior if (setting.n_bidders, setting.n_items) == want else None
        if prior is not None and not _same_prior(prior.spec(), theirs, symmetric=cls.any_size):
            raise CheckpointError(f"checkpoint '{name}' was trained for prior {theirs}, the setting has {prior.spec()}")
    try:
        model = cls(*want, prior, **arch)
    except (TypeError, ValueError) as err:
        raise CheckpointError(
            f"checkpoint '{name}': its architecture {arch} does not build a {mechanism} ({err})"
        ) from None
    except (RuntimeError, MemoryError) as err:
        if not out_of_memory(err):
            raise
        raise CheckpointError(f"checkpoint '{name}': its architecture {arch} is too large to build here") from None
    load_state(card_path, model)
    model.checkpoint_name = name
    model.card = card
    return model.eval()


def _same_prior(ours: dict[str, Any], theirs: dict[str, Any], *, symmetric: bool) -> bool:
    """Whether two prior specs describe the same prior; with ``symmetric`` (a network for any size),
    whether both give every (bidder, item) the same bounds, the same for both."""
    if ours["type"] != theirs["type"]:
        return False
    for bound in ("low", "high"):
        a, b = torch.tensor(ours[bound], dtype=torch.float64), torch.tensor(theirs[bound], dtype=torch.float64)
        if symmetric:
            a, b = a.unique(), b.unique()
        if a.shape != b.shape or not torch.allclose(a, b):
            return False
    return True


#: Bounds on a card's architecture numbers (far above any network trained here): a tampered card
#: with a huge size is refused before anything is allocated.
_SIZE_LIMIT = 1_000_000
_SIZE_LIMITS = {"layers": 1_000}


def _architecture(card: dict[str, Any], name: str) -> dict[str, Any]:
    """The card's architecture: a JSON object of names to plain finite values."""
    arch = card["architecture"]
    if not isinstance(arch, dict):
        raise CheckpointError(f"checkpoint '{name}': its architecture must be a JSON object")
    for key, value in arch.items():
        plain = (
            value is None
            or isinstance(value, (str, bool))
            or (isinstance(value, (int, float)) and math.isfinite(value))
        )
        if not plain:
            raise CheckpointError(
                f"checkpoint '{name}': architecture.{key} must be a finite number or a name, got {value!r}"
            )
        limit = _SIZE_LIMITS.get(key, _SIZE_LIMIT)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > limit:
            raise CheckpointError(f"checkpoint '{name}': architecture.{key} = {value!r} is beyond {limit:,}")
    return dict(arch)


def card_setting(card: dict[str, Any], source: str = "") -> Setting:
    """The :class:`Setting` a model card describes (its ``setting``: size, prior, participation, valuation).

    Raises:
        CheckpointError: the card's setting is malformed (one line naming the field).
    """
    data = (
        {k: v for k, v in dict(card["setting"]).items() if v is not None}
        if isinstance(card["setting"], dict)
        else card["setting"]
    )
    try:
        return Setting.from_config(parse(SettingConfig, data, source=source, prefix="setting"))
    except ConfigError as err:
        raise CheckpointError(str(err)) from None


def load(name_or_path: str | Path, **params: Any) -> LearnedMechanism:
    """A ready mechanism from a checkpoint, its setting taken from the model card.

    Args:
        name_or_path: a shipped name (``"regretnet_2x2"``) or the path of a card or weights file.
        **params: the mechanism's other parameters, e.g. ``noise_std=0.1``.

    Returns:
        The mechanism (in eval mode) with ``.setting`` (a :class:`Setting`: prior,
        participation, valuation) and ``.card`` attached.

    Raises:
        CheckpointError: not found, corrupt, or a malformed card.
    """
    from mechanisms import registry  # the registry's factories apply each mechanism's parameters

    card_path = find(name_or_path)
    card = load_card(card_path)
    setting = card_setting(card, str(card_path))
    context = {
        "prior": setting.prior,
        "n_bidders": setting.n_bidders,
        "n_items": setting.n_items,
        "valuation": setting.valuation,
    }
    mechanism = registry.make(card["mechanism"], context=context, checkpoint=str(card_path), **params)
    mechanism.setting = setting
    return mechanism


def load_checkpoint(name_or_path: str | Path) -> tuple[LearnedMechanism, Prior, Any, dict[str, Any]]:
    """:func:`load`, unpacked: the mechanism, its prior, its participation model and its card."""
    mechanism = load(name_or_path)
    return mechanism, mechanism.setting.prior, mechanism.setting.participation, mechanism.card
