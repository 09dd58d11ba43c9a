"""The AEC view of a parallel environment, with each action checked on its own turn.

PettingZoo's ``parallel_to_aec`` collects the agents' actions and steps the parallel env when
the last one has acted, so a bad first action would be refused only then, one step late, with
the collected actions left behind. Here each action goes through the env's ``check_action``
before it is recorded: a bad one raises at once, naming the agent, and the agent may act again.

:func:`checked_aec` is that view when every live agent acts in every step (``sealed_bid_v0``);
:func:`phased_aec` the view of an env whose steps each concern some agents only (the credible
protocol: the bidders bid, then the auctioneer chooses): only those agents take a turn, the
others' actions are filled in. In both each agent's rewards add up until its next turn, and
the parallel env's dicts are kept as they come, not copied (the envs return new ones each step).

:func:`order_enforced` is PettingZoo's ``OrderEnforcingWrapper`` with the attributes an AEC
loop reads every turn looked up directly instead of through ``__getattr__`` (same checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pettingzoo import AECEnv
from pettingzoo.utils import AgentSelector, OrderEnforcingWrapper
from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.wrappers.order_enforcing import AECOrderEnforcingIterable, AECOrderEnforcingIterator

__all__ = ["CheckedActions", "checked_aec", "order_enforced", "phased_aec"]


class CheckedActions(dict):
    """The actions the AEC view hands to the parallel env's ``step``: every live acting agent's
    as its ``check_action`` returned it on the agent's turn (so the env need not check them
    again; the env's own idle actions for the others). Built only here."""

    __slots__ = ()


class _TurnTakingAEC(parallel_to_aec_wrapper):
    """Turns for the agents the parallel env's next step needs: ``env.acting_agents()`` when
    ``phased``, with ``env.idle_action(agent)`` for the others; every live agent otherwise.
    Each action is checked (``env.check_action``) on its turn. Rewards accumulate per agent
    between its turns (PettingZoo's AEC convention), so a reward earned while others act is not
    lost; with every agent acting in every step that is the step's reward, as in
    ``parallel_to_aec``."""

    def __init__(self, parallel_env: Any, *, phased: bool) -> None:
        super().__init__(parallel_env)
        self._phased = phased
        self._selectors: dict[tuple[str, ...], AgentSelector] = {}
        self._idle: dict[tuple[tuple[str, ...], tuple[str, ...]], dict[str, Any]] = {}

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        super().reset(seed=seed, options=options)
        self._actions = CheckedActions()
        self._stepped = True
        self._select(self._acting())

    def _acting(self) -> Sequence[str]:
        return self.env.acting_agents() if self._phased else self.env.agents

    def _select(self, agents: Sequence[str]) -> None:
        key = tuple(agents)
        selector = self._selectors.get(key)
        if selector is None:  # one per phase (or set of live agents), reused
            selector = self._selectors[key] = AgentSelector(list(agents))
        self._agent_selector = selector
        self.agent_selection = selector.reset()

    def _idle_actions(self, acting: list[str]) -> dict[str, Any]:
        """Every live agent's ``env.idle_action`` (a constant), ``None`` for the ``acting`` ones
        (each filled in with its action), in the env's agent order; one dict per phase, reused."""
        live = self.env.agents
        key = (tuple(acting), tuple(live))
        idle = self._idle.get(key)
        if idle is None:
            idle = self._idle[key] = {a: None if a in acting else self.env.idle_action(a) for a in live}
        return idle

    def last(self, observe: bool = True) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        agent = self.agent_selection
        return (
            self._observations[agent] if observe else None,  # (observe(), inlined)
            self._cumulative_rewards[agent],
            self.terminations[agent],
            self.truncations[agent],
            self.infos[agent],
        )

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._actions.pop(agent, None)
            self._was_dead_step(action)
            return
        action = self.env.check_action(agent, action)  # (None too: a live agent must act)
        self._actions[agent] = action
        self._cumulative_rewards[agent] = 0.0
        if self._stepped:  # .rewards holds what this turn earned: nothing, until the env steps
            self._clear_rewards()
            self._stepped = False
        selector = self._agent_selector
        if not selector.is_last():
            self.agent_selection = selector.next()
            return
        actions = self._actions
        if self._phased:
            actions = CheckedActions(self._idle_actions(selector.agent_order))
            actions.update(self._actions)
        # The env returns new dicts every step (no copies needed, unlike parallel_to_aec).
        self._observations, self.rewards, self.terminations, self.truncations, self.infos = self.env.step(actions)
        self._accumulate_rewards()
        self._stepped = True
        self._actions = CheckedActions()
        if self.env.agents:
            self._select(self._acting())
        elif not self._phased:  # the episode is over: the agents step out in parallel_to_aec's order
            self.agents = sorted(self._observations, key=str)
        if any(self.terminations.values()) or any(self.truncations.values()):
            self._deads_step_first()


