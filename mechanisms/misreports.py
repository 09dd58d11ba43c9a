"""Misreport search: how much can one bidder gain by lying, others truthful?

Used by the trainers (inner loop) and by the evaluator (stated-budget attacks).

Shapes:
    valuations   (batch, n_bidders, n_items)
    misreports   (batch, n_bidders, K, n_items): K candidate lies of each bidder
    utilities    (batch, n_bidders, K): bidder i's utility when it alone reports candidate k
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mechanisms.base import Mechanism

__all__ = ["deviation_profiles", "deviation_utilities", "truthful_utilities", "pgd_ascent", "projected_adam", "report_grid", "keep_best"]


def deviation_profiles(valuations: Tensor, misreports: Tensor) -> Tensor:
    """``(batch, n, K, n, m)``: profile where bidder i reports candidate k, the others truthfully."""
    b, n, k, m = misreports.shape
    own = torch.eye(n, dtype=torch.bool, device=valuations.device).view(1, n, 1, n, 1)
    return torch.where(own, misreports.unsqueeze(3), valuations.view(b, 1, 1, n, m))


def deviation_utilities(
    mechanism: Mechanism, valuations: Tensor, misreports: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """``(batch, n, K)`` utility of bidder i (true values ``v_i``) when it alone reports ``misreports[:, i, k]``."""
    b, n, k, m = misreports.shape
    profiles = deviation_profiles(valuations, misreports).reshape(b * n * k, n, m)
    out = mechanism.run(profiles, generator=generator, check=False)
    alloc = out.allocation.view(b, n, k, n, m)
    pay = out.payments.view(b, n, k, n)
    own_alloc = torch.diagonal(alloc, dim1=1, dim2=3).permute(0, 3, 1, 2)  # (b, n, k, m)
    own_pay = torch.diagonal(pay, dim1=1, dim2=3).permute(0, 2, 1)  # (b, n, k)
    return (own_alloc * valuations.unsqueeze(2)).sum(-1) - own_pay


def truthful_utilities(mechanism: Mechanism, valuations: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """``(batch, n)`` utilities when everybody reports truthfully."""
    return mechanism.run(valuations, generator=generator, check=False).utilities(valuations)


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
) -> tuple[Tensor, Tensor]:
    """Projected gradient ascent (Adam) on every candidate misreport at once.

    Args:
        mechanism: a differentiable mechanism.
        valuations: ``(batch, n, m)`` true values (fixed).
        misreports: ``(batch, n, K, m)`` starting points.
        low, high: ``(n, m)`` bounds of each bidder's report space (the projection).
        steps, lr: Adam steps and learning rate.

    Returns:
        The improved misreports ``(batch, n, K, m)`` (detached) and the best utility seen
        for each candidate ``(batch, n, K)``, with the misreport that achieved it.
    """
    lo, hi = low.view(1, *low.shape[:1], 1, low.shape[-1]), high.view(1, *high.shape[:1], 1, high.shape[-1])
    return projected_adam(lambda x: deviation_utilities(mechanism, valuations, x, generator), misreports, lo, hi, steps=steps, lr=lr)


def projected_adam(
    utility: Callable[[Tensor], Tensor], start: Tensor, low: Tensor, high: Tensor, *, steps: int, lr: float
) -> tuple[Tensor, Tensor]:
    """Maximise ``utility`` by Adam steps on ``start`` ``(..., m)``, projected onto ``[low, high]``.

    ``utility`` maps points ``(..., m)`` to values ``(...)``; every point is optimised
    independently. Returns the best point each one visited and its value (detached). Runs with
    autograd on even when called under ``torch.inference_mode`` (the scenario runner's).
    """
    with torch.inference_mode(False), torch.enable_grad():
        x = start.detach().clone().clamp_(low, high).requires_grad_(True)
        optimizer = torch.optim.Adam([x], lr=lr)
        best_u = torch.full(x.shape[:-1], float("-inf"), device=x.device, dtype=x.dtype)
        best_x = x.detach().clone()
        for step in range(steps + 1):
            u = utility(x)
            with torch.no_grad():
                better = u > best_u
                best_u = torch.where(better, u, best_u)
                best_x = torch.where(better.unsqueeze(-1), x, best_x)
            if step == steps:
                break
            (grad,) = torch.autograd.grad(-u.sum(), x)
            x.grad = grad
            optimizer.step()
            with torch.no_grad():
                x.clamp_(low, high)
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
