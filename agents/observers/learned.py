"""A learned inverter: a network trained on simulated (outcome -> bids) pairs of one mechanism.

Where :class:`~agents.observers.inversion.ModelInversion` solves an optimisation per auction,
the inverter amortises it: it is trained once for a mechanism and noise level (see
:mod:`agents.observers.train_inverter`) and then reconstructs a batch in one forward pass.
No paper has this; ``benchmarks/inversion_speed.py`` compares the two on accuracy and speed.

Shipped inverters live in ``agents/observers/checkpoints`` as ``NAME.pt`` (state dict, loaded
with ``weights_only=True``) beside ``NAME.json`` (card: the mechanism checkpoint it inverts,
its setting, sigma, architecture, training and evaluation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from agents.observers.base import ObserverPolicy
from agents.observers.inversion import ModelInversion
from mechanisms import checkpoints
from mechanisms.common.errors import CheckpointError
from mechanisms.priors import Prior

__all__ = ["InverterNet", "LearnedInverter", "PACKAGE", "load_inverter"]

#: Where shipped inverters live.
PACKAGE = "agents.observers.checkpoints"
_CARD_KEYS = ("kind", "setting", "architecture", "target")


class InverterNet(nn.Module):
    """MLP from a public outcome to all bids, squashed into the prior's support.

    Input features per auction: the allocation and payments and their logarithms (a losing
    bidder's allocation is tiny but still carries its bid; its log does not vanish).

    Args:
        n_bidders, n_items: the auction size.
        low, high: ``(n, m)`` support of the bids (outputs are ``low + (high - low) * sigmoid``).
        hidden, layers: width and number of hidden layers.
    """

    def __init__(
        self, n_bidders: int, n_items: int, low: Tensor, high: Tensor, hidden: int = 256, layers: int = 3
    ) -> None:
        super().__init__()
        if hidden < 1 or layers < 1:
            raise ValueError("hidden and layers must be >= 1")
        self.n_bidders, self.n_items, self.hidden, self.layers = n_bidders, n_items, hidden, layers
        width = 2 * (n_bidders * n_items + n_bidders)
        blocks: list[nn.Module] = []
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        blocks.append(nn.Linear(width, n_bidders * n_items))
        self.net = nn.Sequential(*blocks)
        self.register_buffer("low", low.detach().clone().float().expand(n_bidders, n_items).clone())
        self.register_buffer("span", (high - low).detach().clone().float().expand(n_bidders, n_items).clone())

    def forward(self, allocation: Tensor, payments: Tensor) -> Tensor:
        """``(batch, n, m)`` allocation and ``(batch, n)`` payments -> ``(batch, n, m)`` bids."""
        raw = torch.cat((allocation.flatten(1), payments), 1).to(self.low.dtype)
        features = torch.cat((raw, torch.log(raw.clamp_min(1e-8)) / 10.0), 1)
        out = self.net(features).view(-1, self.n_bidders, self.n_items)
        return self.low + self.span * torch.sigmoid(out)

    def architecture(self) -> dict[str, Any]:
        return {"hidden": self.hidden, "layers": self.layers}


class LearnedInverter(ObserverPolicy):
    """Reconstructs bids with a trained :class:`InverterNet` in one forward pass.

    Args:
        checkpoint: a shipped inverter's name (``regretnet_2x2``) or a card path.
        mechanism, prior, n_bidders, n_items: injected; the card must be for this auction size
            and prior support, and for a mechanism with the same noise level.
        refine: Levenberg–Marquardt steps from the network's guess on the mechanism's outcome
            (:class:`~agents.observers.inversion.ModelInversion`'s solver, one start; needs a
            differentiable ``mechanism``); 0, the default, is the forward pass alone.

    In the "with bids" threat model the observer's own row is replaced by its known bids (the
    network itself does not take them).
    """

    def __init__(
        self,
        checkpoint: str,
        n_bidders: int,
        n_items: int,
        prior: Prior,
        mechanism: Any = None,
        refine: int = 0,
    ) -> None:
        self.checkpoint = checkpoint
        self._net, self.card = load_inverter(checkpoint, n_bidders, n_items, prior)
        if isinstance(refine, bool) or not isinstance(refine, int) or refine < 0:
            raise ValueError(f"refine must be an integer >= 0, got {refine!r}")
        self.refine = refine
        self._refiner: ModelInversion | None = None
        if refine:
            if mechanism is None or not getattr(mechanism, "differentiable", False):
                raise ValueError("refine needs a differentiable mechanism to take Levenberg-Marquardt steps on")
            self._refiner = ModelInversion(
                mechanism, prior, solver="lm", iterations=refine, restarts=1, candidates=0, init="zeros"
            )  # its one start is the network's guess (no prior draws to throw away)
        sigma = float(getattr(mechanism, "noise_std", 0.0) or 0.0) if mechanism is not None else None
        trained = float(self.card["target"].get("noise_std", 0.0))
        if sigma is not None and abs(sigma - trained) > 1e-12:
            raise CheckpointError(
                f"inverter '{checkpoint}' was trained for noise_std={trained:g}; the mechanism has {sigma:g}"
            )

    def reconstruct(
        self,
        allocation: Tensor,
        payments: Tensor,
        *,
        own_bids: Tensor | None = None,
        bidder: int | None = None,
        generator: torch.Generator | None = None,
        item_payments: Tensor | None = None,
    ) -> Tensor:
        net = self._net.to(allocation.device)
        with torch.no_grad():
            guess = net(allocation, payments).to(allocation.dtype)
        if own_bids is not None and bidder is not None:
            guess[:, bidder] = own_bids
        if self._refiner is not None:
            guess = self._refiner.reconstruct(
                allocation, payments, own_bids=own_bids, bidder=bidder, generator=generator, start=guess
            )
        return guess


def load_inverter(
    name_or_path: str | Path, n_bidders: int | None = None, n_items: int | None = None, prior: Prior | None = None
) -> tuple[InverterNet, dict[str, Any]]:
    """Load an inverter and its card, checking it fits the setting.

    Raises:
        CheckpointError: not found, corrupt, or for another auction size or prior support.
    """
    card_path = checkpoints.find(name_or_path, package=PACKAGE)
    card = checkpoints.load_card(card_path, required=_CARD_KEYS)
    if card["kind"] != "learned_inverter":
        raise CheckpointError(f"{card_path}: not a learned inverter card (kind={card['kind']!r})")
    s = card["setting"]
    n, m = int(s["n_bidders"]), int(s["n_items"])
    if (n_bidders, n_items) != (None, None) and (n, m) != (n_bidders, n_items):
        raise CheckpointError(
            f"inverter '{card_path.stem}' is for {n} bidders x {m} items; the setting has {n_bidders} x {n_items}"
        )
    low, high = torch.tensor(s["low"], dtype=torch.float32), torch.tensor(s["high"], dtype=torch.float32)
    if prior is not None:
        p_low, p_high = (t.float().cpu() for t in prior.bounds("cpu"))
        if not (
            torch.allclose(p_low.expand(n, m), low.expand(n, m))
            and torch.allclose(p_high.expand(n, m), high.expand(n, m))
        ):
            raise CheckpointError(
                f"inverter '{card_path.stem}' was trained for bids in [{s['low']}, {s['high']}]; the prior differs"
            )
    try:
        net = InverterNet(n, m, low, high, **card["architecture"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{card_path}: bad architecture in the card: {err}") from None
    checkpoints.load_state(card_path, net)
    net.eval()
    return net, card
