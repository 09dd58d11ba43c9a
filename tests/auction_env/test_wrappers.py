"""Single-learner Gymnasium env, the batched SB3 VecEnv, and the shared-policy SuperSuit path."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3 import PPO
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from auction_env import ConfigError
from auction_env.cli import main
from auction_env.rl import AuctionVecEnv, SingleLearnerEnv, shared_policy_vec_env
from auction_env.rl.learner import to_actions
from auction_env.runner import run_scenario

TINY_PPO = {"n_steps": 32, "batch_size": 64, "n_epochs": 2}

CONFIGS = {
    "myerson_2x2": {"n_bidders": 2, "n_items": 2, "mechanism": "myerson"},
    "regretnet_2x2": {
        "n_bidders": 2,
        "n_items": 2,
        "mechanism": {"name": "regretnet", "params": {"checkpoint": "2x2"}},
    },
    "first_price_3x1_participation": {
        "n_bidders": 3,
        "n_items": 1,
        "mechanism": "first_price",
        "participation": {"model": "independent", "p": 0.7},
    },
    "asymmetric": {
        "n_bidders": 2,
        "n_items": 3,
        "mechanism": "second_price",
        "prior": {"type": "uniform", "high": {"per_bidder": [1.0, 2.0]}},
    },
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_check_env(name: str) -> None:
    """Gymnasium's and SB3's env checkers accept the single-learner view."""
    env = SingleLearnerEnv(rounds=20, learner=1 if name == "asymmetric" else 0, **CONFIGS[name])
    gym_check_env(env, skip_render_check=True)
    sb3_check_env(env, warn=True)


def test_single_learner_is_seeded_and_truncates() -> None:
    """Same seed, same trajectory; the episode truncates after `rounds` steps."""

    def trajectory(seed: int) -> list:
        env = SingleLearnerEnv(rounds=300, opponents="random", **CONFIGS["myerson_2x2"])
        env.action_space.seed(0)
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for t in range(300):
            obs, reward, term, trunc, info = env.step(env.action_space.sample())
            out += [obs, reward]
            assert trunc == (t == 299) and not term
        return out

    a, b, c = trajectory(1), trajectory(1), trajectory(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_actions_rescale_to_bids() -> None:
    """Action -1 bids 0, +1 bids the upper support; a truthful action earns the truthful utility."""
    env = SingleLearnerEnv(rounds=10, opponents="truthful", **CONFIGS["asymmetric"], learner=1)
    obs, _ = env.reset(seed=0)
    _, _, _, _, info = env.step(np.ones(3, dtype=np.float32))
    assert np.allclose(info["bid"], 2.0)
    _, _, _, _, info = env.step(-np.ones(3, dtype=np.float32))
    assert np.allclose(info["bid"], 0.0)
    with pytest.raises(ValueError, match="action"):
        env.step(np.array([np.nan, 0, 0], dtype=np.float32))


def test_scenario_opponents_and_bad_learner() -> None:
    """Opponents come from the scenario's agents; a learner index out of range is a clear error."""
    env = SingleLearnerEnv("first_price_rl")
    assert type(env.policies()[1]).__name__ == "Shading" and env.policies()[0] is None
    with pytest.raises(ConfigError, match="learner"):
        SingleLearnerEnv("first_price_rl", learner=2)
    with pytest.raises(ConfigError, match="Did you mean"):
        SingleLearnerEnv("first_price_rl", opponents="truthfull")


def test_vec_env_steps_batched_and_resets() -> None:
    """N auctions per step; all end together with terminal observations; truthful actions earn >= 0 in Myerson."""
    venv = AuctionVecEnv(16, rounds=3, **CONFIGS["myerson_2x2"])
    venv.seed(0)
    obs = venv.reset()
    assert obs.shape == (16, 4)
    for t in range(3):
        actions = to_actions(torch.from_numpy(obs[:, :2]), torch.ones(2)).numpy()
        obs, rewards, dones, infos = venv.step(actions)
        assert rewards.shape == (16,) and (rewards >= -1e-6).all()
        assert dones.all() == (t == 2)
    assert all("terminal_observation" in i and i["TimeLimit.truncated"] for i in infos)
    assert (obs[:, -1] == 0).all()  # reset: round fraction back to 0


def _ppo_params(model: PPO) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.policy.parameters()]


