"""Audits (Definition 4.1): check a round's log entries and openings, then rerun the mechanism.

``verify(mechanism, bids, allocation, payments, noise_seed=..., participation=...)`` is the
paper's *ver*. :func:`audit_round` is the whole audit of one round of the log: the hash chain,
the protocol's order (the auctioneer's seed share before any bid, every bid before the
outcome), every opening against its commitment, participation as the bidders' own entries say,
the seed as derived from the opened shares, and finally :func:`verify`. The paper's second
verifier, a bidder checking the log against what it published, is :func:`check_own_commitments`.
Every check returns a :class:`Verification` whose ``reason`` says what failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from auction_env.credible.commitments import CommitmentError, Opening, open_commitment, open_parts
from auction_env.credible.log import BroadcastLog, LogError, Receipt
from auction_env.credible.seeds import derive_seed
from mechanisms.base import Mechanism, check_bids

__all__ = [
    "AUCTIONEER",
    "AUCTIONEER_KINDS",
    "BIDDER_KINDS",
    "OUTCOME_PARTS",
    "RoundOpenings",
    "Verification",
    "verify",
    "participation_from_log",
    "check_log",
    "audit_round",
    "check_own_commitments",
    "draw_audits",
]

AUCTIONEER = "auctioneer"
AUCTIONEER_KINDS = ("seed_share", "outcome")
BIDDER_KINDS = ("bid", "opt_out")  # a bid entry commits to the bid and the bidder's seed share
OUTCOME_PARTS = ("participation", "noise_seed", "allocation", "payments")  # of one outcome entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    reason: str = ""


@dataclass
class RoundOpenings:
    """The openings handed to the auditor for one round, each by the party that committed it.

    Attributes:
        share: the auctioneer's seed share.
        bids: bidder -> opening of its bid and its seed share (one commitment; present bidders).
        outcome: the opening of the outcome, the parts :data:`OUTCOME_PARTS` in that order.
    """

    share: Opening | None = None
    bids: dict[str, Opening] = field(default_factory=dict)
    outcome: Opening | None = None

    def bidder_share(self, bidder: str) -> np.ndarray:
        """``bidder``'s seed share, from the opening of its bid (not checked against the log)."""
        return self.bids[bidder].values()[1]

    def share_encodings(self, present: Sequence[str]) -> list[bytes]:
        """The canonical bytes of the round's seed shares in protocol order, the auctioneer's then
        those of the ``present`` bidders, read off the openings without decoding (not checked
        against the log; :func:`audit_round` does)."""
        own = _required(self.share, "auctioneer's seed share").part_bytes()[0]
        return [own, *(self.bids[name].part_bytes()[1] for name in present)]


