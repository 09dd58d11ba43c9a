"""Moved to :mod:`mechanisms.search` (the one misreport search); these names stay importable here."""

from mechanisms.search import (  # noqa: F401
    deviation_profiles,
    deviation_utilities,
    keep_best,
    pgd_ascent,
    projected_adam,
    report_grid,
    truthful_utilities,
)

__all__ = [
    "deviation_profiles",
    "deviation_utilities",
    "truthful_utilities",
    "pgd_ascent",
    "projected_adam",
    "report_grid",
    "keep_best",
]
