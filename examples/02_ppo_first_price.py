"""PPO learns to shade in a two-bidder first-price auction (one item, U[0,1] values).

The opponent plays the Bayes-Nash equilibrium bid v/2 (or bids truthfully, ``--opponent
truthful``). Against v/2 the best response is v/2 too, earning 1/6 per round; the script
reports the learned bidder's utility, its share of 1/6, and the fitted bid slope, and writes
the learning curve and a bid-against-value plot to ``--out``.

    .venv/bin/python examples/02_ppo_first_price.py                # ~30 s on a 2-core CPU
    .venv/bin/python examples/02_ppo_first_price.py --opponent truthful
"""

from __future__ import annotations

import argparse

import torch

from auction_env.experiments.bidder_training import train_bidder

OPPONENTS = {
    "equilibrium": {"policy": "shading", "params": {"factor": 0.5}},
    "truthful": "truthful",
}


def main(
    steps: int = 100_000,
    opponent: str = "equilibrium",
    out: str = "runs/example_02",
    seed: int = 0,
    eval_rounds: int = 100_000,
    algo_kwargs: dict | None = None,
) -> dict:
    torch.set_num_threads(1)  # small networks: one thread is fastest
    summary = train_bidder(
        None,
        out,
        algo="PPO",
        steps=steps,
        seed=seed,
        opponents=OPPONENTS[opponent],
        eval_rounds=eval_rounds,
        algo_kwargs=algo_kwargs,
        n_bidders=2,
        n_items=1,
        mechanism="first_price",
        rounds=100,
    )
    equilibrium = 1 / 6
    print(f"PPO vs {opponent} opponent, {steps:,} steps in {summary['wall_time_s']:.0f} s")
    print(
        f"  utility per round {summary['utility_mean']:.4f} +/- {summary['utility_stderr']:.4f}"
        + (
            f"  ({summary['utility_mean'] / equilibrium:.1%} of the equilibrium 1/6)"
            if opponent == "equilibrium"
            else ""
        )
    )
    print(f"  bid = {summary['slope'][0]:.3f} x value {summary['intercept'][0]:+.3f}   (equilibrium: 0.5 x value)")
    print(f"  learning curve and bid plot in {out}/curve.png, {out}/bids.png")
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--opponent", choices=sorted(OPPONENTS), default="equilibrium")
    parser.add_argument("--out", default="runs/example_02")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.steps, args.opponent, args.out, args.seed)
