"""The AEC view of a parallel environment, with each action checked on its own turn.

PettingZoo's ``parallel_to_aec`` collects the agents' actions and steps the parallel env when
the last one has acted, so a bad first action would be refused only then, one step late, with
the collected actions left behind. Here each action goes through the env's ``check_action``
before it is recorded: a bad one raises at once, naming the agent, and the agent may act again.
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils import OrderEnforcingWrapper
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

__all__ = ["checked_aec"]


class _CheckedAEC(parallel_to_aec_wrapper):
    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if action is not None and not (self.terminations[agent] or self.truncations[agent]):
            action = self.env.check_action(agent, action)
        super().step(action)


def checked_aec(par_env: Any) -> OrderEnforcingWrapper:
    """``parallel_to_aec(par_env)`` (order-enforced), checking each action as it is taken."""
    return OrderEnforcingWrapper(_CheckedAEC(par_env))