def checked_aec(par_env: Any) -> AECEnv:
    """The AEC view of ``par_env`` (every live agent acts in every step, as in
    ``parallel_to_aec``), checking each action as it is taken (unwrapped: the env's ``env()``
    adds :func:`order_enforced`, once)."""
    return _TurnTakingAEC(par_env, phased=False)


def phased_aec(par_env: Any) -> AECEnv:
    """The AEC view of a parallel env with ``acting_agents()`` and ``idle_action(agent)`` (a
    constant per agent: the view reuses it): only the agents a step needs take a turn in it
    (unwrapped, as :func:`checked_aec`)."""
    return _TurnTakingAEC(par_env, phased=True)


_BEFORE_RESET = frozenset({"rewards", "terminations", "truncations", "infos", "agent_selection", "agents"})


def _forwarded(name: str) -> property:
    """``env.<name>`` read directly, refused before ``reset`` as ``OrderEnforcingWrapper`` does."""
    guarded = name in _BEFORE_RESET

    def get(self: _OrderEnforced) -> Any:
        if guarded and not self._has_reset:
            raise AttributeError(f"{name} cannot be accessed before reset")
        return getattr(self.env, name)

    return property(get, doc=f"The wrapped env's ``{name}``.")


class _OrderEnforced(OrderEnforcingWrapper):
    """``OrderEnforcingWrapper`` whose per-turn reads skip the ``__getattr__`` chain (each went
    through two Python-level lookups); everything else, errors and warnings included, is
    PettingZoo's."""

    rewards = _forwarded("rewards")
    terminations = _forwarded("terminations")
    truncations = _forwarded("truncations")
    infos = _forwarded("infos")
    agent_selection = _forwarded("agent_selection")
    agents = _forwarded("agents")
    _cumulative_rewards = _forwarded("_cumulative_rewards")

    def agent_iter(self, max_iter: int = 2**63) -> AECOrderEnforcingIterable:
        if not self._has_reset:
            return super().agent_iter(max_iter)  # PettingZoo's error
        return _LeanIterable(self, max_iter)

    def __str__(self) -> str:
        return str(self.env)  # as OrderEnforcingWrapper prints itself

    def last(self, observe: bool = True) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if not self._has_reset:
            return super().last(observe)  # PettingZoo's error
        return self.env.last(observe)

    def step(self, action: Any) -> None:
        if self._has_reset and self.env.agents:  # the usual case
            self._has_updated = True
            self.env.step(action)
        else:
            super().step(action)  # PettingZoo's error or warning


class _LeanIterable(AECOrderEnforcingIterable):
    def __iter__(self) -> AECOrderEnforcingIterator:
        return _LeanIterator(self.env, self.max_iter)


class _LeanIterator(AECOrderEnforcingIterator):
    """PettingZoo's order-enforcing agent iterator, reading the wrapped env's attributes directly."""

    def __next__(self) -> str:
        wrapper = self.env
        inner = wrapper.env
        if not inner.agents or self.iters_til_term <= 0:
            raise StopIteration
        self.iters_til_term -= 1
        assert wrapper._has_updated, "need to call step() or reset() in a loop over `agent_iter`"  # PettingZoo's
        wrapper._has_updated = False
        return inner.agent_selection


def order_enforced(aec_env: AECEnv) -> OrderEnforcingWrapper:
    """``OrderEnforcingWrapper(aec_env)`` (that type, the same checks), reading the attributes an
    AEC loop reads every turn without ``__getattr__``."""
    return _OrderEnforced(aec_env)
