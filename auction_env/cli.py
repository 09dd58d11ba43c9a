"""``auction-env`` command line: parse and dispatch only.

Exit codes: 0 on success, 2 on bad input (one readable line on stderr, no traceback),
130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from auction_env.errors import AuctionEnvError

__all__ = ["main", "build_parser"]

PROG = "auction-env"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Learned and exact auction mechanisms as multi-agent environments.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="play a scenario and summarise it", description="Play a scenario (or every cell of its sweep) through the batched core; write config.yaml, summary.json and, for sweeps, sweep.csv.")
    run.add_argument("scenario", metavar="SCENARIO", help="a YAML path or a shipped scenario name (see `auction-env list scenarios`)")
    run.add_argument("--out", metavar="DIR", help="output folder (default runs/<name>-<timestamp>)")
    run.add_argument("--seed", type=_non_negative, metavar="N", help="override run.seed")
    run.add_argument("--episodes", type=_positive, metavar="N", help="override run.episodes (quick runs)")
    run.add_argument("--device", metavar="DEV", help="torch device (default: cuda if available, else cpu)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.set_defaults(handler=_cmd_run)

    validate = sub.add_parser("validate", help="check scenario files without running them", description="Load and build every scenario (and every sweep cell) given; report the first problem of each.")
    validate.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    validate.set_defaults(handler=_cmd_validate)

    lister = sub.add_parser("list", help="list registered mechanisms, agents, scenarios ...", description="List what can be named in a scenario.")
    lister.add_argument("what", nargs="?", default="all", choices=["all", "mechanisms", "agents", "scenarios", "priors", "participation", "envs"])
    lister.set_defaults(handler=_cmd_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage and the error
        return int(exc.code or 0)
    try:
        return args.handler(args)
    except AuctionEnvError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _cmd_run(args: argparse.Namespace) -> int:
    from auction_env.report import format_summary, format_sweep
    from auction_env.runner import run_scenario

    result = run_scenario(
        args.scenario,
        out=args.out,
        seed=args.seed,
        episodes=args.episodes,
        device=_device(args.device),
        progress=not args.no_progress,
    )
    print(f"scenario {result.scenario.name}  ({result.scenario.source})")
    if result.config.sweep is None:
        print(format_summary(result.rows[0]))
    else:
        keys = [*result.config.sweep.grid, *(["run.seed"] if result.config.sweep.seeds else [])]
        print(format_sweep(result.rows, keys))
    print(f"results written to {result.out_dir}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from auction_env.catalog import load_scenario
    from auction_env.setting import validate_scenario

    failed = 0
    for source in args.scenarios:
        try:
            scenario = load_scenario(source)
            cells = validate_scenario(scenario.config, source=scenario.source)
        except AuctionEnvError as err:
            print(f"{PROG}: error: {err}", file=sys.stderr)
            failed += 1
            continue
        print(f"ok  {scenario.source}" + (f"  ({cells} sweep cells)" if scenario.config.sweep else ""))
    return 2 if failed else 0


def _cmd_list(args: argparse.Namespace) -> int:
    import agents
    import mechanisms
    from auction_env import participation
    from auction_env.catalog import shipped_scenarios
    from auction_env.envs import registry as envs

    sections = {
        "mechanisms": mechanisms.registry.describe(),
        "agents": agents.registry.describe(),
        "priors": mechanisms.priors.describe(),
        "participation": participation.registry.describe(),
        "envs": envs.describe(),
        "scenarios": {name: "" for name in shipped_scenarios()},
    }
    for name, entries in sections.items():
        if args.what not in ("all", name):
            continue
        print(f"{name}:")
        width = max((len(k) for k in entries), default=0)
        for key, text in entries.items():
            print(f"  {key:<{width}}  {text}".rstrip())
    return 0


def _device(name: str | None):
    if name is None:
        return None
    import torch

    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise _BadInput(f"--device: {err}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise _BadInput("--device: CUDA is not available on this machine")
    return device


class _BadInput(AuctionEnvError):
    pass


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value
