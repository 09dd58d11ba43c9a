"""The nonstationary-prior experiment: which shipped network recovers faster after its prior shifts.

The ALGNet write-up claims ALGNet "adapts more quickly than RegretNet in nonstationary cases".
Item 2's values move from U[0,1] to U[0,1.5]; the shipped ``regretnet_2x2`` and ``algnet_2x2``
are fine-tuned online on the shifted prior with the same budget (iterations of 512 profiles, each
with its own trainer, configs ``shift_regretnet_2x2.yaml`` and ``shift_algnet_2x2.yaml``), and
every ``--every`` iterations both are evaluated on the same shifted profiles with the same attack.
Writes ``nonstationary.csv``, ``nonstationary.png`` and prints the table:

    .venv/bin/python scripts/nonstationary_finetune.py [--iterations 1500] [--every 150] [--out runs/shift]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from mechanisms.common.io import rows_to_csv, save_figure, write_text_atomic
from mechanisms.evaluation import evaluate
from mechanisms.training.config import load_training_config
from mechanisms.training.loop import TrainingRun

CONFIGS = Path(__file__).parents[1] / "mechanisms" / "training" / "configs"
RUNS = {"RegretNet": "shift_regretnet_2x2.yaml", "ALGNet": "shift_algnet_2x2.yaml"}


def fine_tune(name: str, *, iterations: int, every: int, profiles: int, protocol: str, seed: int, bar) -> list[dict]:
    config = load_training_config(CONFIGS / RUNS[name])
    run = TrainingRun(config, device="cpu")
    rows, trained_s = [], 0.0
    while True:
        run.model.eval()
        result = evaluate(run.model, run.prior, profiles=profiles, protocol=protocol, seed=seed, device="cpu")
        it = run.trainer.iteration
        rows.append(
            {
                "network": name,
                "iteration": it,
                "train_seconds": round(trained_s, 2),
                "revenue": result.revenue_mean,
                "regret": result.regret_mean,
            }
        )
        if it >= iterations:
            return rows
        run.model.train()
        start = time.perf_counter()
        for _ in range(min(every, iterations - it)):
            run.trainer.step()
            bar.update(1)
        trained_s += time.perf_counter() - start


def plot(rows: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name in RUNS:
        mine = [r for r in rows if r["network"] == name]
        for ax, key in zip(axes, ("revenue", "regret")):
            ax.plot([r["iteration"] for r in mine], [r[key] for r in mine], "o-", label=name)
    axes[0].set_ylabel("revenue (shifted prior)")
    axes[1].set_ylabel("mean regret (shifted prior)")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("fine-tuning iterations after the shift")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    return save_figure(fig, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1500, help="fine-tuning iterations per network")
    parser.add_argument("--every", type=int, default=150, help="iterations between evaluations")
    parser.add_argument("--profiles", type=int, default=2000, help="shifted profiles per evaluation")
    parser.add_argument("--protocol", default="default", help="the evaluator's attack protocol")
    parser.add_argument("--seed", type=int, default=0, help="seed of the evaluation profiles")
    parser.add_argument("--out", default="runs/shift")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    rows = []
    with tqdm(total=args.iterations * len(RUNS), desc="fine-tuning", disable=args.no_progress) as bar:
        for name in RUNS:
            rows += fine_tune(
                name,
                iterations=args.iterations,
                every=args.every,
                profiles=args.profiles,
                protocol=args.protocol,
                seed=args.seed,
                bar=bar,
            )
    write_text_atomic(out / "nonstationary.csv", rows_to_csv(rows))
    plot(rows, out / "nonstationary.png")
    print("| iteration | RegretNet revenue | RegretNet regret | ALGNet revenue | ALGNet regret |")
    print("|---:|---:|---:|---:|---:|")
    by = {(r["network"], r["iteration"]): r for r in rows}
    for it in sorted({r["iteration"] for r in rows}):
        a, b = by[("RegretNet", it)], by[("ALGNet", it)]
        print(f"| {it} | {a['revenue']:.4f} | {a['regret']:.5f} | {b['revenue']:.4f} | {b['regret']:.5f} |")
    for name in RUNS:
        last = [r for r in rows if r["network"] == name][-1]
        print(f"{name}: {last['train_seconds']:.0f} s of fine-tuning (one thread)")
    print(f"nonstationary.csv and nonstationary.png written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
