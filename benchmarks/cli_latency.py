"""How long the command line takes to answer ``--help`` and to report bad input (goal: under 1 s).

Run:  .venv/bin/python benchmarks/cli_latency.py [--repeats N]

Each command runs as a user types it (``python -m auction_env ...`` in a fresh process, start-up
included), ``--repeats`` times; the table gives the median and the slowest wall seconds, the
exit code and whether the goal is met. The commands fail on purpose (except ``--help``): a
missing scenario, an unknown flag, a config file that is not YAML, an unknown key. Torch is only
imported once a command has real work to do, so none of these should load it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 1.0


def commands(folder: Path) -> list[tuple[str, list[str]]]:
    broken = folder / "broken.yaml"
    broken.write_text("env: [1, 2\n")
    typo = folder / "typo.yaml"
    typo.write_text("env:\n  n_biders: 2\n")
    return [
        ("--help", ["--help"]),
        ("run --help", ["run", "--help"]),
        ("run: missing scenario", ["run", str(folder / "missing.yaml")]),
        ("run: unknown flag", ["run", "quickstart", "--bogus"]),
        ("run: broken YAML", ["run", str(broken)]),
        ("validate: unknown key", ["validate", str(typo)]),
        ("train: missing config", ["train", str(folder / "missing.yaml"), "--out", str(folder / "out")]),
        ("evaluate: bad --profiles", ["evaluate", "regretnet_2x2", "--profiles", "0"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per command (default 5)")
    args = parser.parse_args()
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; goal < {GOAL_SECONDS} s"
    )
    print("| command | median s | max s | exit | goal |")
    print("|---|---:|---:|---:|---|")
    met = True
    with tempfile.TemporaryDirectory() as tmp:
        for label, argv in commands(Path(tmp)):
            times, code = [], None
            for _ in range(args.repeats):
                start = time.perf_counter()
                code = subprocess.run(
                    [sys.executable, "-m", "auction_env", *argv], capture_output=True, text=True
                ).returncode
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            ok = median < GOAL_SECONDS
            met &= ok
            print(f"| `{label}` | {median:.2f} | {max(times):.2f} | {code} | {'met' if ok else 'NOT met'} |")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
