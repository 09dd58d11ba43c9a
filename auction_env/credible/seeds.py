"""The round's randomness, bound before the bids are known (commit–reveal).

A mechanism with output noise or random tie-breaking needs a seed per round. If the auctioneer
picked it after seeing the sealed bids it could try many and keep the most profitable (seed
grinding). Instead every party contributes a 128-bit *seed share* through a commitment: the
auctioneer before the round opens, each bidder next to its bid. The seed is the SHA3-256 of the
opened shares, so it is fixed once the last bid is committed, before anyone has seen a bid, and
an audit recomputes it from the openings.
"""

from __future__ import annotations

import hashlib
import operator
import secrets
from collections.abc import Sequence

import numpy as np

from auction_env.credible.commitments import Opening

__all__ = ["SHARE_WORDS", "new_share", "derive_seed"]

SHARE_WORDS = 4  # a share is 4 words of 32 bits (exact in the float64 commitment encoding): 128 bits
_DOMAIN = b"auction-env/credible/round-seed/v1"


def new_share(rng: np.random.Generator | None = None) -> np.ndarray:
    """A fresh 128-bit share as ``SHARE_WORDS`` integers in ``[0, 2**32)``.

    Args:
        rng: a seeded generator (the environment draws shares from its seed so episodes replay);
            ``None`` draws from :mod:`secrets`, as a real party would.
    """
    if rng is None:
        return np.array([secrets.randbits(32) for _ in range(SHARE_WORDS)], dtype=np.float64)
    return rng.integers(0, 2**32, size=SHARE_WORDS).astype(np.float64)


def derive_seed(round_: int, shares: Sequence[Opening]) -> int:
    """The round's seed: SHA3-256 over the round and the openings of the shares, in protocol order
    (the auctioneer's, then each present bidder's in bidder order), folded to 53 bits so that it is
    exact in the float64 encoding of its commitment."""
    h = hashlib.sha3_256(_DOMAIN + operator.index(round_).to_bytes(8, "big", signed=True))
    for opening in shares:
        h.update(len(opening.payload).to_bytes(4, "big") + opening.payload)
    return int.from_bytes(h.digest()[:8], "big") >> 11
