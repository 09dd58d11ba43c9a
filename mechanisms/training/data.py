"""Training profiles drawn through the setting's prior and participation samplers.

With a participation model, absent bidders' values are zeroed: the "tweaked dataset" of the
credible-auctions paper (§5.1), with no extra code.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mechanisms.setting import Setting

__all__ = ["ProfileDataset"]


class ProfileDataset:
    """A fixed set of valuation profiles, served in shuffled mini-batches.

    Args:
        setting: the prior and participation model.
        size: number of profiles.
        generator: draws the profiles and the shuffling.
        device: where the profiles live.
    """

    def __init__(
        self, setting: Setting, size: int, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> None:
        if size < 1:
            raise ValueError("dataset size must be >= 1")
        valuations, participation = setting.sample(size, generator, device)
        self.valuations: Tensor = valuations * participation.unsqueeze(-1).to(valuations.dtype)
        self.participation: Tensor = participation
        self._everyone = bool(participation.all())
        self.generator = generator
        self._order = torch.empty(0, dtype=torch.long)
        self._order_state: Tensor | None = None  # the generator's state when it drew _order
        self._pos = 0
        self.epoch = 0

    def present(self, idx: Tensor, mechanism: object) -> Tensor | None:
        """Who takes part in the profiles ``idx`` ``(batch, n)``, for a mechanism that masks
        participation itself (:attr:`Mechanism.masks_participation`); None for any other (it
        trains on the zeroed values alone) or when everybody takes part."""
        if not getattr(mechanism, "masks_participation", False) or self._everyone:
            return None
        return self.participation[idx]

    def __len__(self) -> int:
        return self.valuations.shape[0]

    def next_indices(self, batch_size: int) -> Tensor:
        """Indices of the next mini-batch; reshuffles at each epoch's end (drops the remainder)."""
        batch_size = min(batch_size, len(self))
        if self._pos + batch_size > self._order.numel():
            self._order_state = self.generator.get_state()
            self._order = self._shuffle()
            self._pos = 0
            self.epoch += 1
        idx = self._order[self._pos : self._pos + batch_size]
        self._pos += batch_size
        return idx

    def _shuffle(self) -> Tensor:
        return torch.randperm(len(self), generator=self.generator, device=self.generator.device).to(
            self.valuations.device
        )

    def state_dict(self) -> dict:
        """Position, epoch and generator state; the epoch's order is kept as the generator state
        that drew it (a few KB, where the order itself is 8 bytes a profile)."""
        state = {"pos": self._pos, "epoch": self.epoch, "generator": self.generator.get_state()}
        if self._order_state is None and self._order.numel():  # resumed from the old format: keep it
            return {"order": self._order.cpu(), **state}
        return {"order_state": self._order_state, **state}

    def load_state_dict(self, state: dict) -> None:
        if "order" in state:  # written before the order was kept as a generator state
            self._order, self._order_state = state["order"].to(self.valuations.device), None
        elif state["order_state"] is None:
            self._order, self._order_state = torch.empty(0, dtype=torch.long), None
        else:
            self._order_state = state["order_state"]
            self.generator.set_state(self._order_state)
            self._order = self._shuffle()
        self._pos, self.epoch = int(state["pos"]), int(state["epoch"])
        self.generator.set_state(state["generator"])
