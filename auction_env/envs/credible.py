"""Repeated sealed-bid auctions under commit–audit–penalty rules (credible-auctions paper, Algorithm 1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from agents.auctioneers.deviations import deviate_numpy, deviation_revenue_numpy
from auction_env.core import RoundArrays
from auction_env.credible.log import BroadcastLog
from auction_env.credible.protocol import CredibleOptions
from auction_env.credible.record import EpisodeRecord
from auction_env.credible.transcript import Transcript
from auction_env.envs.aec import CheckedActions, order_enforced, phased_aec
from auction_env.envs.boxes import bounded_box
from auction_env.envs.sealed_bid import PublicOutcome, SealedBidAuctionEnv

__all__ = ["AuditReport", "CredibleAuctionEnv", "env", "parallel_env", "raw_env"]


_INTEGERS = (int, np.int64, np.int32)  # exact types: not bool (an int subclass), not np.bool_


@dataclass(frozen=True)
class AuditReport:
    """The end-of-episode audit: which rounds were audited, whether one failed, and why."""

    audited_rounds: list[int]
    caught: bool
    reason: str


def _auctioneer_info(aRgt: float = 0.0, deviated: bool = False, revenue: float = 0.0) -> dict[str, Any]:
    """The auctioneer's info, with the same keys every step (``caught``/``penalty`` set at the end;
    the arguments are a Python float, bool and float)."""
    return {"aRgt": aRgt, "deviated": deviated, "revenue": revenue, "caught": False, "penalty": 0.0}


class CredibleAuctionEnv(SealedBidAuctionEnv):
    """The sealed-bid environment with an ``auctioneer`` agent who may deviate, and audits.

    ## Description
    Each round takes two steps and follows the protocol of :mod:`auction_env.credible` on a
    hash-chained broadcast log (:attr:`log`, :attr:`transcript`, built from the rounds' records
    when first read: :mod:`auction_env.credible.record`). **Bid step**: the auctioneer
    commits its seed share, then each present bidder commits its bid and seed share (SHA3-256
    over a fresh 128-bit salt); the auctioneer's action is ignored. The round's noise seed is
    derived from the opened shares. **Run step**: the auctioneer, who now observes the sealed
    bids, chooses to run the published mechanism (action 0) or the configured deviation
    (action 1, one of :data:`agents.auctioneers.deviations.DEVIATIONS`); the bidders' actions are
    ignored. The announced participation, seed, allocation and payments are committed. After
    the last round, ``audits`` rounds are drawn uniformly and audited (Definition 4.1 on their
    records: the simulated auctioneer deviates only in the announced outcome;
    ``transcript.audit`` also checks the chain, the order of the entries, every opening,
    participation and seed, with the same verdicts); a failure costs the auctioneer ``penalty``.

    ## Action Space
    Bidders as in ``sealed_bid_v0``; auctioneer ``Discrete(2)`` (0 honest, 1 deviate).

    ## Observation Space
    Bidders as in ``sealed_bid_v0``. Auctioneer: ``[sealed bids (n x m, flattened), aRgt of the
    deviation this round, round / rounds, run step (0/1)]``; the bids and aRgt are 0 in bid steps.

    ## Rewards
    Bid steps: 0. Run steps: bidders get the utility of the outcome actually announced; the
    auctioneer gets the revenue, minus ``penalty`` in the last step if an audit caught it.
    Every step's ``infos`` have the same keys and shapes: bidders as in ``sealed_bid_v0``
    (zeros in bid steps), the auctioneer ``aRgt``, ``deviated``, ``revenue``, ``caught`` and
    ``penalty`` (what came off this reward). The audit's details (audited rounds, reasons) are in
    :attr:`last_audit` after the last step.

    ## State
    ``state()``: that of ``sealed_bid_v0`` followed by the phase (0 bid step, 1 run step).

    ## Episode End
    After ``rounds`` rounds (``2 x rounds`` steps) every agent is terminated and truncated, as in
    ``sealed_bid_v0``.

    ## Arguments
    Those of ``sealed_bid_v0`` plus ``credible: {penalty, audits, deviation}`` (defaults 0, 1,
    ``max_revenue``). Seed shares come from the env's seed, so episodes replay; commitment
    salts come from :mod:`secrets` (cryptographic randomness, not the seed), so log digests
    differ between runs while every observation and reward is seeded.

    ## Version History
    * v0: initial version.
    """

    metadata = {"name": "credible_v0", "render_modes": ["ansi", "human"], "is_parallelizable": True}

    def __init__(self, *, credible: Mapping[str, Any] | None = None, **config: Any) -> None:
        super().__init__(**config)
        if self.observer is not None:
            raise ValueError("the credible protocol does not support the observer role yet")
        if self._engine is not None:
            raise ValueError(
                "the credible protocol does not support feedback, value dynamics, a bid grid or metrics yet "
                "(sealed_bid_v0 does)"
            )
        options = CredibleOptions.parse(credible, self.rounds)
        self.penalty, self.audits, self.deviation = options.penalty, options.audits, options.deviation
        n, m = self.setting.n_bidders, self.setting.n_items
        self.possible_agents = self.possible_agents + ["auctioneer"]
        self.action_spaces["auctioneer"] = spaces.Discrete(2)
        bid_high = np.asarray(self._bid_high, dtype=np.float32).reshape(-1)
        regret_high = float(self.setting.prior.high.amax(0).sum())
        self.observation_spaces["auctioneer"] = bounded_box(
            np.concatenate([np.zeros(n * m), [-regret_high, 0.0, 0.0]]).astype(np.float32),
            np.concatenate([bid_high, [regret_high, 1.0, 1.0]]).astype(np.float32),
            dtype=np.float32,
        )
        self.state_space = bounded_box(
            np.append(self.state_space.low, 0.0).astype(np.float32),
            np.append(self.state_space.high, 1.0).astype(np.float32),
            dtype=np.float32,
        )
        self._record = EpisodeRecord(self.bidder_agents, self.rounds, m)
        self.last_audit: AuditReport | None = None
        self._round_gen = torch.Generator()  # reseeded with each round's derived seed
        self._acting = {"bid": tuple(self.bidder_agents), "run": ("auctioneer",)}
        self._idle_bid = np.zeros(m, dtype=np.float32)
        self._idle_bid.flags.writeable = False
        # the auctioneer's observation while the bids are awaited (at reset and after each round)
        self._waiting_obs = np.zeros(self.observation_spaces["auctioneer"].shape, dtype=np.float32)

    @property
    def transcript(self) -> Transcript:
        """The episode's log, commitments and openings, as Algorithm 1 publishes them (built from
        the round records when first read: :mod:`auction_env.credible.record`)."""
        return self._record.transcript

    @property
    def log(self) -> BroadcastLog:
        """The episode's broadcast log."""
        return self.transcript.log

    # -- PettingZoo API -----------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        observations, infos = super().reset(seed=seed, options=options)
        audit_seed, share_seed = np.random.SeedSequence(self._seed_source()).spawn(2)
        self._audit_rng = np.random.default_rng(audit_seed)
        self._phase = "bid"
        self._record = EpisodeRecord(
            self.bidder_agents, self.rounds, self.setting.n_items, rng=np.random.default_rng(share_seed)
        )
        self.last_audit = None
        observations["auctioneer"] = self._waiting_obs.copy()
        infos["auctioneer"] = _auctioneer_info()
        return observations, infos

    def state(self) -> np.ndarray:
        """``sealed_bid_v0``'s state and the phase (0 bid step, 1 run step)."""
        phase = float(getattr(self, "_phase", "bid") == "run")
        return np.append(super().state(), phase).astype(np.float32)

    def step(self, actions: Mapping[str, Any]):
        if not self.agents:
            raise RuntimeError("the episode is over: call reset() before step()")
        if "auctioneer" not in actions:
            raise ValueError("actions must map every agent to its action; missing: auctioneer")
        choice = actions["auctioneer"]
        if self._phase == "bid":
            return self._bid_step(actions)
        # (the AEC view's CheckedActions hold the choice as check_action returned it)
        return self._run_step(choice if type(actions) is CheckedActions else self.check_choice(choice))

    def acting_agents(self) -> tuple[str, ...]:
        """The agents whose actions the next step uses: the bidders, then the auctioneer."""
        return self._acting[self._phase]

    def idle_action(self, agent: str) -> Any:
        """What stands in for an agent the next step ignores (for the AEC view: a constant, read-only)."""
        return 0 if agent == "auctioneer" else self._idle_bid

    def check_action(self, agent: str, action: Any) -> Any:
        """Bids are checked in the bid step; in the run step only the auctioneer's choice counts."""
        if agent == "auctioneer":
            return self.check_choice(action) if self._phase == "run" else action
        return self.check_bid(agent, action) if self._phase == "bid" else action  # (no bid grid here)

    @staticmethod
    def check_choice(action: Any) -> int:
        """The auctioneer's action as 0 or 1, or a ``ValueError`` naming the auctioneer."""
        if type(action) in _INTEGERS and action in (0, 1):  # the usual case, fast
            return int(action)
        try:
            value = np.asarray(action)
            choice = int(value.reshape(()))
        except (TypeError, ValueError):
            choice = None
        if choice is None or value.dtype.kind not in "biuf" or choice not in (0, 1) or value.reshape(()) != choice:
            raise ValueError(
                f"auctioneer: action must be 0 (run the published mechanism) or 1 (deviate), got {action!r}"
            )
        return choice

    # -- phases --------------------------------------------------------------------------
    def _bid_step(self, actions: Mapping[str, Any]):
        bids = self._collect_bids(actions)  # a new array
        present = self._present
        everyone = self.setting.participation.always
        if not everyone:
            bids *= present[:, None]
        self._noise_seed = self._record.seal(self._round, bids, present)
        # The published mechanism and the deviation through NumPy twins (batch of one), each
        # drawing from the generator seeded with the round's seed.
        generator = self._round_gen
        published = self.core.resolve_numpy(
            self._vals_np[None], present[None], bids[None], generator.manual_seed(self._noise_seed)
        )
        # The deviation's revenue (aRgt); its outcome is made here or, for max_revenue, in the run
        # step if announced (:meth:`_deviation_outcome`, with the same seed).
        revenue, outcome = deviation_revenue_numpy(
            self.deviation,
            self.core.mechanism,
            published.bids,
            None if everyone else present[None],
            generator,
            self._noise_seed,
        )
        self._alternative = None if outcome is None else (outcome[0][0], outcome[1][0])
        published_revenue = published.payments.sum()
        self._published_revenue = float(published_revenue)
        regret = float(revenue[0] - published_revenue)
        self._published, self._regret = published, regret
        self._phase = "run"
        # The bidders see what they saw before bidding (the round has not moved on): a copy.
        observations = dict(zip(self.bidder_agents, self._bidder_obs.copy()))
        observations["auctioneer"] = np.array(
            [*bids.ravel().tolist(), regret, min(self._round / self.rounds, 1.0), 1.0], dtype=np.float32
        )
        zeros = dict.fromkeys(self.agents, 0.0)
        falses = dict.fromkeys(self.agents, False)
        infos = self._bidder_infos(np.zeros(bids.shape, dtype=bids.dtype), None)
        infos["auctioneer"] = _auctioneer_info(regret)
        return observations, zeros, falses, dict(falses), infos

    def _run_step(self, choice: int):
        deviated = choice == 1
        published = self._published
        if deviated:  # what everybody sees is the announced outcome: the deviation's
            allocation, payments = self._alternative or self._deviation_outcome()
            utilities = (np.add.reduce(self._vals_np * allocation, -1) - payments).astype(published.utilities.dtype)
            announced = RoundArrays(
                published.valuations,
                published.participation,
                published.bids,
                allocation[None],
                payments[None],
                None,
                utilities[None],
            )
        else:  # the published mechanism's round, as resolved in the bid step
            announced = published
            allocation, payments, utilities = published.allocation[0], published.payments[0], published.utilities[0]
        self._record.announce(self._round, allocation, payments)  # participation and seed as sealed
        agents = self.agents
        rewards = dict(zip(self.bidder_agents, utilities.tolist()))
        revenue = float(np.add.reduce(payments)) if deviated else self._published_revenue
        rewards["auctioneer"] = revenue
        infos = self._bidder_infos(allocation, payments)
        infos["auctioneer"] = _auctioneer_info(self._regret, deviated, revenue)
        self._last_arrays = announced
        self._last_round = None
        self.last_outcome = PublicOutcome(allocation, payments)
        self._round += 1
        done = self._round >= self.rounds
        if done:
            self.last_audit = self._audit()
            if self.last_audit.caught:
                rewards["auctioneer"] -= self.penalty
                infos["auctioneer"].update(caught=True, penalty=self.penalty)
        self._next_round()
        self._phase = "bid"
        observations = self._observations()
        observations["auctioneer"] = waiting = self._waiting_obs.copy()
        waiting[-2] = min(self._round / self.rounds, 1.0)
        terminations = dict.fromkeys(agents, done)
        truncations = dict.fromkeys(agents, done)
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _deviation_outcome(self) -> tuple[np.ndarray, np.ndarray]:
        """The deviation's allocation and payments for the sealed round (batch row 0), with the
        generator seeded by the round's seed as in the bid step."""
        present = None if self.setting.participation.always else self._present[None]
        generator = self._round_gen.manual_seed(self._noise_seed)
        allocation, payments = deviate_numpy(
            self.deviation, self.core.mechanism, self._published.bids, present, generator
        )
        return allocation[0], payments[0]

    def _audit(self) -> AuditReport:
        """Draw the audited rounds and verify each (Algorithm 1, end of episode: Definition 4.1 on
        the round's record; ``self.transcript.audit`` checks the log too, with the same verdicts)."""
        rounds = sorted(self._audit_rng.choice(self.rounds, size=self.audits, replace=False).tolist())
        mechanism = self.core.mechanism
        reasons = [result.reason for r in rounds if not (result := self._record.verify(mechanism, r)).ok]
        return AuditReport(rounds, bool(reasons), "; ".join(reasons))

    def _seed_source(self) -> int:
        """An integer drawn from the env's seeded generator (seeds the audit draws and noise seeds)."""
        return int(torch.randint(0, 2**31 - 1, (1,), generator=self._sample_gen))


def parallel_env(**config: Any) -> CredibleAuctionEnv:
    """The parallel environment (see :class:`CredibleAuctionEnv`)."""
    return CredibleAuctionEnv(**config)


def raw_env(**config: Any):
    """The AEC view, unwrapped: in a bid step only the bidders take turns, in a run step only the
    auctioneer."""
    return phased_aec(parallel_env(**config))


def env(**config: Any):
    """The AEC view with PettingZoo's order-enforcing wrapper."""
    return order_enforced(raw_env(**config))
