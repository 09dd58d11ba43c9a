"""Recovery of the inversion observer against round number when values persist over an episode.

Truthful bidders keep their values for a whole episode; the observer inverts each round's public
outcome of RegretNet 2x2 and keeps the running mean of its reconstructions. Prints the table
and writes ``persistent_observer.csv`` and ``persistent_observer.png``:

    .venv/bin/python scripts/persistent_observer.py [--episodes 100] [--rounds 12] [--sigmas 0,0.1,0.2] [--out runs/po]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from tqdm.auto import tqdm

from auction_env.experiments.persistent_observer import persistent_recovery
from mechanisms.common.io import rows_to_csv, save_figure, write_text_atomic


def plot(rows: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for sigma in sorted({r["sigma"] for r in rows}):
        mine = [r for r in rows if r["sigma"] == sigma]
        (line,) = ax.plot(
            [r["round"] for r in mine],
            [100 * r["recovery_accumulated"] for r in mine],
            "o-",
            label=f"sigma {sigma:g}, running mean",
        )
        ax.plot(
            [r["round"] for r in mine],
            [100 * r["recovery_round"] for r in mine],
            ":",
            color=line.get_color(),
            label=f"sigma {sigma:g}, that round alone",
        )
    ax.set_xlabel("round of the episode (values persist)")
    ax.set_ylabel("bids recovered within 0.02 (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--sigmas", default="0,0.1,0.2", help="output-noise levels, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/persistent_observer")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sigmas = [float(s) for s in args.sigmas.split(",") if s.strip()]
    with tqdm(total=len(sigmas) * args.rounds, desc="rounds", disable=args.no_progress) as bar:
        rows = persistent_recovery(
            sigmas=sigmas, episodes=args.episodes, rounds=args.rounds, seed=args.seed, on_round=lambda: bar.update(1)
        )
    out = Path(args.out)
    write_text_atomic(out / "persistent_observer.csv", rows_to_csv(rows))
    plot(rows, out / "persistent_observer.png")
    rounds = sorted({r["round"] for r in rows})
    shown = [r for r in rounds if r in (1, 2, 4, 8) or r == rounds[-1]]
    print("| sigma | " + " | ".join(f"round {r}: alone / running mean" for r in shown) + " |")
    print("|---:|" + "---:|" * len(shown))
    for sigma in sigmas:
        by = {r["round"]: r for r in rows if r["sigma"] == sigma}
        cells = [f"{100 * by[r]['recovery_round']:.1f}% / {100 * by[r]['recovery_accumulated']:.1f}%" for r in shown]
        print(f"| {sigma:g} | " + " | ".join(cells) + " |")
    print(f"persistent_observer.csv and persistent_observer.png written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
