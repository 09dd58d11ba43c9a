"""RegretNet (Dütting et al., 2019): an MLP mechanism trained to maximise revenue at low regret."""

from __future__ import annotations

from torch import nn

from mechanisms.learned.base import Array, LearnedMechanism, Logits, apply_linear, mlp, run_sequential
from mechanisms.priors import Prior

__all__ = ["RegretNet"]


class RegretNet(LearnedMechanism):
    """RegretNet: a ReLU MLP trunk over the flattened bids with two heads.

    * allocation head: ``(n + 1) x m`` logits, softmax over bidders plus a dummy "unsold" row
      per item (additive); for ``unit_demand`` a second head gives ``n x (m + 1)`` logits
      softmaxed over items plus a dummy per bidder, and the allocation is the elementwise
      minimum of the two (Dütting et al. §4, doubly normalized);
    * payment head: ``n`` sigmoid fractions; payment = fraction x reported value of the
      allocation, so truthful bidders are never charged more than they get.

    Shapes: bids ``(batch, n_bidders, n_items)`` -> allocation same, payments ``(batch, n_bidders)``.

    Args:
        n_bidders, n_items, prior: the setting (injected by the environment).
        hidden: trunk width (paper: 100).
        layers: trunk depth (paper: 3 for 1x2 and 2x2, 5 for larger settings).
        valuation: ``additive`` or ``unit_demand``.
    """

    def __init__(
        self,
        n_bidders: int,
        n_items: int,
        prior: Prior | None = None,
        hidden: int = 100,
        layers: int = 3,
        valuation: str = "additive",
    ) -> None:
        super().__init__(n_bidders, n_items, prior, valuation)
        self.hidden, self.layers = hidden, layers
        self.trunk = mlp(n_bidders * n_items, hidden, layers)
        self.allocation_head = nn.Linear(hidden, (n_bidders + 1) * n_items)
        self.payment_head = nn.Linear(hidden, n_bidders)
        self.item_choice_head = nn.Linear(hidden, n_bidders * (n_items + 1)) if valuation == "unit_demand" else None

    def logits(self, bids: Array) -> Logits:
        h = run_sequential(self.trunk, self.features(bids))
        n, m = self.n_bidders, self.n_items
        item_choice = None
        if self.item_choice_head is not None:
            item_choice = apply_linear(self.item_choice_head, h).reshape(-1, n, m + 1)
        return Logits(
            allocation=apply_linear(self.allocation_head, h).reshape(-1, n + 1, m),
            payment=apply_linear(self.payment_head, h),
            item_choice=item_choice,
        )

    def architecture(self) -> dict:
        """The constructor arguments that rebuild this network (for model cards)."""
        return {"hidden": self.hidden, "layers": self.layers, "valuation": self.valuation}
