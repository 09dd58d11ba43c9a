"""The environments' ``Box`` spaces: Gymnasium's, with a direct ``sample`` for finite float bounds."""

from __future__ import annotations

from typing import Any, SupportsFloat

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

__all__ = ["BoundedBox"]


class BoundedBox(spaces.Box):
    """A :class:`gymnasium.spaces.Box` with finite bounds and a float dtype (every bid, observation
    and state space of the environments).

    :meth:`sample` draws exactly what ``Box.sample`` draws, the same numbers from the same
    generator (``low + (high - low) * U[0, 1)`` in float64, then cast), without the masks
    ``Box.sample`` builds on every call for coordinates unbounded on either side, which cost
    most of its time. Everything else is Gymnasium's: it is a ``Box`` to every library.

    Raises:
        ValueError: a bound is infinite or the dtype is not a float type.
    """

    def __init__(
        self,
        low: SupportsFloat | NDArray[Any],
        high: SupportsFloat | NDArray[Any],
        shape: tuple[int, ...] | None = None,
        dtype: type[np.floating[Any]] | np.dtype = np.float32,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(low, high, shape, dtype, seed)
        if self.dtype.kind != "f" or not self.is_bounded("both"):
            raise ValueError(f"a BoundedBox needs finite bounds and a float dtype, got {self}")
        self._draw_low = self.low.astype(np.float64)
        self._draw_range = self.high.astype(np.float64) - self._draw_low

    def sample(self, mask: None = None, probability: None = None) -> NDArray[Any]:
        """A uniform sample inside the box (``Box.sample``'s numbers, drawn directly)."""
        if mask is not None or probability is not None:
            return super().sample(mask, probability)  # Gymnasium's error
        return (self._draw_low + self._draw_range * self.np_random.random(self.shape)).astype(self.dtype)
