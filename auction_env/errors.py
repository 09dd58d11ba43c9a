"""Moved to :mod:`mechanisms.common.errors`; this path keeps working."""

from mechanisms.common.errors import *  # noqa: F401,F403
from mechanisms.common.errors import __all__  # noqa: F401
