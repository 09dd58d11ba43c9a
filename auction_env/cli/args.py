"""Argument types and checks shared by the commands; every bad value ends in one line and exit 2."""

from __future__ import annotations

import argparse
from typing import Any

from mechanisms.common.errors import AuctionEnvError

__all__ = ["BadInput", "positive", "non_negative", "device", "comma_list", "no_progress"]


class BadInput(AuctionEnvError):
    """A command-line value the library cannot take (reported as one line, exit 2)."""


def positive(text: str) -> int:
    """An integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def non_negative(text: str) -> int:
    """An integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def comma_list(values: Any) -> str:
    """A default sequence as the comma-separated text the option takes (``0,0.05,1``)."""
    return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def device(name: str | None) -> Any:
    """The torch device ``--device`` names, or None for the library's default (CUDA if available)."""
    if name is None:
        return None
    import torch

    try:
        dev = torch.device(name)
    except RuntimeError as err:
        raise BadInput(f"--device: {err}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BadInput("--device: CUDA is not available on this machine")
    return dev


def no_progress(parser: argparse.ArgumentParser) -> None:
    """The ``--no-progress`` flag every long-running command has."""
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
