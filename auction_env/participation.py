"""Moved to :mod:`mechanisms.participation`; this path keeps working."""

from mechanisms.participation import *  # noqa: F401,F403
from mechanisms.participation import __all__  # noqa: F401
