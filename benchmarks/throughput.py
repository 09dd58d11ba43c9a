"""Auction rounds per second: the batched core vs a plain NumPy reference, and PettingZoo steps.

Run:  .venv/bin/python benchmarks/throughput.py [--seconds S]

Prints one table measured in one run:
  * the batched core (sample valuations -> truthful policies -> item-wise Myerson 2x2),
    at batch 1, 1,024 and 100,000, and its NumPy round (`AuctionCore.resolve_numpy`, what the
    PettingZoo step calls) at batch 1 with valuations drawn 256 rounds at a time;
  * a plain NumPy item-wise second-price auction 2x2 (sample -> truthful -> allocate/pay),
    written below as the yardstick, at the same batch sizes;
  * PettingZoo `parallel_env` steps per second with truthful bidders (Myerson 2x2).
Goals: core >= 2x NumPy at batch 100,000 at the default thread count (issue 23); >= 20,000
PettingZoo steps per second. The core and NumPy rows of a batch size are measured in turns.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import numpy as np
import torch

import agents
import auction_env
import mechanisms
from auction_env.core import AuctionCore

N_BIDDERS, N_ITEMS = 2, 2


def numpy_second_price_rounds(batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Reference: ``batch`` item-wise second-price rounds in plain NumPy (truthful bids)."""
    values = rng.random((batch, N_BIDDERS, N_ITEMS), dtype=np.float32)
    bids = values
    winner = bids.argmax(axis=1)  # (batch, items)
    price = np.sort(bids, axis=1)[:, -2, :]  # second-highest bid
    allocation = np.zeros_like(bids)
    np.put_along_axis(allocation, winner[:, None, :], 1.0, axis=1)
    payments = (allocation * price[:, None, :]).sum(axis=2)
    return allocation, payments


def rate(fn: Callable[[], int], seconds: float) -> float:
    """Rounds per second of ``fn`` (which returns the rounds it played), after a warm-up call."""
    return rates([fn], seconds, slices=1)[0]


def rates(fns: list[Callable[[], int]], seconds: float, slices: int) -> list[float]:
    """Rounds per second of each of ``fns``, each given ``seconds`` in ``slices`` slices taken in
    turn (so that a slower spell of a shared machine slows them alike), after a warm-up call."""
    done, spent = [0] * len(fns), [0.0] * len(fns)
    for fn in fns:
        fn()
    for _ in range(slices):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            while time.perf_counter() - start < seconds / slices:
                done[k] += fn()
            spent[k] += time.perf_counter() - start
    return [d / t for d, t in zip(done, spent)]


def core_rounds(batch: int) -> Callable[[], int]:
    """A call that plays ``batch`` rounds through the batched core and returns ``batch``."""
    prior = mechanisms.make_prior(N_BIDDERS, N_ITEMS)
    core = AuctionCore(mechanisms.make("myerson", context={"prior": prior}), prior)
    policies = [agents.make("truthful") for _ in range(N_BIDDERS)]
    gen = torch.Generator().manual_seed(0)

    def go() -> int:
        with torch.inference_mode():
            core.play(policies, batch, gen)
        return batch

    return go


def core_numpy_rate(seconds: float) -> float:
    prior = mechanisms.make_prior(N_BIDDERS, N_ITEMS)
    core = AuctionCore(mechanisms.make("myerson", context={"prior": prior}), prior)
    gen = torch.Generator().manual_seed(0)

    def go() -> int:
        vals, part = (t.numpy() for t in core.sample(256, gen))
        for k in range(256):
            core.resolve_numpy(vals[k : k + 1], part[k : k + 1], vals[k : k + 1], gen)  # truthful
        return 256

    return rate(go, seconds)


def numpy_rounds(batch: int) -> Callable[[], int]:
    """A call that plays ``batch`` rounds of the NumPy reference and returns ``batch``."""
    rng = np.random.default_rng(0)

    def go() -> int:
        numpy_second_price_rounds(batch, rng)
        return batch

    return go


def pettingzoo_rate(seconds: float) -> float:
    env = auction_env.parallel_env(n_bidders=N_BIDDERS, n_items=N_ITEMS, mechanism="myerson", rounds=1000)
    obs, _ = env.reset(seed=0)

    def go() -> int:
        nonlocal obs
        steps = 0
        for _ in range(200):
            if not env.agents:
                obs, _ = env.reset()
            obs, *_ = env.step({a: o[:-2] for a, o in obs.items()})  # truthful: bid own values
            steps += 1
        return steps

    return rate(go, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per row (default 2)")
    parser.add_argument("--slices", type=int, default=5, help="core and NumPy rows take turns in this many slices")
    args = parser.parse_args(argv)
    print(
        f"# {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, numpy {np.__version__}"
    )
    rows = []
    results = {}
    for batch in (1, 1024, 100_000):
        results[("core", batch)], results[("numpy", batch)] = rates(
            [core_rounds(batch), numpy_rounds(batch)], args.seconds, slices=args.slices
        )
        rows.append((f"batched core, Myerson 2x2, batch {batch:,}", results[("core", batch)]))
        rows.append((f"NumPy reference, second price 2x2, batch {batch:,}", results[("numpy", batch)]))
        if batch == 1:
            rows.append(("core's NumPy round (resolve_numpy), Myerson 2x2, batch 1", core_numpy_rate(args.seconds)))
    pz = pettingzoo_rate(args.seconds)
    rows.append(("PettingZoo parallel_env steps, Myerson 2x2, truthful", pz))
    width = max(len(r[0]) for r in rows)
    print(f"| {'what':<{width}} | {'rounds/s':>14} |")
    print(f"|{'-' * (width + 2)}|{'-' * 16}|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value:>14,.0f} |")
    ratio = results[("core", 100_000)] / results[("numpy", 100_000)]
    print(f"\ncore / NumPy at batch 100,000: {ratio:.2f}x (goal >= 2)   PettingZoo steps/s: {pz:,.0f} (goal >= 20,000)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
