"""Re-record the regression trajectories of every shipped scenario.

Run this only when the environment's dynamics change on purpose, then review the diff:

    .venv/bin/python scripts/record_trajectories.py [SCENARIO ...]   # default: every shipped scenario
"""

from __future__ import annotations

import argparse
from pathlib import Path

from auction_env.catalog import shipped_scenarios
from auction_env.trajectory import record_trajectory
from mechanisms.common.io import write_json_atomic

DATA = Path(__file__).parents[1] / "tests" / "data" / "trajectories"
ROUNDS, SEED = 6, 1234


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="shipped scenario names (default: all)")
    names = parser.parse_args().scenarios or shipped_scenarios()
    unknown = sorted(set(names) - set(shipped_scenarios()))
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; shipped: {', '.join(shipped_scenarios())}")
    for name in names:
        trajectory = record_trajectory(name, rounds=ROUNDS, seed=SEED)
        path = write_json_atomic(DATA / f"{name}.json", trajectory, indent=1)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
