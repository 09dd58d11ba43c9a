"""Hash commitments (credible-auctions paper §3.2): binding, hiding, opened at audit time.

A commitment is ``SHA3-256(salt || canonical bytes of the value)`` with a fresh 128-bit salt
from :mod:`secrets` (a value of several parts, such as a bid and its seed share, is their
encodings one after the other: each encoding says its own length): binding (the value cannot
change after publishing) and hiding (the digest alone reveals nothing). Opening a commitment
publishes the salt and the value; anyone can check it against the logged digest. Zero-knowledge
proofs (verifying without opening) are out of scope.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
import struct
import threading
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "Commitment",
    "Opening",
    "CommitmentError",
    "commit",
    "open_commitment",
    "open_parts",
    "canonical_bytes",
    "split_parts",
]

SALT_BYTES = 16  # 128 bits


class CommitmentError(ValueError):
    """An opening does not match its commitment (the message says why)."""


class Commitment(NamedTuple):
    """The public part: a SHA3-256 hex digest (immutable)."""

    digest: str


@dataclass(frozen=True)
class Opening:
    """The private part, revealed at audit time: the salt and the committed payload."""

    salt: bytes
    payload: bytes

    def value(self) -> np.ndarray:
        """The committed array (float64, original shape, read-only) of a one-part commitment."""
        return _only(self.values())

    def values(self) -> tuple[np.ndarray, ...]:
        """Every part of the committed value, in order (float64, read-only)."""
        return self._parts

    def part_bytes(self) -> tuple[bytes, ...]:
        """Each part's :func:`canonical_bytes`, in order, without decoding the data."""
        return self._part_bytes

    @cached_property
    def _parts(self) -> tuple[np.ndarray, ...]:  # decoded once
        return decode_parts(self.payload)

    @cached_property
    def _part_bytes(self) -> tuple[bytes, ...]:  # split once (commit() fills it in as it encodes)
        return split_parts(self.payload)


def canonical_bytes(value: Any) -> bytes:
    """A platform-independent encoding of a numeric array: ``ndim``, shape, big-endian float64 data.

    Equal arrays (as float64, any input dtype or memory layout) give equal bytes; ``-0.0`` and
    ``0.0`` are the same bid, so zeros are normalised.
    """
    if type(value) is int or type(value) is float:  # a scalar, such as a seed (not a bool: type() is exact)
        x = float(value) + 0.0  # (float(int) rounds as NumPy's float64 conversion does)
        if not math.isfinite(x):
            raise CommitmentError("cannot commit to NaN or infinite values")
        return _layout(0, 1).pack(0, x)
    if type(value) is np.ndarray and value.dtype.kind in "fb":  # tolist() gives exact Python floats (bools)
        array = value
    else:
        array = np.asarray(value, dtype=np.float64)
    flat = array.ravel().tolist()
    if 0.0 in flat:  # -0.0 == 0.0
        flat = [x + 0.0 for x in flat]  # -0.0 + 0.0 is 0.0 (and False + 0.0 is 0.0)
    if not all(map(math.isfinite, flat)):
        raise CommitmentError("cannot commit to NaN or infinite values")
    return _layout(array.ndim, len(flat)).pack(array.ndim, *array.shape, *flat)


@lru_cache(maxsize=256)
def _layout(ndim: int, size: int) -> struct.Struct:
    """The encoding's layout for an array of ``ndim`` dimensions and ``size`` entries (struct's
    ``>d`` is the IEEE-754 big-endian double, the same bytes as NumPy's ``>f8``)."""
    return struct.Struct(f">I{ndim}Q{size}d")


def _header_at(payload: bytes, offset: int) -> tuple[tuple[int, ...], int]:
    """The shape of the array encoded at ``offset`` and where its data starts."""
    (ndim,) = struct.unpack_from(">I", payload, offset)
    offset += 4
    if offset + 8 * ndim > len(payload):
        raise ValueError(f"{ndim} dimensions do not fit in {len(payload)} bytes")
    shape = struct.unpack_from(f">{ndim}Q", payload, offset)
    offset += 8 * ndim
    if offset + 8 * math.prod(shape) > len(payload):  # Python ints: no overflow
        raise ValueError(f"shape {shape} does not fit in {len(payload)} bytes")
    return shape, offset


