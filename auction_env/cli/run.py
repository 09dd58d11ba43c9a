"""``auction-env run SCENARIO``: play a scenario (or every cell of its sweep) and summarise it."""

from __future__ import annotations

import argparse
import sys

from auction_env.cli import library
from auction_env.cli.args import device, no_progress, non_negative, positive

HELP = "play a scenario and summarise it"
DESCRIPTION = (
    "Play a scenario (or every cell of its sweep) through the batched core; write config.yaml, "
    "summary.json and, for sweeps, sweep.csv. A sweep's cells run on a local process pool or on Ray, each "
    "finished cell is kept in DIR/cells/, and rerunning with the same --out resumes the sweep."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "scenario", metavar="SCENARIO", help="a YAML path or a shipped scenario name (see `auction-env list scenarios`)"
    )
    parser.add_argument("--out", metavar="DIR", help="output folder (default runs/<name>-<timestamp>)")
    parser.add_argument("--seed", type=non_negative, metavar="N", help="override run.seed")
    parser.add_argument("--episodes", type=positive, metavar="N", help="override run.episodes (quick runs)")
    parser.add_argument("--rounds", type=positive, metavar="N", help="override env.rounds (quick runs)")
    parser.add_argument("--regret-profiles", type=positive, metavar="N", help="override run.regret.profiles")
    parser.add_argument("--device", metavar="DEV", help="torch device (default: cuda if available, else cpu)")
    backends = library.constant("auction_env.sweep:BACKENDS")
    parser.add_argument(
        "--backend",
        choices=backends,
        default=library.default("auction_env.runner:run_scenario", "backend"),
        help="where a sweep's cells run: local process pool (default) or Ray",
    )
    parser.add_argument(
        "--workers",
        type=positive,
        metavar="N",
        help="local processes (default: CPU count; 1 runs cells in this process), or a local Ray's CPUs",
    )
    parser.add_argument(
        "--address", metavar="ADDR", help="an existing Ray cluster for --backend ray, e.g. 127.0.0.1:6379"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace results --out holds from other settings: a sweep's cells played otherwise or beyond this "
        "sweep's grid, or a sweep's files when the scenario is not a sweep (without it such a rerun is refused)",
    )
    no_progress(parser)


def run(args: argparse.Namespace) -> int:
    from auction_env.catalog import load_scenario
    from auction_env.cli import PROG

    scenario = load_scenario(args.scenario)  # a bad file fails here, before torch is imported

    from auction_env.report import format_summary, format_sweep
    from auction_env.runner import run_scenario

    result = run_scenario(
        scenario,
        out=args.out,
        seed=args.seed,
        episodes=args.episodes,
        rounds=args.rounds,
        regret_profiles=args.regret_profiles,
        device=device(args.device),
        progress=not args.no_progress,
        backend=args.backend,
        workers=args.workers,
        address=args.address,
        overwrite=args.overwrite,
    )
    print(f"scenario {result.scenario.name}  ({result.scenario.source})")
    if result.config.sweep is None:
        print(format_summary(result.rows[0]))
    else:
        keys = [*result.config.sweep.grid, *(["run.seed"] if result.config.sweep.seeds else [])]
        print(format_sweep(result.rows, keys))
    if result.write_error is not None:
        print(f"{PROG}: error: {result.write_error}", file=sys.stderr)
        return 2
    print(f"results written to {result.out_dir}")
    failed = sum("error" in row for row in result.rows)
    if failed:
        print(
            f"{PROG}: {failed} of {len(result.rows)} sweep cells failed (their errors are in the table); "
            f"rerun with the same --out to retry only those",
            file=sys.stderr,
        )
        return 1
    return 0
