"""Moved to :mod:`mechanisms.common.seeding`; this path keeps working."""

from mechanisms.common.seeding import *  # noqa: F401,F403
from mechanisms.common.seeding import __all__  # noqa: F401
