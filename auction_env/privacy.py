"""Moved to :mod:`auction_env.experiments.privacy`; this path keeps working."""

from auction_env.experiments.privacy import *  # noqa: F401,F403
from auction_env.experiments.privacy import __all__  # noqa: F401
