"""The one misreport search: how much can a bidder gain by lying?

Regret (Dütting et al., eq. 2) is the gain of a bidder's best misreport over its truthful bid;
no closed form exists for a learned mechanism, so the best misreport is searched for under a
stated budget (:class:`AttackProtocol`): the truthful bid, a dense grid of reports for a few
items (its best points refined), random starts, and projected gradient ascent (Adam) from every
start when the mechanism is differentiable (random search without gradients otherwise). The
best candidate seen counts.

The evaluator (:mod:`mechanisms.evaluation`) runs it for every bidder of many profiles at once,
the trainers in their inner loop, and the ``gradient`` bidder for itself against the others'
reports (:func:`candidate_utilities`). Every search works on candidates with any leading batch
shape:

Shapes:
    truthful     (..., m)       the truthful report (the first candidate)
    low, high    (..., m)       the report space (broadcast against ``truthful``)
    candidates   (..., K, m)    reports to score
    utility      (..., K, m) -> (..., K)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from mechanisms.base import Mechanism

__all__ = [
    "AttackProtocol",
    "search",
    "pgd_ascent",
    "projected_adam",
    "report_grid",
    "keep_best",
    "deviation_profiles",
    "deviation_utilities",
    "truthful_utilities",
    "candidate_utilities",
]

UtilityFn = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class AttackProtocol:
    """A misreport search budget.

    Attributes:
        name: registry name.
        random_starts: random starting points besides the truthful bid.
        steps: Adam steps per start (and per refined grid point).
        lr: Adam learning rate, in units of the value range.
        grid: points per item axis of the dense grid (0: none); used when n_items <= grid_max_items.
        grid_refine: how many of the best grid points are refined by PGD.
        grid_max_items: largest number of items for which the grid is used.
        random_search: candidates per random-search start for mechanisms without gradients.
        prune_at, keep: successive halving (Jamieson & Talwalkar 2016): after ``prune_at`` steps
            only the ``keep`` best starts of each bidder and profile go on for the remaining
            steps, from the best point each visited (0: every start runs every step).
    """

    name: str
    random_starts: int
    steps: int
    lr: float
    grid: int = 0
    grid_refine: int = 0
    grid_max_items: int = 2
    random_search: int = 64
    prune_at: int = 0
    keep: int = 0

    def prunes(self, starts: int) -> bool:
        """Whether ``starts`` PGD starts are cut to :attr:`keep` after :attr:`prune_at` steps."""
        return 0 < self.prune_at < self.steps and 0 < self.keep < starts

    def uses_grid(self, n_items: int) -> bool:
        return self.grid > 0 and n_items <= self.grid_max_items

    def describe(self, n_items: int, differentiable: bool = True) -> str:
        """One line stating the budget, printed next to every regret."""
        starts = f"truthful + {self.random_starts} random starts" if self.random_starts else "truthful start"
        if differentiable:
            text = f"{self.name}: PGD (Adam, lr {self.lr:g}) from {starts} x {self.steps} steps"
        else:
            text = f"{self.name}: random search, {starts} x {self.random_search} samples (no gradients)"
        if self.uses_grid(n_items):
            text += f"; grid {self.grid}^{n_items} per bidder"
            if differentiable and self.grid_refine:
                text += f", best {self.grid_refine} refined x {self.steps} steps"
        if differentiable and self.prune_at and self.keep:
            text += f"; after {self.prune_at} steps the best {self.keep} starts go on"
        return text


def search(
    utility: UtilityFn,
    truthful: Tensor,
    low: Tensor,
    high: Tensor,
    protocol: AttackProtocol,
    *,
    differentiable: bool,
    generator: torch.Generator | None = None,
    truthful_utility: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """The best report found under ``protocol`` and its utility.

    Args:
        utility: maps candidates ``(..., K, m)`` to utilities ``(..., K)``.
        truthful: ``(..., m)`` the truthful reports (always a candidate).
        low, high: ``(..., m)`` bounds of the report space (the projection), broadcastable.
        protocol: the budget.
        differentiable: use PGD; otherwise score ``random_starts x random_search`` random
            candidates (and the grid) without gradients.
        generator: draws the random starts.
        truthful_utility: ``(...)`` the truthful reports' utility if already known (else scored).

    Returns:
        ``(reports (..., 1, m), utilities (..., 1))``: the best candidate seen, never worse than
        the truthful report. Detached.
    """
    lead, m = truthful.shape[:-1], truthful.shape[-1]
    gen_device = generator.device if generator is not None else truthful.device
    with torch.no_grad():
        start = truthful.unsqueeze(-2)
        u0 = utility(start) if truthful_utility is None else truthful_utility.unsqueeze(-1)
        best_x, best_u = start, u0
        starts = [start]
        if protocol.uses_grid(m):
            grid = report_grid(protocol.grid, low, high).expand(*lead, -1, -1)  # (..., G, m)
            u_grid = utility(grid)
            best_x, best_u = keep_best(best_x, best_u, grid, u_grid)
            if differentiable and protocol.grid_refine:
                top = u_grid.topk(min(protocol.grid_refine, grid.shape[-2]), dim=-1).indices
                starts.append(torch.gather(grid, -2, top.unsqueeze(-1).expand(*top.shape, m)))
        k = protocol.random_starts if differentiable else protocol.random_starts * protocol.random_search
        if k:
            r = torch.rand((*lead, k, m), generator=generator, device=gen_device, dtype=truthful.dtype)
            starts.append(low.unsqueeze(-2) + (high - low).unsqueeze(-2) * r.to(truthful.device))
        candidates = torch.cat(starts, dim=-2)
    if differentiable and protocol.steps > 0:
        lo, hi, steps = low.unsqueeze(-2), high.unsqueeze(-2), protocol.steps
        if protocol.prunes(candidates.shape[-2]):
            x, u = projected_adam(utility, candidates, lo, hi, steps=protocol.prune_at, lr=protocol.lr)
            best_x, best_u = keep_best(best_x, best_u, x, u)
            top = u.topk(protocol.keep, dim=-1).indices
            candidates = torch.gather(x, -2, top.unsqueeze(-1).expand(*top.shape, m))
            steps -= protocol.prune_at
        x, u = projected_adam(utility, candidates, lo, hi, steps=steps, lr=protocol.lr)
    else:
        with torch.no_grad():
            x, u = candidates, utility(candidates)
    best_x, best_u = keep_best(best_x, best_u, x, u)
    return best_x.detach(), best_u.detach()


def pgd_ascent(
    mechanism: Mechanism,
    valuations: Tensor,
    misreports: Tensor,
    low: Tensor,
    high: Tensor,
    *,
    steps: int,
    lr: float,
    generator: torch.Generator | None = None,
    present: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Projected gradient ascent on every bidder's candidate misreports at once (the trainers' inner loop).

    Args:
        mechanism: a differentiable mechanism.
        valuations: ``(batch, n, m)`` true values (fixed).
        misreports: ``(batch, n, K, m)`` starting points.
        low, high: ``(n, m)`` bounds of each bidder's report space (the projection).
        steps, lr: Adam steps and learning rate.
        present: ``(batch, n)`` who takes part (:func:`deviation_utilities`), or None for everyone.

    Returns:
        The best misreport each candidate visited ``(batch, n, K, m)`` and its utility ``(batch, n, K)``.
    """
    return projected_adam(
        lambda x: deviation_utilities(mechanism, valuations, x, generator, present),
        misreports,
        low.unsqueeze(-2),
        high.unsqueeze(-2),
        steps=steps,
        lr=lr,
    )


