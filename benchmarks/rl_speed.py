"""RL bidders: how fast PPO learns first-price shading, and how fast the RL views step.

Run:  .venv/bin/python benchmarks/rl_speed.py [--seconds S] [--threads T]

Prints one table measured in one run:
  * wall time for PPO (stable-baselines3, on the batched ``AuctionVecEnv``, 64 auctions per step)
    to reach 90% of the first-price equilibrium utility 1/6 per round (2 bidders, 1 item,
    U[0,1], opponent bidding v/2), checked every 10,000 steps on 20,000 fresh rounds;
  * ``SingleLearnerEnv`` steps per second with the shipped RegretNet 2x2 (random actions);
  * ``AuctionVecEnv`` steps per second at N = 1,024 with the shipped RegretNet 2x2.
Goals: PPO under 5 minutes; >= 5,000 single-learner steps/s; >= 100,000 vector steps/s.
Torch runs on one thread by default: at these batch sizes a second thread only adds overhead.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch
from stable_baselines3 import PPO

from agents.bidders.sb3 import SB3Policy
from auction_env.experiments.bidder_training import default_algo_kwargs, score_bidder
from auction_env.rl import AuctionVecEnv, SingleLearnerEnv

REGRETNET = {"name": "regretnet", "params": {"checkpoint": "2x2"}}
FIRST_PRICE = {"n_bidders": 2, "n_items": 1, "mechanism": "first_price", "rounds": 100}
EQUILIBRIUM = {"policy": "shading", "params": {"factor": 0.5}}


def ppo_time_to_target(
    target: float = 0.9 / 6, check_every: int = 10_000, budget: int = 1_000_000, seed: int = 0
) -> tuple[float, int, float]:
    """Seconds of training (checks excluded) and steps until the utility reaches ``target``."""
    venv = AuctionVecEnv(64, opponents=EQUILIBRIUM, **FIRST_PRICE)
    model = PPO("MlpPolicy", venv, seed=seed, device="cpu", **default_algo_kwargs("PPO", 64))
    policy = SB3Policy.from_model(model, venv.setup.setting.prior, 0, 1)
    trained, utility = 0.0, 0.0
    while model.num_timesteps < budget:
        start = time.perf_counter()
        model.learn(check_every, reset_num_timesteps=False)
        trained += time.perf_counter() - start
        utility = score_bidder(
            policy, opponents=EQUILIBRIUM, n_rounds=20_000, seed=seed + 1, **FIRST_PRICE
        ).utility_mean
        if utility >= target:
            break
    return trained, model.num_timesteps, utility


def single_learner_steps(seconds: float) -> float:
    env = SingleLearnerEnv(n_bidders=2, n_items=2, mechanism=REGRETNET, rounds=100)
    env.reset(seed=0)
    actions = np.random.default_rng(0).uniform(-1, 1, size=(4096, 2)).astype(np.float32)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for a in actions[:1000]:
            if env.step(a)[3]:
                env.reset()
        steps += 1000
    return steps / (time.perf_counter() - start)


def vector_steps(seconds: float, num_envs: int = 1024) -> float:
    venv = AuctionVecEnv(num_envs, n_bidders=2, n_items=2, mechanism=REGRETNET, rounds=100)
    venv.seed(0)
    venv.reset()
    actions = np.random.default_rng(0).uniform(-1, 1, size=(num_envs, 2)).astype(np.float32)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(20):
            venv.step(actions)
        steps += 20 * num_envs
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per stepping measurement")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# {platform.machine()}, {torch.get_num_threads()} torch thread(s), torch {torch.__version__}")
    wall, steps, utility = ppo_time_to_target()
    single = single_learner_steps(args.seconds)
    vector = vector_steps(args.seconds)
    rows = [
        ("PPO to 90% of first-price equilibrium utility", f"{wall:,.1f} s ({steps:,} steps, utility {utility:.4f})"),
        ("SingleLearnerEnv, RegretNet 2x2 (steps/s)", f"{single:,.0f}"),
        ("AuctionVecEnv N=1,024, RegretNet 2x2 (steps/s)", f"{vector:,.0f}"),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print(f"| {'what':<{width}} | {'measured':>{value_width}} |")
    print(f"|{'-' * (width + 2)}|{'-' * (value_width + 2)}|")
    for what, value in rows:
        print(f"| {what:<{width}} | {value:>{value_width}} |")
    print(
        f"\nPPO: {wall / 60:.2f} min (goal < 5)   single-learner: {single:,.0f} steps/s (goal >= 5,000)   "
        f"vector: {vector:,.0f} steps/s (goal >= 100,000)"
    )


if __name__ == "__main__":
    main()
