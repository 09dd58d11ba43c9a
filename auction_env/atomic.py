"""Moved to :mod:`mechanisms.common.io`; this path keeps working."""

from mechanisms.common.io import atomic_path, temporary_sibling, write_text_atomic  # noqa: F401

__all__ = ["write_text_atomic", "temporary_sibling", "atomic_path"]
