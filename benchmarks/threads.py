"""One torch thread or all cores? Training, evaluation and the environment at each thread count.

Run:  .venv/bin/python benchmarks/threads.py [--iterations N] [--profiles N] [--steps N]

Each job runs in a fresh process per thread count, interleaved and repeated (``--repeats``), so
both counts see the same machine load; the table gives the median seconds and the ratio. The
default of ``auction-env train`` and ``evaluate`` (:func:`mechanisms.common.device.free_cores`:
the cores minus the load average, at least 1) is printed above the table; ``--threads`` and
``torch.set_num_threads`` override it. A busy machine favours one thread: each extra thread
waits for a core that another job holds.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

JOBS = {
    "training": textwrap.dedent(
        """
        import tempfile
        from mechanisms.training.config import load_training_config
        from mechanisms.training.loop import train
        config = load_training_config("mechanisms/training/configs/regretnet_2x2.yaml")
        config = config.model_copy(update={"evaluation": None})
        with tempfile.TemporaryDirectory() as out:
            train(config, out, device="cpu", progress=False, iterations=ITERATIONS)
        """
    ),
    "evaluation": textwrap.dedent(
        """
        import mechanisms
        from mechanisms.evaluation import evaluate
        mech = mechanisms.load("regretnet_2x2")
        evaluate(mech, mech.setting.prior, profiles=PROFILES, protocol="default", seed=0)
        """
    ),
    "environment": textwrap.dedent(
        """
        import numpy as np
        import auction_env
        env = auction_env.parallel_env(mechanism={"name": "regretnet", "params": {"checkpoint": "2x2"}}, rounds=STEPS)
        obs, _ = env.reset(seed=0)
        while env.agents:
            obs, *_ = env.step({a: o[:-2] for a, o in obs.items()})
        """
    ),
}
ROOT = Path(__file__).resolve().parents[1]  # the jobs name the shipped config relative to it
LABELS = {
    "training": "training (RegretNet 2x2 config, {ITERATIONS} iterations)",
    "evaluation": "evaluation (RegretNet 2x2, default attack, {PROFILES} profiles)",
    "environment": "environment (sealed_bid_v0 2x2 RegretNet, {STEPS} parallel steps)",
}
PRELUDE = "import time, torch\ntorch.set_num_threads(THREADS)\nstart = time.perf_counter()\n"
EPILOGUE = "\nprint(time.perf_counter() - start)\n"


def seconds(job: str, threads: int, sizes: dict[str, int]) -> float:
    code = PRELUDE.replace("THREADS", str(threads)) + job + EPILOGUE
    for name, value in sizes.items():
        code = code.replace(name, str(value))
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=ROOT)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20, help="training iterations (default 20)")
    parser.add_argument("--profiles", type=int, default=300, help="evaluation profiles (default 300)")
    parser.add_argument("--steps", type=int, default=3000, help="environment steps (default 3000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per job and thread count (default 3)")
    parser.add_argument(
        "--jobs", default=",".join(JOBS), help=f"comma-separated subset of {', '.join(JOBS)} (default all)"
    )
    args = parser.parse_args()
    sizes = {"ITERATIONS": args.iterations, "PROFILES": args.profiles, "STEPS": args.steps}
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    from mechanisms.common.device import free_cores

    print(
        f"# {platform.machine()}, {cores} cores, load average {load:.2f} at start; median of {args.repeats}; "
        f"the default (free cores) picks {free_cores()} thread(s) now"
    )
    print(f"| job | 1 thread (s) | {cores} threads (s) | {cores} threads / 1 thread | faster |")
    print("|---|---:|---:|---:|---|")
    chosen = [j.strip() for j in args.jobs.split(",") if j.strip()]
    unknown = [j for j in chosen if j not in JOBS]
    if unknown:
        parser.error(f"unknown job(s) {', '.join(unknown)}; choose from {', '.join(JOBS)}")
    for name in chosen:
        job, label = JOBS[name], LABELS[name].format(**sizes)
        runs: dict[int, list[float]] = {1: [], cores: []}
        for _ in range(args.repeats):
            for threads in runs:  # interleaved: both counts see the same load
                runs[threads].append(seconds(job, threads, sizes))
        one, many = statistics.median(runs[1]), statistics.median(runs[cores])
        print(f"| {label} | {one:.2f} | {many:.2f} | {many / one:.2f} | {'1 thread' if one <= many else 'all cores'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
