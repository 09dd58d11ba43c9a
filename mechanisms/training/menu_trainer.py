"""Training of menu mechanisms (RochetNet, Lottery AMA): maximise revenue, no regret term.

They are DSIC by construction, so the loss is just minus the revenue of the *relaxed*
outcome (the menu choice as a softmax at a temperature, see :mod:`mechanisms.learned.menus`).
The temperature anneals geometrically from ``temperature_start`` to ``temperature_end`` over
``anneal_iterations``, so the relaxation approaches the exact argmax used at evaluation.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mechanisms.learned.menus import _Menu
from mechanisms.training.data import ProfileDataset

__all__ = ["MenuTrainer"]


class MenuTrainer:
    """One call of :meth:`step` is one training iteration.

    Args:
        model: a RochetNet or Lottery AMA.
        data: training profiles.
        low, high, generator: unused (the common trainer signature).
        batch_size: profiles per iteration.
        lr: Adam learning rate.
        temperature_start, temperature_end, anneal_iterations: the softmax temperature schedule.
    """

    def __init__(
        self,
        model: _Menu,
        data: ProfileDataset,
        low: Tensor,
        high: Tensor,
        generator: torch.Generator,
        *,
        batch_size: int = 1024,
        lr: float = 1e-3,
        temperature_start: float = 0.05,
        temperature_end: float = 0.005,
        anneal_iterations: int = 10_000,
    ) -> None:
        if not isinstance(model, _Menu):
            raise ValueError(f"the menu trainer trains rochetnet or lottery_ama, not {type(model).__name__}")
        if batch_size < 1 or not lr > 0 or anneal_iterations < 1 or not 0 < temperature_end <= temperature_start:
            raise ValueError(
                "need batch_size >= 1, lr > 0, anneal_iterations >= 1 and 0 < temperature_end <= temperature_start"
            )
        self.model, self.data, self.batch_size = model, data, batch_size
        self.t0, self.t1, self.anneal = temperature_start, temperature_end, anneal_iterations
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.iteration = 0

    def temperature(self) -> float:
        """The temperature at the current iteration (geometric from start to end, then constant)."""
        frac = min(1.0, self.iteration / self.anneal)
        return self.t0 * (self.t1 / self.t0) ** frac

    def step(self) -> dict[str, float]:
        """One Adam step on minus the relaxed revenue; also reports the exact revenue of the batch."""
        v = self.data.valuations[self.data.next_indices(self.batch_size)]
        self.model.train()
        self.model.temperature = self.temperature()
        relaxed = self.model.run(v, check=False).payments.sum(-1).mean()
        self.optimizer.zero_grad(set_to_none=True)
        (-relaxed).backward()
        self.optimizer.step()
        with torch.no_grad():
            exact = self.model.run(v, check=False).payments.sum(-1).mean()
        self.iteration += 1
        return {"revenue": exact.item(), "relaxed_revenue": relaxed.item(), "temperature": self.model.temperature}

    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "iteration": self.iteration,
            "data": self.data.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.iteration = int(state["iteration"])
        self.data.load_state_dict(state["data"])
