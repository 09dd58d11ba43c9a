"""Moved to :mod:`agents.observation`; this path keeps working."""

from agents.observation import *  # noqa: F401,F403
from agents.observation import __all__  # noqa: F401
