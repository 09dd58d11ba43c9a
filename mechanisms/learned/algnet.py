"""ALGNet-style mechanism (Rahme et al., 2021): separate allocation and payment networks."""

from __future__ import annotations

from torch import nn

from mechanisms.learned.base import Array, LearnedMechanism, Logits, mlp, run_sequential
from mechanisms.priors import Prior

__all__ = ["ALGNet"]


class ALGNet(LearnedMechanism):
    """Allocation = sigmoid "sell" probability per item x softmax over bidders (plus a dummy
    row); payment = sigmoid fraction x reported value of the allocation (credible-auctions
    paper §5.2). Allocation and payment come from two separate MLPs.

    Args:
        n_bidders, n_items, prior: the setting (injected by the environment).
        hidden: width of both networks.
        layers: depth of both networks.
    """

    def __init__(
        self, n_bidders: int, n_items: int, prior: Prior | None = None, hidden: int = 100, layers: int = 3
    ) -> None:
        super().__init__(n_bidders, n_items, prior, "additive")
        self.hidden, self.layers = hidden, layers
        d = n_bidders * n_items
        self.allocation_net = nn.Sequential(mlp(d, hidden, layers), nn.Linear(hidden, (n_bidders + 2) * n_items))
        self.payment_net = nn.Sequential(mlp(d, hidden, layers), nn.Linear(hidden, n_bidders))

    def logits(self, bids: Array) -> Logits:
        x = self.features(bids)
        n, m = self.n_bidders, self.n_items
        out = run_sequential(self.allocation_net, x).reshape(-1, n + 2, m)
        return Logits(allocation=out[:, : n + 1], payment=run_sequential(self.payment_net, x), sell=out[:, n + 1])

    def architecture(self) -> dict:
        return {"hidden": self.hidden, "layers": self.layers}
