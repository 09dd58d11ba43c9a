"""Algorithm 1 in simulation, batched over episodes: does deviating pay under audits and a penalty?

Each episode is ``rounds`` (T) rounds of the stage auction with truthful bidders. Every round the
auctioneer sees the sealed bids, computes its regret aRgt (revenue of the deviation minus the
published mechanism's) and decides whether to announce the deviation's outcome. After the
episode ``audits`` rounds are drawn uniformly; if any audited round was a deviation, the
auctioneer pays ``penalty`` (once). §4.1: with ``penalty > T * aRgt*`` (aRgt* = the sum over
items of the highest possible value) no deviation pays on average.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from agents.auctioneers.deviations import DEVIATIONS, auctioneer_regret, deviate
from agents.auctioneers.scripted import AuctioneerPolicy
from auction_env.core import AuctionCore
from mechanisms.common.seeding import make_generators
from mechanisms.common.stats import standard_error

__all__ = ["CredibleOptions", "ProtocolResult", "simulate_protocol", "regret_bound"]


@dataclass(frozen=True)
class CredibleOptions:
    """The protocol's settings (the ``credible:`` mapping of ``credible_v0`` and the auctioneer's seat)."""

    penalty: float = 0.0
    audits: int = 1
    deviation: str = "max_revenue"

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None, rounds: int) -> CredibleOptions:
        """Validate ``{penalty, audits, deviation}`` against an episode of ``rounds`` rounds.

        Raises:
            ValueError: an unknown key, a negative penalty, audits outside ``[0, rounds]`` or an
                unknown deviation.
        """
        data = dict(options or {})
        unknown = set(data) - {"penalty", "audits", "deviation"}
        if unknown:
            raise ValueError(f"credible: unknown key(s) {sorted(unknown)}; use penalty, audits, deviation")
        parsed = cls(**data)
        if parsed.deviation not in DEVIATIONS:
            raise ValueError(f"credible.deviation must be one of {', '.join(DEVIATIONS)}, got {parsed.deviation!r}")
        if isinstance(parsed.penalty, bool) or not isinstance(parsed.penalty, (int, float)) or not parsed.penalty >= 0:
            raise ValueError(f"credible.penalty must be a number >= 0, got {parsed.penalty!r}")
        if isinstance(parsed.audits, bool) or not isinstance(parsed.audits, int) or not 0 <= parsed.audits <= rounds:
            raise ValueError(f"credible.audits must be an integer in [0, rounds={rounds}], got {parsed.audits!r}")
        return cls(float(parsed.penalty), parsed.audits, parsed.deviation)


@dataclass(frozen=True)
class ProtocolResult:
    """Per-episode averages of a simulated protocol (paired with an honest auctioneer on the same bids)."""

    episodes: int
    rounds: int
    penalty: float
    auctioneer: str
    deviation: str
    revenue_mean: float
    honest_revenue_mean: float
    gain_mean: float
    gain_ci95: tuple[float, float]
    deviation_rate: float
    caught_rate: float


def regret_bound(core: AuctionCore) -> float:
    """aRgt*: the sum over items of the highest value any bidder can have."""
    return float(core.prior.high.amax(0).sum())


def simulate_protocol(
    core: AuctionCore,
    auctioneer: AuctioneerPolicy,
    *,
    rounds: int,
    penalty: float,
    audits: int = 1,
    deviation: str = "max_revenue",
    episodes: int = 2000,
    seed: int = 0,
) -> ProtocolResult:
    """Simulate ``episodes`` episodes of Algorithm 1; the auctioneer's gain over honesty per episode.

    Args:
        core: the published mechanism with its prior and participation model (bidders truthful).
        auctioneer: when to deviate (see :mod:`agents.auctioneers`).
        rounds, penalty, audits: T, the penalty and the number of audited rounds.
        deviation: one of :data:`agents.auctioneers.deviations.DEVIATIONS`; every deviated round
            that is audited is caught (what the audit of the log does, shown in
            ``tests/auction_env/test_credible_attacks.py``).
    """
    if deviation not in DEVIATIONS:
        raise ValueError(f"unknown deviation {deviation!r}; one of {', '.join(DEVIATIONS)}")
    if not 0 <= audits <= rounds:
        raise ValueError(f"audits must be in [0, rounds], got {audits}")
    sample_gen, mech_gen, audit_gen = make_generators(seed, 3)
    total = torch.zeros(episodes, dtype=torch.float64)
    honest = torch.zeros(episodes, dtype=torch.float64)
    deviated = torch.zeros(episodes, rounds, dtype=torch.bool)
    with torch.inference_mode():
        for t in range(rounds):
            v, part = core.sample(episodes, sample_gen)
            bids = v * part.unsqueeze(-1).to(v.dtype)
            published = core.resolve(v, part, bids, mech_gen, check=False).outcome
            alternative = deviate(deviation, core.mechanism, bids, part, mech_gen)
            regret = auctioneer_regret(published, alternative)
            choice = auctioneer.decide(regret, penalty=penalty, rounds=rounds)
            deviated[:, t] = choice
            total += torch.where(choice, alternative.revenue, published.revenue).double()
            honest += published.revenue.double()
        # Audits: `audits` distinct rounds per episode, uniformly (random keys, take the smallest).
        keys = torch.rand(episodes, rounds, generator=audit_gen)
        audited = torch.zeros_like(deviated)
        audited.scatter_(1, keys.argsort(1)[:, :audits], True)
        caught = (audited & deviated).any(1)
    payoff = total - penalty * caught.double()
    gain = payoff - honest
    se = standard_error(gain)
    return ProtocolResult(
        episodes=episodes,
        rounds=rounds,
        penalty=float(penalty),
        auctioneer=repr(auctioneer),
        deviation=deviation,
        revenue_mean=payoff.mean().item(),
        honest_revenue_mean=honest.mean().item(),
        gain_mean=gain.mean().item(),
        gain_ci95=(gain.mean().item() - 1.96 * se, gain.mean().item() + 1.96 * se),
        deviation_rate=deviated.double().mean().item(),
        caught_rate=caught.double().mean().item(),
    )
