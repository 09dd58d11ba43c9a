"""An append-only broadcast log with sequence numbers and a hash chain (credible-auctions paper §4).

Algorithm 1 needs a log "with access to a broadcast channel which ensures all parties see the
committed bids when they are announced". Each :class:`LogEntry` carries its position ``seq`` and
``hash = SHA3-256(prev || seq || round || party || kind || digest)``, so it commits to every entry before
it: reordering, dropping or inserting an entry breaks the chain, and rewriting the chain after
the fact changes the hashes the parties were given as :class:`Receipt` when they published.
"""

from __future__ import annotations

import hashlib
import operator
import struct
from collections.abc import Iterable
from typing import NamedTuple

from auction_env.credible.commitments import Commitment, CommitmentError

__all__ = ["GENESIS", "LogEntry", "LogError", "Receipt", "BroadcastLog", "entry_hash"]

GENESIS = "0" * 64  # the ``prev`` of the first entry


class LogError(CommitmentError):
    """The log is not a valid chain, or an entry the protocol needs is missing or duplicated."""


def entry_hash(prev: str, seq: int, round_: int, party: str, kind: str, digest: str) -> str:
    """SHA3-256 over the previous hash and the entry's fields (integers as 8 big-endian bytes,
    then the three strings' UTF-8 lengths and bytes, so no two entries encode alike)."""
    p, k, d = party.encode(), kind.encode(), digest.encode()
    header = struct.pack(">qqIII", seq, round_, len(p), len(k), len(d))
    return hashlib.sha3_256(b"".join((prev.encode(), header, p, k, d))).hexdigest()


def _round_number(round_: object) -> int:
    """A round index as a Python int in ``[0, 2**63)``, or :class:`LogError`."""
    try:
        value = operator.index(round_)
    except TypeError:
        raise LogError(f"a round is a non-negative integer, got {round_!r}") from None
    if not 0 <= value < 2**63:
        raise LogError(f"a round is a non-negative integer below 2**63, got {value}")
    return value


class Receipt(NamedTuple):
    """What a party keeps when it publishes: its entry's position and chained hash (an
    immutable pair, made once per entry)."""

    seq: int
    hash: str


class LogEntry(NamedTuple):
    """One broadcast record: who committed to what kind of value in which round (the
    commitment's digest), chained to the last (immutable; ``entry._replace(...)`` makes a
    changed copy, as a forger would)."""

    seq: int
    round: int
    party: str
    kind: str
    digest: str
    prev: str
    hash: str

    @property
    def commitment(self) -> Commitment:
        """The published commitment."""
        return Commitment(self.digest)

    @property
    def receipt(self) -> Receipt:
        """What its publisher kept: the position and the chained hash."""
        return Receipt(self.seq, self.hash)