def test_tiny_ppo_is_reproducible() -> None:
    """A few hundred PPO steps on the vector env run, and a seeded rerun gives identical weights."""
    runs = []
    for _ in range(2):
        venv = AuctionVecEnv(
            8,
            n_bidders=2,
            n_items=1,
            mechanism="first_price",
            opponents={"policy": "shading", "params": {"factor": 0.5}},
        )
        model = PPO("MlpPolicy", venv, seed=3, device="cpu", **TINY_PPO)
        model.learn(512)
        runs.append(_ppo_params(model))
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_shared_policy_path_is_seeded() -> None:
    """PPO(seed=...) works on the SuperSuit vector env (the ConcatVecEnv seed issue) and repeats."""
    runs = []
    for _ in range(2):
        venv = shared_policy_vec_env(n_bidders=2, n_items=1, mechanism="first_price", rounds=16, copies=2)
        assert venv.num_envs == 4
        model = PPO("MlpPolicy", venv, seed=5, device="cpu", **TINY_PPO)
        model.learn(256)
        runs.append(_ppo_params(model))
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_shared_policy_needs_identical_bidders() -> None:
    with pytest.raises(ConfigError, match="identical bidders"):
        shared_policy_vec_env(**CONFIGS["asymmetric"])


def test_train_bidder_cli_and_sb3_policy(tmp_path) -> None:
    """train-bidder writes model, curve and plots; the sb3 policy plays the model in a scenario."""
    out = tmp_path / "ppo"
    code = main(
        [
            "train-bidder",
            "first_price_rl",
            "--steps",
            "512",
            "--n-envs",
            "8",
            "--out",
            str(out),
            "--eval-rounds",
            "2000",
            "--algo-kwargs",
            json.dumps(TINY_PPO),
            "--no-progress",
        ]
    )
    assert code == 0
    for name in ("model.zip", "curve.csv", "curve.png", "bids.png", "summary.json"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 512 and len(summary["slope"]) == 1
    scenario = {
        "env": {"n_bidders": 2, "n_items": 1, "mechanism": "first_price", "rounds": 5},
        "agents": [
            {"policy": "sb3", "params": {"path": str(out / "model.zip"), "algo": "PPO"}, "bidders": [0]},
            {"policy": "truthful"},
        ],
        "run": {"episodes": 200},
    }
    result = run_scenario(scenario, write=False, progress=False)
    row = result.rows[0]
    assert row["gain_over_truthful"][0] is not None and row["gain_over_truthful"][1] is None


def test_sb3_policy_bad_path_and_bad_kwargs(tmp_path, capsys) -> None:
    """A missing model and invalid --algo-kwargs fail with one line and exit code 2."""
    scenario = {
        "env": {"n_bidders": 2, "n_items": 1},
        "agents": [{"policy": "sb3", "params": {"path": str(tmp_path / "nope.zip")}}],
    }
    with pytest.raises(ConfigError, match=r"agents\[0\].*no SB3 model"):
        run_scenario(scenario, write=False, progress=False)
    assert main(["train-bidder", "first_price_rl", "--out", str(tmp_path / "x"), "--algo-kwargs", "{bad"]) == 2
    assert "--algo-kwargs" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "mechanism",
    [CONFIGS["regretnet_2x2"]["mechanism"], {"name": "regretnet", "params": {"checkpoint": "2x2", "noise_std": 0.3}}],
)
def test_single_learner_rewards_match_the_core(mechanism) -> None:
    """Each step's reward is the learner's utility from AuctionCore.resolve on the same bids (NumPy and torch paths)."""
    env = SingleLearnerEnv(
        n_bidders=2, n_items=2, mechanism=mechanism, participation={"model": "independent", "p": 0.6}, rounds=50
    )
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(50):
        k = env._pos
        obs, reward, _, _, info = env.step(rng.uniform(-1, 1, 2).astype(np.float32))
        bids = torch.from_numpy(env._last["bids"]).unsqueeze(0)
        if mechanism.get("params", {}).get("noise_std"):
            assert np.isclose(
                reward, env._last["values"][0] @ env._last["allocation"][0] - env._last["payments"][0], atol=1e-6
            )
            continue
        with torch.inference_mode():
            ref = env.setup.setting.resolve(env._vals[k : k + 1], env._part[k : k + 1], bids, None, check=False)
        assert np.isclose(reward, ref.utilities[0, 0].item(), atol=1e-5)


def test_auctioneer_seat_through_single_learner_env() -> None:
    """SingleLearnerEnv(learner="auctioneer") passes check_env; a deviator is caught when every round is audited."""
    env = SingleLearnerEnv(
        learner="auctioneer",
        n_bidders=2,
        n_items=2,
        mechanism="second_price",
        rounds=8,
        credible={"penalty": 50.0, "audits": 8},
    )
    gym_check_env(env, skip_render_check=True)
    sb3_check_env(env, warn=True)
    obs, _ = env.reset(seed=0)
    total, info, gains = 0.0, {}, []
    for _ in range(8):
        obs, reward, _, truncated, info = env.step(1)
        gains.append(info["aRgt"])
        total += reward
    assert min(gains) >= -1e-6 and max(gains) > 1e-3  # deviating never loses revenue and here gains some
    assert truncated and info["caught"] and total < 0
    obs, _ = env.reset(seed=0)
    for _ in range(8):
        obs, reward, _, truncated, info = env.step(0)
    assert not info["caught"]
    model = PPO("MlpPolicy", env, seed=0, device="cpu", **TINY_PPO)
    model.learn(64)
