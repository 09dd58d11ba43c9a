"""Stochastic weight averaging: the checkpoint is the mean of the weights along the run.

Izmailov et al. (2018), "Averaging weights leads to wider optima and better generalization":
an equal-weight running mean of the parameters, taken every ``every`` iterations from ``start``.
The misreport trainers' weights circle around an equilibrium with their misreports; the mean of
those weights can have less regret than the last of them (measured in docs/equivariant.md). The running mean is
:class:`torch.optim.swa_utils.AveragedModel`; this module decides when it is updated and what
the run saves.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

__all__ = ["WeightAverage"]


class WeightAverage:
    """The running mean of ``model``'s parameters over the iterations ``start``, ``start + every``, ...

    Buffers (the value scale) are not averaged: :meth:`averaged` takes the model's own.
    """

    def __init__(self, model: nn.Module, start: int, every: int) -> None:
        self.model, self.start, self.every = model, start, every
        self.mean = AveragedModel(model)

    @property
    def count(self) -> int:
        """How many iterations' weights the mean holds."""
        return int(self.mean.n_averaged.item())

    def update(self, iteration: int) -> None:
        """Add the model's weights after ``iteration`` when it is one of the averaged iterations."""
        if iteration >= self.start and (iteration - self.start) % self.every == 0:
            self.mean.update_parameters(self.model)

    def averaged(self) -> nn.Module:
        """The mean as a mechanism (the model itself while nothing has been averaged)."""
        if self.count == 0:
            return self.model
        with torch.no_grad():
            for mine, theirs in zip(self.mean.module.buffers(), self.model.buffers(), strict=True):
                mine.copy_(theirs)
        return self.mean.module

    def state_dict(self) -> dict:
        return self.mean.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.mean.load_state_dict(state)
