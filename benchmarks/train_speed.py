"""Time to train RegretNet 2x2 from scratch on this machine, and evaluator throughput.

Run:  .venv/bin/python benchmarks/train_speed.py [--config PATH] [--check-every N] [--max-minutes M] [--threads T]

Trains with ``--config`` (default mechanisms/training/configs/regretnet_2x2_fast.yaml; the
shipped checkpoint's regretnet_2x2.yaml trains longer) and, every ``--check-every`` iterations,
evaluates 1,000 fresh profiles under the default attack; the clock (training time only, checks
excluded) stops at the first check with revenue >= 0.86 and regret <= 0.002, confirmed on
10,000 profiles. Then it times the evaluator on 10,000 2x2 profiles.
Goals (issue 23): at most 3 minutes of training; 10,000 profiles evaluated in at most 60 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch

from mechanisms.evaluation import evaluate
from mechanisms.training.loop import TrainingRun, load_training_config

CONFIG = Path(__file__).parents[1] / "mechanisms" / "training" / "configs" / "regretnet_2x2_fast.yaml"
REVENUE, REGRET = 0.86, 0.002
TRAIN_GOAL, EVAL_GOAL = "<= 3 min", "<= 60 s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(CONFIG), help="training config (default: regretnet_2x2_fast)")
    parser.add_argument("--check-every", type=int, default=250, help="iterations between checks (default 250)")
    parser.add_argument("--max-minutes", type=float, default=60.0, help="give up after this much training time")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads (default: all cores)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    torch.set_num_threads(args.threads)
    print(
        f"# {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}"
    )
    run = TrainingRun(load_training_config(args.config), device="cpu")
    trained, reached = 0.0, None
    while trained < args.max_minutes * 60:
        start = time.perf_counter()
        for _ in range(args.check_every):
            metrics = run.trainer.step()
        trained += time.perf_counter() - start
        check = evaluate(run.model, run.prior, profiles=1000, seed=run.trainer.iteration)
        print(
            f"iteration {run.trainer.iteration:>6}  {trained / 60:5.1f} min  train rev {metrics['revenue']:.4f}  "
            f"check rev {check.revenue_mean:.4f} rgt {check.regret_mean:.5f}",
            flush=True,
        )
        if check.revenue_mean >= REVENUE and check.regret_mean <= REGRET:
            confirm = evaluate(run.model, run.prior, profiles=10_000, seed=999)
            print(f"  confirm on 10,000 profiles: rev {confirm.revenue_mean:.4f} rgt {confirm.regret_mean:.5f}")
            if confirm.revenue_mean >= REVENUE and confirm.regret_mean <= REGRET:
                reached = (run.trainer.iteration, trained, confirm)
                break
    start = time.perf_counter()
    timing = evaluate(run.model, run.prior, profiles=10_000, seed=7)
    eval_seconds = time.perf_counter() - start
    print()
    print("| what | value | goal |")
    print("|---|---:|---:|")
    if reached:
        it, seconds, confirm = reached
        print(
            f"| RegretNet 2x2 training to rev >= {REVENUE}, regret <= {REGRET} | {seconds / 60:.1f} min "
            f"({it:,} iterations; rev {confirm.revenue_mean:.4f}, regret {confirm.regret_mean:.5f}) | {TRAIN_GOAL} |"
        )
    else:
        print(
            f"| RegretNet 2x2 training to rev >= {REVENUE}, regret <= {REGRET} | "
            f"not reached in {trained / 60:.1f} min | {TRAIN_GOAL} |"
        )
    print(
        "| evaluator, 10,000 2x2 profiles, default protocol | "
        f"{eval_seconds:.0f} s ({10_000 / eval_seconds:,.0f} profiles/s) | {EVAL_GOAL} |"
    )
    print(f"\nattack: {timing.protocol}")
    return 0 if reached else 1


if __name__ == "__main__":
    raise SystemExit(main())
