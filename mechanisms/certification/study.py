"""Certify a network at many profiles and compare with gradient attacks (the paper's Table 1).

    study = certify_profiles(model, prior, profiles=200)
    study.rows      # one row per (profile, bidder): certified regret, misreport, status, gap, time,
                    # and each attack's regret at the same profile
    study.summary   # per bidder: mean (std) certified regret, solve time, attack/certified ratios

Each certificate is checked against every attack's regret at the same profile: a certified
regret below an attack's is a wrong certificate and raises :class:`CertificationError`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch

from mechanisms.certification.certifier import Certificate, CertificationError, Certifier
from mechanisms.common.errors import ConfigError
from mechanisms.common.io import rows_to_csv
from mechanisms.common.seeding import make_generators
from mechanisms.evaluation import attack_regrets
from mechanisms.evaluation import protocol as lookup_protocol
from mechanisms.learned.certnet import CertNet
from mechanisms.priors import Prior

__all__ = ["CertificationStudy", "certify_profiles"]


@dataclass
class CertificationStudy:
    """Rows per (profile, bidder) and a summary per bidder."""

    rows: list[dict[str, Any]]
    summary: dict[str, Any]

    def csv(self) -> str:
        return rows_to_csv(self.rows)


def checked_bidders(model: CertNet, bidders: Sequence[int] | None) -> list[int]:
    """``bidders`` (default: all of the network's), each checked to exist.

    Raises:
        ConfigError: a bidder that the network does not have.
    """
    n = model.n_bidders
    chosen = list(range(n)) if bidders is None else list(bidders)
    for i in chosen:
        if not 0 <= i < n:
            raise ConfigError(f"bidder {i} is not in [0, {n - 1}] (the network has {n} bidder(s))", "bidders")
    return chosen


def certify_profiles(
    model: CertNet,
    prior: Prior,
    *,
    profiles: int = 200,
    seed: int = 0,
    bidders: Sequence[int] | None = None,
    time_limit: float = 60.0,
    split_binaries: int | Literal["auto"] | None = "auto",
    tolerance: float = 1e-6,
    attacks: Sequence[str] = ("default", "weak"),
    on_certificate: Callable[[Certificate], None] | None = None,
) -> CertificationStudy:
    """Certify ``bidders`` (default: all) at ``profiles`` profiles drawn from ``prior`` with ``seed``
    (``time_limit`` seconds per certificate; ``split_binaries`` and ``tolerance`` as in
    :class:`Certifier`).

    Raises:
        CertificationError: a certificate contradicts the network or an attack.
        ConfigError: a bidder that the network does not have.
    """
    bidders = checked_bidders(model, bidders)
    protocols = [lookup_protocol(a) for a in attacks]
    (gen,) = make_generators(seed, 1)
    valuations = prior.sample(profiles, gen).to(model.scale.device)
    with torch.no_grad():
        outcome = model.run(valuations, check=False)
    revenue = outcome.payments.sum(-1).double()
    found = {p.name: attack_regrets(model, prior, valuations, protocol=p, seed=seed) for p in protocols}
    certifier = Certifier(model, prior, time_limit=time_limit, split_binaries=split_binaries, tolerance=tolerance)
    rows: list[dict[str, Any]] = []
    for k in range(profiles):
        for i in bidders:
            cert = certifier.certify(valuations[k], i)
            row = {
                "profile": k,
                "values": " ".join(f"{x:.6f}" for x in valuations[k].flatten().tolist()),
                **cert.as_row(),
            }
            for name, regrets in found.items():
                empirical = float(regrets[k, i])
                row[f"regret_{name}"] = empirical
                if cert.certified and empirical > cert.regret + certifier.check_tolerance:
                    raise CertificationError(
                        f"profile {k}, bidder {i}: certified regret {cert.regret:.8f} is below the '{name}' attack's "
                        f"{empirical:.8f}: the certificate is wrong"
                    )
            rows.append(row)
            if on_certificate is not None:
                on_certificate(cert)
    summary = _summary(rows, bidders, [p.name for p in protocols], revenue, time_limit, seed)
    summary["split_binaries"] = certifier.split_binaries
    summary["tolerance"] = certifier.tolerance
    return CertificationStudy(rows, summary)


def _stats(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {"mean": math.nan, "std": math.nan, "median": math.nan, "max": math.nan}
    return {"mean": statistics.fmean(xs), "std": statistics.pstdev(xs), "median": statistics.median(xs), "max": max(xs)}


def _summary(
    rows: list[dict[str, Any]],
    bidders: list[int],
    attacks: list[str],
    revenue: torch.Tensor,
    time_limit: float,
    seed: int,
) -> dict[str, Any]:
    per_bidder = []
    for i in bidders:
        mine = [r for r in rows if r["bidder"] == i]
        solved = [r for r in mine if r["certified"]]
        entry: dict[str, Any] = {
            "bidder": i,
            "certificates": len(solved),
            "not_certified": len(mine) - len(solved),
            "statuses": sorted({r["status"] for r in mine}),
            "certified_regret": _stats([r["regret"] for r in solved]),
            "solve_seconds": _stats([r["seconds"] for r in mine]),
            "binaries": _stats([float(r["binaries"]) for r in mine]),
            "boxes": _stats([float(r["boxes"]) for r in mine]),
        }
        certified_mean = entry["certified_regret"]["mean"]
        for name in attacks:
            empirical = _stats([r[f"regret_{name}"] for r in solved])
            entry[f"regret_{name}"] = empirical
            entry[f"ratio_{name}"] = empirical["mean"] / certified_mean if certified_mean > 0 else math.nan
            entry[f"missed_{name}"] = (
                (sum(r["regret"] - r[f"regret_{name}"] > 1e-4 for r in solved) / len(solved)) if solved else math.nan
            )
        per_bidder.append(entry)
    return {
        "profiles": len({r["profile"] for r in rows}),
        "seed": seed,
        "time_limit_s": time_limit,
        "revenue_mean": revenue.mean().item(),
        "revenue_std": revenue.std().item() if revenue.numel() > 1 else math.nan,
        "per_bidder": per_bidder,
    }