def projected_adam(
    utility: UtilityFn,
    start: Tensor,
    low: Tensor,
    high: Tensor,
    *,
    steps: int,
    lr: float,
    check_every: int = 0,
    stop: Callable[[int, Tensor, torch.optim.Optimizer], bool] | None = None,
) -> tuple[Tensor, Tensor]:
    """Maximise ``utility`` by Adam steps on ``start``, projected onto ``[low, high]``.

    ``utility`` maps points ``(..., m)`` (or matrices ``(..., n, m)``) to values ``(...)``; every
    point is optimised independently: projected gradient ascent on a bidder's utility (Dütting et
    al. §4), or descent on the negated inversion objective (Stein et al., eq. 5). An entry with
    ``low == high`` stays fixed. Every ``check_every`` steps ``stop(step, best_values, optimizer)``
    may end the search early (or change the optimizer's learning rate). Returns the best point
    each one visited and its value (detached). Runs with autograd on even under
    ``torch.inference_mode`` (the scenario runner's).
    """
    with torch.inference_mode(False), torch.enable_grad():
        x = start.detach().clone().clamp_(low, high).requires_grad_(True)
        optimizer = torch.optim.Adam([x], lr=lr)
        best_u: Tensor | None = None
        best_x = x.detach().clone()
        for step in range(steps + 1):
            u = utility(x)
            with torch.no_grad():
                if best_u is None:
                    best_u = torch.full_like(u, float("-inf"))
                better = u > best_u
                best_u = torch.where(better, u, best_u)
                best_x = torch.where(better.view(*better.shape, *[1] * (x.dim() - u.dim())), x, best_x)
            if stop is not None and check_every and step and step % check_every == 0 and stop(step, best_u, optimizer):
                break
            if step == steps:
                break
            (grad,) = torch.autograd.grad(-u.sum(), x)
            x.grad = grad
            optimizer.step()
            with torch.no_grad():
                x.clamp_(low, high)
    assert best_u is not None  # the loop runs at least once
    return best_x.detach(), best_u.detach()


