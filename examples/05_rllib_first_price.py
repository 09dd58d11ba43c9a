"""RLlib PPO bidders with one shared policy learn to shade in a first-price auction.

Two bidders, one item, U[0,1] values, 10 independent rounds per episode (gamma = 0). Both
bidders map to the same RLlib policy (parameter sharing) and experience comes from
``--env-runners`` Ray actors on a local Ray. In the symmetric Bayes-Nash equilibrium each bids
v/2; the script fits bid = slope x value + intercept to the shared policy's deterministic bids
after every iteration and reports it.

Needs the optional extra: ``pip install 'auction-env[rllib]'`` (RLlib pins gymnasium 1.2.2).

    .venv/bin/python examples/05_rllib_first_price.py                 # ~100 s on a 2-core CPU
    .venv/bin/python examples/05_rllib_first_price.py --iterations 40 --env-runners 4
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main(
    iterations: int = 12,
    env_runners: int = 2,
    batch: int = 4000,
    minibatch: int = 500,
    epochs: int = 10,
    seed: int = 0,
    out: str | None = None,
) -> dict:
    import torch

    from auction_env.integrations.rllib import bid_function, local_ray, ppo_config
    from mechanisms.common.io import rows_to_csv, write_text_atomic

    torch.set_num_threads(1)
    with local_ray(num_cpus=max(2, env_runners)):
        config = ppo_config(
            {"n_bidders": 2, "n_items": 1, "mechanism": "first_price", "rounds": 10},
            shared=True,
            env_runners=env_runners,
            seed=seed,
            gamma=0.0,
            lr=3e-4,
            train_batch_size_per_learner=batch,
            minibatch_size=minibatch,
            num_epochs=epochs,
        )
        algo = config.build_algo()
        values = np.linspace(0.05, 0.95, 19)[:, None]
        start, history = time.perf_counter(), []
        try:
            for i in range(iterations):
                result = algo.train()
                bids = bid_function(algo, "shared", values, n_items=1)[:, 0]
                slope, intercept = np.polyfit(values[:, 0], bids, 1)
                history.append(
                    {
                        "iteration": i + 1,
                        "seconds": time.perf_counter() - start,
                        "slope": float(slope),
                        "intercept": float(intercept),
                        "return": result.get("env_runners", {}).get("episode_return_mean"),
                    }
                )
                seconds = history[-1]["seconds"]
                print(f"iteration {i + 1:>3}  {seconds:6.1f} s  bid = {slope:.3f} x value {intercept:+.3f}", flush=True)
        finally:
            algo.stop()
    if out is not None:
        write_text_atomic(f"{out}/history.csv", rows_to_csv(history))
    last = history[-1]
    print(
        f"shared policy after {iterations} iterations ({last['seconds']:.0f} s, {env_runners} env runners): "
        f"bid = {last['slope']:.3f} x value {last['intercept']:+.3f}   (equilibrium: 0.5 x value)"
    )
    return {"history": history, "slope": last["slope"], "intercept": last["intercept"], "seconds": last["seconds"]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=12)
    parser.add_argument("--env-runners", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/example_05", help="folder for history.csv (default runs/example_05)")
    args = parser.parse_args()
    main(iterations=args.iterations, env_runners=args.env_runners, seed=args.seed, out=args.out)
