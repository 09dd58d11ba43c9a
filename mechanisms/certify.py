"""Moved to :mod:`mechanisms.certification` (the certifier is :mod:`mechanisms.certification.certifier`);
these names stay importable here."""

from mechanisms.certification.certifier import (  # noqa: F401
    Certificate,
    CertificationError,
    Certifier,
    Program,
    network_bounds,
    parse_split_binaries,
)
from mechanisms.certification.mip import silence_stderr as _silence_stderr  # noqa: F401

__all__ = ["Certificate", "CertificationError", "Certifier", "Program", "network_bounds", "parse_split_binaries"]
