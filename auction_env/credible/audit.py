"""Audits (Definition 4.1): recompute the published mechanism on opened bids and compare.

``verify(mechanism, bids, allocation, payments, noise_seed=...)`` returns a
:class:`Verification` (``ok`` and a reason). ``audit_round`` checks every opening against the
broadcast log first, so a tampered bid, allocation, payment or noise seed is rejected. The
paper's second verifier (bidders check the opened round against their own commitments) is
:func:`check_own_commitments`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from auction_env.credible.commitments import BroadcastLog, CommitmentError, Opening, open_commitment
from mechanisms.base import Mechanism

__all__ = ["Verification", "verify", "audit_round", "check_own_commitments", "draw_audits"]


@dataclass(frozen=True)
class Verification:
    ok: bool
    reason: str = ""


def verify(
    mechanism: Mechanism,
    bids: np.ndarray,
    allocation: np.ndarray,
    payments: np.ndarray,
    *,
    noise_seed: int | None = None,
    participation: np.ndarray | None = None,
    atol: float = 1e-6,
) -> Verification:
    """Definition 4.1: 1 iff the announced outcome equals the mechanism's outcome on ``bids``.

    Args:
        bids: ``(n, m)`` the opened bids of the round.
        allocation, payments: the announced ``(n, m)`` and ``(n,)``.
        noise_seed: the committed seed of the round's randomness (noise, tie-breaking).
        participation: ``(n,)`` 0/1, who took part; absent bidders' bids are zeroed and their
            allocation and payment masked, as in :meth:`AuctionCore.resolve`.
        atol: float tolerance of the comparison.
    """
    present = (
        np.ones(np.shape(bids)[0], dtype=np.float32)
        if participation is None
        else np.asarray(participation, dtype=np.float32)
    )
    b = torch.as_tensor(np.asarray(bids, dtype=np.float32) * present[:, None]).unsqueeze(0)
    generator = torch.Generator().manual_seed(int(noise_seed)) if noise_seed is not None else None
    with torch.inference_mode():
        out = mechanism.run(b, generator=generator)
    want_a, want_p = out.allocation[0].numpy() * present[:, None], out.payments[0].numpy() * present
    if np.shape(allocation) != want_a.shape or not np.allclose(allocation, want_a, atol=atol, rtol=0):
        return Verification(False, "announced allocation differs from the published mechanism's")
    if np.shape(payments) != want_p.shape or not np.allclose(payments, want_p, atol=atol, rtol=0):
        return Verification(False, "announced payments differ from the published mechanism's")
    return Verification(True)


def audit_round(
    mechanism: Mechanism,
    log: BroadcastLog,
    round_: int,
    bid_openings: Mapping[str, Opening],
    outcome_opening: Mapping[str, Opening],
    bidders: list[str],
) -> Verification:
    """Open round ``round_``: check every opening against the log, then :func:`verify`.

    Args:
        bid_openings: bidder name -> opening of its bid commitment.
        outcome_opening: ``allocation``, ``payments``, ``noise_seed`` (and, with stochastic
            participation, ``participation``) openings of the auctioneer.
        bidders: names in bidder order.
    """
    try:
        bids = np.stack([open_commitment(log.lookup(round_, name, "bid"), bid_openings[name]) for name in bidders])
        kinds = ["allocation", "payments", "noise_seed"] + (
            ["participation"] if "participation" in outcome_opening else []
        )
        opened = {k: open_commitment(log.lookup(round_, "auctioneer", k), outcome_opening[k]) for k in kinds}
    except CommitmentError as err:
        return Verification(False, f"round {round_}: {err}")
    except KeyError as err:
        return Verification(False, f"round {round_}: missing opening {err}")
    return verify(
        mechanism,
        bids,
        opened["allocation"],
        opened["payments"],
        noise_seed=int(opened["noise_seed"]),
        participation=opened.get("participation"),
    )


def check_own_commitments(log: BroadcastLog, round_: int, name: str, opening: Opening) -> Verification:
    """The bidders' verifier: a bidder checks that the opened round carries the bid it committed."""
    try:
        open_commitment(log.lookup(round_, name, "bid"), opening)
    except CommitmentError as err:
        return Verification(False, f"{name}, round {round_}: {err}")
    return Verification(True)


def draw_audits(rounds: int, audits: int, generator: np.random.Generator) -> list[int]:
    """``audits`` distinct rounds drawn uniformly from ``range(rounds)``."""
    if not 0 <= audits <= rounds:
        raise ValueError(f"audits must be in [0, rounds={rounds}], got {audits}")
    return sorted(generator.choice(rounds, size=audits, replace=False).tolist())
