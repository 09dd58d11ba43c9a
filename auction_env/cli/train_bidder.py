"""``auction-env train-bidder SCENARIO --out DIR``: train an RL bidder with stable-baselines3."""

from __future__ import annotations

import argparse

from auction_env.cli import library
from auction_env.cli.args import BadInput, no_progress, non_negative, positive

HELP = "train an RL bidder with stable-baselines3"
DESCRIPTION = (
    "Train one bidder of a scenario with an SB3 algorithm against the scenario's other bidders "
    "(batched vector env); writes model.zip, curve.csv, curve.png, bids.png and summary.json (utility, gain "
    "over truthful bidding, bid slope)."
)
TRAIN = "auction_env.experiments.bidder_training:train_bidder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="a YAML path or a shipped scenario name")
    algo = library.default(TRAIN, "algo")
    parser.add_argument(
        "--algo",
        default=algo,
        type=str.upper,
        choices=library.constant("agents.bidders.sb3:ALGORITHMS"),
        help=f"SB3 algorithm (default {algo})",
    )
    steps = library.default(TRAIN, "steps")
    parser.add_argument(
        "--steps", type=positive, default=steps, metavar="N", help=f"environment steps (default {steps})"
    )
    parser.add_argument("--out", metavar="DIR", required=True, help="run folder")
    learner = library.default(TRAIN, "learner")
    parser.add_argument(
        "--bidder", type=non_negative, default=learner, metavar="I", help=f"the learning bidder (default {learner})"
    )
    n_envs = library.default(TRAIN, "n_envs")
    parser.add_argument(
        "--n-envs", type=positive, default=n_envs, metavar="N", help=f"auctions per batched step (default {n_envs})"
    )
    parser.add_argument("--seed", type=non_negative, default=library.default(TRAIN, "seed"), metavar="N")
    eval_rounds = library.default(TRAIN, "eval_rounds")
    parser.add_argument(
        "--eval-rounds",
        type=positive,
        default=eval_rounds,
        metavar="N",
        help=f"rounds to score the trained bidder (default {eval_rounds})",
    )
    parser.add_argument(
        "--algo-kwargs", metavar="JSON", help="override hyperparameters, e.g. '{\"learning_rate\": 3e-4}'"
    )
    no_progress(parser)


def run(args: argparse.Namespace) -> int:
    import json

    import torch

    from auction_env.experiments.bidder_training import train_bidder
    from mechanisms.common.io import check_writable

    kwargs = None
    if args.algo_kwargs:
        try:
            kwargs = json.loads(args.algo_kwargs)
        except json.JSONDecodeError as err:
            raise BadInput(f"--algo-kwargs: not valid JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(kwargs, dict):
            raise BadInput("--algo-kwargs: give a JSON object")
    check_writable(args.out)
    torch.set_num_threads(1)  # small networks and batches: one thread is fastest
    summary = train_bidder(
        args.scenario,
        args.out,
        algo=args.algo,
        steps=args.steps,
        learner=args.bidder,
        n_envs=args.n_envs,
        seed=args.seed,
        algo_kwargs=kwargs,
        eval_rounds=args.eval_rounds,
        progress=not args.no_progress,
    )
    slope = ", ".join(f"{s:.3f}" for s in summary["slope"])
    print(
        f"{summary['algo']} bidder_{args.bidder}: "
        f"utility {summary['utility_mean']:.4f} +/- {summary['utility_stderr']:.4f}, "
        f"gain over truthful {summary['gain_mean']:+.4f} +/- {summary['gain_stderr']:.4f}, bid slope {slope} "
        f"({summary['steps']:,} steps in {summary['wall_time_s']:.0f} s)"
    )
    print(f"model, curve and plots written to {args.out}")
    return 0
