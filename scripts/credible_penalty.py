"""Does deviating pay? The auctioneer's mean gain over honesty against the penalty (§4.1).

    .venv/bin/python scripts/credible_penalty.py [--rounds 10] [--episodes 4000] [--seed 0]
        [--out docs/images/credible_penalty.png]

Two panels, 2 truthful bidders x 2 items, U[0,1], one audited round per episode of T rounds:
second price with the deviations that announce another outcome (``max_revenue``,
``shill_bid``), and RegretNet 2x2 with output noise (sigma = 0.2) with the deviations the
protocol's log now exposes (``seed_grind``: 32 seeds per round; ``drop_bidder``: a present
bidder marked absent). Penalties are fractions of the bound T * aRgt* (aRgt* = sum of the
items' highest values). Prints a table per panel and writes the plot.
"""

from __future__ import annotations

import argparse

import mechanisms
from agents import auctioneers
from auction_env.core import AuctionCore
from auction_env.credible.protocol import regret_bound, simulate_protocol
from mechanisms.common.io import atomic_path

FRACTIONS = (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.25, 1.5)
PANELS = (
    ("second price", "second_price", {}, ("max_revenue", "shill_bid")),
    ("RegretNet 2x2, noise 0.2", "regretnet", {"checkpoint": "2x2", "noise_std": 0.2}, ("seed_grind", "drop_bidder")),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--episodes", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="docs/images/credible_penalty.png")
    args = parser.parse_args()
    prior = mechanisms.make_prior(2, 2)
    panels: dict[str, dict[str, list[tuple[float, float, float, float]]]] = {}
    for title, name, params, deviations in PANELS:
        core = AuctionCore(mechanisms.make(name, context={"prior": prior}, **params), prior)
        bound = args.rounds * regret_bound(core)
        print(
            f"\n{title}, 2x2 U[0,1], T = {args.rounds}, 1 audit, {args.episodes:,} episodes, seed {args.seed}; "
            f"T * aRgt* = {bound:g}"
        )
        print("| auctioneer (deviation) | " + " | ".join(f"{f:g}" for f in FRACTIONS) + " |")
        print("|---|" + "---:|" * len(FRACTIONS))
        curves = panels[title] = {}
        for auctioneer in ("always_deviate", "threshold"):
            for deviation in deviations:
                key = f"{auctioneer} ({deviation})"
                curves[key] = []
                for f in FRACTIONS:
                    r = simulate_protocol(
                        core,
                        auctioneers.make(auctioneer),
                        rounds=args.rounds,
                        penalty=f * bound,
                        deviation=deviation,
                        episodes=args.episodes,
                        seed=args.seed,
                    )
                    curves[key].append((f, r.gain_mean, *r.gain_ci95))
                print(f"| {key} | " + " | ".join(f"{g:+.3f}" for _, g, _, _ in curves[key]) + " |")
    print("\nmean gain per episode over an honest auctioneer on the same bids (columns: penalty / (T aRgt*))")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(11, 3.8))
    for ax, (title, curves) in zip(axes, panels.items()):
        for key, rows in curves.items():
            xs = [r[0] for r in rows]
            ax.plot(xs, [r[1] for r in rows], marker="o", ms=3, label=key)
            ax.fill_between(xs, [r[2] for r in rows], [r[3] for r in rows], alpha=0.2)
        ax.axhline(0, color="k", lw=0.8)
        ax.axvline(1, color="gray", ls="--", lw=0.8, label="penalty = T aRgt*")
        ax.set_xlabel("penalty / (T aRgt*)")
        ax.set_title(f"{title}, T = {args.rounds}, one audit", fontsize=9)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("auctioneer gain over honest (per episode)")
    fig.tight_layout()
    with atomic_path(args.out) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    print(f"plot written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
