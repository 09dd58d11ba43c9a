"""Certifiable RegretNet (Curry, Chiang, Goldstein and Dickerson 2020, §3).

RegretNet made exactly representable in a mixed-integer program, so that a bidder's best
misreport can be computed exactly (:mod:`mechanisms.certification`):

* a shared ReLU trunk feeding both heads (a shared embedding certifies faster, §4.1);
* allocation through **sparsemax** (Euclidean projection onto the simplex, eq. 5) over the
  bidders plus a dummy "unsold" row per item, instead of the softmax: it is piecewise linear,
  and its KKT conditions (eq. 6) are linear plus complementarity;
* payments through a piecewise-linear squashing instead of the sigmoid. Two ways to handle
  individual rationality (§3.2):

  - ``ir="construction"``: payment = hardsigmoid fraction x reported value of the allocation,
    IR for truthful bids by construction (bilinear terms in the MIP);
  - ``ir="penalty"``: a free payment head trained with an IR penalty and distillation from a
    softmax RegretNet teacher (eq. 8). As in the paper, payments vary freely in training (no
    vanishing gradients) and are clipped to ``>= 0`` afterwards (``relu``, in eval mode); the MIP
    stays linear, and IR is only encouraged (the evaluator reports the violation rate).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mechanisms.base import NumpyOutcome, Outcome
from mechanisms.learned.base import Array, LearnedMechanism, Logits, apply_linear, mlp, run_sequential
from mechanisms.priors import Prior

__all__ = ["CertNet", "sparsemax", "IR_MODES"]

IR_MODES = ("construction", "penalty")


def sparsemax(scores: Array, dim: int) -> Array:
    """Euclidean projection of ``scores`` onto the probability simplex along ``dim`` (Martins and
    Astudillo 2016): ``max(scores - tau, 0)`` with ``tau`` set so the result sums to one.

    Works on tensors (differentiable: autograd through the sort gives the sparsemax Jacobian
    ``diag(s) - s s^T / |s|`` on the support ``s``) and on NumPy arrays.
    """
    if isinstance(scores, Tensor):
        ranked = torch.sort(scores, dim=dim, descending=True).values
        cumulative = ranked.cumsum(dim) - 1.0
        k = torch.arange(1, scores.shape[dim] + 1, device=scores.device, dtype=scores.dtype)
        k = k.view([-1 if d == dim % scores.dim() else 1 for d in range(scores.dim())])
        support = (ranked * k > cumulative).sum(dim=dim, keepdim=True)  # size of the support
        tau = cumulative.gather(dim, support - 1) / support.to(scores.dtype)
        return torch.clamp(scores - tau, min=0.0)
    ranked = -np.sort(-scores, axis=dim)
    cumulative = np.cumsum(ranked, axis=dim) - 1.0
    shape = [1] * scores.ndim
    shape[dim] = -1
    k = np.arange(1, scores.shape[dim] + 1, dtype=scores.dtype).reshape(shape)
    support = (ranked * k > cumulative).sum(axis=dim, keepdims=True)
    tau = np.take_along_axis(cumulative, support - 1, axis=dim) / support.astype(scores.dtype)
    return np.maximum(scores - tau, 0.0)


class CertNet(LearnedMechanism):
    """A RegretNet whose best misreports can be certified by a MIP solver.

    Shapes: bids ``(batch, n_bidders, n_items)`` -> allocation same, payments ``(batch, n_bidders)``.

    Args:
        n_bidders, n_items, prior: the setting (injected by the environment).
        hidden: trunk width; layers: trunk depth (fewer ReLUs certify faster).
        ir: ``construction`` or ``penalty`` (see the module docstring).
        valuation: ``additive`` only.
    """

    def __init__(
        self,
        n_bidders: int,
        n_items: int,
        prior: Prior | None = None,
        hidden: int = 64,
        layers: int = 3,
        ir: str = "construction",
        valuation: str = "additive",
    ) -> None:
        if valuation != "additive":
            raise ValueError("certnet supports additive valuations only")
        if ir not in IR_MODES:
            raise ValueError(f"ir must be one of {', '.join(IR_MODES)}, got {ir!r}")
        super().__init__(n_bidders, n_items, prior, valuation)
        self.hidden, self.layers, self.ir = hidden, layers, ir
        self.trunk = mlp(n_bidders * n_items, hidden, layers)
        self.allocation_head = nn.Linear(hidden, (n_bidders + 1) * n_items)
        self.payment_head = nn.Linear(hidden, n_bidders)

    def logits(self, bids: Array) -> Logits:
        h = run_sequential(self.trunk, self.features(bids))
        n, m = self.n_bidders, self.n_items
        return Logits(
            allocation=apply_linear(self.allocation_head, h).reshape(-1, n + 1, m),
            payment=apply_linear(self.payment_head, h),
        )

    def outcome_from_logits(self, bids: Tensor, logits: Logits) -> Outcome:
        allocation = sparsemax(logits.allocation, dim=1)[:, :-1, :]
        if self.ir == "construction":
            payments = F.hardsigmoid(logits.payment) * (allocation * bids).sum(dim=-1)
        else:  # free in training, clipped to >= 0 once trained (Curry et al. §3.2)
            payments = logits.payment if self.training else torch.relu(logits.payment)
        return Outcome(allocation, payments)

    def numpy_outcome(self, bids: np.ndarray, logits: Logits) -> NumpyOutcome:
        allocation = sparsemax(logits.allocation, 1)[:, :-1, :]
        if self.ir == "construction":
            fraction = np.clip(logits.payment / 6.0 + 0.5, 0.0, 1.0)  # torch's hardsigmoid
            payments = fraction * (allocation * bids).sum(axis=-1)
        else:  # as outcome_from_logits: free in training mode
            payments = logits.payment if self.training else np.maximum(logits.payment, 0.0)
        return allocation, payments, None

    def interval_bounds(self, low: Tensor, high: Tensor) -> list[tuple[Tensor, Tensor]]:
        """Interval bound propagation (Gowal et al. 2018) through the trunk.

        Args:
            low, high: ``(batch, n_bidders, n_items)`` boxes of bids.

        Returns:
            For each trunk layer, the ``(lower, upper)`` bounds ``(batch, hidden)`` of its
            pre-activations over the box (the ReLU-stability regulariser's input, §3.3).
        """
        lo, hi = self.features(low), self.features(high)
        bounds = []
        for layer in self.trunk:
            if isinstance(layer, nn.Linear):
                center, radius = (hi + lo) / 2, (hi - lo) / 2
                center = F.linear(center, layer.weight, layer.bias)
                radius = F.linear(radius, layer.weight.abs())
                lo, hi = center - radius, center + radius
                bounds.append((lo, hi))
            else:
                lo, hi = torch.relu(lo), torch.relu(hi)
        return bounds

    def architecture(self) -> dict:
        """The constructor arguments that rebuild this network (for model cards)."""
        return {"hidden": self.hidden, "layers": self.layers, "ir": self.ir}
