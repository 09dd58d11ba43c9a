"""Shipped mechanism checkpoints: ``NAME.pt`` (a state dict, loaded with ``weights_only=True``)
beside ``NAME.json`` (the model card: setting, architecture, training, evaluation).
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from torch import nn

from auction_env.atomic import temporary_sibling, write_text_atomic
from auction_env.errors import CheckpointError
from auction_env.registry import suggest

__all__ = ["shipped", "find", "load_card", "load_state", "save"]

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
    raise CheckpointError(f"checkpoint '{name_or_path}' not found (no such file, no shipped checkpoint).{hint} Shipped: {', '.join(names) or '(none)'}")


def load_card(card_path: Path, required: tuple[str, ...] = ("mechanism", "setting", "architecture")) -> dict[str, Any]:
    """Read a model card; a missing or malformed card, or one without a ``required`` key,
    raises :class:`CheckpointError`."""
    try:
        card = json.loads(Path(card_path).read_text(encoding="utf-8"))
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
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{weights}: weights file missing") from None
    except Exception as err:  # torch raises many types for corrupt files
        raise CheckpointError(f"{weights}: cannot load weights (corrupt or not a state dict): {type(err).__name__}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{weights}: expected a state dict, got {type(state).__name__}")
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        raise CheckpointError(f"{weights}: weights do not fit the architecture in the card: {first[1].strip() if len(first) > 1 else first[0]}") from None


def save(model: nn.Module, card: dict[str, Any], path: str | Path) -> Path:
    """Write ``path.pt`` (state dict, CPU tensors) and ``path.json`` (card), each atomically."""
    path = Path(path).with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    save_torch_atomic(state, path.with_suffix(".pt"))
    write_text_atomic(path.with_suffix(".json"), json.dumps(card, indent=2) + "\n")
    return path.with_suffix(".json")


def save_torch_atomic(obj: Any, path: Path) -> None:
    """``torch.save`` through a temporary file and ``os.replace``."""
    tmp = temporary_sibling(path)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
