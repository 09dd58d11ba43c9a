"""Valuation priors: independent per (bidder, item), sampled from an explicit generator.

Each prior exposes what item-wise Myerson needs: the virtual value
``phi(v) = v - (1 - F(v)) / f(v)``, its inverse, and the monopoly reserve ``phi^{-1}(0)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import torch
from torch import Tensor

from mechanisms.common.registry import Registry

__all__ = ["Prior", "UniformPrior", "ConstantPrior", "expand_table", "prior_registry"]

#: A tensor, or a NumPy array for the batch-1 path; functions return what they were given.
ArrayT = TypeVar("ArrayT", Tensor, np.ndarray)


def expand_table(value: Any, n_bidders: int, n_items: int, name: str) -> Tensor:
    """Turn a scalar / ``{per_bidder: [...]}`` / ``{per_item: [...]}`` / n x m list into a table.

    Returns:
        float32 tensor ``(n_bidders, n_items)``.

    Raises:
        ValueError: wrong length, wrong nesting, or a non-finite number.
    """
    if isinstance(value, Mapping):
        if set(value) == {"per_bidder"}:
            rows = _numbers(value["per_bidder"], n_bidders, f"{name}.per_bidder")
            table = [[r] * n_items for r in rows]
        elif set(value) == {"per_item"}:
            cols = _numbers(value["per_item"], n_items, f"{name}.per_item")
            table = [cols for _ in range(n_bidders)]
        else:
            raise ValueError(
                f"{name}: a mapping must have exactly one key, 'per_bidder' or 'per_item'; got {sorted(value)}"
            )
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        table = [[float(value)] * n_items for _ in range(n_bidders)]
    elif isinstance(value, Tensor):
        table = torch.broadcast_to(value.detach().float().cpu(), (n_bidders, n_items)).tolist()
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != n_bidders:
            raise ValueError(
                f"{name}: expected {n_bidders} rows (one per bidder), got {len(value)}; "
                "use {per_item: [...]} for one value per item"
            )
        table = [_numbers(row, n_items, f"{name}[{i}]") for i, row in enumerate(value)]
    else:
        raise ValueError(
            f"{name}: expected a number, a list of per-bidder lists, "
            f"{{per_bidder: [...]}} or {{per_item: [...]}}; got {type(value).__name__}"
        )
    out = torch.tensor(table, dtype=torch.float32)
    if not bool(torch.isfinite(out).all()):
        raise ValueError(f"{name}: values must be finite")
    return out


def _numbers(seq: Any, length: int, name: str) -> list[float]:
    if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence):
        raise ValueError(f"{name}: expected a list of {length} numbers")
    if len(seq) != length:
        raise ValueError(f"{name}: expected {length} numbers, got {len(seq)}")
    for x in seq:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise ValueError(f"{name}: expected numbers, got {x!r}")
    return [float(x) for x in seq]


class Prior(ABC):
    """Independent valuation distribution for every (bidder, item) pair.

    Attributes:
        n_bidders, n_items: the setting's size.
        low, high: ``(n_bidders, n_items)`` support bounds (CPU tensors).
    """

    n_bidders: int
    n_items: int
    low: Tensor
    high: Tensor

    @abstractmethod
    def sample(self, batch: int, generator: torch.Generator | None, device: torch.device | str | None = None) -> Tensor:
        """Draw valuations ``(batch, n_bidders, n_items)``."""

    @abstractmethod
    def virtual_value(self, values: ArrayT) -> ArrayT:
        """Myerson virtual value of ``values`` ``(..., n_bidders, n_items)``, elementwise.

        Takes a tensor or a NumPy array (the batch-1 path) and returns the same kind."""

    @abstractmethod
    def inverse_virtual_value(self, phi: ArrayT) -> ArrayT:
        """The value whose virtual value is ``phi`` ``(..., n_bidders, n_items)`` (tensor or array)."""

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """A YAML-ready description that rebuilds this prior."""

    def quantile(self, u: Tensor) -> Tensor:
        """The values at quantiles ``u`` ``(..., n_bidders, n_items)`` in [0, 1] (the inverse CDF,
        elementwise): ``quantile(U[0, 1] draws)`` samples the prior. Value processes that move
        between rounds (``auction_env.dynamics``) keep a latent uniform and map it through this."""
        raise NotImplementedError(f"{type(self).__name__} has no quantile function")

    def bounds(self, device: torch.device | str) -> tuple[Tensor, Tensor]:
        """``(low, high)`` on ``device`` (cached per device)."""
        return self._on(device)[:2]

    def _on(self, device: torch.device | str) -> tuple[Tensor, ...]:
        """Per-device cache of ``(low, high, *derived)`` tables (see :meth:`_tables`)."""
        cache = self.__dict__.setdefault("_device_cache", {})
        try:
            return cache[device]
        except KeyError:
            tables = tuple(t.to(device) for t in (self.low, self.high, *self._tables()))
            cache[device] = tables
            return tables

    def _tables(self) -> tuple[Tensor, ...]:
        """Extra per-(bidder, item) tables a subclass wants cached per device."""
        return ()

    def reserve(self) -> Tensor:
        """``(n_bidders, n_items)`` Myerson monopoly reserve ``phi^{-1}(0)``, clipped to the support."""
        return torch.maximum(self.inverse_virtual_value(torch.zeros_like(self.low)), self.low)


class UniformPrior(Prior):
    """Independent uniform values ``v_ij ~ U[low_ij, high_ij]`` (a regular distribution).

    Args:
        n_bidders, n_items: the setting's size.
        low, high: a number, ``{per_bidder: [...]}``, ``{per_item: [...]}``, or an
            ``n_bidders x n_items`` nested list. Default U[0, 1].
    """

    def __init__(self, n_bidders: int, n_items: int, low: Any = 0.0, high: Any = 1.0) -> None:
        if n_bidders < 1 or n_items < 1:
            raise ValueError("n_bidders and n_items must be >= 1")
        self.n_bidders, self.n_items = n_bidders, n_items
        self.low = expand_table(low, n_bidders, n_items, "low")
        self.high = expand_table(high, n_bidders, n_items, "high")
        if bool((self.low < 0).any()):
            raise ValueError("low must be >= 0 (bids and values are non-negative)")
        if bool((self.high <= self.low).any()):
            raise ValueError("high must be greater than low for every bidder and item")

    def sample(self, batch: int, generator: torch.Generator | None, device: torch.device | str | None = None) -> Tensor:
        gen_device = generator.device if generator is not None else torch.device("cpu")
        u = torch.rand((batch, self.n_bidders, self.n_items), generator=generator, device=gen_device)
        target = torch.device(device) if device is not None else gen_device
        tables = self._on(target)
        return torch.addcmul(tables[5], tables[4], u.to(target))

    def quantile(self, u: Tensor) -> Tensor:
        tables = self._on(u.device)
        return torch.addcmul(tables[5], tables[4], u)

    def _tables(self) -> tuple[Tensor, ...]:
        # Cached per device: -high, high / 2 (virtual values), high - low and low (sampling).
        # A symmetric prior gets 0-dim tensors: broadcasting a scalar is ~10x faster than a
        # (n_bidders, n_items) table whose short inner axis defeats vectorization.
        tables = (-self.high, 0.5 * self.high, self.high - self.low, self.low)
        return tuple(t.flatten()[0].clone() if bool((t == t.flatten()[0]).all()) else t for t in tables)

    def virtual_value(self, values: ArrayT) -> ArrayT:
        # phi(v) = v - (1 - F(v)) / f(v) = v - (high - v) = 2v - high on [low, high].
        if isinstance(values, np.ndarray):  # 2v is exact, so this equals torch's fused add
            return self._numpy_tables()[2] + 2.0 * values
        neg_high = self._on(values.device)[2]
        return torch.add(neg_high, values, alpha=2.0)

    def inverse_virtual_value(self, phi: ArrayT) -> ArrayT:
        if isinstance(phi, np.ndarray):
            return self._numpy_tables()[3] + 0.5 * phi
        half_high = self._on(phi.device)[3]
        return torch.add(half_high, phi, alpha=0.5)

    def _numpy_tables(self) -> tuple[np.ndarray, ...]:
        tables = self.__dict__.get("_numpy_cache")
        if tables is None:
            tables = self.__dict__["_numpy_cache"] = tuple(t.numpy() for t in self._on("cpu"))
        return tables

    def spec(self) -> dict[str, Any]:
        return {"type": "uniform", "low": self.low.tolist(), "high": self.high.tolist()}

    def __repr__(self) -> str:
        if bool((self.low == self.low.flatten()[0]).all()) and bool((self.high == self.high.flatten()[0]).all()):
            return (
                f"UniformPrior(U[{self.low.flatten()[0].item():g}, {self.high.flatten()[0].item():g}], "
                f"{self.n_bidders}x{self.n_items})"
            )
        return f"UniformPrior(low={self.low.tolist()}, high={self.high.tolist()})"


class ConstantPrior(Prior):
    """Known values: every draw is ``value`` (a point mass; the constant common value of
    Banchio and Skrzypacz's repeated-auction experiments, 2022).

    There is no information rent to pay, so the virtual value is the value itself and the
    Myerson reserve is the value: item-wise Myerson posts it as a price.

    Args:
        n_bidders, n_items: the setting's size.
        value: a number, ``{per_bidder: [...]}``, ``{per_item: [...]}`` or an ``n_bidders x
            n_items`` nested list; default 1.
    """

    def __init__(self, n_bidders: int, n_items: int, value: Any = 1.0) -> None:
        if n_bidders < 1 or n_items < 1:
            raise ValueError("n_bidders and n_items must be >= 1")
        self.n_bidders, self.n_items = n_bidders, n_items
        self.low = expand_table(value, n_bidders, n_items, "value")
        if bool((self.low <= 0).any()):
            raise ValueError("value must be > 0")
        self.high = self.low.clone()

    def sample(self, batch: int, generator: torch.Generator | None, device: torch.device | str | None = None) -> Tensor:
        target = (
            torch.device(device) if device is not None else (generator.device if generator else torch.device("cpu"))
        )
        return self._on(target)[0].expand(batch, self.n_bidders, self.n_items).clone()

    def quantile(self, u: Tensor) -> Tensor:
        return self._on(u.device)[0].expand_as(u).clone()

    def virtual_value(self, values: ArrayT) -> ArrayT:
        return values.copy() if isinstance(values, np.ndarray) else values.clone()

    def inverse_virtual_value(self, phi: ArrayT) -> ArrayT:
        return phi.copy() if isinstance(phi, np.ndarray) else phi.clone()

    def spec(self) -> dict[str, Any]:
        return {"type": "constant", "value": self.low.tolist()}

    def __repr__(self) -> str:
        return f"ConstantPrior(value={self.low.tolist()})"


prior_registry: Registry[Prior] = Registry("prior", context_params=("n_bidders", "n_items"))
prior_registry.register("uniform", UniformPrior, description="independent U[low, high]")
prior_registry.register("constant", ConstantPrior, description="known values (a point mass)")
