"""The default device: CUDA when available, else CPU. Code never takes a ``cuda=True`` flag;
the device follows the input tensor or this default."""

from __future__ import annotations

import os

import torch

__all__ = ["default_device", "resolve_device", "free_cores"]


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device: torch.device | str | None) -> torch.device:
    """``device`` as a :class:`torch.device`, or :func:`default_device` when ``None``."""
    return torch.device(device) if device is not None else default_device()


def free_cores(processes: int = 1) -> int:
    """CPU threads for each of ``processes`` torch processes: the cores the machine is not already
    busy with (its core count minus the one-minute load average), at least 1.

    On an idle machine every core helps a training or evaluation run; on a busy one each extra
    thread waits for a core another job holds, and one thread is faster (``benchmarks/threads.py``
    measures both).
    """
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average (Windows)
        busy = 0.0
    return max(1, int(cores - busy + 0.5) // max(1, processes))
