"""Does deviating pay? The auctioneer's mean gain over honesty against the penalty (§4.1).

    .venv/bin/python scripts/credible_penalty.py [--mechanism second_price] [--rounds 10] [--episodes 4000]
        [--out docs/images/credible_penalty.png]

Second price (or any registered mechanism) with 2 truthful bidders x 2 items, U[0,1]; one
audited round per episode of T rounds; penalties as fractions of the bound T * aRgt*
(aRgt* = sum of the items' highest values). Prints a table and writes the plot.
"""

from __future__ import annotations

import argparse

import mechanisms
from agents import auctioneers
from auction_env.core import AuctionCore
from auction_env.credible.protocol import regret_bound, simulate_protocol
from mechanisms.common.io import atomic_path

FRACTIONS = (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.25, 1.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mechanism", default="second_price")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--episodes", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="docs/images/credible_penalty.png")
    args = parser.parse_args()
    prior = mechanisms.make_prior(2, 2)
    core = AuctionCore(mechanisms.make(args.mechanism, context={"prior": prior}), prior)
    bound = args.rounds * regret_bound(core)
    curves: dict[str, list[tuple[float, float, float, float]]] = {}
    print(
        f"{args.mechanism} 2x2 U[0,1], T = {args.rounds}, 1 audit, {args.episodes:,} episodes, seed {args.seed}; "
        f"T * aRgt* = {bound:g}"
    )
    print("| auctioneer (deviation) | " + " | ".join(f"{f:g}" for f in FRACTIONS) + " |")
    print("|---|" + "---:|" * len(FRACTIONS))
    for name in ("always_deviate", "threshold"):
        for deviation in ("max_revenue", "shill_bid"):
            key = f"{name} ({deviation})"
            curves[key] = []
            for f in FRACTIONS:
                r = simulate_protocol(
                    core,
                    auctioneers.make(name),
                    rounds=args.rounds,
                    penalty=f * bound,
                    deviation=deviation,
                    episodes=args.episodes,
                    seed=args.seed,
                )
                curves[key].append((f, r.gain_mean, *r.gain_ci95))
            print(f"| {key} | " + " | ".join(f"{g:+.3f}" for _, g, _, _ in curves[key]) + " |")
    print("mean gain per episode over an honest auctioneer on the same bids (columns: penalty / (T aRgt*))")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for key, rows in curves.items():
        xs = [r[0] for r in rows]
        ax.plot(xs, [r[1] for r in rows], marker="o", ms=3, label=key)
        ax.fill_between(xs, [r[2] for r in rows], [r[3] for r in rows], alpha=0.2)
    ax.axhline(0, color="k", lw=0.8)
    ax.axvline(1, color="gray", ls="--", lw=0.8, label="penalty = T aRgt*")
    ax.set_xlabel("penalty / (T aRgt*)")
    ax.set_ylabel("auctioneer gain over honest (per episode)")
    ax.set_title(f"{args.mechanism} 2x2, T = {args.rounds}, one audit")
    ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(args.out) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    print(f"plot written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
