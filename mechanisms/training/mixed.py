"""Training one network on several auction sizes: a trainer per size, stepped in turn.

A mechanism that runs any size (:attr:`Mechanism.any_size`, the equivariant network) learns
one set of weights for all of them. Each size keeps what its trainer keeps (profiles,
misreports, Lagrange multipliers or misreporter, Adam moments); only the network is shared, so
iteration ``t`` is one step of size ``t mod K``, with that trainer's own loss and schedule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["MixedSizes", "Trainer"]


class Trainer(Protocol):
    iteration: int

    def step(self) -> dict[str, float]: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...


class MixedSizes:
    """Round-robin over ``trainers``, one per ``(n_bidders, n_items)`` in ``sizes``.

    Metrics: each size's latest ``revenue`` and ``regret`` (as ``revenue_NxM``), and their
    means over the sizes as ``revenue`` and ``regret`` (NaN until every size has stepped).
    """

    def __init__(self, sizes: Sequence[tuple[int, int]], trainers: Sequence[Trainer]) -> None:
        if len(sizes) != len(trainers) or not trainers:
            raise ValueError("one trainer per size, at least one")
        self.sizes, self.trainers = [tuple(s) for s in sizes], list(trainers)
        self.iteration = 0
        self._latest: dict[str, float] = {}
        for n, m in self.sizes:
            self._latest[f"revenue_{n}x{m}"] = math.nan
            self._latest[f"regret_{n}x{m}"] = math.nan

    def step(self) -> dict[str, float]:
        k = self.iteration % len(self.trainers)
        metrics = self.trainers[k].step()
        self.iteration += 1
        n, m = self.sizes[k]
        self._latest[f"revenue_{n}x{m}"] = metrics["revenue"]
        self._latest[f"regret_{n}x{m}"] = metrics.get("regret", math.nan)
        revenues = [v for key, v in self._latest.items() if key.startswith("revenue_")]
        regrets = [v for key, v in self._latest.items() if key.startswith("regret_")]
        return {"revenue": sum(revenues) / len(revenues), "regret": sum(regrets) / len(regrets), **self._latest}

    def state_dict(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "latest": dict(self._latest),
            "trainers": [t.state_dict() for t in self.trainers],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["trainers"]) != len(self.trainers):
            raise ValueError(f"the state has {len(state['trainers'])} sizes, this run {len(self.trainers)}")
        for trainer, sub in zip(self.trainers, state["trainers"]):
            trainer.load_state_dict(sub)
        self.iteration = int(state["iteration"])
        self._latest.update(state["latest"])
