"""The attacks of the threat model (``docs/credible-auctions.md``), as a dishonest auctioneer
would mount them on a :class:`~auction_env.credible.transcript.Transcript`.

Each function computes what the auctioneer would announce or publish; the tests
(``tests/auction_env/test_credible_attacks.py``) and ``scripts/credible_attacks.py`` announce it
and show the audit rejecting it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from auction_env.credible.audit import AUCTIONEER
from auction_env.credible.commitments import commit
from auction_env.credible.log import GENESIS, BroadcastLog, LogEntry, entry_hash
from auction_env.credible.transcript import Transcript
from mechanisms.base import Mechanism

__all__ = [
    "mechanism_outcome",
    "submit_round",
    "grind_seed",
    "falsify_participation",
    "rechain",
    "tamperings",
]

Outcome = tuple[np.ndarray, np.ndarray]  # allocation (n, m), payments (n,)


def mechanism_outcome(mechanism: Mechanism, bids: np.ndarray, seed: int, participation: np.ndarray) -> Outcome:
    """The mechanism's outcome on ``bids`` with ``seed``, absent bidders zeroed and masked (as an
    audit reruns it)."""
    present = np.asarray(participation, dtype=np.float64)
    b = torch.as_tensor(np.asarray(bids) * present[:, None], dtype=torch.float32).unsqueeze(0)
    with torch.inference_mode():
        out = mechanism.run(b, generator=torch.Generator().manual_seed(int(seed)))
    return out.allocation[0].numpy() * present[:, None], out.payments[0].numpy() * present


def submit_round(transcript: Transcript, round_: int, bids: np.ndarray, participation: np.ndarray) -> None:
    """The honest opening of a round: the auctioneer's share, then each present bidder's bid."""
    transcript.open_round(round_)
    for name, bid, present in zip(transcript.bidders, bids, participation):
        if present:
            transcript.submit_bid(round_, name, bid)


def grind_seed(
    mechanism: Mechanism, bids: np.ndarray, participation: np.ndarray, *, tries: int, rng: np.random.Generator
) -> tuple[int, Outcome]:
    """Seed grinding after the bids: the most profitable of ``tries`` random seeds and its outcome."""
    seeds = rng.integers(0, 2**53, size=tries)
    outcomes = [mechanism_outcome(mechanism, bids, int(s), participation) for s in seeds]
    best = int(np.argmax([payments.sum() for _, payments in outcomes]))
    return int(seeds[best]), outcomes[best]


def falsify_participation(
    transcript: Transcript, mechanism: Mechanism, round_: int, bids: np.ndarray
) -> tuple[np.ndarray, int, Outcome] | None:
    """Mark one present bidder absent: the most profitable such claim, with the seed and outcome
    consistent with it, or ``None`` when no claim raises the revenue."""
    present = transcript.participation(round_)

    def consistent(claim: np.ndarray) -> tuple[int, Outcome]:
        seed = transcript.noise_seed(round_, claim)  # the seed an audit derives for this claim
        return seed, mechanism_outcome(mechanism, bids, seed, claim)

    _, honest = consistent(present)
    best, best_revenue = None, honest[1].sum() + 1e-9
    for i in np.flatnonzero(present):
        claim = present.copy()
        claim[i] = 0.0
        seed, outcome = consistent(claim)
        if outcome[1].sum() > best_revenue:
            best, best_revenue = (claim, seed, outcome), outcome[1].sum()
    return best


def rechain(entries: Sequence[LogEntry]) -> BroadcastLog:
    """What an auctioneer that rewrites the log would publish: the entries renumbered and
    re-hashed into a valid chain."""
    out, prev = [], GENESIS
    for seq, e in enumerate(entries):
        digest = e.digest
        h = entry_hash(prev, seq, e.round, e.party, e.kind, digest)
        out.append(e._replace(seq=seq, prev=prev, hash=h))
        prev = h
    return BroadcastLog(out)


def tamperings(entries: Sequence[LogEntry], bidders: Sequence[str]) -> dict[str, list[LogEntry]]:
    """Every reordering, drop and insertion of one entry worth trying on a log: the log reversed,
    each round reversed, each entry dropped, an entry in each party's name inserted at each
    position, and each pair of entries of different parties swapped."""
    entries = list(entries)
    attacks = {"reversed": entries[::-1]}
    for r in sorted({e.round for e in entries}):
        idx = [k for k, e in enumerate(entries) if e.round == r]
        attacks[f"round {r} reversed"] = (
            entries[: idx[0]] + entries[idx[0] : idx[-1] + 1][::-1] + entries[idx[-1] + 1 :]
        )
    forged = [(AUCTIONEER, "seed_share")] + [(name, kind) for name in bidders for kind in ("bid", "opt_out")]
    for i in range(len(entries)):
        attacks[f"drop {i}"] = entries[:i] + entries[i + 1 :]
        for party, kind in forged:
            extra = entries[i]._replace(party=party, kind=kind, digest=commit([1.0])[0].digest)
            attacks[f"insert {party} {kind} at {i}"] = entries[:i] + [extra] + entries[i:]
        for j in range(i + 1, len(entries)):
            if entries[i].party != entries[j].party:
                swapped = list(entries)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                attacks[f"swap {i} {j}"] = swapped
    return attacks
