"""Moved to :mod:`auction_env.integrations.rllib`; this path keeps working."""

from auction_env.integrations.rllib import *  # noqa: F401,F403
from auction_env.integrations.rllib import __all__  # noqa: F401
