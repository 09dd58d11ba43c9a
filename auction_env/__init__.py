"""auction-env: learned and exact auction mechanisms as PettingZoo multi-agent environments.

>>> import auction_env
>>> env = auction_env.parallel_env(n_bidders=2, n_items=2, mechanism="myerson", rounds=5)
>>> obs, infos = env.reset(seed=0)

Front door: :func:`parallel_env`, :func:`env`, :func:`make`, :func:`load_scenario`,
:func:`run_scenario`. Heavy modules load on first use.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from mechanisms.common.errors import AuctionEnvError, CheckpointError, ConfigError, UnknownComponentError

if TYPE_CHECKING:
    from auction_env.catalog import Scenario
    from auction_env.envs.sealed_bid import SealedBidAuctionEnv
    from auction_env.runner import RunResult

__version__ = "0.1.0"
__all__ = [
    "parallel_env",
    "env",
    "make",
    "load_scenario",
    "run_scenario",
    "register_gymnasium",
    "AuctionEnvError",
    "CheckpointError",
    "ConfigError",
    "UnknownComponentError",
]


def parallel_env(**config: Any) -> SealedBidAuctionEnv:
    """A PettingZoo ``ParallelEnv`` of repeated sealed-bid auctions.

    Keyword arguments mirror a scenario's ``env`` section (``n_bidders``, ``n_items``, ``prior``,
    ``participation``, ``mechanism``, ``rounds``, ``seed``), plus ``render_mode`` and
    ``scenario="path.yaml"``.
    """
    from auction_env.envs.sealed_bid import parallel_env as _parallel_env

    return _parallel_env(**config)


def env(**config: Any):
    """The same environment through PettingZoo's AEC interface."""
    from auction_env.envs.sealed_bid import env as _env

    return _env(**config)


def make(env_id: str = "sealed_bid_v0", **config: Any):
    """Build a registered parallel environment by id (see ``auction_env.envs.registry``)."""
    from auction_env.envs import registry

    return registry.make(env_id, **config)


def load_scenario(source: Any) -> Scenario:
    """Load and validate a scenario from a YAML path, a shipped name, or a mapping."""
    from auction_env.catalog import load_scenario as _load

    return _load(source)


def run_scenario(scenario: Any, **kwargs: Any) -> RunResult:
    """Play a scenario through the batched core; see :func:`auction_env.runner.run_scenario`."""
    from auction_env.runner import run_scenario as _run

    return _run(scenario, **kwargs)


def register_gymnasium() -> list[str]:
    """Register ``auction_env/SingleLearner-v0`` and ``auction_env/Auctioneer-v0`` with
    Gymnasium (done on import when Gymnasium is already imported); returns the ids."""
    from auction_env.rl.registration import register_gymnasium as _register

    return _register()


if "gymnasium" in sys.modules:  # imported after Gymnasium (SB3, scripts): gymnasium.make finds our ids
    register_gymnasium()
