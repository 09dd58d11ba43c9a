"""The round's randomness, bound before the bids are known (commit–reveal).

A mechanism with output noise or random tie-breaking needs a seed per round. If the auctioneer
picked it after seeing the sealed bids it could try many and keep the most profitable (seed
grinding). Instead every party contributes a 128-bit *seed share* through a commitment: the
auctioneer before the round opens, each bidder with its bid (one commitment to both). The seed is the SHA3-256 of the
opened shares, so it is fixed once the last bid is committed, before anyone has seen a bid, and
an audit recomputes it from the openings.
"""

from __future__ import annotations

import hashlib
import operator
import secrets
from collections.abc import Sequence

import numpy as np

from auction_env.credible.commitments import canonical_bytes

__all__ = ["SHARE_WORDS", "ShareSource", "new_share", "new_shares", "derive_seed", "seed_from_encodings"]

SHARE_WORDS = 4  # a share is 4 words of 32 bits (exact in the float64 commitment encoding): 128 bits
_DOMAIN = b"auction-env/credible/round-seed/v1"


def new_share(rng: np.random.Generator | None = None) -> np.ndarray:
    """A fresh 128-bit share as ``SHARE_WORDS`` integers in ``[0, 2**32)``.

    Args:
        rng: a seeded generator (the environment draws shares from its seed so episodes replay);
            ``None`` draws from :mod:`secrets`, as a real party would.
    """
    return new_shares(1, rng)[0]


def new_shares(count: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """``(count, SHARE_WORDS)`` fresh shares (read-only), the same as ``count`` calls of
    :func:`new_share` with the same generator."""
    if rng is None:
        raw = secrets.token_bytes(4 * SHARE_WORDS * count)
    else:  # 64-bit words straight from the bit generator (Generator.integers costs 4x as much)
        raw = rng.bit_generator.random_raw(count * SHARE_WORDS // 2).astype(">u8").tobytes()
    shares = np.frombuffer(raw, dtype=">u4").astype(np.float64).reshape(count, SHARE_WORDS)
    shares.flags.writeable = False
    return shares


class ShareSource:
    """Seed shares for one party or a simulation of all, drawn ``block`` at a time.

    With a generator that nothing else draws from, the shares are those of calling
    :func:`new_share` each time, in the same order; without one they come from :mod:`secrets`.
    :meth:`encoded` gives the next share as its :func:`canonical_bytes` (what a commitment
    holds), encoded a block at a time.
    """

    def __init__(self, rng: np.random.Generator | None = None, *, block: int = 64) -> None:
        self.rng, self.block = rng, block
        self._buffer, self._next = new_shares(0, rng), 0
        self._encodings: list[bytes] = []

    def __call__(self) -> np.ndarray:
        """The next share."""
        self._advance()
        return self._buffer[self._next - 1]

    def encoded(self) -> bytes:
        """The next share's :func:`canonical_bytes`."""
        self._advance()
        if not self._encodings:  # whole numbers below 2**32: no -0.0, no NaN; one header for all
            header = canonical_bytes(np.zeros(SHARE_WORDS))[: -8 * SHARE_WORDS]
            data = self._buffer.astype(">f8").tobytes()
            size = 8 * SHARE_WORDS
            self._encodings = [header + data[k : k + size] for k in range(0, len(data), size)]
        return self._encodings[self._next - 1]

    def _advance(self) -> None:
        if self._next == len(self._buffer):
            self._buffer, self._next, self._encodings = new_shares(self.block, self.rng), 0, []
        self._next += 1


def derive_seed(round_: int, shares: Sequence[np.ndarray]) -> int:
    """The round's seed: SHA3-256 over the round and the opened shares, in protocol order (the
    auctioneer's, then each present bidder's in bidder order), folded to 53 bits so that it is
    exact in the float64 encoding of its commitment."""
    return seed_from_encodings(round_, [canonical_bytes(share) for share in shares])


def seed_from_encodings(round_: int, encodings: Sequence[bytes]) -> int:
    """:func:`derive_seed` from the shares' :func:`canonical_bytes` (as their openings hold them)."""
    hashed = [_DOMAIN, operator.index(round_).to_bytes(8, "big", signed=True)]
    for encoded in encodings:
        hashed += (len(encoded).to_bytes(4, "big"), encoded)
    return int.from_bytes(hashlib.sha3_256(b"".join(hashed)).digest()[:8], "big") >> 11
