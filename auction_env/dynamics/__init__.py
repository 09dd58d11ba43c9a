"""Repeated-auction dynamics: rounds that depend on each other.

:class:`EpisodeBatch` plays a batch of episodes round by round, with valuations that persist or
move (:mod:`.values`), feedback windows in the bidders' observations (:mod:`agents.feedback`), an
optional bid grid and the collusion metrics (:mod:`.metrics`). The PettingZoo environment runs
it at batch 1 when any of those options is on; the scenario runner and the collusion experiment
run it over thousands of episodes at once.
"""

from auction_env.dynamics.episodes import EpisodeBatch, PlayedRound
from auction_env.dynamics.metrics import CollusionMetrics, RoundMetrics
from auction_env.dynamics.values import ValueProcess

__all__ = ["EpisodeBatch", "PlayedRound", "ValueProcess", "CollusionMetrics", "RoundMetrics"]
