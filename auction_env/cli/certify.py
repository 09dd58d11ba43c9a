"""``auction-env certify CHECKPOINT --out DIR``: exact regret certificates of a certifiable network."""

from __future__ import annotations

import argparse

from auction_env.cli import library
from auction_env.cli.args import BadInput, comma_list, no_progress, non_negative, positive

HELP = "exact regret certificates of a certifiable network (MIP, SCIP)"
DESCRIPTION = (
    "For each of N profiles and each bidder, solve the bidder's best-misreport problem exactly as a "
    "mixed-integer program (SCIP through PySCIPOpt) and compare with gradient attacks at the same profile. "
    "Writes certificates.csv (per profile and bidder: certified regret, optimal misreport, status, gap, "
    "seconds, attack regrets) and summary.json."
)
STUDY = "mechanisms.certification.study:certify_profiles"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint", metavar="CHECKPOINT", help="a certnet checkpoint: shipped name (certnet_2x2) or card path"
    )
    profiles = library.default(STUDY, "profiles")
    parser.add_argument(
        "--profiles", type=positive, default=profiles, metavar="N", help=f"valuation profiles (default {profiles})"
    )
    parser.add_argument("--out", metavar="DIR", required=True)
    time_limit = library.default(STUDY, "time_limit")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=time_limit,
        metavar="S",
        help=f"seconds per certificate (default {time_limit:g}); a time-out is reported, never certified",
    )
    parser.add_argument(
        "--split-binaries",
        default=library.default(STUDY, "split_binaries"),
        metavar="N",
        help="split the misreport box until each sub-box's MIP has at most N ReLU binaries; "
        "'auto' (default: 48 for linear MIPs, 16 with bilinear IR payments) or 'none' (one MIP)",
    )
    tolerance = library.default(STUDY, "tolerance")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=tolerance,
        metavar="T",
        help=f"absolute tolerance of a certificate in utility (default {tolerance:g}): a solve stops once nothing "
        "can beat the best misreport found by more than T, and the reported upper bound adds T",
    )
    parser.add_argument("--bidders", metavar="I,I", help="bidders to certify (default all)")
    attacks = comma_list(library.default(STUDY, "attacks"))
    parser.add_argument(
        "--attacks", default=attacks, metavar="P,P", help=f"attack protocols to compare with (default {attacks})"
    )
    parser.add_argument("--seed", type=non_negative, default=library.default(STUDY, "seed"), metavar="N")
    no_progress(parser)


def run(args: argparse.Namespace) -> int:
    import math
    import sys
    from pathlib import Path

    import torch
    from tqdm.auto import tqdm

    from auction_env.cli import PROG
    from mechanisms.certification import CertificationError, certify_profiles, parse_split_binaries
    from mechanisms.certification.study import checked_bidders
    from mechanisms.common.io import check_writable, write_json_atomic, write_text_atomic
    from mechanisms.learned.certnet import CertNet
    from mechanisms.learned.checkpoints import load_checkpoint

    if not (math.isfinite(args.time_limit) and args.time_limit > 0):
        raise BadInput(f"--time-limit must be a positive number of seconds, got {args.time_limit}")
    if not (math.isfinite(args.tolerance) and args.tolerance >= 0):
        raise BadInput(f"--tolerance must be a number >= 0, got {args.tolerance}")
    try:
        bidders = [int(x) for x in args.bidders.split(",")] if args.bidders else None
    except ValueError:
        raise BadInput(f"--bidders: give comma-separated bidder indices, got {args.bidders!r}") from None
    attacks = [a.strip() for a in args.attacks.split(",") if a.strip()]
    try:
        split_binaries = parse_split_binaries(args.split_binaries)
    except ValueError as err:
        raise BadInput(f"--split-binaries: {err}") from None
    check_writable(args.out)
    torch.set_num_threads(1)
    model, prior, _, card = load_checkpoint(args.checkpoint)
    if not isinstance(model, CertNet):
        raise BadInput(f"{args.checkpoint}: only certnet checkpoints can be certified (this is {card['mechanism']})")
    bidders = checked_bidders(model, bidders)
    bar = tqdm(total=args.profiles * len(bidders), desc="certify", unit="solve", disable=args.no_progress)
    try:
        study = certify_profiles(
            model,
            prior,
            profiles=args.profiles,
            seed=args.seed,
            bidders=bidders,
            time_limit=args.time_limit,
            split_binaries=split_binaries,
            tolerance=args.tolerance,
            attacks=attacks,
            on_certificate=lambda c: bar.update(1),
        )
    except CertificationError as err:  # a wrong certificate: nothing is written
        bar.close()
        print(f"{PROG}: certification failed: {err}", file=sys.stderr)
        return 1
    bar.close()
    study.summary["checkpoint"] = card.get("name", str(args.checkpoint))
    out = Path(args.out)
    write_text_atomic(out / "certificates.csv", study.csv())
    write_json_atomic(out / "summary.json", study.summary)
    print(
        f"{study.summary['checkpoint']}: revenue {study.summary['revenue_mean']:.4f} "
        f"on {study.summary['profiles']} profiles"
    )
    for b in study.summary["per_bidder"]:
        cert, secs = b["certified_regret"], b["solve_seconds"]
        line = (
            f"  bidder {b['bidder']}: certified regret {cert['mean']:.5f} ({cert['std']:.5f}) "
            f"on {b['certificates']} certificates ({b['not_certified']} not certified); "
            f"solve {secs['mean']:.2f} s ({secs['std']:.2f}), median {secs['median']:.2f} s"
        )
        for a in attacks:
            line += (
                f"; {a}: {b[f'regret_{a}']['mean']:.5f}, ratio {b[f'ratio_{a}']:.3f}, "
                f"misses {100 * b[f'missed_{a}']:.0f}%"
            )
        print(line)
    print(f"certificates.csv and summary.json written to {out}")
    return 0
