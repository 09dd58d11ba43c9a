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
from mechanisms.misreports import keep_best, projected_adam, report_grid

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
            points = report_grid(grid, low, high).unsqueeze(0).expand(b, -1, -1)
            u = utility(points)
            best_x, best_u = keep_best(best_x, best_u, points, u)
            if differentiable and grid_refine:
                top = u.topk(min(grid_refine, points.shape[1]), dim=-1).indices
                starts.append(torch.gather(points, 1, top.unsqueeze(-1).expand(-1, -1, m)))
        k = random_starts if differentiable else random_starts * random_search
        if k:
            r = torch.rand((b, k, m), generator=generator, device=gen_device, dtype=values.dtype).to(values.device)
            starts.append(low + (high - low) * r)
        candidates = torch.cat(starts, dim=1)
    if differentiable and steps > 0:
        x, u = projected_adam(utility, candidates, low, high, steps=steps, lr=lr)
    else:
        with torch.no_grad():
            x, u = candidates, utility(candidates)
    best_x, best_u = keep_best(best_x, best_u, x, u)
    return best_x[:, 0].detach(), best_u[:, 0].detach()
