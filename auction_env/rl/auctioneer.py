"""The auctioneer's seat as a Gymnasium ``Env``: learn when to deviate under audits and a penalty.

Reached through ``SingleLearnerEnv(learner="auctioneer", credible={...}, ...)``. Each step is one
round of the ``credible_v0`` protocol seen by the auctioneer: it observes the sealed bids and
its regret aRgt, and chooses to run the published mechanism (0) or the deviation (1). The
bidders follow their policies (a scenario's ``agents`` or ``bidders``), so a block of rounds is
drawn and resolved both ways in one batched call. The cryptography of ``credible_v0`` is not
replayed here: an audited round whose announced outcome differs from the published
mechanism's is caught, exactly what ``verify`` would find.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from agents.auctioneers.deviations import auctioneer_regret, deviate
from agents.observation import bidder_observations
from auction_env.catalog import load_scenario
from auction_env.credible.protocol import CredibleOptions
from auction_env.envs.boxes import bounded_box
from auction_env.rl.learner import OpponentSpec, build_learner_setup, build_policy
from auction_env.setting import build_policies
from mechanisms.common.errors import ConfigError, check_render_mode
from mechanisms.common.seeding import make_generators

__all__ = ["AuctioneerLearnerEnv"]

_BLOCK = 256


class AuctioneerLearnerEnv(gym.Env):
    """One learning auctioneer; truthful (or scripted) bidders; audits and a penalty at the end.

    Observation: ``[sealed bids (n x m, flattened), aRgt, round / rounds]``. Action:
    ``Discrete(2)``. Reward: the round's revenue; in the last step minus ``penalty`` if an
    audited round was a deviation. ``info`` holds ``aRgt`` and ``deviated``, and at the end
    ``audited_rounds`` and ``caught``.

    Args:
        scenario: gives the setting and the bidders' policies (its ``agents``).
        bidders: policy spec(s) for the bidders instead (default truthful).
        credible: ``{penalty, audits, deviation}`` (defaults 0, 1, ``max_revenue``).
        env_config: ``env`` keys overriding the scenario's.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        scenario: str | Mapping[str, Any] | None = None,
        *,
        bidders: OpponentSpec | Sequence[OpponentSpec] | None = None,
        credible: Mapping[str, Any] | None = None,
        render_mode: str | None = None,
        **env_config: Any,
    ) -> None:
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.render_mode = None
        setup = build_learner_setup(scenario, learner=0, opponents="truthful", **env_config)  # the setting
        n = setup.setting.n_bidders
        if bidders is None and scenario is not None:
            policies = list(build_policies(load_scenario(scenario).config.agents, setup.setting))
        else:
            specs = (
                list(bidders)
                if isinstance(bidders, Sequence) and not isinstance(bidders, str)
                else [bidders or "truthful"] * n
            )
            if len(specs) != n:
                raise ConfigError(f"give one bidder policy per bidder ({n}), got {len(specs)}", "bidders")
            policies = [build_policy(setup.setting, i, spec) for i, spec in enumerate(specs)]
        setup.policies = policies  # type: ignore[assignment]
        self.setup = setup
        self.rounds = setup.rounds
        options = CredibleOptions.parse(credible, self.rounds)
        self.penalty, self.audits, self.deviation = options.penalty, options.audits, options.deviation
        n, m = setup.setting.n_bidders, setup.n_items
        high = setup.setting.prior.high.numpy().reshape(-1)
        bound = float(setup.setting.prior.high.amax(0).sum())
        self.observation_space = bounded_box(
            np.concatenate([np.zeros(n * m), [-bound, 0.0]]).astype(np.float32),
            np.concatenate([high, [bound, 1.0]]).astype(np.float32),
            dtype=np.float32,
        )
        self.action_space = spaces.Discrete(2)
        self._gens: list[torch.Generator] | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or self._gens is None:
            self._gens = make_generators(seed if seed is not None else self.setup.seed, 3)
            self._audit_rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=self._gens[2])))
        self._round, self._deviated, self._differs = 0, [], []
        self._fill_block()
        return self._obs[0].copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._round >= self.rounds:
            raise RuntimeError("the episode is over: call reset() before step()")
        choice = int(np.asarray(action).reshape(()))
        if not self.action_space.contains(choice):
            raise ValueError(f"action must be 0 (run the published mechanism) or 1 (deviate), got {action!r}")
        k, deviate = self._pos, bool(choice)
        reward = float(self._alt_revenue[k] if deviate else self._pub_revenue[k])
        info: dict[str, Any] = {"aRgt": float(self._regret[k]), "deviated": deviate}
        self._deviated.append(deviate)
        self._differs.append(bool(self._differ[k]))
        self._round += 1
        truncated = self._round >= self.rounds
        if truncated:
            audited = sorted(self._audit_rng.choice(self.rounds, size=self.audits, replace=False).tolist())
            caught = any(self._deviated[r] and self._differs[r] for r in audited)
            info.update({"audited_rounds": audited, "caught": caught})
            if caught:
                reward -= self.penalty
            obs = self._obs[k].copy()
            obs[-1] = 1.0
        else:
            self._pos += 1
            if self._pos >= self._obs.shape[0]:
                self._fill_block()
            obs = self._obs[self._pos].copy()
        return obs, reward, False, truncated, info

    def _fill_block(self) -> None:
        """Draw the next rounds, let the bidders bid, resolve them honestly and with the deviation."""
        core = self.setup.setting
        size = min(_BLOCK, self.rounds - self._round)
        sample_gen, mech_gen, _ = self._gens
        with torch.inference_mode():
            vals, part = core.sample(size, sample_gen)
            obs = bidder_observations(vals, part, 0.0)
            obs[..., -1] = ((self._round + torch.arange(size, dtype=vals.dtype)) / self.rounds).unsqueeze(-1)
            bids = core.collect_bids(self.setup.policies, obs, vals, part, sample_gen)
            published = core.resolve(vals, part, bids, mech_gen, check=False)
            alt = deviate(self.deviation, core.mechanism, published.bids, part, mech_gen)
            regret = auctioneer_regret(published.outcome, alt)
            differ = ((alt.allocation - published.outcome.allocation).abs().flatten(1).amax(1) > 1e-6) | (
                (alt.payments - published.outcome.payments).abs().amax(1) > 1e-6
            )
        self._pub_revenue = published.revenue.numpy()
        self._alt_revenue = alt.revenue.numpy()
        self._regret, self._differ = regret.numpy(), differ.numpy()
        fractions = obs[:, 0, -1:].numpy()
        self._obs = np.concatenate(
            [published.bids.reshape(size, -1).numpy(), self._regret[:, None], fractions], axis=1
        ).astype(np.float32)
        self._pos = 0
