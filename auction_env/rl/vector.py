"""N single-learner auctions stepped in one batched mechanism call: an SB3 ``VecEnv``.

Per-round Python overhead bounds :class:`SingleLearnerEnv` (one mechanism call per step);
here every step plays N rounds, one per sub-environment, as one ``(N, n_bidders, n_items)``
batch, so RL training runs at the speed of the batched core.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from agents.actions import grid_bids
from agents.observation import bidder_observations
from auction_env.rl.learner import (
    LearnerSetup,
    OpponentSpec,
    build_learner_setup,
    opponent_bids,
    to_bids,
    with_learner,
)
from mechanisms.common.seeding import make_generators

__all__ = ["AuctionVecEnv"]


class AuctionVecEnv(VecEnv):
    """``num_envs`` copies of :class:`~auction_env.rl.SingleLearnerEnv`, batched.

    Same spaces, rewards and arguments as ``SingleLearnerEnv``. The sub-environments run in
    lockstep (they share the round counter), so all of them end an episode together; each
    then reports ``info["terminal_observation"]`` and ``info["TimeLimit.truncated"]`` and is
    reset, as SB3's own vector environments do. Seeding: ``seed(s)`` (what ``PPO(seed=s)``
    calls) or ``reset`` after construction with ``seed=``.
    """

    def __init__(
        self,
        num_envs: int,
        scenario: str | Mapping[str, Any] | None = None,
        *,
        learner: int = 0,
        opponents: OpponentSpec | Sequence[OpponentSpec] | None = None,
        device: torch.device | str = "cpu",
        **env_config: Any,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        self.setup: LearnerSetup = build_learner_setup(scenario, learner=learner, opponents=opponents, **env_config)
        self.device = torch.device(device)
        self.setup.setting.mechanism.to(self.device).eval()
        self.render_mode = None
        super().__init__(num_envs, self.setup.observation_space(), self.setup.action_space())
        self.learner = self.setup.learner
        self.rounds = self.setup.rounds
        self._high = self.setup.bid_high().to(self.device)
        self._sample_gen, self._mech_gen, self._bench_gen = make_generators(self.setup.seed, 3, self.device)
        self._engine = self.setup.engine  # repeated-auction options: the episodes as one batch
        self.levels = self.setup.levels
        self._round = 0
        self._actions: np.ndarray | None = None

    # -- VecEnv API ---------------------------------------------------------------------
    def reset(self) -> VecEnvObs:
        if self._seeds[0] is not None:
            self._sample_gen, self._mech_gen, self._bench_gen = make_generators(self._seeds[0], 3, self.device)
        self._reset_seeds()
        self._reset_options()
        self._round = 0
        self._draw()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._obs_np()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_async() must be called before step_wait()")
        a = torch.as_tensor(np.asarray(self._actions, dtype=np.float32), device=self.device).reshape(self.num_envs, -1)
        self._actions = None
        if a.shape[1] != self.setup.n_items or not bool(torch.isfinite(a).all()):
            raise ValueError(f"actions must be ({self.num_envs}, {self.setup.n_items}) finite numbers in [-1, 1]")
        if self.levels is not None:
            if bool(((a < 0) | (a >= self.levels) | (a != a.round())).any()):
                raise ValueError(f"actions must be whole grid levels in [0, {self.levels})")
            learner_bids = grid_bids(a, self.levels, self._high)
        else:
            learner_bids = to_bids(a, self._high)
        with torch.inference_mode():
            if self._engine is not None:
                policies = with_learner(self.setup, learner_bids)
                result = self._engine.step(policies, self._mech_gen, self._bench_gen).round
            else:
                bids = opponent_bids(self.setup, self._obs, self._vals, self._part, learner_bids, self._sample_gen)
                result = self.setup.setting.resolve(self._vals, self._part, bids, self._mech_gen, check=False)
            rewards = result.utilities[:, self.learner].cpu().numpy().astype(np.float32)
        self._round += 1
        done = self._round >= self.rounds
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if done:
            terminal = self._obs_np()
            if self._engine is None:
                terminal[:, -1] = 1.0
            for info, last in zip(infos, terminal):
                info["terminal_observation"] = last
                info["TimeLimit.truncated"] = True
            self._round = 0
        self._draw()
        dones = np.full(self.num_envs, done, dtype=bool)
        return self._obs_np(), rewards, dones, infos

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        result = getattr(self, method_name)(*method_args, **method_kwargs)
        return [result] * len(self._indices(indices))

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False] * len(self._indices(indices))

    # -- internals ----------------------------------------------------------------------
    def _indices(self, indices: VecEnvIndices) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else list(indices)

    def _draw(self) -> None:
        """Sample this round's valuations and participation for every sub-environment (with the
        dynamics engine: start new episodes at round 0, the engine draws later rounds itself)."""
        if self._engine is not None:
            if self._round == 0:
                with torch.inference_mode():
                    self._engine.reset(self.num_envs, self._sample_gen, self.device, self.setup.policies)
            return
        with torch.inference_mode():
            self._vals, self._part = self.setup.setting.sample(self.num_envs, self._sample_gen, self.device)
            self._obs = bidder_observations(self._vals, self._part, self._round / self.rounds)

    def _obs_np(self) -> np.ndarray:
        obs = self._engine.observations() if self._engine is not None else self._obs
        return obs[:, self.learner].cpu().numpy().astype(np.float32)