def _required(opening: Opening | None, what: str) -> Opening:
    if opening is None:
        raise KeyError(what)
    return opening


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
        noise_seed: the seed of the round's randomness (noise, tie-breaking).
        participation: ``(n,)`` 0/1, who took part: the mechanism runs with it as the env's
            does (:meth:`Mechanism.run_numpy`'s ``present``), absent bidders' bids zeroed.
        atol: float tolerance of the comparison.
    """
    present = (
        np.ones(np.shape(bids)[0], dtype=np.float32)
        if participation is None
        else np.asarray(participation, dtype=np.float32)
    )
    b = np.asarray(bids, dtype=np.float32) * present[:, None]
    if b.ndim != 2 or not np.isfinite(b).all() or (b < 0).any():  # check_bids says what is wrong
        try:
            check_bids(torch.from_numpy(b[None]))
        except ValueError as err:
            return Verification(False, f"the opened bids are not valid bids: {err}")
    generator = torch.Generator().manual_seed(int(noise_seed)) if noise_seed is not None else None
    allocation_, payments_, _ = mechanism.run_numpy(  # what the env runs
        b[None], generator=generator, present=None if participation is None else present[None] > 0
    )
    want_a, want_p = allocation_[0], payments_[0]
    if not _within(allocation, want_a, atol):
        return Verification(False, "announced allocation differs from the published mechanism's")
    if not _within(payments, want_p, atol):
        return Verification(False, "announced payments differ from the published mechanism's")
    return Verification(True)


def _within(announced: np.ndarray, want: np.ndarray, atol: float) -> bool:
    """``announced`` has ``want``'s shape and each entry is within ``atol`` of it (NaN never is;
    ``np.allclose`` with ``rtol=0``, without its general machinery)."""
    return np.shape(announced) == want.shape and bool((np.abs(announced - want) <= atol).all())


def participation_from_log(log: BroadcastLog, round_: int, bidders: Sequence[str]) -> np.ndarray:
    """``(n,)`` 0/1: who took part in the round, as the bidders' own entries say.

    A bidder is present iff it committed a bid and did not opt out; nobody else can make it
    absent. Raises :class:`LogError` on a duplicated entry.
    """
    return np.array(
        [
            float(log.find(round_, name, "bid") is not None and log.find(round_, name, "opt_out") is None)
            for name in bidders
        ]
    )


def _check_order(log: BroadcastLog, round_: int, bidders: Sequence[str], known: frozenset[str]) -> None:
    """The protocol's order within a round: auctioneer's share, the bidders' entries, the outcome
    (``known``: the bidders, as a set)."""
    entries = log.round(round_)
    count: dict[tuple[str, str], int] = {}
    share = outcome = None  # the first of each
    low, high = float("inf"), -1  # the bidders' entries' lowest and highest positions
    for e in entries:
        if e.party == AUCTIONEER:
            if e.kind not in AUCTIONEER_KINDS:
                raise LogError(f"entry {e.seq}: the auctioneer cannot publish a {e.kind!r}")
            if e.kind == "seed_share":
                share = share or e
            else:
                outcome = outcome or e
        elif e.party not in known:
            raise LogError(f"entry {e.seq} comes from {e.party!r}, who is not a bidder of this auction")
        elif e.kind not in BIDDER_KINDS:
            raise LogError(f"entry {e.seq}: a bidder cannot publish a {e.kind!r}")
        else:
            low, high = min(low, e.seq), max(high, e.seq)
        count[e.party, e.kind] = count.get((e.party, e.kind), 0) + 1
    if len(count) < len(entries):  # a duplicated entry: name the first, in bidder then protocol order
        for party, kind in [*((name, kind) for name in bidders for kind in BIDDER_KINDS), (AUCTIONEER, "seed_share")]:
            if count.get((party, kind), 0) > 1:
                raise LogError(f"{party} has {count[party, kind]} {kind} entries in round {round_}")
    if share is None:
        raise LogError("the auctioneer committed no seed share before the round opened")
    if count.get((AUCTIONEER, "outcome"), 0) > 1:
        raise LogError(f"{AUCTIONEER} has {count[AUCTIONEER, 'outcome']} outcome entries in round {round_}")
    if outcome is None:
        raise LogError("the auctioneer committed no outcome")
    first_outcome = outcome.seq
    if low < share.seq or high > first_outcome:  # name the first entry out of place
        for e in entries:
            if e.party == AUCTIONEER:
                continue
            if e.seq < share.seq:
                raise LogError(
                    f"the auctioneer's seed share (entry {share.seq}) was committed after {e.party}'s {e.kind} "
                    f"(entry {e.seq}): it could depend on the bids"
                )
            if e.seq > first_outcome:
                raise LogError(f"{e.party}'s {e.kind} (entry {e.seq}) comes after the outcome (entry {first_outcome})")
    if first_outcome < share.seq:
        raise LogError(f"the outcome (entry {first_outcome}) comes before the auctioneer's seed share")


def check_log(log: BroadcastLog, bidders: Sequence[str]) -> Verification:
    """Everything anyone can check without openings: the hash chain, and in every round the
    protocol's order (the auctioneer's seed share first, the outcome last), known parties and
    kinds, no duplicated entry and a complete outcome."""
    try:
        log.verify_chain()
    except LogError as err:
        return Verification(False, str(err))
    known = frozenset(bidders)
    for round_ in log.rounds():
        try:
            _check_order(log, round_, bidders, known)
        except LogError as err:
            return Verification(False, f"round {round_}: {err}")
    return Verification(True)


def audit_round(
    mechanism: Mechanism,
    log: BroadcastLog,
    round_: int,
    openings: RoundOpenings,
    bidders: Sequence[str],
    *,
    check_chain: bool = True,
) -> Verification:
    """Audit round ``round_`` of the log with the parties' openings (Algorithm 1's *ver* and more).

    Args:
        openings: the round's openings (:class:`RoundOpenings`).
        bidders: names in bidder order.
        check_chain: verify the whole hash chain first (an auditor of many rounds does it once).
    """
    try:
        if check_chain:
            log.verify_chain()
        _check_order(log, round_, bidders, frozenset(bidders))
        present = participation_from_log(log, round_, bidders)
        share = _required(openings.share, "auctioneer's seed share")
        shares = [open_commitment(log.lookup(round_, AUCTIONEER, "seed_share"), share)]
        bids = []
        for name, p in zip(bidders, present):
            if p:
                bid, bidder_share = open_parts(log.lookup(round_, name, "bid"), openings.bids[name], 2)
                bids.append(bid)
                shares.append(bidder_share)
            else:
                bids.append(None)
        outcome = _required(openings.outcome, "outcome")
        parts = open_parts(log.lookup(round_, AUCTIONEER, "outcome"), outcome, len(OUTCOME_PARTS))
        opened = dict(zip(OUTCOME_PARTS, parts))
    except KeyError as err:
        return Verification(False, f"round {round_}: missing opening {err}")
    except CommitmentError as err:  # LogError included
        return Verification(False, f"round {round_}: {err}")

    announced = opened["participation"]
    if announced.shape != present.shape or not np.isin(announced, (0.0, 1.0)).all():
        return Verification(False, f"round {round_}: participation must be 0/1 per bidder, got {announced.tolist()}")
    for name, want, got in zip(bidders, present, announced):
        if want and not got:
            reason = f"participation marks {name} absent, but {name} committed a bid and did not opt out"
            return Verification(False, f"round {round_}: {reason}")
        if got and not want:
            reason = f"participation marks {name} present, but it committed no bid or opted out"
            return Verification(False, f"round {round_}: {reason}")
    seed = derive_seed(round_, shares)
    if opened["noise_seed"].shape != () or opened["noise_seed"] != float(seed):
        return Verification(
            False, f"round {round_}: the announced noise seed is not the one derived from the round's seed shares"
        )
    # The auction's size: the mechanism's when it has one (learned ones do), else the bids'.
    n = len(bidders)
    m = mechanism.n_items or next((b.shape[0] for b in bids if b is not None and b.ndim == 1), None)
    m = m if m is not None else (opened["allocation"].shape[-1] if opened["allocation"].ndim == 2 else 0)
    if mechanism.n_bidders not in (None, n) or opened["allocation"].shape != (n, m) or opened["payments"].shape != (n,):
        return Verification(False, f"round {round_}: the announced outcome does not fit {n} bidders and {m} items")
    shape = (m,)
    if any(b is not None and b.shape != shape for b in bids):
        return Verification(False, f"round {round_}: an opened bid does not have the shape {shape} of the items")
    matrix = np.stack([b if b is not None else np.zeros(shape) for b in bids])
    result = verify(mechanism, matrix, opened["allocation"], opened["payments"], noise_seed=seed, participation=present)
    return result if result.ok else Verification(False, f"round {round_}: {result.reason}")


def check_own_commitments(
    log: BroadcastLog, name: str, receipts: Sequence[Receipt], seen: Sequence[Receipt] = ()
) -> Verification:
    """The bidders' verifier: ``name`` checks the log holds exactly the entries it published, in
    order, and the log as it saw it.

    The chain must verify; every receipt must match the entry at its position; no entry in
    ``name``'s name may lack a receipt (an entry forged in its name, an opt-out it never sent);
    and every head it ``seen`` (the newest entry when a round closed) must still be there, so
    the outcome entries after its own last entry cannot be rewritten either.
    """
    try:
        log.verify_chain()
    except LogError as err:
        return Verification(False, f"{name}: {err}")
    entries = log.entries

    def kept(receipt: Receipt) -> bool:
        return 0 <= receipt.seq < len(entries) and entries[receipt.seq].hash == receipt.hash

    for receipt in receipts:
        if not kept(receipt):
            return Verification(False, f"{name}: its entry {receipt.seq} is missing from the log or was changed")
    held = {receipt.seq for receipt in receipts}  # each matches its entry, which has that seq
    extra = [e.seq for e in entries if e.party == name and e.seq not in held]
    if extra:
        return Verification(False, f"{name}: entries {extra} in its name were not published by it")
    for receipt in seen:
        if not kept(receipt):
            return Verification(False, f"{name}: entry {receipt.seq}, as it saw it when the round closed, was changed")
    return Verification(True)


def draw_audits(rounds: int, audits: int, generator: np.random.Generator) -> list[int]:
    """``audits`` distinct rounds drawn uniformly from ``range(rounds)``."""
    if not 0 <= audits <= rounds:
        raise ValueError(f"audits must be in [0, rounds={rounds}], got {audits}")
    return sorted(generator.choice(rounds, size=audits, replace=False).tolist())
