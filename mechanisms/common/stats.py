"""The one standard-error helper: the sample standard deviation over the square root of the count."""

from __future__ import annotations

import math

from torch import Tensor

__all__ = ["standard_error", "standard_error_from_sums"]


def standard_error(x: Tensor) -> float:
    """Standard error of the mean of ``x`` (all elements); NaN with fewer than two."""
    n = x.numel()
    return x.std().item() / math.sqrt(n) if n > 1 else float("nan")


def standard_error_from_sums(total: float, squares: float, count: int) -> float:
    """Standard error of a mean kept as running sums (``sum x``, ``sum x^2``, count); NaN below two."""
    if count < 2:
        return float("nan")
    mean = total / count
    var = max(squares / count - mean * mean, 0.0) * count / (count - 1)
    return math.sqrt(var / count)