def report_grid(points: int, low: Tensor, high: Tensor) -> Tensor:
    """``(..., points**m, m)`` evenly spaced grid over each box ``[low, high]`` of shape ``(..., m)``."""
    m = low.shape[-1]
    axis = torch.linspace(0, 1, points, device=low.device, dtype=low.dtype)
    mesh = torch.cartesian_prod(*([axis] * m)).view(-1, m)  # (G, m)
    return low.unsqueeze(-2) + (high - low).unsqueeze(-2) * mesh


def keep_best(best_x: Tensor, best_u: Tensor, x: Tensor, u: Tensor) -> tuple[Tensor, Tensor]:
    """Merge two candidate sets, points ``(..., K, m)`` with utilities ``(..., K)``, and keep the
    best of each: returns ``(..., 1, m)`` and ``(..., 1)``."""
    all_x, all_u = torch.cat((best_x, x), dim=-2), torch.cat((best_u, u), dim=-1)
    idx = all_u.argmax(dim=-1, keepdim=True)
    return torch.gather(all_x, -2, idx.unsqueeze(-1).expand(*idx.shape, all_x.shape[-1])), torch.gather(all_u, -1, idx)


def deviation_profiles(valuations: Tensor, misreports: Tensor) -> Tensor:
    """``(batch, n, K, n, m)``: profile where bidder i reports candidate k, the others truthfully."""
    b, n, k, m = misreports.shape
    own = torch.eye(n, dtype=torch.bool, device=valuations.device).view(1, n, 1, n, 1)
    return torch.where(own, misreports.unsqueeze(3), valuations.view(b, 1, 1, n, m))


def deviation_utilities(
    mechanism: Mechanism,
    valuations: Tensor,
    misreports: Tensor,
    generator: torch.Generator | None = None,
    present: Tensor | None = None,
) -> Tensor:
    """``(batch, n, K)`` utility of bidder i (true values ``v_i``) when it alone reports ``misreports[:, i, k]``.

    Every bidder's deviations run in one batched forward pass; ``present`` ``(batch, n)``, if
    given, says who takes part in each profile (:meth:`Mechanism.run`).
    """
    b, n, k, m = misreports.shape
    profiles = deviation_profiles(valuations, misreports).reshape(b * n * k, n, m)
    mask = None if present is None else present.view(b, 1, 1, n).expand(b, n, k, n).reshape(b * n * k, n)
    out = mechanism.run(profiles, generator=generator, check=False, present=mask)
    alloc = out.allocation.view(b, n, k, n, m)
    pay = out.payments.view(b, n, k, n)
    own_alloc = torch.diagonal(alloc, dim1=1, dim2=3).permute(0, 3, 1, 2)  # (b, n, k, m)
    own_pay = torch.diagonal(pay, dim1=1, dim2=3).permute(0, 2, 1)  # (b, n, k)
    return (own_alloc * valuations.unsqueeze(2)).sum(-1) - own_pay


def truthful_utilities(
    mechanism: Mechanism, valuations: Tensor, generator: torch.Generator | None = None, present: Tensor | None = None
) -> Tensor:
    """``(batch, n)`` utilities when everybody reports truthfully (``present`` as in :func:`deviation_utilities`)."""
    return mechanism.run(valuations, generator=generator, check=False, present=present).utilities(valuations)


def candidate_utilities(
    mechanism: Mechanism,
    values: Tensor,
    reports: Tensor,
    bidder: int,
    candidates: Tensor,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``(batch, K)`` utility of ``bidder`` (true ``values (batch, m)``) bidding each candidate
    ``(batch, K, m)`` against the others' ``reports``.

    Args:
        reports: ``(batch, n, m)`` (one report profile per round; the bidder's own row is
            ignored) or ``(batch, S, n, m)`` (S sampled profiles per round; the utility is
            averaged over them: a Bayesian deviation).
    """
    b, k, m = candidates.shape
    others = reports if reports.dim() == 4 else reports.unsqueeze(1)  # (b, S, n, m)
    s, n = others.shape[1], others.shape[2]
    own = torch.zeros(n, dtype=torch.bool, device=reports.device)
    own[bidder] = True
    profiles = torch.where(
        own.view(1, 1, 1, n, 1), candidates.view(b, k, 1, 1, m), others.unsqueeze(1)
    )  # (b, k, s, n, m)
    out = mechanism.run(profiles.reshape(b * k * s, n, m), generator=generator, check=False)
    alloc = out.allocation.view(b, k, s, n, m)[:, :, :, bidder]
    pay = out.payments.view(b, k, s, n)[:, :, :, bidder]
    return ((alloc * values.view(b, 1, 1, m)).sum(-1) - pay).mean(-1)
