"""Each RL library's own checks on every environment configuration (issue 20): PettingZoo's
test suite, TorchRL's ``check_env_specs`` and rollouts through its ``PettingZooWrapper``
(parallel and AEC), SuperSuit's vector env with ``black_death_v3`` under SB3 PPO with a seed.
RLlib's per-agent training is in ``test_rllib.py``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    performance_benchmark,
    render_test,
    seed_test,
)

import auction_env
from auction_env.envs import credible, sealed_bid

CONFIGS = {
    "myerson_2x2": ("sealed_bid_v0", dict(mechanism="myerson")),
    "second_price_3x5": ("sealed_bid_v0", dict(n_bidders=3, n_items=5, mechanism="second_price")),
    "regretnet_2x2": ("sealed_bid_v0", dict(mechanism={"name": "regretnet", "params": {"checkpoint": "2x2"}})),
    "observer": ("sealed_bid_v0", dict(mechanism="second_price", observer={"bidder": None})),
    "credible": (
        "credible_v0",
        dict(mechanism={"name": "regretnet", "params": {"checkpoint": "2x2", "noise_std": 0.2}}),
    ),
}
AEC = {"sealed_bid_v0": sealed_bid.env, "credible_v0": credible.env}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PettingZoo warns that the roles' spaces differ
        yield


def _parallel(name: str, **extra):
    env_id, config = CONFIGS[name]
    return auction_env.make(env_id, rounds=5, **config, **extra)


def _aec(name: str, **extra):
    env_id, config = CONFIGS[name]
    return AEC[env_id](rounds=5, **config, **extra)


@pytest.mark.parametrize("name", CONFIGS)
def test_pettingzoo_test_suite(name: str) -> None:
    """parallel_api_test, api_test, parallel_seed_test, seed_test and render_test, as they are."""
    parallel_api_test(_parallel(name), num_cycles=20)
    api_test(_aec(name), num_cycles=20)
    parallel_seed_test(lambda: _parallel(name), num_cycles=20)
    seed_test(lambda: _aec(name), num_cycles=20)
    render_test(lambda render_mode=None: _aec(name, render_mode=render_mode))


def test_pettingzoo_max_cycles_test() -> None:
    """max_cycles_test passes on sealed_bid_v0 (max_cycles is the number of rounds). credible_v0
    takes max_cycles as its rounds too, but a round there is two steps (bids, then the
    auctioneer's choice), so the test's one-step-per-cycle count does not apply."""
    max_cycles_test(sealed_bid)
    env = auction_env.make("credible_v0", max_cycles=3)
    obs, _ = env.reset(seed=0)
    steps = 0
    while env.agents:
        obs, *_ = env.step({a: (o[:-2] if a != "auctioneer" else 0) for a, o in obs.items()})
        steps += 1
    assert env.rounds == 3 and steps == 6


@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "aec"])
@pytest.mark.parametrize("name", CONFIGS)
def test_torchrl_wrapper(name: str, parallel: bool) -> None:
    """TorchRL's PettingZooWrapper passes check_env_specs and rolls out 100 steps, through the
    parallel and the AEC interface: as it is, and grouped by role with the state included."""
    from torchrl.envs import PettingZooWrapper
    from torchrl.envs.utils import check_env_specs

    from auction_env.integrations.torchrl import wrap

    plain = PettingZooWrapper(env=_parallel(name) if parallel else _aec(name), use_mask=not parallel)
    check_env_specs(plain, seed=0)
    assert plain.rollout(100, break_when_any_done=False).batch_size == (100,)
    env = wrap(_parallel(name) if parallel else _aec(name), seed=0)
    roles = {"observer": {"bidder", "observer"}, "credible": {"bidder", "auctioneer"}}.get(name, {"bidder"})
    assert set(env.group_map) == roles
    check_env_specs(env, seed=0)
    rollout = env.rollout(100, break_when_any_done=False)
    payments = rollout["next", "bidder", "info", "payment"]
    assert payments.shape[:2] == (100, len(env.group_map["bidder"])) and bool((payments >= 0).all())
    assert rollout["state"].shape == (100, *_parallel(name).state_space.shape)


def test_supersuit_black_death_and_sb3_ppo_with_a_seed() -> None:
    """SuperSuit's black_death_v3 and vector env under SB3 PPO: the episode end is seen (every
    agent terminated and truncated), and the same seed learns the same weights."""
    import supersuit as ss
    from stable_baselines3 import PPO

    from auction_env.rl.shared import SeededSB3VecEnv, UnitActionWrapper

    def train(seed: int) -> np.ndarray:
        env = ss.black_death_v3(UnitActionWrapper(auction_env.parallel_env(rounds=5, mechanism="first_price")))
        vec = SeededSB3VecEnv(ss.concat_vec_envs_v1(ss.pettingzoo_env_to_vec_env_v1(env), 2, base_class="gymnasium"))
        model = PPO("MlpPolicy", vec, n_steps=16, batch_size=32, n_epochs=1, seed=seed, verbose=0)
        model.learn(160)
        return np.concatenate([p.detach().numpy().ravel() for p in model.policy.parameters()])

    assert np.array_equal(train(0), train(0)) and not np.array_equal(train(0), train(1))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["myerson_2x2", "observer", "credible"])
def test_pettingzoo_performance_benchmark(name: str, capsys) -> None:
    """PettingZoo's performance_benchmark runs (5 s each) and reports turns per second."""
    performance_benchmark(_aec(name))
    assert "turns per second" in capsys.readouterr().out


@pytest.mark.parametrize("env_id", ["auction_env/SingleLearner-v0", "auction_env/Auctioneer-v0"])
def test_gymnasium_ids_with_gymnasium_and_sb3_tooling(env_id: str) -> None:
    """gymnasium.make builds each view by id and Gymnasium's env checker passes; SB3's
    make_vec_env (which tries render_mode="rgb_array" first) builds and trains on it."""
    import gymnasium
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    assert env_id in auction_env.register_gymnasium()
    env = gymnasium.make(env_id, mechanism="first_price", rounds=8)
    check_env(env.unwrapped, skip_render_check=True)
    vec = make_vec_env(env_id, n_envs=2, seed=0, env_kwargs={"mechanism": "first_price", "rounds": 8})
    PPO("MlpPolicy", vec, n_steps=16, batch_size=32, n_epochs=1, seed=0).learn(32)
    with pytest.raises(auction_env.AuctionEnvError, match="render_mode"):
        gymnasium.make(env_id, render_mode="rgb_array")


def test_ids_register_on_import_after_gymnasium_and_importing_alone_stays_light() -> None:
    """Imported after Gymnasium, auction_env registers its ids; imported alone it does not
    import Gymnasium."""
    import subprocess
    import sys

    after = "import gymnasium, auction_env; print('auction_env/SingleLearner-v0' in gymnasium.registry)"
    alone = "import sys, auction_env; print('gymnasium' in sys.modules)"
    out = [
        subprocess.run([sys.executable, "-c", c], capture_output=True, text=True).stdout.strip() for c in (after, alone)
    ]
    assert out == ["True", "False"]
