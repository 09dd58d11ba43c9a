"""Exact regret certificates of certifiable networks (Curry et al. 2020): interval and linear
bounds (:mod:`.bounds`), the MIP building blocks (:mod:`.mip`), the certifier (:mod:`.certifier`)
and the study over many profiles (:mod:`.study`)."""

from mechanisms.certification.certifier import (  # noqa: F401
    Certificate,
    CertificationError,
    Certifier,
    network_bounds,
    parse_split_binaries,
)
from mechanisms.certification.study import CertificationStudy, certify_profiles  # noqa: F401

__all__ = [
    "Certificate",
    "CertificationError",
    "Certifier",
    "network_bounds",
    "parse_split_binaries",
    "CertificationStudy",
    "certify_profiles",
]
