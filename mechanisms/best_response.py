"""One bidder's best response: search its report space for the bid with the highest utility.

The evaluator attacks every bidder of a profile at once (:mod:`mechanisms.misreports`); a
strategic *policy* needs the same search for one bidder, against either the others' actual
reports (the ex-post "oracle" adversary, whose gain is that round's regret) or reports
sampled from the prior (a Bayesian deviation). The search follows an
:class:`~mechanisms.evaluation.AttackProtocol`: truthful start, random starts, and for at most
``grid_max_items`` items a dense grid whose best points are refined; PGD (Adam) when the
mechanism is differentiable, random search otherwise.

Shapes:
    values       (batch, n_items)             the bidder's true values
    reports      (batch, n_bidders, n_items)  the others' reports (own column ignored)
    others       (batch, S, n_bidders, n_items) sampled reports (Bayesian)
    candidates   (batch, K, n_items)          bids to score
    utilities    (batch, K)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mechanisms.base import Mechanism
from mechanisms.misreports import projected_adam

__all__ = ["candidate_utilities", "best_response"]

UtilityFn = Callable[[Tensor], Tensor]


def candidate_utilities(
    mechanism: Mechanism,
    values: Tensor,
    reports: Tensor,
    bidder: int,
    candidates: Tensor,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``(batch, K)`` utility of ``bidder`` (true ``values``) bidding each candidate.

    Args:
        reports: ``(batch, n, m)`` (one report profile per round) or ``(batch, S, n, m)``
            (S sampled profiles per round; the utility is averaged over them).
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


def _grid(points: int, low: Tensor, high: Tensor) -> Tensor:
    """``(points**m, m)`` grid over the box ``[low, high]``."""
    axis = torch.linspace(0, 1, points, device=low.device, dtype=low.dtype)
    mesh = torch.cartesian_prod(*([axis] * low.shape[-1])).view(-1, low.shape[-1])
    return low + (high - low) * mesh


def best_response(
    utility: UtilityFn,
    values: Tensor,
    low: Tensor,
    high: Tensor,
    *,
    random_starts: int,
    steps: int,
    lr: float,
    grid: int = 0,
    grid_refine: int = 0,
    grid_max_items: int = 2,
    random_search: int = 64,
    differentiable: bool = True,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """The best bid found and its utility, per round.

    Args:
        utility: maps candidates ``(batch, K, m)`` to utilities ``(batch, K)``.
        values: ``(batch, m)`` true values (the truthful candidate).
        low, high: ``(m,)`` bounds of the report space (the projection).
        random_starts, steps, lr, grid, grid_refine, grid_max_items, random_search: the budget,
            as in :class:`~mechanisms.evaluation.AttackProtocol`.
        differentiable: use PGD; otherwise score ``random_starts x random_search`` random
            candidates (and the grid) without gradients.

    Returns:
        ``(bids (batch, m), utilities (batch,))``: the best candidate seen, never worse than
        the truthful bid (it is always a candidate). Detached.
    """
    b, m = values.shape
    gen_device = generator.device if generator is not None else values.device
    with torch.no_grad():
        truthful = values.clamp(low, high).unsqueeze(1)
        best_x, best_u = truthful, utility(truthful)
        starts = [truthful]
        if grid > 0 and m <= grid_max_items:
            points = _grid(grid, low, high).unsqueeze(0).expand(b, -1, -1)
            u = utility(points)
            best_x, best_u = _keep_best(best_x, best_u, points, u)
            if differentiable and grid_refine:
                top = u.topk(min(grid_refine, points.shape[1]), dim=-1).indices
                starts.append(torch.gather(points, 1, top.unsqueeze(-1).expand(-1, -1, m)))
        k = random_starts if differentiable else random_starts * random_search
        if k:
            r = torch.rand((b, k, m), generator=generator, device=gen_device, dtype=values.dtype).to(values.device)
            starts.append(low + (high - low) * r)
        candidates = torch.cat(starts, dim=1)
    if differentiable and steps > 0:
        x, u = _pgd(utility, candidates, low, high, steps, lr)
    else:
        with torch.no_grad():
            x, u = candidates, utility(candidates)
    best_x, best_u = _keep_best(best_x, best_u, x, u)
    return best_x[:, 0].detach(), best_u[:, 0].detach()


def _keep_best(best_x: Tensor, best_u: Tensor, x: Tensor, u: Tensor) -> tuple[Tensor, Tensor]:
    """Merge candidate sets, keeping each round's single best ``(batch, 1, m)``, ``(batch, 1)``."""
    all_x, all_u = torch.cat((best_x, x), dim=1), torch.cat((best_u, u), dim=1)
    idx = all_u.argmax(dim=1, keepdim=True)
    return torch.gather(all_x, 1, idx.unsqueeze(-1).expand(-1, -1, all_x.shape[-1])), torch.gather(all_u, 1, idx)


def _pgd(utility: UtilityFn, start: Tensor, low: Tensor, high: Tensor, steps: int, lr: float) -> tuple[Tensor, Tensor]:
    """Projected Adam ascent on every candidate; the best point each candidate visited."""
    return projected_adam(utility, start, low, high, steps=steps, lr=lr)
