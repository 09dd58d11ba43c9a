"""Train one RL bidder with stable-baselines3 against a scenario's other bidders, and score it.

Training runs on :class:`~auction_env.rl.AuctionVecEnv` (N auctions per batched call).
Outputs in the run folder:

    model.zip       the SB3 model (play it with the ``sb3`` policy: ``{policy: sb3, params: {path, algo}}``)
    curve.csv       timesteps, mean reward per round since the previous row
    curve.png       the learning curve
    bids.png        bid against value on each item, with the fitted slope
    summary.json    utility, gain over truthful bidding, bid slope, wall time, config
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from tqdm.auto import tqdm

from agents.base import BidderPolicy
from agents.bidders.sb3 import SB3Policy, algorithm
from auction_env.rl.learner import OpponentSpec, build_learner_setup, build_policy
from auction_env.rl.vector import AuctionVecEnv
from mechanisms.common.errors import ConfigError
from mechanisms.common.io import atomic_path, rows_to_csv, save_figure, write_json_atomic, write_text_atomic
from mechanisms.common.seeding import make_generators
from mechanisms.common.stats import standard_error

__all__ = ["train_bidder", "score_bidder", "scored_profiles", "BidderScore", "default_algo_kwargs"]


def default_algo_kwargs(algo: str, n_envs: int) -> dict[str, Any]:
    """Hyperparameters for one-round-horizon bidding.

    Rounds are independent (a bid changes only its own round's reward), so ``gamma = 0``;
    PPO collects about 4,096 rounds per update.
    """
    name = algo.upper()
    if name == "PPO":
        return {
            "n_steps": max(8, 4096 // n_envs),
            "batch_size": 512,
            "n_epochs": 10,
            "learning_rate": 1e-3,
            "gamma": 0.0,
            "gae_lambda": 1.0,
            "ent_coef": 0.0,
        }
    if name == "A2C":
        return {"n_steps": max(1, 256 // n_envs), "learning_rate": 1e-3, "gamma": 0.0}
    return {
        "gamma": 0.0,
        "learning_starts": 1000,
        "batch_size": 256,
        "learning_rate": 1e-3,
        "train_freq": 1,
        "gradient_steps": max(1, n_envs // 4),
    }


@dataclass
class BidderScore:
    """How a bidder policy did in a scenario (learner's seat; see :func:`score_bidder`)."""

    rounds: int
    utility_mean: float
    utility_stderr: float
    truthful_utility_mean: float
    gain_mean: float
    gain_stderr: float
    slope: list[float]
    intercept: list[float]

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class _Curve(BaseCallback):
    """Mean reward per round every ``every`` timesteps, and a progress bar."""

    def __init__(self, every: int, total: int, progress: bool) -> None:
        super().__init__()
        self.every, self.total, self.progress = every, total, progress
        self.rows: list[tuple[int, float]] = []
        self._sum, self._count, self._next = 0.0, 0, every

    def _on_training_start(self) -> None:
        self._bar = tqdm(total=self.total, unit="step", unit_scale=True, disable=not self.progress, desc="train-bidder")

    def _on_step(self) -> bool:
        rewards = np.asarray(self.locals["rewards"], dtype=np.float64)
        self._sum += float(rewards.sum())
        self._count += rewards.size
        self._bar.update(max(0, min(rewards.size, self.total - self._bar.n)))  # PPO rounds steps up to whole rollouts
        if self.num_timesteps >= self._next:
            mean = self._sum / max(self._count, 1)
            self.rows.append((self.num_timesteps, mean))
            self._bar.set_postfix(reward=f"{mean:.4f}")
            self._sum, self._count = 0.0, 0
            self._next += self.every
        return True

    def _on_training_end(self) -> None:
        self._bar.close()


def train_bidder(
    scenario: str | Mapping[str, Any] | None,
    out: str | Path,
    *,
    algo: str = "PPO",
    steps: int = 200_000,
    learner: int = 0,
    opponents: OpponentSpec | Sequence[OpponentSpec] | None = None,
    n_envs: int = 64,
    seed: int = 0,
    algo_kwargs: Mapping[str, Any] | None = None,
    eval_rounds: int = 100_000,
    progress: bool = True,
    **env_config: Any,
) -> dict[str, Any]:
    """Train bidder ``learner`` with an SB3 algorithm; write model, curve, plots and summary.

    Args:
        scenario: gives the setting and (unless ``opponents``) the other bidders' policies.
        out: run folder.
        algo: ``PPO``, ``SAC``, ``A2C``, ``TD3`` or ``DDPG``.
        steps: environment steps (rounds played by the learner).
        n_envs: auctions per batched step.
        seed: seeds the environments and the algorithm (same seed, same model).
        algo_kwargs: override :func:`default_algo_kwargs`.
        eval_rounds: rounds used to score the trained policy.
        env_config: ``env`` keys overriding the scenario's.

    Returns:
        The summary (also written to ``out/summary.json``).
    """
    cls = _algo_class(algo)
    for name, value in (("steps", steps), ("n_envs", n_envs), ("eval_rounds", eval_rounds)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}", name)
    out = Path(out)
    venv = AuctionVecEnv(n_envs, scenario, learner=learner, opponents=opponents, **env_config)
    kwargs = {**default_algo_kwargs(cls.__name__, n_envs), **dict(algo_kwargs or {})}
    try:
        model = cls("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **kwargs)
    except (TypeError, ValueError, AssertionError) as err:  # (SB3 asserts some of its arguments)
        raise ConfigError(f"{cls.__name__}: {err}", "algo_kwargs") from None
    curve = _Curve(every=max(n_envs, steps // 100), total=steps, progress=progress)
    start = time.perf_counter()
    model.learn(total_timesteps=steps, callback=curve)
    wall = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "model.zip") as tmp, open(tmp, "wb") as f:
        model.save(f)
    setup = venv.setup
    policy = SB3Policy.from_model(model, setup.setting.prior, learner, setup.n_items)
    score = score_bidder(
        policy, scenario, learner=learner, opponents=opponents, n_rounds=eval_rounds, seed=seed, **env_config
    )
    summary = {
        "algo": cls.__name__,
        "steps": steps,
        "n_envs": n_envs,
        "seed": seed,
        "learner": learner,
        "algo_kwargs": kwargs,
        "wall_time_s": wall,
        "steps_per_second": steps / wall,
        "final_curve_reward": curve.rows[-1][1] if curve.rows else float("nan"),
        **score.to_dict(),
    }
    write_text_atomic(out / "curve.csv", _curve_csv(curve.rows))
    _plot_curve(curve.rows, out / "curve.png", title=f"{cls.__name__} bidder_{learner}")
    _plot_bids(policy, setup, out / "bids.png", seed=seed)
    write_json_atomic(out / "summary.json", summary)
    return summary


def score_bidder(
    policy: BidderPolicy | OpponentSpec,
    scenario: str | Mapping[str, Any] | None = None,
    *,
    learner: int = 0,
    opponents: OpponentSpec | Sequence[OpponentSpec] | None = None,
    n_rounds: int = 100_000,
    seed: int = 0,
    batch: int = 50_000,
    **env_config: Any,
) -> BidderScore:
    """Play ``policy`` at the learner's seat for ``n_rounds`` rounds; utility, gain, bid slope.

    ``policy`` is a policy object or a spec built for the learner's seat (``"gradient"``,
    ``{"policy": "gradient", "params": {"mode": "bayesian"}}``). The same ``seed`` plays the
    same valuation profiles whatever the policy (:func:`scored_profiles` returns them). The gain
    is the policy's utility minus the truthful bid's in the same rounds (others' bids
    unchanged). The slope per item is the least-squares fit ``bid ~ intercept + slope x value``
    over rounds where the learner takes part.
    """
    setup = build_learner_setup(scenario, learner=learner, opponents=opponents, **env_config)
    core = setup.setting
    if not isinstance(policy, BidderPolicy):
        policy = build_policy(setup.setting, learner, policy)
    policies = [policy if p is None else p for p in setup.policies]
    (gen,) = make_generators(seed, 1)
    utils, gains, values, bids = [], [], [], []
    with torch.inference_mode():
        for first in range(0, n_rounds, batch):
            size = min(batch, n_rounds - first)
            played = core.play(policies, size, gen, device="cpu")
            u = played.utilities[:, learner].double()
            utils.append(u)
            gains.append(u - core.truthful_utility(played, learner, gen).double())
            present = played.participation[:, learner]
            values.append(played.valuations[present, learner])
            bids.append(played.bids[present, learner])
    u, g = torch.cat(utils), torch.cat(gains)
    v, b = torch.cat(values).double().numpy(), torch.cat(bids).double().numpy()
    slopes, intercepts = [], []
    for j in range(v.shape[1]):
        slope, intercept = np.polyfit(v[:, j], b[:, j], 1) if v.shape[0] > 1 else (float("nan"), float("nan"))
        slopes.append(float(slope))
        intercepts.append(float(intercept))
    return BidderScore(
        rounds=n_rounds,
        utility_mean=u.mean().item(),
        utility_stderr=standard_error(u),
        truthful_utility_mean=(u - g).mean().item(),
        gain_mean=g.mean().item(),
        gain_stderr=standard_error(g),
        slope=slopes,
        intercept=intercepts,
    )


def scored_profiles(
    scenario: str | Mapping[str, Any] | None = None, *, n_rounds: int = 100_000, seed: int = 0, **env_config: Any
) -> tuple[torch.Tensor, torch.Tensor]:
    """The valuations ``(n_rounds, n, m)`` and participation :func:`score_bidder` plays with ``seed``
    (``n_rounds`` up to one batch of 50,000), e.g. to evaluate regret on the same profiles."""
    setup = build_learner_setup(scenario, **env_config)
    (gen,) = make_generators(seed, 1)
    with torch.inference_mode():
        return setup.setting.sample(min(n_rounds, 50_000), gen, "cpu")


def _algo_class(name: str) -> type:
    try:
        return algorithm(name)
    except ValueError as err:
        raise ConfigError(str(err), "algo") from None


def _curve_csv(rows: list[tuple[int, float]]) -> str:
    return rows_to_csv([{"timesteps": t, "mean_reward": r} for t, r in rows])


def _plot_curve(rows: list[tuple[int, float]], path: Path, *, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    if rows:
        ax.plot([r[0] for r in rows], [r[1] for r in rows])
    ax.set_xlabel("environment steps")
    ax.set_ylabel("mean utility per round")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)


def _plot_bids(policy: Any, setup: Any, path: Path, *, seed: int, points: int = 1000) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    core = setup.setting
    policies = [policy if p is None else p for p in setup.policies]
    (gen,) = make_generators(seed + 1, 1)
    with torch.inference_mode():
        played = core.play(policies, points, gen, device="cpu")
    present = played.participation[:, setup.learner]
    v = played.valuations[present, setup.learner].numpy()
    b = played.bids[present, setup.learner].numpy()
    m = v.shape[1]
    fig, axes = plt.subplots(1, m, figsize=(3.6 * m, 3.4), squeeze=False)
    for j, ax in enumerate(axes[0]):
        ax.scatter(v[:, j], b[:, j], s=4, alpha=0.5, label="learned bid")
        top = float(setup.setting.prior.high[setup.learner, j])
        ax.plot([0, top], [0, top], "k--", lw=1, label="truthful")
        if v.shape[0] > 1:
            slope, intercept = np.polyfit(v[:, j], b[:, j], 1)
            ax.plot(
                [0, top],
                [intercept, intercept + slope * top],
                "r-",
                lw=1,
                label=f"fit: {slope:.3f} v + {intercept:.3f}",
            )
        ax.set_xlabel(f"value, item {j}")
        ax.set_ylabel("bid")
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)
