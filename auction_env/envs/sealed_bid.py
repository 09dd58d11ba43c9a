"""Repeated sealed-bid multi-item auctions as a PettingZoo ``ParallelEnv``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from pettingzoo import ParallelEnv

from agents.actions import check_levels, grid_bids
from agents.observation import EXTRA
from auction_env.config import EnvConfig, parse
from auction_env.core import RoundArrays, RoundBatch
from auction_env.dynamics import EpisodeBatch, RoundMetrics
from auction_env.envs.aec import CheckedActions, checked_aec, order_enforced
from auction_env.envs.boxes import bounded_box
from auction_env.setting import build_setting
from mechanisms.base import Mechanism
from mechanisms.common.errors import check_render_mode
from mechanisms.common.seeding import make_generators
from mechanisms.participation import Participation
from mechanisms.priors import Prior

__all__ = ["SealedBidAuctionEnv", "PublicOutcome", "env", "parallel_env", "raw_env"]

#: Rounds whose valuations and participation are drawn in one batched call.
_BLOCK = 256


#: NumPy dtype kinds a bid may have: floats and integers (not bools, complex numbers or text).
_REAL = "fiu"

#: Collusion metrics in every bidder's info with ``metrics: true`` (:mod:`auction_env.dynamics.metrics`).
METRIC_KEYS = ("revenue", "competitive_revenue", "mean_bid", "equilibrium_bid", "winner_changed")

#: The observer's info when nothing was scored (same keys as when something was).
_NOT_SCORED = {"mae": 0.0, "recovery_rate": 0.0, "scored": False}


@dataclass(frozen=True)
class PublicOutcome:
    """What everybody sees after a round: ``allocation (n_bidders, n_items)``, ``payments (n_bidders,)``."""

    allocation: np.ndarray
    payments: np.ndarray


class SealedBidAuctionEnv(ParallelEnv):
    """Repeated sealed-bid auctions of ``n_items`` items among ``n_bidders`` bidders.

    ## Description
    Each step is one round: every bidder privately draws additive valuations from the prior,
    participation is sampled, participating bidders submit sealed bids, and the mechanism
    (learned or exact, from the registry) decides allocation and payments. By default rounds are
    independent; the round index is observed so that policies may depend on it. The
    repeated-auction options below make rounds depend on each other.

    ## Action Space
    ``Box(0, high_i, (n_items,), float32)`` per bidder: the bid on each item in value units, where
    ``high_i`` is the upper end of bidder i's value support. Bids outside the box are clipped to
    it; a bid with NaN/inf or the wrong shape raises ``ValueError`` naming the agent. An absent
    bidder's action is ignored. With ``bidding: {levels: k}`` a bidder picks grid levels instead:
    ``Discrete(k)`` with one item, ``MultiDiscrete([k] * n_items)`` with more; level ``l`` bids
    ``l / (k - 1) x high_i``.

    ## Observation Space
    ``Box((n_items + 2,), float32)``: ``[v_i1 ... v_im, participating (0/1), round / rounds]``;
    with ``feedback: {mode, window: k}`` followed by the last k rounds' feedback, newest first
    (:mod:`agents.feedback`: ``own``, ``winning`` or ``public``; zero-padded at the start).

    ## Rewards
    The bidder's utility ``<v_i, a_i> - p_i``; 0 for a bidder absent from the round.
    ``infos[agent]`` holds ``allocation`` (its row), ``payment`` and ``participating``, with the
    same keys and shapes from ``reset`` on (zeros before the first round), as TorchRL and other
    adapters that build specs from the first infos expect; :attr:`last_outcome` holds the
    public outcome (all allocations and payments). With ``metrics: true`` every bidder's info also
    holds the round's collusion metrics (:mod:`auction_env.dynamics.metrics`): ``revenue``,
    ``competitive_revenue``, ``mean_bid``, ``equilibrium_bid``, ``winner_changed`` (-1 where
    undefined).

    ## Repeated-auction options (all off by default)
    ``feedback`` (above), ``values: {dynamics: iid | persistent | markov, persistence, shifts:
    [{round, prior}]}`` (:mod:`auction_env.dynamics.values`: values drawn once per episode, or a
    mean-reverting process, and prior shifts at given rounds), ``bidding: {levels}`` (above) and
    ``metrics``. With any of them on, the env steps :class:`auction_env.dynamics.EpisodeBatch` at
    batch 1 (the scenario runner steps the same engine over many episodes).

    ## Observer (optional, ``observer: {bidder: k | null, tolerance: 0.02}``)
    An extra agent ``observer`` (Stein et al.'s adversary) observes, after each round, the public
    outcome ``[allocation (n x m, flattened), payments (n), own bids (m, only as bidder k),
    outcome available (0/1)]`` and acts with its reconstruction of that round's bids, flattened
    bidder by bidder: ``Box(0, high, (n_bidders * n_items,))`` (an ``(n_bidders, n_items)`` array
    is accepted too); the reconstruction is scored in the next step. Reward: minus the mean
    absolute error of the reconstruction (over the other bidders' bids when it is bidder k);
    ``infos["observer"]`` holds that ``mae``, the ``recovery_rate`` within ``tolerance`` and
    ``scored`` (0 and False when nothing was scored). In the first step there is nothing to
    reconstruct yet (reward 0), and the last round's outcome is published but never scored.

    ## State
    ``state()`` (``state_space``, a flat ``Box``): the whole round for centralised critics,
    ``[valuations (n x m), participation (n), last allocation (n x m), last payments (n),
    round / rounds]``; the valuations and participation are those of the round about to be
    played, the outcome that of the last round played (zeros before the first).

    ## Starting State
    Valuations of the first round drawn from the prior.

    ## Episode End
    After ``rounds`` rounds every agent is both terminated (the game is over: the round index is
    in the observation, so no value lies beyond it) and truncated (the episode length, PettingZoo's
    ``max_cycles``), so wrappers that look for either one see the end.

    ## Arguments
    ``n_bidders``, ``n_items``, ``prior`` (mapping or :class:`Prior`), ``participation``
    (mapping or :class:`Participation`), ``mechanism`` (name, ``{name, params}`` or a
    :class:`Mechanism`), ``rounds`` (or PettingZoo's name for it, ``max_cycles``), ``seed`` (used
    when ``reset`` gets none), ``render_mode`` (``"ansi"`` returns the last round as a table,
    ``"human"`` prints it, or None), and ``scenario`` (a YAML path or shipped name whose ``env``
    section gives the defaults; explicit arguments override it).

    ## Version History
    * v0: initial version.
    """

    metadata = {"name": "sealed_bid_v0", "render_modes": ["ansi", "human"], "is_parallelizable": True}

    def __init__(
        self,
        *,
        scenario: str | None = None,
        render_mode: str | None = None,
        prior: Prior | Mapping[str, Any] | None = None,
        participation: Participation | Mapping[str, Any] | None = None,
        mechanism: Mechanism | str | Mapping[str, Any] | None = None,
        **config: Any,
    ) -> None:
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.render_mode = render_mode
        data: dict[str, Any] = {}
        if scenario is not None:
            from auction_env.catalog import load_scenario

            data.update(load_scenario(scenario).config.env.model_dump())
        objects = {}
        for key, value in (("prior", prior), ("participation", participation), ("mechanism", mechanism)):
            if isinstance(value, (Prior, Participation, Mechanism)):
                objects[key] = value
            elif value is not None:
                data[key] = value
        if "max_cycles" in config:  # PettingZoo's name for the episode length
            cycles = config.pop("max_cycles")
            if "rounds" in config and config["rounds"] != cycles:
                raise ValueError(
                    f"max_cycles ({cycles}) and rounds ({config['rounds']}) name the same length; give one"
                )
            config["rounds"] = cycles
        data.update(config)
        if "prior" in objects:
            data.setdefault("n_bidders", objects["prior"].n_bidders)
            data.setdefault("n_items", objects["prior"].n_items)
        cfg = parse(EnvConfig, data)
        self.setting = build_setting(cfg, **objects)
        self.core = self.setting
        self.rounds = cfg.rounds
        self.seed = cfg.seed
        n, m = self.setting.n_bidders, self.setting.n_items

        self.bidder_agents = [f"bidder_{i}" for i in range(n)]
        # (EnvConfig has checked that an enabled observer's seat is a bidder)
        self.observer = cfg.observer if cfg.observer is not None and cfg.observer.enabled else None
        self.possible_agents = self.bidder_agents + (["observer"] if self.observer is not None else [])
        self.agents: list[str] = []
        # Repeated-auction options run through the dynamics engine at batch 1; without them the
        # rounds are i.i.d. and drawn in blocks (the fast path).
        self._engine = EpisodeBatch.from_config(self.core, cfg) if cfg.repeated else None
        self.levels = self._engine.levels if self._engine is not None else None
        if self._engine is None:
            low = self.setting.prior.low.numpy()
            high = self.setting.prior.high.numpy()
            obs_low = np.concatenate([low, np.zeros((n, 2))], 1).astype(np.float32)
            obs_high = np.concatenate([high, np.ones((n, 2))], 1).astype(np.float32)
        else:
            low, high = self._engine.values.low.numpy(), self._engine.values.high.numpy()
            obs_low, obs_high = self._engine.observation_bounds()
        self._bid_high = high.astype(np.float32)
        self.action_spaces = {a: self._bid_space(high[i]) for i, a in enumerate(self.bidder_agents)}
        self.observation_spaces = {
            a: bounded_box(obs_low[i], obs_high[i], dtype=np.float32) for i, a in enumerate(self.bidder_agents)
        }
        if self.observer is not None:
            k = self.observer.bidder
            obs_high = np.concatenate([np.ones(n * m), high.sum(1), high[k] if k is not None else [], [1.0]]).astype(
                np.float32
            )
            self.observation_spaces["observer"] = bounded_box(np.zeros_like(obs_high), obs_high, dtype=np.float32)
            self.action_spaces["observer"] = bounded_box(0.0, high.reshape(-1).astype(np.float32), dtype=np.float32)
            self._observer_obs = np.zeros_like(obs_high)
        self.state_space = bounded_box(
            np.concatenate([low.reshape(-1), np.zeros(n + n * m + n + 1)]).astype(np.float32),
            np.concatenate([high.reshape(-1), np.ones(n + n * m), high.sum(1), [1.0]]).astype(np.float32),
            dtype=np.float32,
        )
        self._sample_gen: torch.Generator | None = None
        self._mech_gen: torch.Generator | None = None
        self._bench_gen: torch.Generator | None = None
        self._round = 0
        self._block_pos = _BLOCK
        self._last_round: RoundBatch | None = None
        self._last_arrays: RoundArrays | None = None
        self.last_outcome: PublicOutcome | None = None

    def _bid_space(self, high: np.ndarray) -> spaces.Space:
        """A bidder's action space: ``Box(0, high)``, or with a bid grid its levels."""
        if self.levels is None:
            return bounded_box(0.0, high, shape=(self.setting.n_items,), dtype=np.float32)
        return self._engine.level_space()

    # -- PettingZoo API -----------------------------------------------------------------
    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Box:
        return self.action_spaces[agent]

    @property
    def bid_high(self) -> np.ndarray:
        """``(n_bidders, n_items)`` the upper bid bounds (the upper value support, the highest over
        any prior shift); bids are clipped to ``[0, bid_high]``."""
        return self._bid_high.copy()

    @property
    def prior(self) -> Prior:
        return self.setting.prior

    @property
    def mechanism(self) -> Mechanism:
        return self.setting.mechanism

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        if seed is not None or self._sample_gen is None:
            self._sample_gen, self._mech_gen, self._bench_gen = make_generators(
                seed if seed is not None else self.seed, 3
            )
            self._block_pos = _BLOCK
        self.agents = self.possible_agents[:]
        self._round = 0
        self.last_round = None
        self.last_outcome = None
        if self._engine is None:
            self._next_round()
        else:
            self._engine.reset(1, self._sample_gen)
            self._sync_engine()
        infos = self._bidder_infos(np.zeros((self.setting.n_bidders, self.setting.n_items), np.float32), None)
        if self.observer is not None:
            self._observer_obs[:] = 0.0
            infos["observer"] = dict(_NOT_SCORED)
        return self._observations(), infos

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise RuntimeError("the episode is over: call reset() before step()")
        bids = self._collect_bids(actions)
        observer_reward, observer_info = self._score_observer(actions) if self.observer is not None else (0.0, {})
        # One round of the batched core, in NumPy: at batch 1 torch's per-op dispatch would cost
        # more than the auction (the exact mechanisms have bit-identical NumPy twins).
        metrics = None
        if self._engine is None:
            played = self.core.resolve_numpy(self._vals_np[None], self._present[None], bids[None], self._mech_gen)
        else:
            played, metrics = self._play_engine(bids)
        self._last_arrays, self._last_round = played, None
        allocation, payments = played.allocation[0], played.payments[0]
        self.last_outcome = PublicOutcome(allocation, payments)
        agents = self.agents
        rewards = dict(zip(self.bidder_agents, played.utilities[0].tolist()))
        infos = self._bidder_infos(allocation, payments, metrics)
        if self.observer is not None:
            rewards["observer"] = observer_reward
            infos["observer"] = observer_info
            self._update_observer(played)
        self._round += 1
        done = self._round >= self.rounds
        if self._engine is None:
            self._next_round()
        else:
            self._sync_engine()
        observations = self._observations()
        terminations = dict.fromkeys(agents, done)
        truncations = dict.fromkeys(agents, done)
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """The whole round as a flat vector (see "State" in the class docstring)."""
        n, m = self.setting.n_bidders, self.setting.n_items
        out = np.zeros(2 * n * m + 2 * n + 1, dtype=np.float32)
        if self._sample_gen is None:
            return out
        out[: n * m] = self._vals_np.reshape(-1)
        out[n * m : n * m + n] = self._present
        if self.last_outcome is not None:
            out[n * m + n : 2 * n * m + n] = self.last_outcome.allocation.reshape(-1)
            out[2 * n * m + n : 2 * n * m + 2 * n] = self.last_outcome.payments
        out[-1] = min(self._round / self.rounds, 1.0)
        return out

    def render(self) -> str | None:
        """``ansi``: the last round as a text table; ``human``: that table printed (returns None)."""
        if self.render_mode is None:
            return None
        if self.render_mode == "human":
            print(self._table(), end="")
            return None
        return self._table()

    def close(self) -> None:
        pass

    # -- internals ----------------------------------------------------------------------
    def _next_round(self) -> None:
        """Point at the next pre-drawn round (valuations are drawn ``_BLOCK`` rounds at a time)."""
        if self._block_pos >= _BLOCK:
            vals, part = self.core.sample(_BLOCK, self._sample_gen)
            self._block_vals, self._block_present = vals.numpy(), part.numpy()
            obs = np.zeros((_BLOCK, *part.shape[1:], self.setting.n_items + EXTRA), dtype=np.float32)
            obs[..., :-EXTRA] = self._block_vals
            obs[..., -EXTRA] = self._block_present
            self._block_obs = obs
            self._block_pos = 0
        k = self._block_pos
        self._block_pos += 1
        self._vals_np = self._block_vals[k]  # (n_bidders, n_items)
        self._present = self._block_present[k]  # (n_bidders,) bool
        self._part_np = self._block_obs[k, :, -EXTRA]
        self._obs_np = self._block_obs[k]

    def _sync_engine(self) -> None:
        """Point at the engine's coming round (values, participation, observations)."""
        engine = self._engine
        self._vals_np = engine.valuations[0].numpy()
        self._present = engine.participation[0].numpy()
        self._obs_np = engine.observations()[0].numpy()

    def _play_engine(self, bids: np.ndarray) -> tuple[RoundArrays, RoundMetrics | None]:
        """One round through the dynamics engine, as the NumPy record the fast path makes."""
        with torch.inference_mode():
            played = self._engine.play(torch.from_numpy(bids)[None], self._mech_gen, self._bench_gen)
        return RoundArrays.from_batch(played.round), played.metrics

    @property
    def _vals_t(self) -> torch.Tensor:
        """This round's valuations as a ``(1, n_bidders, n_items)`` tensor."""
        return torch.from_numpy(self._vals_np[None])

    @property
    def _part_t(self) -> torch.Tensor:
        """This round's participation as a ``(1, n_bidders)`` bool tensor."""
        return torch.from_numpy(self._present[None])

    @property
    def last_round(self) -> RoundBatch | None:
        """The last played round as a batch of one (None before the first step)."""
        if self._last_round is None and self._last_arrays is not None:
            self._last_round = self._last_arrays.to_batch()
        return self._last_round

    @last_round.setter
    def last_round(self, played: RoundBatch | None) -> None:
        self._last_round, self._last_arrays = played, None

    def _observations(self) -> dict[str, np.ndarray]:
        obs = self._obs_np.copy()
        if self._engine is None:
            obs[:, -1] = min(self._round / self.rounds, 1.0)
        self._bidder_obs = obs  # (the bidders' rows, as handed out: credible_v0's bid step reuses them)
        out = dict(zip(self.bidder_agents, obs))
        if self.observer is not None:
            out["observer"] = self._observer_obs.copy()
        return out

    def _bidder_infos(
        self, allocation: np.ndarray, payments: np.ndarray | None, metrics: RoundMetrics | None = None
    ) -> dict[str, dict[str, Any]]:
        """Each bidder's info: its allocation row, payment and whether it took part (the round
        about to be played when ``payments`` is None, as at ``reset``); with metrics on, the
        round's collusion metrics too (-1 where undefined: before the first round, or without a
        known equilibrium; NaN would make equal episodes compare unequal)."""
        pays = payments.tolist() if payments is not None else [0.0] * len(self.bidder_agents)
        infos = {
            a: {"allocation": row, "payment": pay, "participating": present}
            for a, row, pay, present in zip(self.bidder_agents, allocation, pays, self._present.tolist())
        }
        if self._engine is not None and self._engine.metrics:
            values = dict.fromkeys(METRIC_KEYS, -1.0)
            if metrics is not None:
                for key in METRIC_KEYS:
                    value = float(getattr(metrics, key)[0])
                    values[key] = -1.0 if value != value else value
            for info in infos.values():
                info.update(values)
        return infos

    def _update_observer(self, played: RoundArrays) -> None:
        """The observer's next observation: this round's public outcome (and its own bids)."""
        parts = [played.allocation[0].reshape(-1), played.payments[0]]
        if self.observer.bidder is not None:
            parts.append(played.bids[0, self.observer.bidder])
        parts.append(np.ones(1, dtype=np.float32))
        self._observer_obs = np.concatenate(parts).astype(np.float32)
        self._observed_bids = played.bids[0].copy()

    def _score_observer(self, actions: Mapping[str, Any]) -> tuple[float, dict[str, float]]:
        """Reward and info of the observer's reconstruction of the previous round's bids."""
        guess = self.check_reconstruction(actions["observer"])
        if self.last_outcome is None:  # no outcome published yet
            return 0.0, dict(_NOT_SCORED)
        guess = np.clip(guess, 0.0, self._bid_high)
        err = np.abs(guess - self._observed_bids)
        if self.observer.bidder is not None:
            err = np.delete(err, self.observer.bidder, axis=0)
        mae = float(err.mean())
        return -mae, {"mae": mae, "recovery_rate": float((err <= self.observer.tolerance).mean()), "scored": True}

    def check_reconstruction(self, action: Any) -> np.ndarray:
        """The observer's reconstruction as ``(n_bidders, n_items)`` float32 (flat or 2-D), or a
        ``ValueError`` naming the observer."""
        n, m = self.setting.n_bidders, self.setting.n_items
        try:
            guess = np.asarray(action, dtype=np.float32)
        except (TypeError, ValueError):
            raise ValueError(f"observer: reconstruction must be {n * m} numbers, got {type(action).__name__}") from None
        if guess.shape not in ((n * m,), (n, m)):
            raise ValueError(f"observer: reconstruction must have shape ({n * m},) or ({n}, {m}), got {guess.shape}")
        if not np.isfinite(guess).all():
            raise ValueError("observer: reconstruction contains NaN or infinite values")
        return guess.reshape(n, m)

    def check_bid(self, agent: str, bid: Any) -> np.ndarray:
        """``agent``'s bid as ``(n_items,)`` float32, or a ``ValueError`` naming the agent: one real
        number per item (not a string, bool or complex number), finite. Out-of-range values are
        clipped later, as for every bid."""
        m = self.setting.n_items
        if type(bid) is np.ndarray and bid.dtype == np.float32 and bid.shape == (m,):  # the usual case, fast
            if math.isfinite(np.add.reduce(bid, dtype=np.float64)):  # (float64: a float32 sum could overflow)
                return bid.copy()
        if isinstance(bid, (list, tuple)) and any(isinstance(x, (bool, np.bool_, str, bytes, complex)) for x in bid):
            raise ValueError(f"{agent}: bid must be {m} numbers, got {bid!r}")
        try:
            arr = np.asarray(bid)
        except Exception:  # an object numpy cannot read at all
            raise ValueError(f"{agent}: bid must be {m} numbers, got {type(bid).__name__}") from None
        if arr.dtype.kind not in _REAL:
            raise ValueError(f"{agent}: bid must be {m} numbers, got {arr.dtype} values")
        if arr.shape != (m,):
            raise ValueError(f"{agent}: bid must have shape ({m},), got {arr.shape}")
        with np.errstate(over="ignore"):
            arr = arr.astype(np.float32)
        if not np.isfinite(arr).all():
            raise ValueError(f"{agent}: bid contains NaN or infinite values")
        return arr

    def check_level(self, agent: str, action: Any) -> np.ndarray:
        """``agent``'s grid levels as ``(n_items,)`` int64 (a bid grid is on), or a ``ValueError``
        naming the agent (:func:`agents.actions.check_levels`)."""
        try:
            return check_levels(action, self.levels, self.setting.n_items)
        except ValueError as err:
            raise ValueError(f"{agent}: {err}") from None

    def check_action(self, agent: str, action: Any) -> Any:
        """``action`` checked as :meth:`step` would, so the AEC interface refuses it at once."""
        if agent in self.bidder_agents:
            return self.check_level(agent, action) if self.levels is not None else self.check_bid(agent, action)
        return self.check_reconstruction(action) if agent == "observer" else action

    def _collect_bids(self, actions: Mapping[str, Any]) -> np.ndarray:
        """The bids ``(n_bidders, n_items)`` float32 (a new array), clipped to the bid space. The
        AEC view's :class:`~auction_env.envs.aec.CheckedActions` hold what :meth:`check_action`
        returned for every live agent (fresh, finite, the right shape): not checked again."""
        checked = type(actions) is CheckedActions
        if not checked and (not isinstance(actions, Mapping) or actions.keys() != set(self.agents)):
            agents = list(actions) if isinstance(actions, Mapping) else []
            missing = [a for a in self.agents if a not in agents]
            extra = [a for a in agents if a not in self.agents]
            raise ValueError(
                "actions must map every agent to its bid"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unknown: {', '.join(map(str, extra))}" if extra else "")
            )
        rows = [actions[a] for a in self.bidder_agents]
        if self.levels is not None:
            if not checked:
                rows = [self.check_level(agent, row) for agent, row in zip(self.bidder_agents, rows)]
            return grid_bids(np.stack(rows).astype(np.float32), self.levels, self._bid_high).astype(np.float32)
        bids = np.array(rows, dtype=np.float32) if checked else self._validated_bids(rows)
        # Out-of-range bids are clipped to the action space [0, upper support].
        return np.minimum(np.maximum(bids, 0.0, out=bids), self._bid_high, out=bids)

    def _validated_bids(self, rows: list[Any]) -> np.ndarray:
        """Every bidder's row checked (:meth:`check_bid`, naming the first bad one) and stacked as
        a new ``(n_bidders, n_items)`` float32 array, not yet clipped."""
        n, m = self.setting.n_bidders, self.setting.n_items
        bids = None
        if all(isinstance(row, np.ndarray) and row.dtype.kind in _REAL for row in rows):  # the usual case, fast
            try:
                bids = np.array(rows, dtype=np.float32)
            except (ValueError, TypeError):
                bids = None
        if bids is None or bids.shape != (n, m):
            bids = np.stack([self.check_bid(agent, row) for agent, row in zip(self.bidder_agents, rows)])
        # One reduction first (a NaN or inf makes the sum non-finite); name the agent if so.
        if not math.isfinite(np.add.reduce(bids, None, dtype=np.float64)):
            bad = [a for a, row in zip(self.bidder_agents, bids) if not np.isfinite(row).all()]
            if bad:
                raise ValueError(f"{bad[0]}: bid contains NaN or infinite values")
        return bids

    def _table(self) -> str:
        if self.last_round is None:
            return f"round 0/{self.rounds}: no bids yet\n"
        r = self.last_round
        fmt = lambda xs: " ".join(f"{x:5.3f}" for x in xs)  # noqa: E731
        rows = [
            f"round {self._round}/{self.rounds}  revenue {r.revenue[0].item():.3f}  welfare {r.welfare[0].item():.3f}"
        ]
        rows.append(
            f"{'agent':<10} {'in':>2}  {'values':<{6 * self.setting.n_items}} {'bids':<{6 * self.setting.n_items}} "
            f"{'allocation':<{6 * self.setting.n_items}} {'pays':>6} {'utility':>7}"
        )
        for i, agent in enumerate(self.bidder_agents):
            rows.append(
                f"{agent:<10} {'y' if bool(r.participation[0, i]) else 'n':>2}  {fmt(r.valuations[0, i].tolist())} "
                f"{fmt(r.bids[0, i].tolist())} {fmt(r.outcome.allocation[0, i].tolist())} "
                f"{r.outcome.payments[0, i].item():6.3f} {r.utilities[0, i].item():7.3f}"
            )
        return "\n".join(rows) + "\n"


def parallel_env(**config: Any) -> SealedBidAuctionEnv:
    """The parallel environment (see :class:`SealedBidAuctionEnv` for arguments)."""
    return SealedBidAuctionEnv(**config)


def raw_env(**config: Any):
    """The AEC environment, unwrapped (PettingZoo's ``parallel_to_aec`` conversion, each action
    checked on its turn)."""
    return checked_aec(parallel_env(**config))


def env(**config: Any):
    """The AEC environment with PettingZoo's order-enforcing wrapper."""
    return order_enforced(raw_env(**config))
