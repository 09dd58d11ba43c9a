"""Seconds per exact regret certificate (MIP, SCIP) on 2x2 profiles.

Run:  .venv/bin/python benchmarks/certify_speed.py [--checkpoint certnet_2x2_penalty] [--profiles 50]

Certifies bidder 0 at ``--profiles`` profiles drawn from U[0,1] (seed 0) with one thread and
prints mean, median, std and max solve time (bounds, model building and solve), the ReLU
binaries per MIP, and how many solves finished. Goal: a mean of at most 5.5 s per 2x2 profile,
the certifying paper's figure for its 2x2 network without IR in the architecture (Gurobi).
"""

from __future__ import annotations

import argparse
import platform
import statistics

import torch
from tqdm.auto import tqdm

from auction_env.seeding import make_generators
from mechanisms.certify import Certifier
from mechanisms.results import load_checkpoint

GOAL_SECONDS = 5.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", default="certnet_2x2_penalty", help="a certnet checkpoint (default certnet_2x2_penalty)")
    parser.add_argument("--profiles", type=int, default=50, help="profiles to certify (default 50)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per solve (default 120)")
    parser.add_argument("--bidder", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model, prior, _, card = load_checkpoint(args.checkpoint)
    certifier = Certifier(model, prior, time_limit=args.time_limit)
    (gen,) = make_generators(0, 1)
    profiles = prior.sample(args.profiles, gen)
    certificates = [certifier.certify(v, args.bidder) for v in tqdm(profiles, desc="certify", unit="profile")]
    seconds = [c.seconds for c in certificates]
    solved = sum(c.certified for c in certificates)
    print(f"# {platform.processor() or platform.machine()}, 1 torch thread, SCIP via PySCIPOpt; {card['name']} "
          f"({model.n_bidders}x{model.n_items}, ir={model.ir}), bidder {args.bidder}, {args.profiles} profiles, seed 0")
    print("| what | value |")
    print("|---|---:|")
    print(f"| certified (optimal) | {solved} / {len(certificates)} |")
    print(f"| mean solve time | {statistics.fmean(seconds):.2f} s |")
    print(f"| median solve time | {statistics.median(seconds):.2f} s |")
    print(f"| std / max | {statistics.pstdev(seconds):.2f} s / {max(seconds):.2f} s |")
    print(f"| ReLU binaries per MIP (mean) | {statistics.fmean(c.binaries for c in certificates):.1f} of {certificates[0].relus} ReLUs |")
    mean = statistics.fmean(seconds)
    print(f"\nmean {mean:.2f} s per profile (goal <= {GOAL_SECONDS} s): {'met' if mean <= GOAL_SECONDS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
