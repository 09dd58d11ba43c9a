"""A permutation-equivariant learned mechanism for any number of bidders and items.

EquivariantNet (Rahme, Jelassi, Bruna and Weinberg, "A permutation-equivariant neural network
architecture for auction design", AAAI 2021) stacks exchangeable matrix layers (Hartford et al.,
"Deep models of interactions across sets", ICML 2018, eq. 4) over the bid matrix, so that
permuting bidders or items permutes the outcome, and one set of weights serves any
``(n_bidders, n_items)``. Here the pools run over the *present* bidders only: an absent bidder
is left out of every pool, of the allocation softmax and of the payments, so the others'
outcome is the outcome of the auction without it, not of one in which it bids zero (the
credible-auctions paper's "tweaked dataset", §5, is what a fixed-size network must do instead).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from mechanisms.base import Mechanism, NumpyOutcome, Outcome
from mechanisms.learned.base import LearnedMechanism, Logits
from mechanisms.priors import Prior

__all__ = ["EquivariantNet", "ExchangeableLayer", "masked_mean"]

#: Largest ``n_bidders * n_items`` whose unmasked layers run as one dense matmul.
_DENSE_CELLS = 16


def masked_mean(x: Tensor, weight: Tensor | None, dim: int) -> Tensor:
    """Mean of ``x`` over ``dim`` (kept) counting only entries with ``weight`` 1 (None: all);
    0 where nothing counts."""
    if weight is None:
        return x.mean(dim, keepdim=True)
    return (x * weight).sum(dim, keepdim=True) / weight.sum(dim, keepdim=True).clamp(min=1.0)


class ExchangeableLayer(nn.Module):
    """``y_ij = W1 x_ij + W2 mean_i' x_i'j + W3 mean_j' x_ij' + W4 mean_i'j' x_i'j' + b`` on
    ``x`` ``(batch, n, m, channels)`` (Hartford et al. 2018, eq. 4), the bidder means taken over
    present bidders. Equivariant to permutations of bidders and of items."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.own = nn.Linear(d_in, d_out)
        self.bidders = nn.Linear(d_in, d_out, bias=False)
        self.items = nn.Linear(d_in, d_out, bias=False)
        self.both = nn.Linear(d_in, d_out, bias=False)

    def forward(self, x: Tensor, weight: Tensor | None) -> Tensor:
        b, n, m, d = x.shape
        if weight is None and n * m <= _DENSE_CELLS:
            # Everyone present: the layer is one linear map of the whole (n, m, d) matrix, with
            # tied weights (a Kronecker sum); one matmul costs less than four and three pools.
            return (x.reshape(b, n * m * d) @ self.dense(n, m) + self.own.bias.repeat(n * m)).view(b, n, m, -1)
        over_bidders = masked_mean(x, weight, 1)  # (b, 1, m, d)
        return (
            self.own(x)
            + self.bidders(over_bidders)
            + self.items(x.mean(2, keepdim=True))
            + self.both(over_bidders.mean(2, keepdim=True))
        )

    def dense(self, n: int, m: int) -> Tensor:
        """``(n m d_in, n m d_out)``: the layer, everyone present, as one matrix (rows: input cells)."""
        like = {"dtype": self.own.weight.dtype, "device": self.own.weight.device}
        eye_n, eye_m = torch.eye(n, **like), torch.eye(m, **like)
        mean_n, mean_m = torch.full_like(eye_n, 1.0 / n), torch.full_like(eye_m, 1.0 / m)
        return (
            torch.kron(torch.kron(eye_n, eye_m), self.own.weight.t().contiguous())
            + torch.kron(torch.kron(mean_n, eye_m), self.bidders.weight.t().contiguous())
            + torch.kron(torch.kron(eye_n, mean_m), self.items.weight.t().contiguous())
            + torch.kron(torch.kron(mean_n, mean_m), self.both.weight.t().contiguous())
        )


