"""The honest parties' side of Algorithm 1, one round at a time, on a :class:`BroadcastLog`.

A :class:`Transcript` plays every party of a simulated deployment: it publishes each commitment
in the protocol's order, keeps each party's openings and receipts, derives the round's
participation and seed the way an auditor will, and audits. ``credible_v0`` runs on it; the
attack tests drive it step by step and then deviate.

Round ``r``:

1. the auctioneer commits its seed share (before any bid exists);
2. each present bidder commits its bid and its seed share (one commitment to both); a bidder
   may withdraw by publishing an ``opt_out``; a bidder who publishes nothing is absent;
3. the bidders hand their openings to the auctioneer, who derives the seed
   (:func:`~auction_env.credible.seeds.derive_seed`) and runs the mechanism;
4. the auctioneer commits the outcome: ``participation``, ``noise_seed``, ``allocation`` and
   ``payments`` (one commitment).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from auction_env.credible.audit import (
    AUCTIONEER,
    RoundOpenings,
    Verification,
    audit_round,
    check_log,
    check_own_commitments,
    participation_from_log,
)
from auction_env.credible.commitments import Opening, _commit_encoded, canonical_bytes
from auction_env.credible.log import BroadcastLog, LogError, Receipt
from auction_env.credible.seeds import ShareSource, seed_from_encodings
from mechanisms.base import Mechanism

__all__ = ["Transcript"]


class Transcript:
    """A log plus every party's private openings and receipts.

    Args:
        bidders: the bidders' names, in bidder order.
        rng: seeded generator for the seed shares (so a simulated episode replays; they are
            drawn from it in blocks, see :class:`ShareSource`); ``None`` draws them from
            :mod:`secrets`. Commitment salts always come from :mod:`secrets`.
    """

    def __init__(self, bidders: Sequence[str], *, rng: np.random.Generator | None = None) -> None:
        self.bidders = list(bidders)
        self._shares = ShareSource(rng)
        self.log = BroadcastLog()
        self.openings: dict[int, RoundOpenings] = {}
        self.receipts: dict[str, list[Receipt]] = {name: [] for name in [AUCTIONEER, *self.bidders]}
        self.seen: dict[str, list[Receipt]] = {name: [] for name in self.bidders}  # heads when rounds closed

    def _publish(self, round_: int, party: str, kind: str, *values: object) -> Opening:
        return self._publish_encoded(round_, party, kind, *map(canonical_bytes, values))

    def _publish_encoded(self, round_: int, party: str, kind: str, *parts: bytes) -> Opening:
        commitment, opening = _commit_encoded(*parts)
        self.receipts[party].append(self.log.publish(round_, party, kind, commitment))
        return opening

    def open_round(self, round_: int, *, share: bytes | None = None) -> None:
        """Step 1: the auctioneer commits its seed share (``share``: one drawn before, as its
        :func:`canonical_bytes`; by default the next of this transcript's)."""
        share = self._publish_encoded(round_, AUCTIONEER, "seed_share", share or self._shares.encoded())
        self.openings[round_] = RoundOpenings(share=share)

    def submit_bid(self, round_: int, bidder: str, bid: np.ndarray, *, share: bytes | None = None) -> None:
        """Step 2: ``bidder`` commits its bid ``(n_items,)`` and its seed share, as one value
        (``share`` as in :meth:`open_round`)."""
        openings = self._round(round_)
        openings.bids[bidder] = self._publish_encoded(
            round_, bidder, "bid", canonical_bytes(bid), share or self._shares.encoded()
        )

    def seal_round(self, round_: int, bids: Mapping[str, np.ndarray]) -> int:
        """Steps 1 to 3 for honest parties, in one call: :meth:`open_round`, :meth:`submit_bid`
        for each present bidder in ``bids`` (bidder order), and the round's :meth:`noise_seed`."""
        self.open_round(round_)
        present = [bidder for bidder in self.bidders if bidder in bids]  # protocol order, whatever the dict's
        for bidder in present:
            self.submit_bid(round_, bidder, bids[bidder])
        return self._seed(round_, present)

    def opt_out(self, round_: int, bidder: str) -> None:
        """Step 2: ``bidder`` withdraws its committed bid from this round by its own entry."""
        self._round(round_)
        self._publish(round_, bidder, "opt_out", [round_])

    def participation(self, round_: int) -> np.ndarray:
        """``(n,)`` 0/1: who takes part, as the log says (bid committed, no opt-out)."""
        return participation_from_log(self.log, round_, self.bidders)

    def noise_seed(self, round_: int, participation: np.ndarray | None = None) -> int:
        """Step 3: the round's seed from the opened shares of the auctioneer and the present
        bidders (``participation``: :meth:`participation`, when already at hand)."""
        present = self.participation(round_) if participation is None else participation
        return self._seed(round_, [name for name, p in zip(self.bidders, np.asarray(present).tolist()) if p])

    def _seed(self, round_: int, present: Sequence[str]) -> int:
        """The round's seed from the opened shares of the auctioneer and the ``present`` bidders."""
        return seed_from_encodings(round_, self._round(round_).share_encodings(present))

    def announce(
        self,
        round_: int,
        allocation: np.ndarray,
        payments: np.ndarray,
        *,
        participation: np.ndarray | None = None,
        noise_seed: int | None = None,
    ) -> None:
        """Step 4: commit the outcome. ``participation`` and ``noise_seed`` default to the honest
        ones (:meth:`participation`, :meth:`noise_seed`); a deviating auctioneer passes others."""
        openings = self._round(round_)
        honest = self.participation(round_) if participation is None or noise_seed is None else None
        openings.outcome = self._publish(
            round_,
            AUCTIONEER,
            "outcome",
            honest if participation is None else participation,
            self.noise_seed(round_, honest) if noise_seed is None else noise_seed,
            allocation,
            payments,
        )
        head = self.receipts[AUCTIONEER][-1]  # the outcome's entry: the log's head
        for name in self.bidders:  # every bidder sees the round closed on the broadcast channel
            self.seen[name].append(head)

    def audit(self, mechanism: Mechanism, rounds: Sequence[int]) -> list[Verification]:
        """Audit ``rounds``: the whole log once (:func:`check_log`), every bidder's own check
        (its receipts), every opened round closed by an outcome, then :func:`audit_round` for
        each of ``rounds``. A log that fails the first checks fails every audited round."""
        checks = [check_log(self.log, self.bidders)]
        if checks[0].ok:
            checks += [self.check_party(name) for name in self.bidders] + [self._check_closed()]
        for check in checks:
            if not check.ok:
                return [Verification(False, f"log rejected: {check.reason}") for _ in rounds]
        return [
            audit_round(mechanism, self.log, r, self.openings.get(r, RoundOpenings()), self.bidders, check_chain=False)
            for r in rounds
        ]

    def check_party(self, name: str) -> Verification:
        """``name``'s own check of the log against its receipts (:func:`check_own_commitments`)."""
        return check_own_commitments(self.log, name, self.receipts[name], self.seen.get(name, ()))

    def _check_closed(self) -> Verification:
        """Every opened round has its outcome on the log (else the auctioneer aborted it, or the
        log was cut short)."""
        for r in sorted(self.openings):
            if self.log.find(r, AUCTIONEER, "outcome") is None:
                return Verification(False, f"round {r} has no outcome: it was aborted or the log was truncated")
        return Verification(True)

    def _round(self, round_: int) -> RoundOpenings:
        if round_ not in self.openings:
            raise LogError(f"round {round_} is not open: call open_round({round_}) first")
        return self.openings[round_]
