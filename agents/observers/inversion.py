"""White-box model inversion (Stein et al., eq. 5 and Appendix A.2).

Find bids ``x`` whose outcome matches the public one, ``x`` in the prior's support::

    x* = argmin_x ||g(x) - g(b)||_2 + ||p(x) - p(b)||_2          (eq. 5)

Three solvers:

* ``lm`` (default): Levenberg–Marquardt on the residuals ``g(x) - g(b)`` and ``p(x) - p(b)``
  (their squared sum has the same zero as eq. 5), one damped Gauss–Newton step per auction
  and iteration, each auction with its own damping. The Jacobian costs one backward pass per
  residual (``n*m + n``), and about 100 iterations suffice where Adam needs thousands.
* ``adam``: projected Adam on eq. 5 as in the paper (which runs 50,000 steps at lr 0.002);
  the step size halves whenever the total objective stops improving.
* ``search``: derivative-free local random search (each step tries ``proposals`` Gaussian
  moves per start and keeps the best; the step size grows after a success and shrinks after a
  failure), for mechanisms without useful gradients: menus that pick an option by argmax
  (Lottery AMA, RochetNet) and the exact item-wise auctions. The default for them.

Starting points are drawn from the prior (or zeros without distributional knowledge, A.5);
with ``candidates`` the ``restarts`` best of that many prior draws (by objective) are kept,
which avoids most poor local minima for the price of forward passes only. Each auction keeps
its best restart. The observer's own bids stay fixed in the "with bids" threat model.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from agents.observers.base import ObserverPolicy
from mechanisms.base import Mechanism, frozen_parameters
from mechanisms.noise import noiseless
from mechanisms.priors import Prior
from mechanisms.search import projected_adam

__all__ = ["ModelInversion"]

INITS = ("prior", "zeros")
SOLVERS = ("lm", "adam", "search")
#: ``outcome``: eq. 5 as in the paper, distances between allocations and between payments.
#: ``log``: the same distances between their logarithms. A losing bidder's allocation is tiny
#: (softmax saturation) but still carries its bid; on the log scale it weighs as much as a
#: winner's, which recovers losing bids the plain objective cannot see.
OBJECTIVES = ("outcome", "log")


class ModelInversion(ObserverPolicy):
    """Model inversion of a mechanism.

    Args:
        mechanism, prior: injected (the published mechanism and the valuation prior).
        solver: ``lm`` (Levenberg–Marquardt), ``adam`` (the paper's projected Adam) or ``search``
            (derivative-free); default ``lm`` for differentiable mechanisms, else ``search``.
        iterations: solver steps at most (default 100 for ``lm`` and ``search``, 3000 for ``adam``).
        lr: Adam learning rate (``adam`` only).
        restarts: starting points per auction; the best objective wins.
        candidates: prior draws screened per auction for the ``restarts`` best starts
            (0: the restarts are plain prior draws). Needs ``init="prior"``.
        init: ``prior`` (random draw from the prior) or ``zeros`` (no distributional knowledge).
        project: ``support`` (clip to the prior's support) or ``nonnegative`` (only ``x >= 0``).
        tolerance: stop when every auction's objective (the residual norm for ``lm``) is below it.
        check_every: how often (in steps) ``adam`` tests the stopping rule.
        objective: ``log`` or ``outcome`` (the paper's eq. 5), see :data:`OBJECTIVES`; default
            ``log`` for the gradient solvers, ``outcome`` for ``search`` (argmax outcomes are 0/1).
        proposals: Gaussian moves tried per start and step (``search`` only).

    The mechanism's output noise is not modelled: inversion matches the noiseless outcome
    (the observer cannot know the noise draw).
    """

    def __init__(
        self,
        mechanism: Mechanism,
        prior: Prior,
        solver: str | None = None,
        iterations: int | None = None,
        lr: float = 0.01,
        restarts: int = 4,
        candidates: int = 256,
        init: str = "prior",
        project: str = "support",
        tolerance: float = 1e-5,
        check_every: int = 50,
        objective: str | None = None,
        proposals: int = 16,
    ) -> None:
        differentiable = bool(getattr(mechanism, "differentiable", False))
        if solver is None:
            solver = "lm" if differentiable else "search"
        if solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
        if solver != "search" and not differentiable:
            raise ValueError(
                f"solver '{solver}' needs gradients; {type(mechanism).__name__} has none (use solver='search')"
            )
        if objective is None:
            objective = "outcome" if solver == "search" else "log"
        if isinstance(proposals, bool) or not isinstance(proposals, int) or proposals < 1:
            raise ValueError(f"proposals must be an integer >= 1, got {proposals!r}")
        if iterations is None:
            iterations = 3000 if solver == "adam" else 100
        for name, value in (("iterations", iterations), ("restarts", restarts), ("check_every", check_every)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 0:
            raise ValueError(f"candidates must be an integer >= 0, got {candidates!r}")
        if not lr > 0 or not tolerance >= 0:
            raise ValueError("lr must be > 0 and tolerance >= 0")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
        if project not in ("support", "nonnegative"):
            raise ValueError(f"project must be 'support' or 'nonnegative', got {project!r}")
        self.solver, self.iterations, self.lr, self.restarts, self.candidates = (
            solver,
            iterations,
            lr,
            restarts,
            candidates,
        )
        self.init, self.project, self.tolerance, self.check_every, self.objective = (
            init,
            project,
            tolerance,
            check_every,
            objective,
        )
        self.proposals = proposals
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
        device, dtype = allocation.device, allocation.dtype
        transform = _log if self.objective == "log" else _identity
        targets = (transform(allocation.detach()), transform(payments.detach()))
        low, high = (t.to(device, dtype) for t in self._prior.bounds(device))
        if self.project == "support":
            lo, hi = low, high
        else:
            lo, hi = torch.zeros_like(low), torch.full_like(high, float("inf"))
        fixed = own_bids.detach().to(dtype) if own_bids is not None and bidder is not None else None
        with (
            torch.inference_mode(False),
            torch.enable_grad(),
            noiseless(self._mechanism),
            frozen_parameters(self._mechanism),
        ):
            residuals = _Residuals(self._mechanism, transform, targets)
            x0 = self._starts(b, n, m, generator, device, dtype, residuals, fixed, bidder)
            if start is not None:
                x0.view(b, r, n, m)[:, 0] = start.to(dtype)
            if fixed is not None:
                x0.view(b, r, n, m)[:, :, bidder] = fixed.unsqueeze(1)
            free = torch.ones(n, m, dtype=torch.bool, device=device)
            if fixed is not None:
                free[bidder] = False
            if self.solver == "search":
                best_obj, best_x = self._search(x0, residuals.repeated(r), lo, hi, free, b, r, generator)
            else:
                descend = self._levenberg_marquardt if self.solver == "lm" else self._adam
                best_obj, best_x = descend(x0, residuals.repeated(r), lo, hi, free, b, r)
            pick = best_obj.view(b, r).argmin(1)
            guess = best_x.view(b, r, n, m)[torch.arange(b, device=device), pick]
        return guess.detach().clone()

    def _starts(
        self,
        b: int,
        n: int,
        m: int,
        generator: torch.Generator | None,
        device: torch.device,
        dtype: torch.dtype,
        residuals: _Residuals,
        fixed: Tensor | None,
        bidder: int | None,
    ) -> Tensor:
        """``(b * r, n, m)`` starting points: zeros, prior draws, or the best screened prior draws."""
        r = self.restarts
        if self.init == "zeros":
            return torch.zeros(b * r, n, m, device=device, dtype=dtype)
        c = max(self.candidates, r)
        pool = self._prior.sample(b * c, generator, device).to(dtype).view(b, c, n, m)
        if c == r:
            return pool.reshape(b * r, n, m)
        if fixed is not None:
            pool[:, :, bidder] = fixed.unsqueeze(1)
        chunk = max(1, 65536 // b)
        with torch.no_grad():
            objs = [
                residuals.repeated(min(chunk, c - i))
                .objective(pool[:, i : i + chunk].reshape(-1, n, m), self.solver)
                .view(b, -1)
                for i in range(0, c, chunk)
            ]
        best = torch.cat(objs, 1).topk(r, dim=1, largest=False).indices
        return pool[torch.arange(b, device=device).unsqueeze(1), best].reshape(b * r, n, m).clone()

    def _levenberg_marquardt(
        self, x0: Tensor, residuals: _Residuals, lo: Tensor, hi: Tensor, free: Tensor, b: int, r: int
    ) -> tuple[Tensor, Tensor]:
        """Projected Levenberg–Marquardt, one damping factor per start: the best residual norm and point."""
        x = x0.clone()
        d = x[0].numel()
        mask = free.reshape(1, d).to(x.dtype)
        damping = torch.full((x.shape[0],), 1e-2, device=x.device, dtype=x.dtype)
        eye = torch.eye(d, device=x.device, dtype=x.dtype)
        cost = None
        step = 0
        for step in range(1, self.iterations + 1):
            xr = x.detach().requires_grad_(True)
            res = residuals(xr)
            rows = [
                torch.autograd.grad(res[:, k].sum(), xr, retain_graph=k < res.shape[1] - 1)[0].reshape(-1, d)
                for k in range(res.shape[1])
            ]
            jac = torch.stack(rows, 1) * mask  # (B, K, d); fixed entries do not move
            res = res.detach()
            cost = res.pow(2).sum(1)
            if bool((cost.view(b, r).amin(1).sqrt() < self.tolerance).all()):
                break
            jtj = jac.mT @ jac
            diag = jtj.diagonal(dim1=1, dim2=2)
            system = (
                jtj
                + damping.view(-1, 1, 1) * torch.diag_embed(diag)
                + (1e-9 * (diag.mean(1) + 1e-12)).view(-1, 1, 1) * eye
            )
            delta, info = torch.linalg.solve_ex(system, -(jac.mT @ res.unsqueeze(-1)).squeeze(-1))
            failed = (info != 0) | ~torch.isfinite(delta).all(1)  # singular system: no step, more damping
            delta = torch.where(failed.view(-1, 1), torch.zeros_like(delta), delta) * mask
            candidate = torch.maximum(torch.minimum(x + delta.view_as(x), hi), lo)
            with torch.no_grad():
                new_cost = residuals(candidate).pow(2).sum(1)
            better = new_cost < cost
            x = torch.where(better.view(-1, 1, 1), candidate, x)
            cost = torch.where(better, new_cost, cost)
            damping = torch.where(better, damping / 3, damping * 3).clamp(1e-9, 1e9)
        self.steps_taken = step
        if cost is None:
            with torch.no_grad():
                cost = residuals(x).pow(2).sum(1)
        return cost.sqrt(), x

    def _search(
        self,
        x0: Tensor,
        residuals: _Residuals,
        lo: Tensor,
        hi: Tensor,
        free: Tensor,
        b: int,
        r: int,
        generator: torch.Generator | None,
    ) -> tuple[Tensor, Tensor]:
        """Local random search from ``x0`` ``(b * r, n, m)``: each step tries ``proposals`` Gaussian
        moves per start, keeps the best if it improves; the step doubles after a success and
        halves after a failure. Returns the best residual norm and point of each start."""
        k = self.proposals
        with torch.no_grad():
            x = x0.clone()
            cost = residuals.objective(x, "lm")
            step = (0.1 * (hi - lo)).expand_as(x).clone()
            mask = free.to(x.dtype)
            many = residuals.repeated(r * k)
            it = 0
            for it in range(1, self.iterations + 1):
                if bool((cost.view(b, r).amin(1) < self.tolerance).all()):
                    break
                noise = torch.randn(
                    (x.shape[0], k, *x.shape[1:]),
                    generator=generator,
                    device=generator.device if generator is not None else x.device,
                    dtype=x.dtype,
                ).to(x.device)
                candidates = torch.maximum(torch.minimum(x.unsqueeze(1) + step.unsqueeze(1) * noise * mask, hi), lo)
                costs = many.objective(candidates.flatten(0, 1), "lm").view(-1, k)
                best_cost, best = costs.min(1)
                better = best_cost < cost
                chosen = candidates[torch.arange(x.shape[0], device=x.device), best]
                x = torch.where(better.view(-1, 1, 1), chosen, x)
                cost = torch.where(better, best_cost, cost)
                step = torch.where(better.view(-1, 1, 1), step * 2.0, step * 0.5).clamp(1e-6 * (hi - lo), hi - lo)
            self.steps_taken = it
        return cost, x

    def _adam(
        self, x0: Tensor, residuals: _Residuals, lo: Tensor, hi: Tensor, free: Tensor, b: int, r: int
    ) -> tuple[Tensor, Tensor]:
        """Projected Adam on eq. 5 from ``x0`` ``(b * r, n, m)``: the best objective and point of each start.

        Every ``check_every`` steps it stops once each auction's best start is below the
        tolerance, and halves the step size on a plateau (Adam with a fixed step jitters around
        the optimum), giving up when it has shrunk a thousandfold.
        """
        keep = x0.detach()
        low, high = torch.where(free, lo, keep), torch.where(free, hi, keep)  # fixed entries: low = high
        last_total = [float("inf")]
        self.steps_taken = self.iterations

        def stop(step: int, best_u: Tensor, optimizer: torch.optim.Optimizer) -> bool:
            best_obj = -best_u
            done = bool((best_obj.view(b, r).amin(1) < self.tolerance).all())
            if not done:
                total = best_obj.sum().item()
                if total > 0.99 * last_total[0]:
                    for group in optimizer.param_groups:
                        group["lr"] *= 0.5
                    done = optimizer.param_groups[0]["lr"] < self.lr * 1e-3
                last_total[0] = total
            if done:
                self.steps_taken = step
            return done

        best_x, best_u = projected_adam(
            lambda x: -residuals.objective(x, "adam"),
            x0,
            low,
            high,
            steps=self.iterations,
            lr=self.lr,
            check_every=self.check_every,
            stop=stop,
        )
        return -best_u, best_x


class _Residuals:
    """Differences between the (transformed) outcome of guesses and the published one."""

    def __init__(
        self,
        mechanism: Mechanism,
        transform: Callable[[Tensor], Tensor],
        targets: tuple[Tensor, Tensor],
        repeats: int = 1,
    ) -> None:
        self.mechanism, self.transform, self.targets, self.repeats = mechanism, transform, targets, repeats

    def repeated(self, k: int) -> _Residuals:
        """The same residuals for ``k`` consecutive guesses per auction."""
        return _Residuals(self.mechanism, self.transform, self.targets, k)

    def parts(self, x: Tensor) -> tuple[Tensor, Tensor]:
        out = self.mechanism.run(x, check=False)
        target_a, target_p = (t.repeat_interleave(self.repeats, 0) for t in self.targets)
        return (self.transform(out.allocation) - target_a).flatten(1), self.transform(out.payments) - target_p

    def __call__(self, x: Tensor) -> Tensor:
        """``(B, n*m + n)`` residual vectors."""
        return torch.cat(self.parts(x), 1)

    def objective(self, x: Tensor, solver: str) -> Tensor:
        """``(B,)``: the residual norm (``lm``) or eq. 5's sum of two norms (``adam``)."""
        a, p = self.parts(x)
        if solver == "lm":
            return _norm(torch.cat((a, p), 1))
        return _norm(a) + _norm(p)


def _log(x: Tensor) -> Tensor:
    return torch.log(x.clamp_min(1e-12))


def _norm(x: Tensor) -> Tensor:
    """Per-auction Euclidean norm, smooth at 0."""
    return torch.sqrt((x * x).flatten(1).sum(1) + 1e-12)


def _identity(x: Tensor) -> Tensor:
    return x
