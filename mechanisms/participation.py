"""Stochastic participation: which bidders take part in each round.

A model samples a boolean mask ``(batch, n_bidders)``; the core zeroes absent bidders' bids,
and an absent bidder gets nothing and pays nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from mechanisms.common.registry import Registry

__all__ = ["Participation", "Always", "Independent", "Profiles", "registry", "make"]


class Participation(ABC):
    """A distribution over participation profiles of ``n_bidders`` bidders."""

    #: True when every bidder always participates (lets the core skip masking).
    always: bool = False

    def __init__(self, n_bidders: int) -> None:
        if n_bidders < 1:
            raise ValueError("n_bidders must be >= 1")
        self.n_bidders = n_bidders

    @abstractmethod
    def sample(self, batch: int, generator: torch.Generator | None, device: torch.device | str | None = None) -> Tensor:
        """Draw a boolean mask ``(batch, n_bidders)``: True where the bidder participates."""

    @abstractmethod
    def rates(self) -> list[float]:
        """Each bidder's probability of participating."""

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """A YAML-ready description that rebuilds this model."""


class Always(Participation):
    """Every bidder participates in every round."""

    always = True

    def sample(self, batch: int, generator: torch.Generator | None, device: torch.device | str | None = None) -> Tensor:
        return torch.ones((batch, self.n_bidders), dtype=torch.bool, device=device)

    def rates(self) -> list[float]:
        return [1.0] * self.n_bidders

    def spec(self) -> dict[str, Any]:
        return {"model": "always"}


class Independent(Participation):
    """Bidder i participates independently with probability ``p[i]``.

    Args:
        n_bidders: number of bidders (injected).
        p: one probability for all bidders, or a list with one per bidder.
    """

    def __init__(self, n_bidders: int, p: float | Sequence[float] = 1.0) -> None:
        super().__init__(n_bidders)
        if isinstance(p, (int, float)) and not isinstance(p, bool):
            probs = [float(p)] * n_bidders
        elif isinstance(p, Sequence) and not isinstance(p, str):
            probs = [float(x) for x in p]
            if len(probs) != n_bidders:
                raise ValueError(f"p: expected one probability per bidder ({n_bidders}), got {len(probs)}")
        else:
            raise ValueError("p must be a probability or a list of probabilities, one per bidder")
        if any(not 0.0 <= x <= 1.0 for x in probs):
            raise ValueError(f"p: probabilities must lie in [0, 1], got {probs}")
        self.p = torch.tensor(probs, dtype=torch.float32)

    def sample(self, batch: int, generator: torch.Generator | None, device: torch.device | str | None = None) -> Tensor:
        gen_device = generator.device if generator is not None else torch.device("cpu")
        u = torch.rand((batch, self.n_bidders), generator=generator, device=gen_device)
        mask = u < self.p.to(gen_device)
        return mask.to(device) if device is not None else mask

    def rates(self) -> list[float]:
        return self.p.tolist()

    def spec(self) -> dict[str, Any]:
        return {"model": "independent", "p": self.p.tolist()}


class Profiles(Participation):
    """An explicit distribution over 0/1 participation profiles.

    Args:
        n_bidders: number of bidders (injected).
        profiles: list of 0/1 lists, one entry per bidder, e.g. ``[[1, 1], [1, 0]]``.
        probs: probability of each profile; must sum to 1.
    """

    def __init__(self, n_bidders: int, profiles: Sequence[Sequence[int]], probs: Sequence[float]) -> None:
        super().__init__(n_bidders)
        if not profiles:
            raise ValueError("profiles: give at least one profile")
        for k, prof in enumerate(profiles):
            if len(prof) != n_bidders or any(x not in (0, 1) or isinstance(x, float) for x in prof):
                raise ValueError(f"profiles[{k}]: expected {n_bidders} entries, each 0 or 1, got {list(prof)}")
        if len(probs) != len(profiles):
            raise ValueError(f"probs: expected {len(profiles)} probabilities (one per profile), got {len(probs)}")
        if any(not 0.0 <= float(q) <= 1.0 for q in probs) or abs(sum(probs) - 1.0) > 1e-6:
            raise ValueError(f"probs: must lie in [0, 1] and sum to 1, got {list(probs)}")
        self.profiles = torch.tensor(profiles, dtype=torch.bool)
        self.probs = torch.tensor([float(q) for q in probs], dtype=torch.float64)

    def sample(self, batch: int, generator: torch.Generator | None, device: torch.device | str | None = None) -> Tensor:
        gen_device = generator.device if generator is not None else torch.device("cpu")
        idx = torch.multinomial(self.probs.to(gen_device), batch, replacement=True, generator=generator)
        mask = self.profiles.to(gen_device)[idx]
        return mask.to(device) if device is not None else mask

    def rates(self) -> list[float]:
        return (self.probs.unsqueeze(1) * self.profiles.double()).sum(0).tolist()

    def spec(self) -> dict[str, Any]:
        return {"model": "profiles", "profiles": self.profiles.int().tolist(), "probs": self.probs.tolist()}


registry: Registry[Participation] = Registry("participation model", context_params=("n_bidders",))
registry.register("always", Always, description="every bidder always participates")
registry.register("independent", Independent, description="bidder i present with probability p[i]")
registry.register("profiles", Profiles, description="explicit 0/1 profiles with probabilities")


def make(n_bidders: int, model: str = "always", **params: Any) -> Participation:
    """Build a participation model, e.g. ``make(2, "independent", p=0.8)``."""
    return registry.make(model, context={"n_bidders": n_bidders}, **params)
