"""Algorithm 1 in simulation, batched over episodes: does deviating pay under audits and a penalty?

Each episode is ``rounds`` (T) rounds of the stage auction with truthful bidders. Every round the
auctioneer sees the sealed bids, computes its regret aRgt (revenue of the deviation minus the
published mechanism's) and decides whether to announce the deviation's outcome. After the
episode ``audits`` rounds are drawn uniformly; if any audited round was a deviation, the
auctioneer pays ``penalty`` (once). §4.1: with ``penalty > T * aRgt*`` (aRgt* = the sum over
items of the highest possible value) no deviation pays on average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from agents.auctioneers.deviations import DEVIATIONS, auctioneer_regret
from agents.auctioneers.scripted import AuctioneerPolicy
from auction_env.core import AuctionCore
from auction_env.seeding import make_generators

__all__ = ["ProtocolResult", "simulate_protocol", "regret_bound"]


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
        deviation: ``max_revenue`` or ``shill_bid``.
    """
    if deviation not in DEVIATIONS:
        raise ValueError(f"unknown deviation {deviation!r}; one of {', '.join(DEVIATIONS)}")
    if not 0 <= audits <= rounds:
        raise ValueError(f"audits must be in [0, rounds], got {audits}")
    sample_gen, mech_gen, audit_gen = make_generators(seed, 3)
    deviate_fn = DEVIATIONS[deviation]
    total = torch.zeros(episodes, dtype=torch.float64)
    honest = torch.zeros(episodes, dtype=torch.float64)
    deviated = torch.zeros(episodes, rounds, dtype=torch.bool)
    with torch.inference_mode():
        for t in range(rounds):
            v, part = core.sample(episodes, sample_gen)
            bids = v * part.unsqueeze(-1).to(v.dtype)
            published = core.resolve(v, part, bids, mech_gen, check=False).outcome
            alternative = deviate_fn(core.mechanism, bids, mech_gen)
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
    se = gain.std().item() / math.sqrt(episodes) if episodes > 1 else float("nan")
    return ProtocolResult(
        episodes=episodes, rounds=rounds, penalty=float(penalty), auctioneer=repr(auctioneer), deviation=deviation,
        revenue_mean=payoff.mean().item(), honest_revenue_mean=honest.mean().item(), gain_mean=gain.mean().item(),
        gain_ci95=(gain.mean().item() - 1.96 * se, gain.mean().item() + 1.96 * se),
        deviation_rate=deviated.double().mean().item(), caught_rate=caught.double().mean().item(),
    )