class BroadcastLog:
    """Append-only broadcast channel: every party sees every entry, in order, as it is published.

    The channel authenticates senders (``party`` is who published the entry); a party that
    doubts the log checks its own entries against its receipts (:func:`check_own_commitments`).

    Args:
        entries: an existing log to check (a copy received from someone else); not verified
            here, see :meth:`verify_chain`.
    """

    def __init__(self, entries: Iterable[LogEntry] = ()) -> None:
        self._entries: list[LogEntry] = []
        # (round, party, kind) -> its entry; a second one (a forged log) goes to _repeated. One
        # object per entry, not a list each: the log is kept for the episode, and every object
        # kept is one more for Python's garbage collector to visit.
        self._by_key: dict[tuple[int, str, str], LogEntry] = {}
        self._repeated: dict[tuple[int, str, str], list[LogEntry]] = {}
        self._by_round: dict[int, list[LogEntry]] = {}
        # Entries are immutable, so a verified prefix stays verified; an entry published here onto
        # a verified chain is verified as it is made (the same checks and hash as verify_chain).
        self._verified = 0
        for entry in entries:
            self._append(entry)

    def _append(self, entry: LogEntry) -> None:
        self._entries.append(entry)
        key = (entry.round, entry.party, entry.kind)
        if key in self._by_key:
            self._repeated.setdefault(key, [self._by_key[key]]).append(entry)
        else:
            self._by_key[key] = entry
        same_round = self._by_round.get(entry.round)
        if same_round is None:  # (not setdefault: no throwaway list per entry)
            self._by_round[entry.round] = [entry]
        else:
            same_round.append(entry)

    @property
    def entries(self) -> tuple[LogEntry, ...]:
        """Every entry in log order (read-only: build a new log to tamper with one)."""
        return tuple(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def head(self) -> str:
        """The hash of the newest entry (:data:`GENESIS` when empty)."""
        return self._entries[-1].hash if self._entries else GENESIS

    @property
    def head_receipt(self) -> Receipt | None:
        """The newest entry's position and hash: what a party that saw the log up to now keeps."""
        return self._entries[-1].receipt if self._entries else None

    def publish(self, round_: int, party: str, kind: str, commitment: Commitment) -> Receipt:
        """Append an entry chained to the head; return the publisher's receipt.

        Raises:
            LogError: the party already published this kind in this round, or the round is older
                than the newest entry's (rounds never interleave).
        """
        if type(round_) is not int or not 0 <= round_ < 2**63:  # the usual case first
            round_ = _round_number(round_)
        last = self._entries[-1] if self._entries else None
        if last is not None and round_ < last.round:
            raise LogError(f"round {round_} is over: the log is at round {last.round}")
        if (round_, party, kind) in self._by_key:
            raise LogError(f"{party} already committed a {kind} in round {round_}")
        seq, prev = len(self._entries), GENESIS if last is None else last.hash
        digest = commitment.digest
        chained = entry_hash(prev, seq, round_, party, kind, digest)
        self._append(LogEntry(seq, round_, party, kind, digest, prev, chained))
        if self._verified == seq:
            self._verified = seq + 1
        return Receipt(seq, chained)

    def verify_chain(self) -> None:
        """Check the whole chain: positions ``0..N-1``, each ``prev`` the hash before it, each hash
        recomputed, rounds never decreasing. Only entries not yet checked are: the prefix checked
        before, and entries :meth:`publish` chained onto it (which computed their hashes), are
        not checked again; a log built from received entries checks them all.

        Raises:
            LogError: naming the first entry that breaks the chain and why.
        """
        k0 = self._verified
        prev = self._entries[k0 - 1].hash if k0 else GENESIS
        last_round = self._entries[k0 - 1].round if k0 else None
        for k in range(k0, len(self._entries)):
            e = self._entries[k]
            if e.seq != k:
                raise LogError(f"entry {k} carries sequence number {e.seq}: entries were moved, dropped or inserted")
            if e.prev != prev:
                raise LogError(f"entry {k} does not chain to entry {k - 1}: an entry before it was changed or removed")
            try:
                expected = entry_hash(e.prev, e.seq, _round_number(e.round), e.party, e.kind, e.digest)
            except (LogError, TypeError, AttributeError, struct.error):
                raise LogError(f"entry {k} is malformed (round {e.round!r}, party {e.party!r})") from None
            if e.hash != expected:
                raise LogError(f"entry {k} has a wrong hash: its contents were changed after publishing")
            if last_round is not None and e.round < last_round:
                raise LogError(f"entry {k} belongs to round {e.round} but follows round {last_round}")
            prev, last_round = e.hash, e.round
            self._verified = k + 1

    def find(self, round_: int, party: str, kind: str) -> LogEntry | None:
        """The entry of ``party`` of this kind in this round, or ``None``.

        Raises:
            LogError: the party has two such entries (a forged log).
        """
        key = (round_, party, kind)
        if key in self._repeated:
            raise LogError(f"{party} has {len(self._repeated[key])} {kind} entries in round {round_}")
        return self._by_key.get(key)

    def lookup(self, round_: int, party: str, kind: str) -> Commitment:
        """The commitment of ``party`` of this kind in this round.

        Raises:
            LogError: there is none, or there are two.
        """
        entry = self.find(round_, party, kind)
        if entry is None:
            raise LogError(f"no {kind} commitment from {party} in round {round_}")
        return entry.commitment

    def round(self, round_: int) -> list[LogEntry]:
        """The entries of one round, in log order."""
        return list(self._by_round.get(round_, []))

    def rounds(self) -> list[int]:
        """The rounds that have entries, in order."""
        return sorted(self._by_round)
