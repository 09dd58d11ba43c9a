"""``auction-env validate SCENARIO...``: load and build scenarios without playing them."""

from __future__ import annotations

import argparse
import sys

from mechanisms.common.errors import AuctionEnvError

HELP = "check scenario files without running them"
DESCRIPTION = "Load and build every scenario (and every sweep cell) given; report the first problem of each."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO")


def run(args: argparse.Namespace) -> int:
    from auction_env.catalog import load_scenario
    from auction_env.cli import PROG

    failed = 0
    for source in args.scenarios:
        try:
            scenario = load_scenario(source)  # a bad file fails here, before torch is imported
            from auction_env.setting import validate_scenario

            cells = validate_scenario(scenario.config, source=scenario.source)
        except AuctionEnvError as err:
            print(f"{PROG}: error: {err}", file=sys.stderr)
            failed += 1
            continue
        print(f"ok  {scenario.source}" + (f"  ({cells} sweep cells)" if scenario.config.sweep else ""))
    return 2 if failed else 0
