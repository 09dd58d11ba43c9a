"""Evaluate any mechanism: revenue, welfare, IR violations and regret under a named attack.

Regret of bidder i at profile v is ``max_b u_i(v_i; b, v_-i) - u_i(v_i; v)`` (others truthful).
The max is found by a stated-budget *attack protocol*; published regrets differ mostly
because attack budgets differ, so every result carries its protocol's description.

Protocols (see :data:`PROTOCOLS`):
    default         PGD (Adam) from the truthful bid and 8 random starts, plus, with at most 2
                    items, the 4 best points of a 21-point-per-item grid over the bidder's
                    report space; after 50 of the 300 steps only the 2 best starts per bidder
                    and profile go on (successive halving). The best candidate counts.
    full            The budget ``default`` had until December 2026 (shipped model cards were
                    measured with it): a 41-point grid, its 2 best points, the truthful bid and
                    8 random starts, every start 300 steps. ``default`` finds 0.98 to 1.00 of
                    its regret on the shipped checkpoints (``benchmarks/evaluator_speed.py``).
    weak            PGD from the truthful bid only, 1,000 steps (what many papers report).
    regretnet_code  1,000 random starts x 2,000 steps (the RegretNet code's test budget; slow).
Mechanisms without gradients (exact ones) get the same grid plus random search instead of PGD.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor
from tqdm.auto import tqdm

from mechanisms.base import Mechanism, frozen_parameters
from mechanisms.common.errors import ConfigError
from mechanisms.common.registry import suggest
from mechanisms.common.seeding import make_generators
from mechanisms.common.stats import standard_error
from mechanisms.noise import ExpectedOutcome, is_noisy
from mechanisms.participation import Participation
from mechanisms.priors import Prior
from mechanisms.search import AttackProtocol, deviation_utilities, search, truthful_utilities

__all__ = [
    "AttackProtocol",
    "PROTOCOLS",
    "EvaluationResult",
    "evaluate",
    "evaluation_profiles",
    "attack_regrets",
    "best_misreports",
    "protocol",
    "format_result",
    "Measurement",
    "measure",
    "score",
    "scores",
    "PairedComparison",
    "compare",
    "format_comparison",
]


PROTOCOLS: dict[str, AttackProtocol] = {
    "default": AttackProtocol(
        "default", random_starts=8, steps=300, lr=0.02, grid=21, grid_refine=4, prune_at=50, keep=2
    ),
    "full": AttackProtocol("full", random_starts=8, steps=300, lr=0.02, grid=41, grid_refine=2),
    "weak": AttackProtocol("weak", random_starts=0, steps=1000, lr=0.01),
    "regretnet_code": AttackProtocol("regretnet_code", random_starts=1000, steps=2000, lr=0.01),
}


def protocol(name: str | AttackProtocol) -> AttackProtocol:
    """Look up a protocol by name (or pass one through)."""
    if isinstance(name, AttackProtocol):
        return name
    if name not in PROTOCOLS:
        raise ConfigError(
            f"Unknown attack protocol '{name}'.{suggest(name, PROTOCOLS)} Available: {', '.join(PROTOCOLS)}"
        )
    return PROTOCOLS[name]


@dataclass
class EvaluationResult:
    """Metrics of one mechanism on fresh profiles (see :func:`evaluate`)."""

    mechanism: str
    n_bidders: int
    n_items: int
    profiles: int
    protocol: str
    revenue_mean: float
    revenue_stderr: float
    welfare_mean: float
    ir_violation_rate: float
    regret_mean: float
    regret_stderr: float
    regret_max: float
    regret_per_bidder: list[dict[str, Any]] = field(default_factory=list)
    score: float = 0.0
    per_participation: list[dict[str, Any]] = field(default_factory=list)
    wall_time_s: float = 0.0
    profiles_per_second: float = 0.0
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _regret_chunk(
    mechanism: Mechanism,
    v: Tensor,
    low: Tensor,
    high: Tensor,
    proto: AttackProtocol,
    gen: torch.Generator,
    rescore: Mechanism | None = None,
    present: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Truthful utilities ``(c, n)``, best deviation utilities ``(c, n)`` and the best misreports
    ``(c, n, m)`` for a chunk of profiles.

    With ``rescore`` (a noisy mechanism's expected outcome), the search's best misreport and the
    truthful bid are scored again with fresh noise, so the max over noisy estimates does not
    bias the regret upward. ``present`` ``(c, n)`` says who takes part (None: everyone).
    """
    differentiable = getattr(mechanism, "differentiable", False)
    with torch.no_grad():
        u_true = truthful_utilities(mechanism, v, gen, present)
    with frozen_parameters(mechanism):
        best_x, best_u = search(
            lambda x: deviation_utilities(mechanism, v, x, gen, present),
            v,
            low,
            high,
            proto,
            differentiable=differentiable,
            generator=gen,
            truthful_utility=u_true,
        )
    if rescore is None:
        return u_true, best_u[..., 0], best_x[..., 0, :]
    with torch.no_grad():
        u_true = truthful_utilities(rescore, v, gen, present)
        u_best = deviation_utilities(rescore, v, best_x, gen, present)[..., 0]
    return u_true, u_best, best_x[..., 0, :]


