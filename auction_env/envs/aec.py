"""The AEC view of a parallel environment, with each action checked on its own turn.

PettingZoo's ``parallel_to_aec`` collects the agents' actions and steps the parallel env when
the last one has acted, so a bad first action would be refused only then, one step late, with
the collected actions left behind. Here each action goes through the env's ``check_action``
before it is recorded: a bad one raises at once, naming the agent, and the agent may act again.

:func:`phased_aec` is the view of an env whose steps each concern some agents only (the
credible protocol: the bidders bid, then the auctioneer chooses): only those agents take a
turn, the others' actions are filled in, and each agent's rewards add up until its next turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pettingzoo import AECEnv
from pettingzoo.utils import AgentSelector
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

__all__ = ["checked_aec", "phased_aec"]


class _CheckedAEC(parallel_to_aec_wrapper):
    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if action is not None and not (self.terminations[agent] or self.truncations[agent]):
            action = self.env.check_action(agent, action)
        super().step(action)


def checked_aec(par_env: Any) -> AECEnv:
    """``parallel_to_aec(par_env)``, checking each action as it is taken (unwrapped: the env's
    ``env()`` adds PettingZoo's order enforcing, once)."""
    return _CheckedAEC(par_env)


class _PhasedAEC(_CheckedAEC):
    """Turns only for the agents the parallel env's next step needs (``env.acting_agents()``);
    ``env.idle_action(agent)`` stands in for the others. The env's ``step`` must return new
    dicts each time (they are kept, not copied). Rewards accumulate per agent between its
    turns (PettingZoo's AEC convention), so a reward earned while others act is not lost."""

    def __init__(self, parallel_env: Any) -> None:
        super().__init__(parallel_env)
        self._selectors: dict[tuple[str, ...], AgentSelector] = {}

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        super().reset(seed=seed, options=options)
        self._stepped = True
        self._select(self.env.acting_agents())

    def _select(self, agents: Sequence[str]) -> None:
        key = tuple(agents)
        if key not in self._selectors:  # one per phase, reused
            self._selectors[key] = AgentSelector(list(agents))
        self._agent_selector = self._selectors[key]
        self.agent_selection = self._agent_selector.reset()

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._actions.pop(agent, None)
            self._was_dead_step(action)
            return
        if action is not None:
            action = self.env.check_action(agent, action)
        self._actions[agent] = action
        self._cumulative_rewards[agent] = 0.0
        if self._stepped:  # .rewards holds what this turn earned: nothing, until the env steps
            self._clear_rewards()
            self._stepped = False
        if not self._agent_selector.is_last():
            self.agent_selection = self._agent_selector.next()
            return
        acting = self._agent_selector.agent_order
        actions = {a: self._actions.get(a) if a in acting else self.env.idle_action(a) for a in self.env.agents}
        # The env returns new dicts every step (no copies needed, unlike parallel_to_aec).
        self._observations, self.rewards, self.terminations, self.truncations, self.infos = self.env.step(actions)
        self._accumulate_rewards()
        self._stepped = True
        self._actions = {}
        if self.env.agents:
            self._select(self.env.acting_agents())
        if any(self.terminations.values()) or any(self.truncations.values()):
            self._deads_step_first()


def phased_aec(par_env: Any) -> AECEnv:
    """The AEC view of a parallel env with ``acting_agents()`` and ``idle_action(agent)``: only
    the agents a step needs take a turn in it (unwrapped, as :func:`checked_aec`)."""
    return _PhasedAEC(par_env)