class EquivariantNet(LearnedMechanism):
    """Exchangeable layers over the bids, with RegretNet's feasible heads (Dütting et al. §4):

    * allocation: a logit per (bidder, item), and a dummy "unsold" logit per item from the
      item's pool over present bidders; softmax over the present bidders plus the dummy;
    * payment: a sigmoid fraction per bidder (from its pool over items) x the reported value of
      its allocation, so truthful bidders are never charged more than they get (IR).

    Input channels per (bidder, item): the bid over the value scale, and 1 / (present bidders)
    and 1 / items, so the layers know the auction's size. Additive valuations only.

    Shapes: bids ``(batch, n, m)`` for any ``n, m >= 1`` (the ``n_bidders, n_items`` it is built
    with are the environment's; :meth:`run` takes any size) -> allocation ``(batch, n, m)``,
    payments ``(batch, n)``.

    Args:
        n_bidders, n_items, prior: the setting (injected by the environment); the prior's largest
            upper support is the value scale (one number, so that permuting items or bidders
            permutes the input).
        hidden: channels of every exchangeable layer.
        layers: number of exchangeable layers (ReLU after each).
    """

    masks_participation = True
    any_size = True

    def __init__(
        self,
        n_bidders: int,
        n_items: int,
        prior: Prior | None = None,
        hidden: int = 32,
        layers: int = 3,
        valuation: str = "additive",
    ) -> None:
        if valuation != "additive":
            raise ValueError(f"equivariant supports additive valuations only, not {valuation}")
        if layers < 1 or hidden < 1:
            raise ValueError("layers and hidden must be >= 1")
        super().__init__(n_bidders, n_items, prior, valuation)
        self.scale = self.scale.max().reshape(())  # one scale for every (bidder, item)
        self.hidden, self.layers = hidden, layers
        widths = [3] + [hidden] * layers
        self.trunk = nn.ModuleList(ExchangeableLayer(a, b) for a, b in zip(widths, widths[1:]))
        self.allocation_head = nn.Linear(hidden, 1)
        self.unsold_head = nn.Linear(hidden, 1)
        self.payment_head = nn.Linear(hidden, 1)
        self._warned: set[tuple[int, int]] = set()

    def masked_logits(self, bids: Tensor, present: Tensor | None) -> Logits:
        """Logits with only the ``present`` ``(batch, n)`` bidders in the auction (None: all);
        absent bidders' allocation logits are ``-inf``."""
        b, n, m = bids.shape
        weight = None if present is None else present.to(bids.dtype).view(b, n, 1, 1)
        count = (  # present bidders, (b, 1, 1, 1)
            torch.full((b, 1, 1, 1), float(n), dtype=bids.dtype, device=bids.device)
            if weight is None
            else weight.sum(1, keepdim=True).clamp(min=1.0)
        )
        x = torch.cat(
            (
                (bids / self.scale).unsqueeze(-1),
                (1.0 / count).expand(b, n, m, 1),
                torch.full((b, n, m, 1), 1.0 / m, dtype=bids.dtype, device=bids.device),
            ),
            dim=-1,
        )
        for layer in self.trunk:
            x = torch.relu(layer(x, weight))
        allocation = self.allocation_head(x).squeeze(-1)  # (b, n, m)
        if present is not None:
            allocation = allocation.masked_fill(~present.view(b, n, 1), float("-inf"))
        unsold = self.unsold_head(masked_mean(x, weight, 1)).squeeze(-1)  # (b, 1, m)
        payment = self.payment_head(x.mean(2)).squeeze(-1)  # (b, n)
        return Logits(allocation=torch.cat((allocation, unsold), dim=1), payment=payment)

    def logits(self, bids: Tensor) -> Logits:
        return self.masked_logits(bids, None)

    def outcome(self, bids: Tensor, generator: torch.Generator | None) -> Outcome:
        self._warn_untested(bids.shape[1], bids.shape[2])
        return self.outcome_from_logits(bids, self.perturb(self.masked_logits(bids, None), generator))

    def masked_outcome(self, bids: Tensor, present: Tensor, generator: torch.Generator | None) -> Outcome:
        self._warn_untested(bids.shape[1], bids.shape[2])
        return self.outcome_from_logits(bids, self.perturb(self.masked_logits(bids, present), generator))

    def outcome_numpy(self, bids: np.ndarray, generator: torch.Generator | None) -> NumpyOutcome:
        return Mechanism.outcome_numpy(self, bids, generator)  # through torch: no NumPy twin

    def supported_sizes(self) -> list[tuple[int, int]] | None:
        """The ``(n_bidders, n_items)`` the loaded checkpoint was trained on (its card's
        ``supports``), or None for a fresh network."""
        card = getattr(self, "card", None)
        if not card or "supports" not in card:
            return None
        return [(int(s["n_bidders"]), int(s["n_items"])) for s in card["supports"].get("sizes", [])]

    def _warn_untested(self, n: int, m: int) -> None:
        """Warn once per size that a checkpoint runs at a size it was not trained on."""
        if (n, m) in self._warned:
            return
        self._warned.add((n, m))
        sizes = self.supported_sizes()
        if sizes is not None and (n, m) not in sizes:
            warnings.warn(
                f"checkpoint '{getattr(self, 'checkpoint_name', '?')}' was trained on "
                f"{', '.join(f'{a}x{b}' for a, b in sizes)}; {n}x{m} is untested (see its card)",
                stacklevel=3,
            )

    def architecture(self) -> dict:
        return {"hidden": self.hidden, "layers": self.layers}

    def narrower(self, architecture: Mapping[str, Any]) -> EquivariantNet | None:
        """A fresh network of ``architecture`` for :meth:`widen_from` (the same number of layers,
        at most as many channels), or None when ``architecture`` is not such a one."""
        hidden, layers = architecture.get("hidden"), architecture.get("layers")
        if set(architecture) != {"hidden", "layers"} or layers != self.layers:
            return None
        if type(hidden) is not int or not 1 <= hidden <= self.hidden:
            return None
        return EquivariantNet(self.n_bidders, self.n_items, None, hidden=hidden, layers=self.layers)

    @torch.no_grad()
    def widen_from(self, narrow: EquivariantNet) -> None:
        """Take a narrower network's weights and compute exactly what it computes (function-
        preserving widening, as Net2Net, Chen, Goodfellow and Shlens 2016, with zero outgoing
        weights): its channels come first; each new channel keeps its fresh incoming weights, and
        its outgoing weights (the next layer's columns, the heads') are zero, so nothing reads it
        until training moves them."""
        if self.narrower(narrow.architecture()) is None:  # (one rule for what can widen: narrower's)
            raise ValueError(
                f"cannot widen hidden={narrow.hidden}, layers={narrow.layers} "
                f"into hidden={self.hidden}, layers={self.layers}"
            )
        ours = self.state_dict()  # (tensors sharing the parameters' storage)
        for key, old in narrow.state_dict().items():
            new = ours[key]
            new[tuple(slice(0, size) for size in old.shape)] = old
            if new.dim() == 2 and new.shape[1] > old.shape[1]:
                new[:, old.shape[1] :] = 0.0

    def extra_repr(self) -> str:
        return f"any size (built for {self.n_bidders}x{self.n_items}), hidden={self.hidden}, layers={self.layers}"
