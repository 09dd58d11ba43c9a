"""``auction-env train-inverter CHECKPOINT --out PATH``: train a learned inverter (outcome -> bids)."""

from __future__ import annotations

import argparse

from auction_env.cli import library
from auction_env.cli.args import BadInput, no_progress, non_negative, positive

HELP = "train a learned inverter (outcome -> bids) for a checkpoint"
DESCRIPTION = (
    "Train a network that reconstructs all bids from a learned mechanism's public outcome "
    "(allocations, payments) on simulated auctions at one output-noise level; writes OUT.pt and its card "
    "OUT.json with recovery rate and MAE on fresh profiles."
)
TRAIN = "agents.observers.train_inverter:train_inverter"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint", metavar="CHECKPOINT", help="a shipped checkpoint name (regretnet_2x2) or a card path"
    )
    parser.add_argument(
        "--out", metavar="PATH", required=True, help="output path without suffix (writes PATH.pt and PATH.json)"
    )
    sigma = library.default("mechanisms.learned.factories:make_regretnet", "noise_std")
    parser.add_argument(
        "--sigma", type=float, default=sigma, help=f"output noise std of the mechanism (default {sigma:g})"
    )
    for flag, param, metavar, text in (
        ("--steps", "steps", "N", "training steps"),
        ("--batch-size", "batch_size", "B", "auctions per step"),
        ("--hidden", "hidden", "H", "hidden width"),
        ("--layers", "layers", "L", "hidden layers"),
    ):
        value = library.default(TRAIN, param)
        parser.add_argument(flag, type=positive, default=value, metavar=metavar, help=f"{text} (default {value})")
    parser.add_argument("--seed", type=non_negative, default=library.default(TRAIN, "seed"), metavar="N")
    profiles = library.default("agents.observers.train_inverter:score_inverter", "profiles")
    parser.add_argument(
        "--eval-profiles",
        type=positive,
        default=profiles,
        metavar="N",
        help=f"fresh profiles to score it on (default {profiles})",
    )
    no_progress(parser)


def run(args: argparse.Namespace) -> int:
    import math
    from pathlib import Path

    from agents.observers.train_inverter import save_inverter, score_inverter, train_inverter
    from mechanisms.common.io import check_writable
    from mechanisms.learned.checkpoints import load_checkpoint

    if not (math.isfinite(args.sigma) and args.sigma >= 0):
        raise BadInput(f"--sigma must be a finite number >= 0, got {args.sigma}")
    for suffix in (".pt", ".json"):  # save_inverter writes PATH.pt and PATH.json
        check_writable(Path(args.out).with_suffix(suffix), folder=False)
    mechanism, prior, _, card = load_checkpoint(args.checkpoint)
    if not hasattr(mechanism, "noise_std"):
        raise BadInput(f"{args.checkpoint}: has no output noise setting; train inverters for learned mechanisms")
    mechanism.noise_std = args.sigma
    net, record = train_inverter(
        mechanism,
        prior,
        steps=args.steps,
        batch_size=args.batch_size,
        hidden=args.hidden,
        layers=args.layers,
        seed=args.seed,
        progress=not args.no_progress,
    )
    score = score_inverter(net, mechanism, prior, profiles=args.eval_profiles)
    path = save_inverter(
        net,
        args.out,
        target=card.get("name", str(args.checkpoint)),
        noise_std=args.sigma,
        prior=prior,
        training=record,
        evaluation={"profiles": args.eval_profiles, "threat_model": "without_bids", **score},
    )
    print(
        f"recovery {100 * score['recovery_rate']:.2f}% ± {100 * score['recovery_stderr']:.2f}, MAE {score['mae']:.4f} "
        f"on {args.eval_profiles:,} fresh profiles (sigma {args.sigma:g}); trained in {record['wall_time_s']:.0f} s"
    )
    print(f"wrote {path} and {path.with_suffix('.pt')}")
    return 0
