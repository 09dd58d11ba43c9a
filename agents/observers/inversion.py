"""White-box model inversion (Stein et al., eq. 5 and Appendix A.2).

Find bids ``x`` whose outcome matches the public one::

    x* = argmin_x ||g(x) - g(b)||_2 + ||p(x) - p(b)||_2,   x in supp(P)

by projected Adam from ``restarts`` starting points (drawn from the prior, or zeros when the
observer does not know the prior, A.5), keeping for every auction the restart with the lowest
objective. The observer's own bids stay fixed in the "with bids" threat model. It stops early
once every auction's objective is below ``tolerance``; the step size halves whenever the
total objective stops improving (1% per ``check_every`` steps).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from agents.observers.base import ObserverPolicy
from mechanisms.base import Mechanism, frozen_parameters
from mechanisms.noise import noiseless
from mechanisms.priors import Prior

__all__ = ["ModelInversion"]

INITS = ("prior", "zeros")
#: ``outcome``: eq. 5 as in the paper, distances between allocations and between payments.
#: ``log``: the same distances between their logarithms. A losing bidder's allocation is tiny
#: (softmax saturation) but still carries its bid; on the log scale it weighs as much as a
#: winner's, which recovers losing bids the plain objective cannot see.
OBJECTIVES = ("outcome", "log")


class ModelInversion(ObserverPolicy):
    """Projected-Adam inversion of a differentiable mechanism.

    Args:
        mechanism, prior: injected (the published mechanism and the valuation prior).
        iterations: Adam steps at most (the paper runs 50,000 at lr 0.002).
        lr: Adam learning rate.
        restarts: starting points per auction; the best objective wins.
        init: ``prior`` (random draw from the prior) or ``zeros`` (no distributional knowledge).
        project: ``support`` (clip to the prior's support) or ``nonnegative`` (only ``x >= 0``).
        tolerance: stop when every auction's objective is below it.
        check_every: how often (in steps) to test the stopping rule.
        objective: ``log`` (default) or ``outcome`` (the paper's eq. 5), see :data:`OBJECTIVES`.

    The mechanism's output noise is not modelled: inversion matches the noiseless outcome
    (the observer cannot know the noise draw).
    """

    def __init__(
        self,
        mechanism: Mechanism,
        prior: Prior,
        iterations: int = 3000,
        lr: float = 0.01,
        restarts: int = 4,
        init: str = "prior",
        project: str = "support",
        tolerance: float = 1e-4,
        check_every: int = 50,
        objective: str = "log",
    ) -> None:
        if not getattr(mechanism, "differentiable", False):
            raise ValueError(f"inversion needs a differentiable mechanism; {type(mechanism).__name__} is not (use a guessing observer)")
        for name, value in (("iterations", iterations), ("restarts", restarts), ("check_every", check_every)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not lr > 0 or not tolerance >= 0:
            raise ValueError("lr must be > 0 and tolerance >= 0")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
        self.objective = objective
        if project not in ("support", "nonnegative"):
            raise ValueError(f"project must be 'support' or 'nonnegative', got {project!r}")
        self.iterations, self.lr, self.restarts, self.init, self.project = iterations, lr, restarts, init, project
        self.tolerance, self.check_every = tolerance, check_every
        self._mechanism, self._prior = mechanism, prior
        self.steps_taken = 0

    def reconstruct(
        self,
        allocation: Tensor,
        payments: Tensor,
        *,
        own_bids: Tensor | None = None,
        bidder: int | None = None,
        generator: torch.Generator | None = None,
        start: Tensor | None = None,
        item_payments: Tensor | None = None,
    ) -> Tensor:
        """See :meth:`ObserverPolicy.reconstruct`; ``start`` ``(batch, n, m)`` warm-starts the
        first restart (e.g. from another objective's solution)."""
        b, n, m = allocation.shape
        r = self.restarts
        device = allocation.device
        with torch.inference_mode(False), torch.enable_grad():
            transform = _log if self.objective == "log" else (lambda t: t)
            target_a = transform(allocation.clone().repeat_interleave(r, 0))
            target_p = transform(payments.clone().repeat_interleave(r, 0))
            low, high = (t.to(device) for t in self._prior.bounds(device))
            if self.init == "prior":
                x0 = self._prior.sample(b * r, generator, device)
            else:
                x0 = torch.zeros(b * r, n, m, device=device, dtype=allocation.dtype)
            if self.project == "support":
                lo, hi = low, high
            else:
                lo, hi = torch.zeros_like(low), torch.full_like(high, float("inf"))
            if start is not None:
                x0.view(b, r, n, m)[:, 0] = start.to(x0.dtype)
            fixed = None
            if own_bids is not None and bidder is not None:
                fixed = own_bids.clone().repeat_interleave(r, 0)
                x0[:, bidder] = fixed
            with noiseless(self._mechanism), frozen_parameters(self._mechanism):
                best_obj, best_x = self._descend(x0, transform, target_a, target_p, lo, hi, fixed, bidder, b, r)
            pick = best_obj.view(b, r).argmin(1)
            guess = best_x.view(b, r, n, m)[torch.arange(b, device=device), pick]
        return guess.detach().clone()


    def _descend(self, x0: Tensor, transform: Callable[[Tensor], Tensor], target_a: Tensor, target_p: Tensor, lo: Tensor, hi: Tensor,
                 fixed: Tensor | None, bidder: int | None, b: int, r: int) -> tuple[Tensor, Tensor]:
        """Projected Adam from ``x0`` ``(b * r, n, m)``: the best objective and point of each start."""
        mech = self._mechanism
        x = x0.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([x], lr=self.lr)
        best_obj = torch.full((b * r,), float("inf"), device=x.device)
        best_x = x.detach().clone()
        last_total = float("inf")
        for step in range(self.iterations + 1):
            out = mech.run(x, check=False)
            obj = _norm(transform(out.allocation) - target_a) + _norm(transform(out.payments) - target_p)
            with torch.no_grad():
                better = obj < best_obj
                best_obj = torch.where(better, obj, best_obj)
                best_x = torch.where(better.view(-1, 1, 1), x, best_x)
            if step % self.check_every == 0 and step > 0:
                if bool((best_obj.view(b, r).amin(1) < self.tolerance).all()):
                    break
                # Plateau: halve the step size (Adam with a fixed step jitters around the optimum).
                total = best_obj.sum().item()
                if total > 0.99 * last_total:
                    for group in optimizer.param_groups:
                        group["lr"] *= 0.5
                    if optimizer.param_groups[0]["lr"] < self.lr * 1e-3:
                        break
                last_total = total
            if step == self.iterations:
                break
            optimizer.zero_grad(set_to_none=True)
            obj.sum().backward()
            if fixed is not None:
                x.grad[:, bidder] = 0.0
            optimizer.step()
            with torch.no_grad():
                x.copy_(torch.maximum(torch.minimum(x, hi), lo))
                if fixed is not None:
                    x[:, bidder] = fixed
        self.steps_taken = step
        return best_obj, best_x


def _log(x: Tensor) -> Tensor:
    return torch.log(x.clamp_min(1e-12))


def _norm(x: Tensor) -> Tensor:
    """Per-auction Euclidean norm, smooth at 0."""
    return torch.sqrt((x * x).flatten(1).sum(1) + 1e-12)