def split_parts(payload: bytes) -> tuple[bytes, ...]:
    """The :func:`canonical_bytes` of each part of ``payload`` (at least one), without decoding.

    Raises:
        CommitmentError: the payload is not a sequence of encoded arrays.
    """
    parts, start = [], 0
    try:
        while start < len(payload) or not parts:
            shape, data = _header_at(payload, start)
            end = data + 8 * math.prod(shape)
            parts.append(payload[start:end])
            start = end
    except (struct.error, ValueError) as err:
        raise CommitmentError(f"malformed payload ({err})") from None
    return tuple(parts)


def _decode_part(part: bytes) -> np.ndarray:
    """One array from its exact encoding (read-only float64)."""
    shape, offset = _header_at(part, 0)
    data = np.frombuffer(part, dtype=">f8", count=math.prod(shape), offset=offset).reshape(shape).astype(np.float64)
    data.flags.writeable = False
    return data


def decode_parts(payload: bytes) -> tuple[np.ndarray, ...]:
    """Inverse of the concatenated :func:`canonical_bytes` of each part (see :func:`commit`)."""
    return tuple(map(_decode_part, split_parts(payload)))


def decode(payload: bytes) -> np.ndarray:
    """Inverse of :func:`canonical_bytes`: the one array of ``payload``."""
    return _only(decode_parts(payload))


def _only(parts: tuple[np.ndarray, ...]) -> np.ndarray:
    if len(parts) != 1:
        raise CommitmentError(f"malformed payload (one array expected, found {len(parts)})")
    return parts[0]


class _Salts:
    """Fresh salts from :mod:`secrets`, read from the OS a block at a time (one system call per
    ``block`` commitments instead of one each). Thread-safe; a forked child starts a new block,
    so parent and child never share a salt."""

    def __init__(self, block: int = 64) -> None:
        self.block = block
        self._lock = threading.Lock()
        self._buffer, self._next = b"", 0
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        """In a forked child: a lock of its own (another thread may have held the parent's when it
        forked) and no salt of its parent's."""
        self._lock = threading.Lock()
        self._buffer, self._next = b"", 0

    def __call__(self) -> bytes:
        with self._lock:
            if self._next == len(self._buffer):
                self._buffer, self._next = secrets.token_bytes(SALT_BYTES * self.block), 0
            self._next += SALT_BYTES
            return self._buffer[self._next - SALT_BYTES : self._next]


_new_salt = _Salts()


def _digest(salt: bytes, payload: bytes) -> str:
    return hashlib.sha3_256(salt + payload).hexdigest()


def commit(value: Any, *more: Any) -> tuple[Commitment, Opening]:
    """Commit to a numeric array (or to several, as one value) with a fresh random salt; publish
    the commitment, keep the opening."""
    return _commit_encoded(*map(canonical_bytes, (value, *more)))


def _commit_encoded(*parts: bytes) -> tuple[Commitment, Opening]:
    """:func:`commit` of values already encoded by :func:`canonical_bytes` (one or more; trusted to
    be such encodings: they become the opening's :meth:`Opening.part_bytes` unchecked)."""
    if not parts:
        raise CommitmentError("nothing to commit to")
    payload = b"".join(parts)
    salt = _new_salt()
    opening = Opening(salt, payload)
    opening.__dict__["_part_bytes"] = parts  # what splitting the payload would give
    return Commitment(hashlib.sha3_256(salt + payload).hexdigest()), opening  # _digest, inlined


def _check_opening(commitment: Commitment, opening: Opening) -> None:
    """Check ``opening``'s salt and digest against ``commitment`` (:class:`CommitmentError` if not)."""
    if len(opening.salt) != SALT_BYTES:
        raise CommitmentError(f"salt must be {SALT_BYTES} bytes, got {len(opening.salt)}")
    if not secrets.compare_digest(_digest(opening.salt, opening.payload), commitment.digest):
        raise CommitmentError(
            "opening does not match the commitment: the value or the salt differs from what was committed"
        )


def open_commitment(commitment: Commitment, opening: Opening) -> np.ndarray:
    """Check ``opening`` against ``commitment`` and return the committed array.

    Raises:
        CommitmentError: the salt has the wrong length, or the digest does not match (the value
            or the salt was changed).
    """
    _check_opening(commitment, opening)
    return opening.value()


def open_parts(commitment: Commitment, opening: Opening, parts: int) -> tuple[np.ndarray, ...]:
    """:func:`open_commitment` for a value of ``parts`` arrays (``commit(a, b, ...)``).

    Raises:
        CommitmentError: as :func:`open_commitment`, or the value has another number of parts.
    """
    _check_opening(commitment, opening)
    values = opening.values()
    if len(values) != parts:
        raise CommitmentError(f"the committed value has {len(values)} parts, {parts} expected")
    return values
