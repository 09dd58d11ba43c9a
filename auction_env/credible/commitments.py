"""Hash commitments (credible-auctions paper §3.2): binding, hiding, opened at audit time.

A commitment is ``SHA3-256(salt || canonical bytes of the value)`` with a fresh 128-bit salt
from :mod:`secrets`: binding (the value cannot change after publishing) and hiding (the digest
alone reveals nothing). Opening a commitment publishes the salt and the value; anyone can check
it against the logged digest. Zero-knowledge proofs (verifying without opening) are out of scope.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Commitment",
    "Opening",
    "CommitmentError",
    "commit",
    "open_commitment",
    "canonical_bytes",
]

SALT_BYTES = 16  # 128 bits


class CommitmentError(ValueError):
    """An opening does not match its commitment (the message says why)."""


@dataclass(frozen=True)
class Commitment:
    """The public part: a SHA3-256 hex digest."""

    digest: str


@dataclass(frozen=True)
class Opening:
    """The private part, revealed at audit time: the salt and the committed payload."""

    salt: bytes
    payload: bytes

    def value(self) -> np.ndarray:
        """Decode the committed array (float64, original shape)."""
        return decode(self.payload)


def canonical_bytes(value: Any) -> bytes:
    """A platform-independent encoding of a numeric array: ``ndim``, shape, big-endian float64 data.

    Equal arrays (as float64, any input dtype or memory layout) give equal bytes; ``-0.0`` and
    ``0.0`` are the same bid, so zeros are normalised.
    """
    array = np.asarray(value, dtype=np.float64)
    flat = [x + 0.0 for x in array.ravel().tolist()]  # + 0.0: -0.0 -> 0.0
    if not all(map(math.isfinite, flat)):
        raise CommitmentError("cannot commit to NaN or infinite values")
    # struct's ">d" is the IEEE-754 big-endian double, the same bytes as NumPy's ">f8"
    return struct.pack(f">I{array.ndim}Q{len(flat)}d", array.ndim, *array.shape, *flat)


def decode(payload: bytes) -> np.ndarray:
    """Inverse of :func:`canonical_bytes`."""
    try:
        (ndim,) = struct.unpack_from(">I", payload, 0)
        if 4 + 8 * ndim > len(payload):
            raise ValueError(f"{ndim} dimensions do not fit in {len(payload)} bytes")
        shape = struct.unpack_from(">" + "Q" * ndim, payload, 4)
        data = np.frombuffer(payload, dtype=">f8", offset=4 + 8 * ndim)
        return data.reshape(shape).astype(np.float64)
    except (struct.error, ValueError) as err:
        raise CommitmentError(f"malformed payload ({err})") from None


def _digest(salt: bytes, payload: bytes) -> str:
    return hashlib.sha3_256(salt + payload).hexdigest()


def commit(value: Any) -> tuple[Commitment, Opening]:
    """Commit to a numeric array with a fresh random salt; publish the commitment, keep the opening."""
    payload = canonical_bytes(value)
    salt = secrets.token_bytes(SALT_BYTES)
    return Commitment(_digest(salt, payload)), Opening(salt, payload)


def open_commitment(commitment: Commitment, opening: Opening) -> np.ndarray:
    """Check ``opening`` against ``commitment`` and return the committed array.

    Raises:
        CommitmentError: the salt has the wrong length, or the digest does not match (the value
            or the salt was changed).
    """
    if len(opening.salt) != SALT_BYTES:
        raise CommitmentError(f"salt must be {SALT_BYTES} bytes, got {len(opening.salt)}")
    if not secrets.compare_digest(_digest(opening.salt, opening.payload), commitment.digest):
        raise CommitmentError(
            "opening does not match the commitment: the value or the salt differs from what was committed"
        )
    return opening.value()
