"""Learning under stochastic participation: tweaked vs untweaked vs item-wise Myerson.

    .venv/bin/python scripts/participation_table.py [--profiles 10000] [--protocol default] [--seed 0]
        [--scenarios 1,2,3] [--tweaked NAME_OR_CARD] [--paired-profiles N] [--paired-only]

For each 2x2 scenario of the credible-auctions paper §6 (``scenarios/participation_2x2_s{1,2,3}``)
evaluates, on the same profiles and the scenario's participation model:
  * the ALGNet learned on the scenario's tweaked dataset (``algnet_2x2_participation_sK``, or
    ``--tweaked``: a shipped name or card path where ``{k}`` stands for the scenario number),
  * the ALGNet learned without participation (``algnet_2x2``, the "untweaked" network),
  * item-wise Myerson,
and prints aggregated revenue, regret and score, the tweaked network's revenue minus the
untweaked one's on the same profiles (paired: the standard error of the difference is far
smaller than either revenue's; ``--paired-profiles`` sets how many profiles it uses, and as it
needs no attack it is cheap at 100,000; ``--paired-only`` prints just that), then revenue /
regret per participation profile, with the paper's Tables 1-3 beside them.
"""

from __future__ import annotations

import argparse

import torch

import mechanisms
from auction_env.catalog import load_scenario
from mechanisms import participation as participation_models
from mechanisms.common.errors import CheckpointError
from mechanisms.evaluation import evaluate, evaluation_profiles
from mechanisms.learned.checkpoints import load_checkpoint
from mechanisms.reference import PARTICIPATION_AGGREGATED, PARTICIPATION_PER_PROFILE

PAPER_AGG, PAPER_PROFILES = PARTICIPATION_AGGREGATED, PARTICIPATION_PER_PROFILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profiles", type=int, default=10_000, help="profiles per scenario and mechanism (default 10000)"
    )
    parser.add_argument("--protocol", default="default", help="attack protocol (default: default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenarios", default="1,2,3", help="which of the three scenarios (default 1,2,3)")
    parser.add_argument(
        "--tweaked",
        default="algnet_2x2_participation_s{k}",
        help="the tweaked network per scenario: a shipped name or card path, {k} = scenario "
        "(default: the shipped ones)",
    )
    parser.add_argument(
        "--paired-profiles",
        type=int,
        default=None,
        metavar="N",
        help="profiles for the paired revenue difference (default: --profiles)",
    )
    parser.add_argument(
        "--paired-only", action="store_true", help="print only the paired revenue differences (no attacks)"
    )
    args = parser.parse_args(argv)
    for flag, value in (("--profiles", args.profiles), ("--paired-profiles", args.paired_profiles)):
        if value is not None and value < 2:
            parser.error(f"{flag} must be at least 2, got {value}")
    paired_profiles = args.paired_profiles or args.profiles
    torch.set_num_threads(1)
    if args.paired_only:
        print(f"2 bidders x 2 items U[0,1]; seed {args.seed}; revenue only (no attack)")
    else:
        print(
            f"2 bidders x 2 items U[0,1]; {args.profiles:,} profiles per cell, seed {args.seed}, "
            f"'{args.protocol}' attack; paper in brackets"
        )
    agg_rows, profile_rows, paired_rows = [], [], []
    for k in sorted({int(x) for x in args.scenarios.split(",") if x.strip()}):
        if k not in PAPER_AGG:
            parser.error(f"--scenarios: {k} is not one of 1, 2, 3")
        env = load_scenario(f"participation_2x2_s{k}").config.env
        spec = env.participation
        participation = participation_models.make(2, model=spec.model, **spec.params)
        prior = mechanisms.make_prior(2, 2)
        contenders = {}
        tweaked = args.tweaked.replace("{k}", str(k))
        for label, name in (("tweaked", tweaked), ("untweaked", "algnet_2x2")):
            try:
                contenders[label] = load_checkpoint(name)[0]
            except CheckpointError as err:
                if label == "tweaked" and args.tweaked != parser.get_default("tweaked"):
                    parser.error(f"--tweaked: {err}")
                print(f"scenario {k}: {label}: {err}")
        contenders["item-wise Myerson"] = mechanisms.make("myerson", context={"prior": prior})
        for label, mechanism in contenders.items():
            if args.paired_only:
                break
            res = evaluate(
                mechanism,
                prior,
                participation=participation,
                profiles=args.profiles,
                protocol=args.protocol,
                seed=args.seed,
            )
            paper = PAPER_AGG[k][0 if label == "tweaked" else 1] if label != "item-wise Myerson" else None
            ref = f" ({paper[0]:.3f} / {paper[1]:.0e})" if paper else ""
            agg_rows.append(
                f"| {k} | {label} | {res.revenue_mean:.4f} ± {res.revenue_stderr:.4f} | {res.regret_mean:.5f} | "
                f"{res.score:.4f} |{ref} |"
            )
            if label == "tweaked":
                cells = []
                for pattern in ((1, 1), (1, 0), (0, 1)):
                    row = next((p for p in res.per_participation if tuple(p["participation"]) == pattern), None)
                    pr = PAPER_PROFILES[k][pattern]
                    cells.append(
                        f"{row['revenue_mean']:.3f} / {row['regret_mean']:.4f} ({pr[0]:.3f} / {pr[1]:.0e})"
                        if row
                        else "—"
                    )
                profile_rows.append(f"| {k} | " + " | ".join(cells) + " |")
        if "tweaked" in contenders and "untweaked" in contenders:
            diff = _revenues(contenders["tweaked"], prior, participation, paired_profiles, args.seed) - _revenues(
                contenders["untweaked"], prior, participation, paired_profiles, args.seed
            )
            paired_rows.append(f"| {k} | {diff.mean().item():+.4f} ± {diff.std().item() / diff.numel() ** 0.5:.4f} |")
    if paired_rows:
        print(
            f"\nTweaked minus untweaked aggregated revenue on the same {paired_profiles:,} profiles "
            "(mean ± standard error of the paired difference):\n"
        )
        print("| scenario | revenue difference |")
        print("|---:|---:|")
        print("\n".join(paired_rows))
    if args.paired_only:
        return 0
    print("\n| scenario | mechanism | aggregated revenue | aggregated regret | score | paper revenue / regret |")
    print("|---:|---|---:|---:|---:|---:|")
    print("\n".join(agg_rows))
    print("\nTweaked networks per participation profile, revenue / regret (paper's Table 3):\n")
    print("| scenario | <1,1> | <1,0> | <0,1> |")
    print("|---:|---:|---:|---:|")
    print("\n".join(profile_rows))
    return 0


def _revenues(mechanism, prior, participation, profiles: int, seed: int) -> torch.Tensor:
    """Revenue per profile on the profiles and participation draws :func:`evaluate` uses for ``seed``."""
    v, _, attack_gen = evaluation_profiles(prior, profiles, seed, participation=participation)
    with torch.no_grad():
        return mechanism.run(v, generator=attack_gen, check=False).payments.sum(-1).double()


if __name__ == "__main__":
    raise SystemExit(main())
