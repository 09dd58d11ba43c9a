"""An RLlib auctioneer learns when deviating pays under audits and a penalty (credible-auctions paper §4.1).

``credible_v0``: two bidders, one item, second price, T = 10 rounds per episode, one audited
round per episode. Each round the auctioneer sees the sealed bids and its regret aRgt (what
announcing the ``max_revenue`` deviation would add) and chooses to run the published mechanism
or to deviate; a deviation in the audited round costs it the penalty. The auctioneer is trained
with RLlib's multi-agent PPO (``auction_env.integrations.rllib.ppo_config(env="credible_v0")``)
while the bidders' policy stays as initialised (it is not trained: random bids). With a penalty
well below T aRgt* (aRgt* = 1, the item's highest value) deviating pays and its probability of
deviating rises; above the bound it falls toward 0. The script reports that probability on
fixed run-step observations after every iteration, for each penalty.

Needs the optional extra: ``pip install 'auction-env[rllib]'``.

    .venv/bin/python examples/07_rllib_auctioneer.py                  # under 3 minutes on a 2-core CPU
    .venv/bin/python examples/07_rllib_auctioneer.py --penalties 0.05 0.5 1.5 --iterations 10
"""

from __future__ import annotations

import argparse
import time

import numpy as np

ROUNDS = 10
ENV = {"n_bidders": 2, "n_items": 1, "mechanism": "second_price", "rounds": ROUNDS}


def probe_observations(count: int = 256, seed: int = 0) -> np.ndarray:
    """The auctioneer's observations in run steps (sealed bids, aRgt, round), from random bids."""
    import auction_env

    env = auction_env.make("credible_v0", **ENV)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    out = []
    while len(out) < count:
        if not env.agents:
            obs, _ = env.reset()
        actions = {a: rng.uniform(0, 1, 1).astype(np.float32) for a in env.bidder_agents}
        obs, *_ = env.step({**actions, "auctioneer": 0})  # the bid step
        out.append(obs["auctioneer"])
        obs, *_ = env.step({**actions, "auctioneer": 0})  # the run step
    return np.stack(out)


def deviation_probability(algo, probes: np.ndarray) -> float:
    """The trained auctioneer's mean probability of deviating on ``probes``."""
    import torch

    module = algo.get_module("auctioneer")
    with torch.no_grad():
        logits = module.forward_inference({"obs": torch.from_numpy(probes)})["action_dist_inputs"]
    return float(torch.softmax(logits, dim=-1)[:, 1].mean())


def main(
    penalties: tuple[float, ...] = (0.05, 1.5),
    iterations: int = 6,
    batch: int = 2000,
    minibatch: int = 250,
    epochs: int = 10,
    env_runners: int = 0,
    seed: int = 0,
    out: str | None = None,
) -> dict:
    import torch

    from auction_env.integrations.rllib import local_ray, ppo_config
    from mechanisms.common.io import rows_to_csv, write_text_atomic

    torch.set_num_threads(1)
    probes = probe_observations(seed=seed)
    history, start = [], time.perf_counter()
    with local_ray(num_cpus=max(2, env_runners)):
        for fraction in penalties:
            penalty = fraction * ROUNDS * 1.0  # T aRgt*, aRgt* = 1 for one item on U[0, 1]
            config = ppo_config(
                {**ENV, "credible": {"penalty": penalty, "audits": 1}},
                env="credible_v0",
                env_runners=env_runners,
                seed=seed,
                gamma=1.0,
                lr=1e-3,
                train_batch_size_per_learner=batch,
                minibatch_size=minibatch,
                num_epochs=epochs,
            ).multi_agent(policies_to_train=["auctioneer"])
            algo = config.build_algo()
            try:
                p = deviation_probability(algo, probes)
                print(f"penalty {fraction:g} T aRgt*  iteration   0  P(deviate) = {p:.3f}", flush=True)
                for i in range(iterations):
                    algo.train()
                    p = deviation_probability(algo, probes)
                    seconds = time.perf_counter() - start
                    history.append(
                        {"penalty_fraction": fraction, "iteration": i + 1, "seconds": seconds, "p_deviate": p}
                    )
                    print(f"penalty {fraction:g} T aRgt*  iteration {i + 1:>3}  P(deviate) = {p:.3f}", flush=True)
            finally:
                algo.stop()
    if out is not None:
        write_text_atomic(f"{out}/history.csv", rows_to_csv(history))
    final = {f: [h["p_deviate"] for h in history if h["penalty_fraction"] == f][-1] for f in penalties}
    print(
        "after training: "
        + ", ".join(f"penalty {f:g} T aRgt*: P(deviate) = {p:.3f}" for f, p in final.items())
        + f"   ({time.perf_counter() - start:.0f} s)"
    )
    return {"history": history, "final": final}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--penalties", type=float, nargs="+", default=[0.05, 1.5], help="penalties / (T aRgt*)")
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--env-runners", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/example_07", help="folder for history.csv (default runs/example_07)")
    args = parser.parse_args()
    main(tuple(args.penalties), iterations=args.iterations, env_runners=args.env_runners, seed=args.seed, out=args.out)
