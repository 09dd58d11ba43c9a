"""Seconds per exact regret certificate (MIP, SCIP) on 2x2 profiles.

Run:  .venv/bin/python benchmarks/certify_speed.py [--checkpoints certnet_2x2_penalty,certnet_2x2]
          [--profiles 50] [--split auto]

Certifies bidder 0 at ``--profiles`` profiles drawn from U[0,1] (seed 0) with one thread, for
each checkpoint and each ``--split`` setting (``auto``, ``none`` = one MIP over the whole
support, or N = at most N ReLU binaries per sub-box MIP), and prints one table row each: how
many solves finished, mean, median, std and max seconds per certificate (bounds, partition,
model building and solves), sub-boxes and ReLU binaries per MIP. Goal: a mean of at most 5.5 s
per 2x2 profile, the certifying paper's figure for its 2x2 network without IR in the
architecture (Gurobi).
"""

from __future__ import annotations

import argparse
import platform
import statistics

import torch
from tqdm.auto import tqdm

from mechanisms.certification import Certifier, parse_split_binaries
from mechanisms.common.seeding import make_generators
from mechanisms.learned.checkpoints import load_checkpoint
from mechanisms.reference import CERTIFICATION_SECONDS_2X2

GOAL_SECONDS = CERTIFICATION_SECONDS_2X2["penalty"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkpoints",
        default="certnet_2x2_penalty,certnet_2x2",
        help="comma-separated certnet checkpoints (default certnet_2x2_penalty,certnet_2x2)",
    )
    parser.add_argument("--profiles", type=int, default=50, help="profiles to certify (default 50)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per certificate (default 120)")
    parser.add_argument("--split", default="auto", help="comma-separated split settings: auto, none, N (default auto)")
    parser.add_argument("--bidder", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args(argv)
    try:
        splits = [parse_split_binaries(s) for s in args.split.split(",") if s.strip()]
    except ValueError as err:
        parser.error(f"--split: {err}")
    torch.set_num_threads(1)
    rows = []
    for name in [c.strip() for c in args.checkpoints.split(",") if c.strip()]:
        model, prior, _, card = load_checkpoint(name)
        (gen,) = make_generators(0, 1)
        profiles = prior.sample(args.profiles, gen)
        for split in splits:
            certifier = Certifier(model, prior, time_limit=args.time_limit, split_binaries=split)
            label = f"{card['name']} ({model.n_bidders}x{model.n_items}, ir={model.ir})"
            certificates = [
                certifier.certify(v, args.bidder)
                for v in tqdm(profiles, desc=f"{card['name']} split={split}", unit="profile", disable=args.no_progress)
            ]
            seconds = [c.seconds for c in certificates]
            rows.append(
                (
                    label,
                    "none" if certifier.split_binaries is None else f"{split} ({certifier.split_binaries})",
                    sum(c.certified for c in certificates),
                    len(certificates),
                    seconds,
                    statistics.fmean(c.boxes for c in certificates),
                    statistics.fmean(c.binaries for c in certificates),
                    certificates[0].relus,
                )
            )
    print(
        f"\n# {platform.processor() or platform.machine()}, 1 torch thread, SCIP via PySCIPOpt; bidder {args.bidder}, "
        f"{args.profiles} profiles (seed 0), time limit {args.time_limit:g} s per certificate"
    )
    print(
        "| checkpoint | split (binaries per sub-MIP) | certified | mean s | median s | std s | max s | sub-boxes | "
        "binaries per MIP (max) | ReLUs |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, split, solved, total, seconds, boxes, binaries, relus in rows:
        print(
            f"| {label} | {split} | {solved} / {total} | {statistics.fmean(seconds):.2f} | "
            f"{statistics.median(seconds):.2f} | "
            f"{statistics.pstdev(seconds):.2f} | {max(seconds):.2f} | {boxes:.1f} | {binaries:.1f} | {relus} |"
        )
    print()
    for label, split, solved, total, seconds, *_ in rows:
        mean = statistics.fmean(seconds)
        verdict = "met" if mean <= GOAL_SECONDS and solved == total else "NOT met"
        print(
            f"{label}, split {split}: mean {mean:.2f} s per profile, {solved}/{total} certified "
            f"(goal <= {GOAL_SECONDS} s): {verdict}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
