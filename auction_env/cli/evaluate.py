"""``auction-env evaluate CHECKPOINT_OR_NAME`` (or ``--shipped``): revenue, welfare, IR and regret."""

from __future__ import annotations

import argparse

from auction_env.cli import library
from auction_env.cli.args import BadInput, device, no_progress, non_negative, positive

HELP = "revenue, welfare, IR and regret of a mechanism"
DESCRIPTION = (
    "Evaluate a checkpoint (shipped name or path) or a registered mechanism on fresh profiles; "
    "regret comes from a named attack protocol whose budget is printed."
)
EVALUATE = "mechanisms.evaluation:evaluate"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "mechanism", nargs="?", metavar="CHECKPOINT_OR_NAME", help="e.g. regretnet_2x2, path/to/card.json, or myerson"
    )
    parser.add_argument(
        "--shipped",
        action="store_true",
        help="evaluate every shipped checkpoint and print the results table (markdown)",
    )
    parser.add_argument(
        "--from-cards",
        action="store_true",
        help="with --shipped: print the table from the evaluation each model card holds (seconds) instead of "
        "re-evaluating (about an hour)",
    )
    profiles = library.default(EVALUATE, "profiles")
    parser.add_argument(
        "--profiles", type=positive, default=profiles, metavar="N", help=f"valuation profiles (default {profiles})"
    )
    protocols = library.keys("mechanisms.evaluation:PROTOCOLS")
    parser.add_argument(
        "--protocol",
        default=library.default(EVALUATE, "protocol"),
        choices=protocols,
        help=f"attack protocol: {', '.join(protocols)}",
    )
    parser.add_argument("--seed", type=non_negative, default=library.default(EVALUATE, "seed"), metavar="N")
    for flag, metavar in (("--n-bidders", "N"), ("--n-items", "M")):
        parser.add_argument(
            flag,
            type=positive,
            metavar=metavar,
            help="setting for a registered mechanism (U[0,1], default 2 x 2) or a network of any size "
            "(default: its card's)",
        )
    parser.add_argument(
        "--against",
        metavar="OTHER",
        help="also evaluate OTHER (a checkpoint or registered mechanism) on the same profiles and print the "
        "paired differences with standard errors",
    )
    parser.add_argument(
        "--scenario", metavar="SCENARIO", help="take the setting (and mechanism params) from a scenario's env section"
    )
    parser.add_argument("--out", metavar="FILE", help="write the result(s) as JSON")
    parser.add_argument("--device", metavar="DEV")
    no_progress(parser)


def run(args: argparse.Namespace) -> int:

    import torch

    from auction_env.experiments.evaluation import evaluate_named, results_table
    from mechanisms.common.device import free_cores
    from mechanisms.common.io import check_writable, write_json_atomic
    from mechanisms.evaluation import PairedComparison, format_comparison, format_result

    if args.out:
        check_writable(args.out, folder=False)
    torch.set_num_threads(free_cores())

    if args.shipped:
        rows, table = results_table(
            profiles=args.profiles,
            protocol=args.protocol,
            seed=args.seed,
            device=device(args.device),
            progress=not args.no_progress,
            from_cards=args.from_cards,
        )
        print(table)
        payload = rows
    else:
        if not args.mechanism:
            raise BadInput("evaluate: give a CHECKPOINT_OR_NAME or --shipped")
        result = evaluate_named(
            args.mechanism,
            n_bidders=args.n_bidders,
            n_items=args.n_items,
            scenario=args.scenario,
            against=args.against,
            profiles=args.profiles,
            protocol=args.protocol,
            seed=args.seed,
            device=device(args.device),
            progress=not args.no_progress,
        )
        print(format_comparison(result) if isinstance(result, PairedComparison) else format_result(result))
        payload = result.to_dict()
    if args.out:
        write_json_atomic(args.out, payload)
        print(f"written to {args.out}")
    return 0