def _attack(
    mechanism: Mechanism,
    v: Tensor,
    low: Tensor,
    high: Tensor,
    proto: AttackProtocol,
    gen: torch.Generator,
    present: Tensor,
    *,
    chunk: int | None,
    progress: bool,
    noise_draws: int,
) -> tuple[Tensor, Tensor, int]:
    """Truthful utilities and regrets ``(profiles, n)`` (0 for absent bidders) under ``proto``,
    chunked; a noisy mechanism is attacked on expected utilities over ``noise_draws`` draws."""
    profiles, n, m = v.shape
    attacked: Mechanism = ExpectedOutcome(mechanism, noise_draws) if is_noisy(mechanism) else mechanism
    per_profile = (
        (proto.grid**m if proto.uses_grid(m) else 1)
        + proto.random_starts * (1 if mechanism.differentiable else proto.random_search)
        + 1
        + proto.grid_refine
    )
    draws = noise_draws if attacked is not mechanism else 1
    chunk = chunk or max(1, min(4096, (1 << 19) // max(1, n * per_profile * draws)))
    u_true_all, regret = [], []
    bar = tqdm(total=profiles, disable=not progress, desc=f"regret ({proto.name})", unit="profile")
    for first in range(0, profiles, chunk):
        vc, pc = v[first : first + chunk], present[first : first + chunk]
        u_true, u_best, _ = _regret_chunk(
            attacked,
            vc,
            low,
            high,
            proto,
            gen,
            rescore=attacked if attacked is not mechanism else None,
            present=None if bool(pc.all()) else pc,
        )
        u_true_all.append(u_true)
        regret.append(torch.clamp(u_best - u_true, min=0.0) * pc)
        bar.update(vc.shape[0])
    bar.close()
    return torch.cat(u_true_all), torch.cat(regret), draws


def attack_regrets(
    mechanism: Mechanism,
    prior: Prior,
    valuations: Tensor,
    *,
    protocol: str | AttackProtocol = "default",
    seed: int = 0,
    progress: bool = False,
) -> Tensor:
    """``(profiles, n_bidders)`` regret each bidder's best misreport found by ``protocol`` gains
    at each of the given profiles ``(profiles, n_bidders, n_items)`` (the per-profile numbers
    behind :func:`evaluate`'s means; the certifier checks its certificates against them)."""
    present = torch.ones(valuations.shape[:2], dtype=torch.bool, device=valuations.device)
    with _attacking(mechanism, prior, valuations, protocol, seed) as (proto, low, high, gen):
        return _attack(
            mechanism, valuations, low, high, proto, gen, present, chunk=None, progress=progress, noise_draws=16
        )[1]


def best_misreports(
    mechanism: Mechanism,
    prior: Prior,
    valuations: Tensor,
    *,
    protocol: str | AttackProtocol = "default",
    seed: int = 0,
) -> Tensor:
    """``(profiles, n_bidders, n_items)`` each bidder's best misreport found by ``protocol`` at each
    of the given profiles, the others truthful (the reports behind :func:`attack_regrets`)."""
    with _attacking(mechanism, prior, valuations, protocol, seed) as (proto, low, high, gen):
        return _regret_chunk(mechanism, valuations, low, high, proto, gen)[2]


@contextmanager
def _attacking(
    mechanism: Mechanism, prior: Prior, valuations: Tensor, protocol_name: str | AttackProtocol, seed: int
) -> Iterator[tuple[AttackProtocol, Tensor, Tensor, torch.Generator]]:
    """An attack at given profiles: its protocol, the report bounds and the generator, with the
    mechanism in eval mode meanwhile."""
    device = valuations.device
    low, high = (t.to(device) for t in prior.bounds(device))
    (gen,) = make_generators(seed, 1, device)
    was_training = mechanism.training
    mechanism.eval()
    try:
        yield protocol(protocol_name), low, high, gen
    finally:
        mechanism.train(was_training)


def evaluation_profiles(
    prior: Prior,
    profiles: int,
    seed: int,
    *,
    participation: Participation | None = None,
    device: torch.device | str | None = None,
    valuations: Tensor | None = None,
) -> tuple[Tensor, Tensor, torch.Generator]:
    """The profiles :func:`evaluate` scores for ``seed``: values ``(profiles, n, m)`` with absent
    bidders' zeroed, the ``(profiles, n)`` participation mask, and the generator its attacks and
    tie-breaking draw from next (``valuations``, if given, replaces the sampled values).

    The values and the mask are drawn on the CPU and moved to ``device``, so a seed names the same
    profiles on every device (only the attack's draws, on ``device``, differ between devices)."""
    n, m = prior.n_bidders, prior.n_items
    sample_gen = make_generators(seed, 2)[0]
    attack_gen = make_generators(seed, 2, device)[1]
    if valuations is not None:
        if valuations.dim() != 3 or tuple(valuations.shape[1:]) != (n, m):
            raise ValueError(f"valuations must have shape (profiles, {n}, {m}), got {tuple(valuations.shape)}")
        profiles = valuations.shape[0]
        v = valuations.to(device)
    else:
        v = prior.sample(profiles, sample_gen, "cpu").to(device)
    present = (
        torch.ones(profiles, n, dtype=torch.bool, device=device)
        if participation is None
        else participation.sample(profiles, sample_gen, "cpu").to(device)
    )
    return v * present.unsqueeze(-1).to(v.dtype), present, attack_gen


def evaluate(
    mechanism: Mechanism,
    prior: Prior,
    *,
    participation: Participation | None = None,
    profiles: int = 10_000,
    protocol: str | AttackProtocol = "default",
    seed: int = 0,
    device: torch.device | str | None = None,
    chunk: int | None = None,
    progress: bool = False,
    valuations: Tensor | None = None,
    noise_draws: int = 16,
) -> EvaluationResult:
    """Revenue, welfare, IR violations and per-bidder regret on ``profiles`` fresh profiles.

    Args:
        mechanism: any registered mechanism (learned or exact).
        prior: the valuation prior; misreports range over its support.
        participation: optional participation model (absent bidders' values are zeroed, the
            mechanism runs with the mask (:meth:`Mechanism.run`'s ``present``) and their regret is 0).
        profiles: number of valuation profiles.
        protocol: attack protocol name or object.
        seed: seeds profiles, attack starts and tie-breaking.
        chunk: profiles per attack batch (default: sized for ~0.5M network evaluations).
        noise_draws: for a mechanism with output noise (``noise_std > 0``), utilities in the
            regret are averaged over this many noise draws per profile (expected utility);
            revenue and welfare average over the profiles' single draws as usual.
        valuations: evaluate on these profiles ``(profiles, n, m)`` instead of sampling (to
            compare with another measurement on the same rounds); ``profiles`` is ignored.

    Returns:
        An :class:`EvaluationResult` (with a participation model, ``per_participation`` breaks
        revenue and regret down by participation profile); ``score`` is ``(sqrt(revenue) - sqrt(total regret))^2``
        with total regret = sum over bidders of mean regret (Rahme et al.).
    """
    return measure(
        mechanism,
        prior,
        participation=participation,
        profiles=profiles,
        protocol=protocol,
        seed=seed,
        device=device,
        chunk=chunk,
        progress=progress,
        valuations=valuations,
        noise_draws=noise_draws,
    ).result


@dataclass(frozen=True)
class Measurement:
    """:func:`evaluate`'s result with the per-profile numbers behind it (for paired comparisons).

    Attributes:
        result: the summary.
        revenue: ``(profiles,)`` revenue of each profile.
        regret: ``(profiles, n)`` each bidder's regret (0 when absent).
    """

    result: EvaluationResult
    revenue: Tensor
    regret: Tensor


def score(revenue: float, total_regret: float) -> float:
    """``(sqrt(revenue) - sqrt(total regret))^2``, 0 when regret outweighs revenue (Rahme et al.)."""
    return scores(torch.tensor(revenue, dtype=torch.float64), torch.tensor(total_regret, dtype=torch.float64)).item()


def scores(revenue: Tensor, total_regret: Tensor) -> Tensor:
    """:func:`score` elementwise, for tensors of mean revenues and mean total regrets."""
    return (revenue.clamp(min=0).sqrt() - total_regret.clamp(min=0).sqrt()).clamp(min=0) ** 2


def measure(
    mechanism: Mechanism,
    prior: Prior,
    *,
    participation: Participation | None = None,
    profiles: int = 10_000,
    protocol: str | AttackProtocol = "default",
    seed: int = 0,
    device: torch.device | str | None = None,
    chunk: int | None = None,
    progress: bool = False,
    valuations: Tensor | None = None,
    noise_draws: int = 16,
) -> Measurement:
    """:func:`evaluate`, keeping each profile's revenue and regrets."""
    proto = globals()["protocol"](protocol)
    device = (
        torch.device(device)
        if device is not None
        else next((b.device for b in mechanism.buffers()), torch.device("cpu"))
    )
    mechanism = mechanism.to(device)
    was_training = mechanism.training
    mechanism.eval()
    n, m = prior.n_bidders, prior.n_items
    low, high = (t.to(device) for t in prior.bounds(device))
    v, present, attack_gen = evaluation_profiles(
        prior, profiles, seed, participation=participation, device=device, valuations=valuations
    )
    profiles = v.shape[0]
    start = time.perf_counter()
    with torch.no_grad():
        out = mechanism.run(v, generator=attack_gen, check=False, present=None if bool(present.all()) else present)
        revenue = out.payments.sum(-1).double()
        welfare = out.welfare(v).double()
    u_true, rgt, draws = _attack(
        mechanism, v, low, high, proto, attack_gen, present, chunk=chunk, progress=progress, noise_draws=noise_draws
    )
    mechanism.train(was_training)
    u_true, rgt = u_true.double(), rgt.double()  # (profiles, n)
    wall = time.perf_counter() - start
    per_bidder = []
    for i in range(n):
        mean, se = rgt[:, i].mean().item(), standard_error(rgt[:, i])
        per_bidder.append({"mean": mean, "max": rgt[:, i].max().item(), "ci95": [mean - 1.96 * se, mean + 1.96 * se]})
    rev_mean = revenue.mean().item()
    total_regret = sum(b["mean"] for b in per_bidder)
    per_profile_regret = rgt.mean(1)
    per_participation = []
    if participation is not None:
        # Each participation profile is one individual auction of the aggregated auction.
        patterns, index = torch.unique(present.to(torch.int8), dim=0, return_inverse=True)
        for k, pattern in enumerate(patterns.tolist()):
            sel = index == k
            count = int(sel.sum())
            per_participation.append(
                {
                    "participation": pattern,
                    "share": count / profiles,
                    "revenue_mean": revenue[sel].mean().item(),
                    "regret_mean": per_profile_regret[sel].mean().item(),
                    "profiles": count,
                }
            )
    result = EvaluationResult(
        mechanism=getattr(mechanism, "checkpoint_name", type(mechanism).__name__),
        n_bidders=n,
        n_items=m,
        profiles=profiles,
        protocol=proto.describe(m, mechanism.differentiable)
        + (f"; utilities averaged over {draws} noise draws (sigma {mechanism.noise_std:g})" if draws > 1 else ""),
        revenue_mean=rev_mean,
        revenue_stderr=standard_error(revenue),
        welfare_mean=welfare.mean().item(),
        ir_violation_rate=((u_true < -1e-6) & present).double().mean().item(),
        regret_mean=per_profile_regret.mean().item(),
        regret_stderr=standard_error(per_profile_regret),
        regret_max=rgt.max().item(),
        regret_per_bidder=per_bidder,
        score=score(rev_mean, total_regret),
        per_participation=per_participation,
        wall_time_s=wall,
        profiles_per_second=profiles / wall,
        seed=seed,
    )
    return Measurement(result, revenue, rgt)


@dataclass(frozen=True)
class PairedComparison:
    """Two mechanisms measured on the same profiles (:func:`compare`): each one's result and the
    paired differences ``a - b`` with their standard errors (revenue and mean regret: of the
    per-profile differences; score: bootstrap over profiles, ``bootstrap`` resamples)."""

    a: EvaluationResult
    b: EvaluationResult
    revenue_diff: float
    revenue_diff_stderr: float
    regret_diff: float
    regret_diff_stderr: float
    score_diff: float
    score_diff_stderr: float
    bootstrap: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(
    a: Mechanism,
    b: Mechanism,
    prior: Prior,
    *,
    participation: Participation | None = None,
    bootstrap: int = 1000,
    **kwargs: Any,
) -> PairedComparison:
    """Evaluate ``a`` and ``b`` on the same profiles (same ``seed``) and pair their differences.

    Args:
        a, b: two mechanisms for the same setting.
        prior, participation: the setting.
        bootstrap: resamples of the profiles for the score difference's standard error.
        **kwargs: :func:`measure`'s (``profiles``, ``protocol``, ``seed``, ``device``, ``progress``).
    """
    if bootstrap < 2:
        raise ValueError(f"bootstrap must be >= 2, got {bootstrap}")
    ma = measure(a, prior, participation=participation, **kwargs)
    mb = measure(b, prior, participation=participation, **kwargs)
    rev, rgt = ma.revenue - mb.revenue, ma.regret.mean(1) - mb.regret.mean(1)
    totals = (ma.regret.sum(1), mb.regret.sum(1))
    generator = torch.Generator().manual_seed(ma.result.seed)
    profiles, diffs = rev.shape[0], []
    for first in range(0, bootstrap, 100):  # each row of idx is one resample of the profiles
        idx = torch.randint(profiles, (min(100, bootstrap - first), profiles), generator=generator).to(rev.device)
        diffs.append(
            scores(ma.revenue[idx].mean(1), totals[0][idx].mean(1))
            - scores(mb.revenue[idx].mean(1), totals[1][idx].mean(1))
        )
    return PairedComparison(
        a=ma.result,
        b=mb.result,
        revenue_diff=rev.mean().item(),
        revenue_diff_stderr=standard_error(rev),
        regret_diff=rgt.mean().item(),
        regret_diff_stderr=standard_error(rgt),
        score_diff=ma.result.score - mb.result.score,
        score_diff_stderr=torch.cat(diffs).std().item(),
        bootstrap=bootstrap,
    )


def format_comparison(c: PairedComparison) -> str:
    """Both results and the paired differences, for the terminal."""
    return "\n".join(
        [
            format_result(c.a),
            "",
            format_result(c.b),
            "",
            f"{c.a.mechanism} - {c.b.mechanism}, paired on the same {c.a.profiles:,} profiles (± standard error):",
            f"  revenue  {c.revenue_diff:+.4f} ± {c.revenue_diff_stderr:.4f}",
            f"  regret   {c.regret_diff:+.5f} ± {c.regret_diff_stderr:.5f}",
            f"  score    {c.score_diff:+.4f} ± {c.score_diff_stderr:.4f}  (bootstrap, {c.bootstrap} resamples)",
        ]
    )


def format_result(r: EvaluationResult) -> str:
    """A few aligned lines for the terminal."""
    lines = [
        f"{r.mechanism}  ({r.n_bidders} bidders x {r.n_items} items, {r.profiles:,} profiles, seed {r.seed})",
        f"  revenue        {r.revenue_mean:.4f} +/- {r.revenue_stderr:.4f}",
        f"  welfare        {r.welfare_mean:.4f}",
        f"  IR violations  {100 * r.ir_violation_rate:.2f}% of (profile, bidder)",
        f"  regret         {r.regret_mean:.5f} +/- {r.regret_stderr:.5f} (mean per bidder), max {r.regret_max:.4f}",
    ]
    for i, b in enumerate(r.regret_per_bidder):
        lines.append(
            f"    bidder {i}     mean {b['mean']:.5f}  max {b['max']:.4f}  "
            f"95% CI [{b['ci95'][0]:.5f}, {b['ci95'][1]:.5f}]"
        )
    lines += [
        f"  score          {r.score:.4f}  ((sqrt(rev) - sqrt(total regret))^2)",
        f"  attack         {r.protocol}",
        f"  time           {r.wall_time_s:.1f} s ({r.profiles_per_second:,.0f} profiles/s)",
    ]
    return "\n".join(lines)
