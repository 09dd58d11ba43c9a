"""Pre-activation bounds of a certifiable network's trunk over a box of misreports.

Interval arithmetic tightened by back-substituted linear relaxations (CROWN-style; each
unstable ReLU relaxed by its triangle, Planet's LP relaxation). A ReLU whose bounds straddle
zero needs a binary in the MIP (Curry et al. 2020, eq. 4); tight bounds mean few binaries and
small big-M constants.
"""

from __future__ import annotations

import numpy as np
from torch import nn

__all__ = ["network_bounds"]


class _Affine:
    """A linear layer as float64 arrays: ``y = W x + c``."""

    def __init__(self, layer: nn.Linear, rows: slice | list[int] | None = None) -> None:
        w = layer.weight.detach().double().cpu().numpy()
        c = layer.bias.detach().double().cpu().numpy()
        self.w, self.c = (w, c) if rows is None else (w[rows], c[rows])


def _relu_relaxation(l: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear bounds of ``relu`` on ``[l, u]``: upper ``su * z + bu``, lower ``sl * z``."""
    unstable = (l < 0) & (u > 0)
    su = np.where(l >= 0, 1.0, 0.0)
    bu = np.zeros_like(l)
    width = np.where(unstable, u - l, 1.0)
    su = np.where(unstable, u / width, su)
    bu = np.where(unstable, -u * l / width, bu)
    sl = np.where(l >= 0, 1.0, np.where(unstable & (u >= -l), 1.0, 0.0))
    return su, bu, sl


def _backsubstitute(
    target: _Affine,
    trunk: list[_Affine],
    bounds: list[tuple[np.ndarray, np.ndarray]],
    in_low: np.ndarray,
    in_high: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of ``target(relu(trunk[-1](... relu(trunk[0](x)))))`` over the
    input box, with every ReLU replaced by its linear relaxation (CROWN-style)."""
    out = []
    for sign in (1.0, -1.0):  # upper bound of +target, then of -target
        lam, const = sign * target.w, sign * target.c
        for layer, (l, u) in zip(reversed(trunk), reversed(bounds)):
            su, bu, sl = _relu_relaxation(l, u)
            pos, neg = np.maximum(lam, 0.0), np.minimum(lam, 0.0)
            const = const + pos @ bu
            lam = pos * su + neg * sl
            const = const + lam @ layer.c
            lam = lam @ layer.w
        center, radius = (in_high + in_low) / 2, (in_high - in_low) / 2
        out.append(const + lam @ center + np.abs(lam) @ radius)
    upper, neg_lower = out
    return -neg_lower, upper


def _interval(layer: _Affine, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    center, radius = (high + low) / 2, (high - low) / 2
    c = layer.w @ center + layer.c
    r = np.abs(layer.w) @ radius
    return c - r, c + r


def network_bounds(
    trunk: list[_Affine], heads: list[_Affine], in_low: np.ndarray, in_high: np.ndarray
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]:
    """Pre-activation bounds of every trunk layer and of the heads over the input box: the
    intersection of interval arithmetic and back-substituted linear relaxations."""
    bounds: list[tuple[np.ndarray, np.ndarray]] = []
    low, high = in_low, in_high
    for k, layer in enumerate(trunk):
        il, iu = _interval(layer, low, high)
        if k > 0:
            bl, bu = _backsubstitute(layer, trunk[:k], bounds, in_low, in_high)
            il, iu = np.maximum(il, bl), np.minimum(iu, bu)
        bounds.append((il, iu))
        low, high = np.maximum(il, 0.0), np.maximum(iu, 0.0)
    head_bounds = []
    for head in heads:
        il, iu = _interval(head, low, high)
        bl, bu = _backsubstitute(head, trunk, bounds, in_low, in_high)
        head_bounds.append((np.maximum(il, bl), np.minimum(iu, bu)))
    return bounds, head_bounds
