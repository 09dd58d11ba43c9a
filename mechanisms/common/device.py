"""The default device: CUDA when available, else CPU. Code never takes a ``cuda=True`` flag;
the device follows the input tensor or this default."""

from __future__ import annotations

import torch

__all__ = ["default_device", "resolve_device"]


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device: torch.device | str | None) -> torch.device:
    """``device`` as a :class:`torch.device`, or :func:`default_device` when ``None``."""
    return torch.device(device) if device is not None else default_device()
