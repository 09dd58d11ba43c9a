"""Does the attack find the regret? The measured regret under ``default`` next to twice its budget.

    .venv/bin/python scripts/attack_budget.py CHECKPOINT_OR_RUN [--profiles 300] [--seed 0] [--threads 1]

Beyond two items the ``default`` attack has no grid: PGD from the truthful bid and 8 random
starts, 300 Adam steps, successive halving after 50 (``mechanisms.evaluation.PROTOCOLS``). Issue
24 asks to state that budget and show on a sample of profiles that doubling it changes the
measured mean regret by less than 10%. This evaluates the same profiles (same seed) under
``default``, under twice its starts (16, the 4 best kept) and under twice its steps (600, halving
after 100), and prints each mean regret, its ratio to ``default`` and the verdict.

``CHECKPOINT_OR_RUN`` is a shipped checkpoint's name, a ``.pt`` checkpoint, or a training run
folder (``auction-env train --out DIR``: the network in its ``last.pt``, so a run still in
progress can be checked).
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
import time
from pathlib import Path

import torch

from mechanisms.common.errors import CheckpointError
from mechanisms.evaluation import evaluate, protocol
from mechanisms.learned.checkpoints import load_checkpoint

GOAL = 0.10  # largest relative change of the mean regret when the budget doubles


def load_network(source: str):
    """(network, prior, participation, label) from a checkpoint name or path, or a run folder."""
    folder = Path(source)
    if folder.is_dir():
        from mechanisms.training.loop import TrainingRun, load_training_config, read_run_state

        config = load_training_config(folder / "config.yaml")
        run = TrainingRun(config, device="cpu")
        trainer = read_run_state(folder / "last.pt")[0][0]["trainer"]  # rank 0's (every rank holds the same network)
        run.model.load_state_dict(trainer["model"])
        return (
            run.model.eval(),
            run.prior,
            run.participation,
            f"{config.name} (run {folder}, iteration {trainer['iteration']})",
        )
    mechanism, prior, participation, _ = load_checkpoint(source)
    return mechanism.eval(), prior, participation, source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="checkpoint name or path, or a training run folder")
    parser.add_argument("--profiles", type=int, default=300, help="profiles (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    if args.profiles < 2:
        parser.error("--profiles must be >= 2")
    torch.set_num_threads(args.threads)
    try:
        network, prior, participation, label = load_network(args.source)
    except (OSError, ValueError, KeyError, CheckpointError, pickle.UnpicklingError) as err:
        print(f"attack_budget: cannot load {args.source}: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    base = protocol("default")
    budgets = [
        ("default", base),
        (
            "2x starts",
            dataclasses.replace(
                base, name="default_2x_starts", random_starts=2 * base.random_starts, keep=2 * base.keep
            ),
        ),
        (
            "2x steps",
            dataclasses.replace(base, name="default_2x_steps", steps=2 * base.steps, prune_at=2 * base.prune_at),
        ),
    ]
    n, m = prior.n_bidders, prior.n_items
    print(f"{label}: {n} x {m}, {args.profiles:,} profiles, seed {args.seed}, {args.threads} thread(s)")
    print("| attack | budget | revenue | mean regret | ± SE | vs default | seconds |")
    print("|---|---|---:|---:|---:|---:|---:|")
    regrets = {}
    for key, proto in budgets:
        start = time.perf_counter()
        result = evaluate(
            network, prior, participation=participation, profiles=args.profiles, protocol=proto, seed=args.seed
        )
        regrets[key] = result.regret_mean
        ratio = result.regret_mean / regrets["default"] if regrets["default"] > 0 else float("nan")
        print(
            f"| {key} | {proto.describe(m)} | {result.revenue_mean:.4f} | {result.regret_mean:.6f} | "
            f"{result.regret_stderr:.6f} | {ratio:.3f} | {time.perf_counter() - start:.0f} |"
        )
    worst = max(abs(regrets[k] / regrets["default"] - 1) for k in regrets) if regrets["default"] > 0 else float("nan")
    verdict = "met" if worst < GOAL else "NOT met"
    print(f"largest change when the budget doubles: {worst:.1%} (goal < {GOAL:.0%}) -> {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
