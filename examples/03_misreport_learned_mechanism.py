"""How much can one bidder gain by lying to the shipped RegretNet 2x2?

Three misreporters take bidder_0's seat in turn (bidder_1 truthful), on the same valuation
profiles:

* ``gradient (oracle)``: sees bidder_1's report and runs the evaluator's attack (PGD from the
  truthful bid and random starts, plus a dense grid) on its own utility. Its mean gain over
  truthful bidding is the mechanism's regret, so the evaluator's regret of bidder_0 under the
  same protocol on the same profiles is printed below it.
* ``gradient (bayesian)``: does not see the other report; maximises expected utility over
  reports drawn from the prior.
* ``PPO``: an RL bidder trained with stable-baselines3 on the single-learner vector env.

    .venv/bin/python examples/03_misreport_learned_mechanism.py             # ~2 min on a 2-core CPU
"""

from __future__ import annotations

import argparse

import torch

from agents.bidders.sb3 import SB3Policy
from auction_env.experiments.bidder_training import train_bidder
from auction_env.experiments.comparison import compare_bidders
from mechanisms import make_prior

SETTING = {
    "n_bidders": 2,
    "n_items": 2,
    "mechanism": {"name": "regretnet", "params": {"checkpoint": "2x2"}},
    "rounds": 100,
}


def main(
    profiles: int = 300,
    ppo_steps: int = 100_000,
    seed: int = 0,
    protocol: str = "default",
    out: str = "runs/example_03",
    algo_kwargs: dict | None = None,
) -> list[dict]:
    torch.set_num_threads(1)  # small batches: one thread is fastest
    train_bidder(
        None,
        out,
        algo="PPO",
        steps=ppo_steps,
        seed=seed,
        opponents="truthful",
        eval_rounds=10_000,
        progress=False,
        algo_kwargs=algo_kwargs,
        **SETTING,
    )
    policies = {
        "gradient (oracle)": {"policy": "gradient", "params": {"mode": "oracle", "protocol": protocol}},
        "gradient (bayesian)": {"policy": "gradient", "params": {"mode": "bayesian"}},
        f"PPO ({ppo_steps:,} steps)": SB3Policy(f"{out}/model.zip", make_prior(2, 2), 0, 2),
    }
    rows = compare_bidders(policies, profiles=profiles, seed=seed, protocol=protocol, **SETTING)
    print(f"RegretNet 2x2, {profiles:,} profiles (seed {seed}); {rows[-1]['protocol']}")
    print(f"| {'bidder_0 plays':<28} | {'mean gain over truthful':>26} |")
    print(f"|{'-' * 30}|{'-' * 28}|")
    for row in rows:
        print(f"| {row['bidder']:<28} | {row['gain_mean']:>+12.5f} +/- {row['gain_stderr']:.5f} |")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=300)
    parser.add_argument("--ppo-steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--protocol", default="default")
    parser.add_argument("--out", default="runs/example_03")
    args = parser.parse_args()
    main(args.profiles, args.ppo_steps, args.seed, args.protocol, args.out)
