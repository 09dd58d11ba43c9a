"""Bid recovery from item-wise Myerson outcomes (reserve 0.5), next to Stein et al.'s Table 6.

    .venv/bin/python scripts/myerson_privacy.py [--profiles 100000] [--seed 0]

Recovery = share of bids within ±0.02 of the truth; with bidder info the observer is bidder 0
and only the other bidders' bids count. The lower bound is Lemma A.1 (with the factor n its
proof needs, see ``agents.observers.myerson.naive_accuracy_bound``).
"""

from __future__ import annotations

import argparse

import torch

import mechanisms
from agents import observers
from agents.observers.myerson import naive_accuracy_bound
from auction_env.experiments.privacy import score_reconstruction
from mechanisms.reference import MYERSON_INVERSION


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(
        f"item-wise Myerson, U[0,1] values (reserve 0.5), {args.profiles:,} profiles, seed {args.seed}; "
        "recovery within ±0.02 (%)"
    )
    print("| setting | naive (paper) | intelligent (paper) | intelligent, with bids (paper) | Lemma A.1 bound |")
    print("|---|---:|---:|---:|---:|")
    for (n, m), paper in MYERSON_INVERSION.items():
        prior = mechanisms.make_prior(n, m)
        mech = mechanisms.make("myerson", context={"prior": prior})
        gen = torch.Generator().manual_seed(args.seed)
        v = prior.sample(args.profiles, gen)
        out = mech.run(v, generator=gen)
        cells = []
        for name, kw in (
            ("myerson_naive", {}),
            ("myerson_intelligent", {}),
            ("myerson_intelligent", {"own_bids": v[:, 0], "bidder": 0}),
        ):
            guess = observers.make(name, context={"prior": prior}).reconstruct(
                out.allocation, out.payments, item_payments=out.item_payments, **kw
            )
            score = score_reconstruction(guess, v, exclude_bidder=kw.get("bidder"))
            cells.append(f"{100 * score.recovery_rate:.2f} ± {100 * score.recovery_stderr:.2f}")
        print(
            f"| {n}x{m} | "
            + " | ".join(f"{c} ({p:.2f})" for c, p in zip(cells, paper))
            + f" | {100 * naive_accuracy_bound(n, 0.5):.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
