"""Moved: the checkpoint loader is :mod:`mechanisms.learned.checkpoints`, the result format
:func:`mechanisms.evaluation.format_result`, the closed forms :mod:`mechanisms.reference`, and the
results table :mod:`auction_env.experiments.evaluation`. These names stay importable here."""

from mechanisms.evaluation import format_result  # noqa: F401
from mechanisms.learned.checkpoints import load_checkpoint  # noqa: F401
from mechanisms.reference import myerson_uniform_revenue  # noqa: F401

__all__ = ["load_checkpoint", "format_result", "myerson_uniform_revenue"]
