"""The privacy–revenue trade-off of output noise (Stein et al. §5): a sweep over sigma.

For each noise level sigma the mechanism runs on fresh valuation profiles (truthful bids);
observers reconstruct the bids from the public outcomes under each threat model, and the
sweep records revenue, regret (expected utilities over noise draws), recovery rate (share of
bid entries within ``tolerance`` of the truth, with its standard error) and mean absolute
error. No argparse here: ``auction-env privacy`` parses and calls :func:`privacy_sweep`.

Threat models (§4.1): ``without_bids`` (an outside observer) and ``with_bids`` (the observer is
bidder 0 and knows its own bid; only the other bidders' entries are scored).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from agents import observers
from agents.observers.scoring import ReconstructionScore, score_reconstruction
from mechanisms.base import Mechanism
from mechanisms.common.errors import ConfigError
from mechanisms.common.io import rows_to_csv, save_figure, write_text_atomic
from mechanisms.common.seeding import make_generators
from mechanisms.common.stats import standard_error
from mechanisms.evaluation import evaluate
from mechanisms.priors import Prior

__all__ = [
    "ReconstructionScore",
    "score_reconstruction",
    "privacy_sweep",
    "THREAT_MODELS",
    "DEFAULT_SIGMAS",
    "plot_sweep",
]

THREAT_MODELS = ("without_bids", "with_bids")
#: Output-noise levels swept by default: from small ones that barely cost revenue to a "wide view"
#: (Stein et al., Figs. 1 and 5).
DEFAULT_SIGMAS = (0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


def privacy_sweep(
    mechanism: Mechanism,
    prior: Prior,
    sigmas: Sequence[float] = DEFAULT_SIGMAS,
    *,
    profiles: int = 1000,
    seed: int = 0,
    tolerance: float = 0.02,
    threat_models: Sequence[str] = THREAT_MODELS,
    observer: str = "inversion",
    observer_params: Mapping[str, Any] | None = None,
    regret_profiles: int = 200,
    regret_protocol: str = "weak",
    noise_draws: int = 16,
    on_cell: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """One row per (sigma, threat model) with revenue, regret, recovery and MAE.

    Args:
        mechanism: a learned mechanism with ``noise_std`` (set for each sigma and restored); one without
            (a menu, an exact auction) only at sigma 0.
        prior: the valuation prior (profiles and the observer's knowledge).
        sigmas: noise levels.
        profiles: auctions inverted per sigma and threat model (the same profiles throughout).
        observer, observer_params: the reconstructing observer (default model inversion).
        regret_profiles, regret_protocol, noise_draws: the regret measurement per sigma
            (0 profiles: skip regret).
        on_cell: called with each row as it is done (progress bars).

    With a single bidder the ``with_bids`` threat model is skipped (there are no other bids).

    Returns:
        Rows also holding the random-guess baseline of the same profiles (``prior_guess_*``).
    """
    noisy = mechanism.output_noise
    if not noisy and any(s != 0 for s in sigmas):
        raise ConfigError(
            f"{type(mechanism).__name__} has no output noise (noise_std); it can only be inverted at sigma 0", "sigmas"
        )
    for model in threat_models:
        if model not in THREAT_MODELS:
            raise ConfigError(f"unknown threat model '{model}'; one of {', '.join(THREAT_MODELS)}", "threat_models")
    if any(not (isinstance(s, (int, float)) and math.isfinite(s) and s >= 0) for s in sigmas):
        raise ConfigError(f"sigmas must be finite numbers >= 0, got {list(sigmas)}", "sigmas")
    if prior.n_bidders == 1 and "with_bids" in threat_models:
        threat_models = [m for m in threat_models if m != "with_bids"]  # a lone bidder's own bids are all there is
    original = mechanism.noise_std if noisy else None
    context = {"mechanism": mechanism, "prior": prior, "n_bidders": prior.n_bidders, "n_items": prior.n_items}
    inverter = observers.make(observer, context=context, **dict(observer_params or {}))
    guesser = observers.make("prior_guess", context=context)
    rows = []
    try:
        for sigma in sigmas:
            if noisy:
                mechanism.noise_std = float(sigma)
            sample_gen, noise_gen, observer_gen = make_generators(seed, 3)
            v = prior.sample(profiles, sample_gen)
            with torch.no_grad():
                out = mechanism.run(v, generator=noise_gen, check=False)
            revenue = out.payments.sum(-1).double()
            regret = None
            if regret_profiles:
                regret = evaluate(
                    mechanism,
                    prior,
                    profiles=regret_profiles,
                    protocol=regret_protocol,
                    seed=seed,
                    noise_draws=noise_draws,
                )
            for model in threat_models:
                bidder = 0 if model == "with_bids" else None
                own = v[:, 0] if bidder is not None else None
                guess = inverter.reconstruct(
                    out.allocation, out.payments, own_bids=own, bidder=bidder, generator=observer_gen
                )
                score = score_reconstruction(guess, v, tolerance=tolerance, exclude_bidder=bidder)
                baseline = score_reconstruction(
                    guesser.reconstruct(
                        out.allocation, out.payments, own_bids=own, bidder=bidder, generator=observer_gen
                    ),
                    v,
                    tolerance=tolerance,
                    exclude_bidder=bidder,
                )
                row = {
                    "sigma": float(sigma),
                    "threat_model": model,
                    "profiles": profiles,
                    "revenue_mean": revenue.mean().item(),
                    "revenue_stderr": standard_error(revenue),
                    "regret_mean": regret.regret_mean if regret else None,
                    "regret_protocol": regret.protocol if regret else None,
                    "recovery_rate": score.recovery_rate,
                    "recovery_stderr": score.recovery_stderr,
                    "mae": score.mae,
                    "mae_stderr": score.mae_stderr,
                    "prior_guess_recovery_rate": baseline.recovery_rate,
                    "prior_guess_mae": baseline.mae,
                    "tolerance": tolerance,
                    "observer": repr(inverter),
                }
                rows.append(row)
                if on_cell is not None:
                    on_cell(row)
    finally:
        if noisy:
            mechanism.noise_std = original
    return rows


def write_sweep(
    rows: list[dict[str, Any]], out: str | Path, *, title: str, reference_revenue: float | None = None
) -> list[Path]:
    """Write ``privacy.csv`` and the plots (recovery and revenue against sigma; MAE against sigma)."""
    out = Path(out)
    written = [write_text_atomic(out / "privacy.csv", rows_to_csv(rows))]
    written += plot_sweep(rows, out, title=title, reference_revenue=reference_revenue)
    return written


def plot_sweep(
    rows: list[dict[str, Any]], out: Path, *, title: str, reference_revenue: float | None = None
) -> list[Path]:
    """PNG plots like the paper's Figures 1, 2 and 5: recovery & revenue vs sigma, MAE vs sigma."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = sorted({r["threat_model"] for r in rows}, key=THREAT_MODELS.index)
    colors = {"without_bids": "tab:blue", "with_bids": "tab:green"}
    sigmas = sorted({r["sigma"] for r in rows})
    paths = []
    fig, ax = plt.subplots(figsize=(6, 3.8))
    twin = ax.twinx()
    for model in models:
        sel = sorted((r for r in rows if r["threat_model"] == model), key=lambda r: r["sigma"])
        ax.errorbar(
            [r["sigma"] for r in sel],
            [100 * r["recovery_rate"] for r in sel],
            [100 * r["recovery_stderr"] for r in sel],
            marker="o",
            color=colors[model],
            label=f"recovery ({model.replace('_', ' ')})",
        )
    first = sorted((r for r in rows if r["threat_model"] == models[0]), key=lambda r: r["sigma"])
    twin.plot([r["sigma"] for r in first], [r["revenue_mean"] for r in first], "s-", color="tab:red", label="revenue")
    if reference_revenue is not None:
        twin.axhline(reference_revenue, color="tab:red", ls="--", lw=1, label="item-wise Myerson revenue")
    ax.axhline(100 * first[0]["prior_guess_recovery_rate"], color="gray", ls=":", lw=1, label="random guess")
    _sigma_axis(ax, sigmas)
    ax.set_ylabel(f"recovery rate (%, ±{first[0]['tolerance']:g})")
    twin.set_ylabel("revenue")
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=7, loc="center left")
    ax.set_title(title)
    fig.tight_layout()
    paths.append(save_figure(fig, out / "recovery_revenue.png"))

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for model in models:
        sel = sorted((r for r in rows if r["threat_model"] == model), key=lambda r: r["sigma"])
        ax.errorbar(
            [r["sigma"] for r in sel],
            [r["mae"] for r in sel],
            [r["mae_stderr"] for r in sel],
            marker="o",
            color=colors[model],
            label=f"MAE ({model.replace('_', ' ')})",
        )
    ax.axhline(first[0]["prior_guess_mae"], color="gray", ls=":", lw=1, label="random guess")
    _sigma_axis(ax, sigmas)
    ax.set_ylabel("mean absolute error")
    ax.legend(fontsize=7)
    ax.set_title(title)
    fig.tight_layout()
    paths.append(save_figure(fig, out / "mae.png"))
    return paths


def _sigma_axis(ax: Any, sigmas: list[float]) -> None:
    """Log-like sigma axis that still shows sigma = 0: symlog, ticks at the swept values."""
    positive = [s for s in sigmas if s > 0]
    ax.set_xscale("symlog", linthresh=min(positive) if positive else 1.0, linscale=0.5)
    ax.set_xticks(sigmas)
    ax.set_xticklabels([f"{s:g}" for s in sigmas])
    ax.minorticks_off()
    ax.set_xlim(left=0)
    ax.set_xlabel("noise sigma")
