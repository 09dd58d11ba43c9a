"""PettingZoo environments' speed: AEC turns and rounds per second, next to PettingZoo's rps_v2.

Run:  .venv/bin/python benchmarks/env_speed.py [--seconds 5] [--slices 10] [--mechanism second_price]

The loop is PettingZoo's ``performance_benchmark`` (every agent acts in turn with a random
action from its space, the env resets when the episode ends), timed for ``--seconds`` per env,
all in one run, each env's time cut into ``--slices`` slices taken in turn (so that a slower
spell of a shared machine slows every env alike): PettingZoo's ``rps_v2`` (the reference),
``sealed_bid_v0`` and ``credible_v0`` (2 bidders x 2 items, 100-round episodes, the
auctioneer deviating at random, every commitment, hash and audit included). A round is one
turn of every agent in ``sealed_bid_v0``; in ``credible_v0`` one turn per bidder (the bids)
and one for the auctioneer (its choice).
The same envs through the parallel API (a random action for every live agent, one ``step``),
PettingZoo's ``rps_v2`` included. Goals: ``credible_v0`` at least half as many rounds per
second as ``sealed_bid_v0`` in the AEC loop (issue 20); ``sealed_bid_v0`` at least as many
turns, and steps, per second as ``rps_v2`` (issue 23).
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import torch

GOAL = 0.5


def protocol_free_env(**config):
    """``credible_v0`` with the protocol's work skipped (no seed shares, seed, record or audit:
    every round's seed is 0): not an environment anyone should use, a bound on what the rest of
    a credible round costs (``--bounds``)."""
    from auction_env.envs import credible
    from auction_env.envs.aec import order_enforced, phased_aec

    class NoRecord:
        def seal(self, round_, bids, present) -> int:
            return 0

        def announce(self, round_, allocation, payments) -> None:
            pass

    class ProtocolFree(credible.CredibleAuctionEnv):
        def reset(self, seed=None, options=None):
            out = super().reset(seed=seed, options=options)
            self._record = NoRecord()
            return out

        def _audit(self):
            return credible.AuditReport([], False, "")

    return order_enforced(phased_aec(ProtocolFree(**config)))


class Stepper:
    """PettingZoo's performance_benchmark loop on one env (every agent acts in turn with a random
    action from its space, the env resets when the episode ends), run a slice at a time."""

    def __init__(self, env) -> None:
        self.env, self.turns, self.seconds, self.episodes = env, 0, 0.0, 0
        env.reset(seed=0)

    def run(self, seconds: float) -> None:
        env, start = self.env, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for agent in env.agent_iter(env.num_agents):
                _, _, termination, truncation, _ = env.last()
                env.step(None if termination or truncation else env.action_space(agent).sample())
                self.turns += 1
                if all(env.terminations.values()) or all(env.truncations.values()):
                    env.reset()
                    self.episodes += 1
        self.seconds += time.perf_counter() - start

    @property
    def turns_per_second(self) -> float:
        return self.turns / self.seconds


class ParallelStepper(Stepper):
    """The same for the parallel API: every live agent's random action, one ``step`` for all."""

    def run(self, seconds: float) -> None:
        env, start = self.env, time.perf_counter()
        while time.perf_counter() - start < seconds:
            env.step({agent: env.action_space(agent).sample() for agent in env.agents})
            self.turns += 1
            if not env.agents:
                env.reset()
                self.episodes += 1
        self.seconds += time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per environment (PettingZoo uses 5)")
    parser.add_argument("--mechanism", default="second_price", help="the mechanism of both auction envs")
    parser.add_argument(
        "--slices", type=int, default=10, help="each env's time is cut into this many slices, interleaved"
    )
    parser.add_argument(
        "--bounds", action="store_true", help="also time credible_v0 with its protocol skipped (a bound, not an env)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    from auction_env.envs import credible, sealed_bid

    config = {"mechanism": args.mechanism, "rounds": 100}
    credible_config = {**config, "credible": {"audits": 1, "penalty": 1.0}}
    sealed, cred = f"sealed_bid_v0 ({args.mechanism})", f"credible_v0 ({args.mechanism})"
    # (label, stepper, turns or steps per round): the AEC view and the parallel API of each env
    runs = [
        ("AEC", sealed, Stepper(sealed_bid.env(**config)), 2),
        ("AEC", cred, Stepper(credible.env(**credible_config)), 3),
        *(
            [("AEC", "(bound) credible_v0, protocol skipped", Stepper(protocol_free_env(**credible_config)), 3)]
            if args.bounds
            else []
        ),
        ("parallel", sealed, ParallelStepper(sealed_bid.parallel_env(**config)), 1),
        ("parallel", cred, ParallelStepper(credible.parallel_env(**credible_config)), 2),
    ]
    try:
        from pettingzoo.classic import rps_v2

        runs.insert(0, ("AEC", "rps_v2 (PettingZoo)", Stepper(rps_v2.env(num_actions=3, max_cycles=100)), 2))
        first_parallel = next(k for k, run in enumerate(runs) if run[0] == "parallel")
        runs.insert(
            first_parallel, ("parallel", "rps_v2 (PettingZoo)", ParallelStepper(rps_v2.parallel_env(num_actions=3)), 1)
        )
    except ImportError as err:  # pettingzoo[classic] needs pygame
        print(f"rps_v2 skipped: {err}")
    for _ in range(args.slices):  # interleaved, so that a slower or faster spell of the machine hits all alike
        for _, _, stepper, _ in runs:
            stepper.run(args.seconds / args.slices)
    print(
        f"{platform.processor() or platform.machine()}, torch threads 1, {args.seconds:g} s per env "
        f"in {args.slices} interleaved slices"
    )
    print("| API | environment | turns or steps/s | per round | rounds/s |")
    print("|---|---|---:|---:|---:|")
    rate = {}
    for api, name, stepper, per_round in runs:
        rate[api, name] = speed = stepper.turns_per_second
        print(f"| {api} | {name} | {speed:,.0f} | {per_round} | {speed / per_round:,.0f} |")
    ratio = rate["AEC", cred] / rate["AEC", sealed] * 2 / 3  # rounds per second
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"credible_v0 / sealed_bid_v0 rounds per second: {ratio:.3f} (goal >= {GOAL}, issue 20) -> {verdict}")
    bound = ("AEC", "(bound) credible_v0, protocol skipped")
    if bound in rate:
        ratio = rate[bound] / rate["AEC", sealed] * 2 / 3
        print(f"(with the protocol skipped, no seed, record or audit: {ratio:.3f}; no cheaper protocol can beat it)")
    ratio = rate["parallel", cred] / rate["parallel", sealed] / 2
    print(f"(through the parallel API, where sealed_bid_v0 has no AEC machinery to carry: {ratio:.3f})")
    for api in ("AEC", "parallel"):
        if (api, "rps_v2 (PettingZoo)") in rate:
            ratio = rate[api, sealed] / rate[api, "rps_v2 (PettingZoo)"]
            verdict = "met" if ratio >= 1 else "NOT met"
            print(f"{api}: sealed_bid_v0 / rps_v2 per turn or step: {ratio:.2f} (goal >= 1, issue 23) -> {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
