"""The environments' ``Box`` spaces: Gymnasium's ``Box``, sampled directly when its bounds are finite."""

from __future__ import annotations

from typing import Any, SupportsFloat

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

__all__ = ["bounded_box"]


class _DirectSample:
    """``Box.sample`` of one box with finite float bounds: ``low + (high - low) * U[0, 1)`` in
    float64 from the box's own generator, then cast, which is what ``Box.sample`` computes for
    such a box, without the masks it builds on every call for coordinates unbounded on either
    side (they cost most of its time)."""

    __slots__ = ("box", "low", "range")

    def __init__(self, box: spaces.Box) -> None:
        self.box, self.low = box, box.low.astype(np.float64)
        self.range = box.high.astype(np.float64) - self.low

    def __call__(self, mask: None = None, probability: None = None) -> NDArray[Any]:
        box = self.box
        if mask is not None or probability is not None:
            return spaces.Box.sample(box, mask, probability)  # Gymnasium's error
        rng = box._np_random  # (Space.np_random, without its property call: seeds it when None)
        draw = (rng if rng is not None else box.np_random).random(box.shape)
        draw *= self.range  # in place: the same float64 numbers as low + range * u
        draw += self.low
        return draw.astype(box.dtype) if box.shape else np.asarray(draw.astype(box.dtype))


def bounded_box(
    low: SupportsFloat | NDArray[Any],
    high: SupportsFloat | NDArray[Any],
    shape: tuple[int, ...] | None = None,
    dtype: type[np.floating[Any]] | np.dtype = np.float32,
) -> spaces.Box:
    """``gymnasium.spaces.Box(low, high, shape, dtype)`` (exactly that type: RLlib's SAC, for one,
    looks action spaces up by type) whose ``sample`` draws the same numbers from the same
    generator, directly (every bid, observation and state space of the environments).

    Raises:
        ValueError: a bound is infinite, or the dtype is not a float type.
    """
    box = spaces.Box(low, high, shape, dtype)
    if box.dtype.kind != "f" or not box.is_bounded("both"):
        raise ValueError(f"bounded_box needs finite bounds and a float dtype, got {box}")
    sampler = _DirectSample(box)
    if np.isfinite(sampler.range).all():  # (else Box.sample raises OverflowError: keep it)
        box.sample = sampler  # an instance attribute: the class, and every other method, stay Gymnasium's
    return box
