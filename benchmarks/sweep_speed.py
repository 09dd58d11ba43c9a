"""Sweeps on a backend: the 24-cell ``sweep_scaling`` scenario, sequential vs local pool vs Ray.

Run:  .venv/bin/python benchmarks/sweep_speed.py [--scenario NAME] [--workers N] [--address ADDR]

Each backend runs the sweep through the command line, as a user would (``auction-env run
SCENARIO --backend ... --out DIR``, start-up included), into a fresh folder; the table gives
wall seconds, the speed-up over the sequential run, and whether its ``sweep.csv`` rows equal the
sequential ones (same seeds, same numbers). ``--address`` adds a row for an existing Ray
cluster. Needs Ray (``pip install 'auction-env[distributed]'``) for the Ray rows.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROW_KEYS_IGNORED = {"wall_time_s", "out"}


def run(scenario: str, out: Path, extra: list[str]) -> float:
    """Seconds for one ``auction-env run`` of the sweep (raises with the CLI's message on failure)."""
    env = {**os.environ, "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "auction_env", "run", scenario, "--out", str(out), "--no-progress", *extra],
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(extra)}: exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    return seconds


def rows(out: Path) -> list[dict[str, str]]:
    """The sweep's rows without the timing columns, in cell order."""
    with (out / "sweep.csv").open() as f:
        return [{k: v for k, v in r.items() if k not in ROW_KEYS_IGNORED} for r in csv.DictReader(f)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario", default="sweep_scaling", help="a scenario with a sweep (default sweep_scaling, 24 cells)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="local processes / local Ray CPUs")
    parser.add_argument("--address", default=None, help="also run on this Ray cluster (e.g. 127.0.0.1:6379)")
    args = parser.parse_args()
    backends = [
        ("sequential (--workers 1)", ["--workers", "1"]),
        (f"local pool (--workers {args.workers})", ["--backend", "local", "--workers", str(args.workers)]),
        (f"Ray, local (--workers {args.workers})", ["--backend", "ray", "--workers", str(args.workers)]),
    ]
    if args.address:
        backends.append((f"Ray, --address {args.address}", ["--backend", "ray", "--address", args.address]))
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, scenario {args.scenario}")
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for label, extra in backends:
            out = Path(tmp) / f"run{len(results)}"
            seconds = run(args.scenario, out, extra)
            results.append((label, seconds, rows(out)))
            print(f"  {label}: {seconds:.1f} s", file=sys.stderr, flush=True)
    base_seconds, base_rows = results[0][1], results[0][2]
    print("| backend | cells | seconds | speed-up | rows equal to sequential |")
    print("|---|---:|---:|---:|---|")
    for label, seconds, got in results:
        print(
            f"| {label} | {len(got)} | {seconds:.1f} | {base_seconds / seconds:.2f}x | "
            f"{'yes' if got == base_rows else 'NO'} |"
        )


if __name__ == "__main__":
    main()
