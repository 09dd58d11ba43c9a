"""Moved to :mod:`mechanisms.common.registry`; this path keeps working."""

from mechanisms.common.registry import *  # noqa: F401,F403
from mechanisms.common.registry import __all__  # noqa: F401
