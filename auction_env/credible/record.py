"""An episode of the credible protocol kept as arrays, its log built when it is first read.

In a simulated deployment (``credible_v0``) every party follows Algorithm 1 except the
auctioneer's announced outcome: its deviations (:mod:`agents.auctioneers.deviations`) change the
allocation and payments it announces, never who took part or the round's seed. So an
:class:`EpisodeRecord` keeps what each round commits to (the bids, who took part, the seed
shares, the derived seed, the announced outcome) in arrays, and builds the hash-chained log,
every commitment and every opening (a :class:`~auction_env.credible.transcript.Transcript`, the
same entries in the same order as if they had been published as the round went) the first time
someone reads :attr:`EpisodeRecord.transcript`; from then on every round is published as it is
sealed and announced, so a transcript or log held since stays up to date. A run that never reads
the log never pays for the hashing, which is most of a round's cost.

The audit a simulated auctioneer can fail is Definition 4.1 on the drawn rounds
(:meth:`EpisodeRecord.verify`): the log's other checks (chain, order, openings, participation,
seed) hold by construction here, and ``record.transcript.audit(mechanism, rounds)`` runs them
all with the same verdicts (tested).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from auction_env.credible.audit import Verification, verify
from auction_env.credible.log import LogError
from auction_env.credible.seeds import ShareSource, seed_from_encodings
from auction_env.credible.transcript import Transcript
from mechanisms.base import Mechanism

__all__ = ["EpisodeRecord"]


class EpisodeRecord:
    """The rounds of one episode as the honest parties commit to them.

    Args:
        bidders: the bidders' names, in bidder order.
        rounds: the episode's length.
        n_items: items per round.
        rng: seeded generator for the seed shares (drawn in the protocol's order: the
            auctioneer's, then each present bidder's); ``None`` draws them from :mod:`secrets`.

    Attributes:
        bids: ``(rounds, n, m)`` the sealed bids (absent bidders' rows zero).
        participation: ``(rounds, n)`` 0/1, who took part.
        allocation, payments: ``(rounds, n, m)`` and ``(rounds, n)``, the announced outcome.
        noise_seeds: the derived seed of each sealed round.

    All float64, which holds the float32 values the env plays exactly (the commitments encode
    float64 in any case).
    """

    def __init__(
        self, bidders: Sequence[str], rounds: int, n_items: int, *, rng: np.random.Generator | None = None
    ) -> None:
        self.bidders = list(bidders)
        n = len(self.bidders)
        self.bids = np.zeros((rounds, n, n_items))
        self.participation = np.zeros((rounds, n))
        self.allocation = np.zeros((rounds, n, n_items))
        self.payments = np.zeros((rounds, n))
        self.noise_seeds: list[int] = []
        self._shares = ShareSource(rng)
        self._share_bytes: list[list[bytes]] = []  # per round: the auctioneer's, then each present bidder's
        self._announced = 0  # rounds whose outcome is recorded
        self._transcript = Transcript(self.bidders)
        self._replayed = 0  # rounds wholly in the transcript
        self._opened = False  # whether round ``_replayed``'s seed share and bids are in it already
        self._live = False  # once the transcript has been read, each round is published as it goes

    def seal(self, round_: int, bids: np.ndarray, present: np.ndarray) -> int:
        """Steps 1 to 3: the auctioneer's seed share, each present bidder's bid and share; returns
        the round's noise seed (derived from the shares, as an auditor derives it).

        Args:
            bids: ``(n, m)``; the rows of absent bidders are not committed (recorded as zero).
            present: ``(n,)`` 0/1 or bool.
        """
        if round_ != len(self.noise_seeds) or round_ != self._announced:
            raise LogError(f"round {round_} cannot be sealed now: round {len(self.noise_seeds)} is next")
        flags = np.asarray(present, dtype=bool).tolist()
        draw = self._shares.encoded
        shares = [draw() for _ in range(1 + sum(flags))]  # the auctioneer's first
        self.bids[round_] = bids
        self.participation[round_] = flags
        if not all(flags):
            self.bids[round_][~np.asarray(flags)] = 0.0
        seed = seed_from_encodings(round_, shares)
        self._share_bytes.append(shares)
        self.noise_seeds.append(seed)
        if self._live:
            self._catch_up()
        return seed

    def announce(self, round_: int, allocation: np.ndarray, payments: np.ndarray) -> None:
        """Step 4: the outcome the auctioneer announces for the sealed round ``round_`` (its
        commitment, which refuses NaN or infinite values, is made when the log is built)."""
        if round_ != self._announced or round_ >= len(self.noise_seeds):
            raise LogError(f"round {round_} cannot be announced now: it is not the sealed round")
        self.allocation[round_] = allocation
        self.payments[round_] = payments
        self._announced += 1
        if self._live:
            self._catch_up()

    @property
    def transcript(self) -> Transcript:
        """The log, commitments and openings of every round so far (the round being played up to
        where it is), built from the record on first read and kept up to date from then on.
        Salts come from :mod:`secrets` as they are built."""
        self._live = True
        self._catch_up()
        return self._transcript

    def _catch_up(self) -> None:
        """Publish what the record holds beyond the transcript, in the protocol's order."""
        transcript = self._transcript
        while self._replayed < len(self.noise_seeds):
            r = self._replayed
            if not self._opened:
                shares = iter(self._share_bytes[r])
                transcript.open_round(r, share=next(shares))
                for name, bid, here in zip(self.bidders, self.bids[r], self.participation[r].tolist()):
                    if here:
                        transcript.submit_bid(r, name, bid, share=next(shares))
                self._opened = True
            if r >= self._announced:
                break
            transcript.announce(
                r,
                self.allocation[r],
                self.payments[r],
                participation=self.participation[r],
                noise_seed=self.noise_seeds[r],
            )
            self._replayed, self._opened = r + 1, False

    def verify(self, mechanism: Mechanism, round_: int) -> Verification:
        """Definition 4.1 on a recorded round: the announced outcome is ``mechanism``'s on the
        sealed bids, participation and seed (the reason names the round, as
        :func:`~auction_env.credible.audit.audit_round` does)."""
        if not 0 <= round_ < self._announced:
            return Verification(False, f"round {round_}: no outcome was announced")
        result = verify(
            mechanism,
            self.bids[round_],
            self.allocation[round_],
            self.payments[round_],
            noise_seed=self.noise_seeds[round_],
            participation=self.participation[round_],
        )
        return result if result.ok else Verification(False, f"round {round_}: {result.reason}")
