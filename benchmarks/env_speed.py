"""PettingZoo environments' speed: AEC turns and rounds per second, next to PettingZoo's rps_v2.

Run:  .venv/bin/python benchmarks/env_speed.py [--seconds 5] [--mechanism second_price]

The loop is PettingZoo's ``performance_benchmark`` (every agent acts in turn with a random
action from its space, the env resets when the episode ends), timed for ``--seconds`` per env,
all in one run: PettingZoo's ``rps_v2`` (the reference), ``sealed_bid_v0`` and ``credible_v0``
(2 bidders x 2 items, 100-round episodes, the auctioneer deviating at random, every
commitment, hash and audit included). A round is one turn of every agent in ``sealed_bid_v0``;
in ``credible_v0`` one turn per bidder (the bids) and one for the auctioneer (its choice).
Goal: ``credible_v0`` at least half as many rounds per second as ``sealed_bid_v0``.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import torch

GOAL = 0.5


def turns_per_second(env, seconds: float) -> tuple[float, int]:
    """PettingZoo's performance_benchmark loop for ``seconds``: (turns per second, episodes)."""
    env.reset(seed=0)
    turns, episodes, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for agent in env.agent_iter(env.num_agents):
            _, _, termination, truncation, _ = env.last()
            env.step(None if termination or truncation else env.action_space(agent).sample())
            turns += 1
            if all(env.terminations.values()) or all(env.truncations.values()):
                env.reset()
                episodes += 1
    return turns / (time.perf_counter() - start), episodes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per environment (PettingZoo uses 5)")
    parser.add_argument("--mechanism", default="second_price", help="the mechanism of both auction envs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    from auction_env.envs import credible, sealed_bid

    rows = []
    try:
        from pettingzoo.classic import rps_v2

        rps = rps_v2.env(num_actions=3, max_cycles=100)
        tps, _ = turns_per_second(rps, args.seconds)
        rows.append(("rps_v2 (PettingZoo)", tps, 2, tps / 2))
    except ImportError as err:  # pettingzoo[classic] needs pygame
        print(f"rps_v2 skipped: {err}")
    config = {"mechanism": args.mechanism, "rounds": 100}
    sealed, _ = turns_per_second(sealed_bid.env(**config), args.seconds)
    rows.append((f"sealed_bid_v0 ({args.mechanism})", sealed, 2, sealed / 2))
    cred, _ = turns_per_second(credible.env(**config, credible={"audits": 1, "penalty": 1.0}), args.seconds)
    rows.append((f"credible_v0 ({args.mechanism})", cred, 3, cred / 3))
    print(f"{platform.processor() or platform.machine()}, torch threads 1, {args.seconds:g} s per env")
    print("| environment | AEC turns/s | turns per round | rounds/s |")
    print("|---|---:|---:|---:|")
    for name, tps, per_round, rps_ in rows:
        print(f"| {name} | {tps:,.0f} | {per_round} | {rps_:,.0f} |")
    ratio = rows[-1][3] / rows[-2][3]
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"credible_v0 / sealed_bid_v0 rounds per second: {ratio:.3f} (goal >= {GOAL}) -> {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
