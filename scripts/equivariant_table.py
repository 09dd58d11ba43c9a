"""The equivariant network's tables in docs/equivariant.md, each row a paired comparison.

    .venv/bin/python scripts/equivariant_table.py [--profiles 10000] [--protocol default] [--seed 0]
        [--parts 2x2,participation,sizes] [--sizes 2x2,2x3,3x2,3x3,4x2,2x4] [--no-progress]
        [--participation-network equivariant_2x2_participation_b4096_2] [--scenarios 1,2,3] [--device cuda]

Parts (every mechanism pair is evaluated on the same profiles, :func:`mechanisms.evaluation.compare`):
  * ``2x2``: ``equivariant_2x2_wide`` and ``equivariant_2x2`` against ``regretnet_2x2``, symmetric
    2 x 2 U[0,1];
  * ``participation``: ``equivariant_2x2_participation_b4096_2`` (one network; another with
    ``--participation-network``, a checkpoint name or path) against each credible scenario's
    tweaked ALGNet ``algnet_2x2_participation_sK``, in that scenario's setting;
  * ``sizes``: ``equivariant_mixed`` (trained on 2-3 bidders x 2-3 items) against item-wise
    Myerson at each of ``--sizes``, marking the sizes its card does not list as untested.
"""

from __future__ import annotations

import argparse
import warnings

import torch

import mechanisms
from auction_env.experiments.evaluation import named_mechanism
from mechanisms.evaluation import PairedComparison, compare

PARTS = ("2x2", "participation", "sizes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000, help="profiles per comparison (default 10000)")
    parser.add_argument("--protocol", default="default", help="attack protocol (default: default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"which tables (default {','.join(PARTS)})")
    parser.add_argument("--sizes", default="2x2,2x3,3x2,3x3,4x2,2x4", help="sizes of the 'sizes' table")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument(
        "--device",
        default="cpu",
        help="torch device of the evaluations (default cpu; the profiles are the same on any)",
    )
    parser.add_argument(
        "--participation-network",
        default="equivariant_2x2_participation_b4096_2",
        help="the one network of the 'participation' table (checkpoint name or path)",
    )
    parser.add_argument(
        "--scenarios", default="1,2,3", help="the credible scenarios of the 'participation' table (default 1,2,3)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown or args.profiles < 2:
        parser.error(f"--parts: one or more of {', '.join(PARTS)}; --profiles >= 2")
    try:
        sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes: a comma-separated list of NxM, got {args.sizes!r}")
    scenarios = list(dict.fromkeys(s.strip() for s in args.scenarios.split(",") if s.strip()))
    if not scenarios or any(s not in ("1", "2", "3") for s in scenarios):
        parser.error(f"--scenarios: a comma-separated list of 1, 2 and 3, got {args.scenarios!r}")
    torch.set_num_threads(args.threads)
    budget = {
        "profiles": args.profiles,
        "protocol": args.protocol,
        "seed": args.seed,
        "device": args.device,
        "progress": not args.no_progress,
    }
    print(
        f"{args.profiles:,} profiles per row, seed {args.seed}, '{args.protocol}' attack on {args.device}; "
        "a - b paired ± SE"
    )
    if "2x2" in parts:
        _table("Symmetric 2 x 2, U[0,1]", "a: the equivariant network named in the row, b: regretnet_2x2", "a")
        for name in ("equivariant_2x2_wide", "equivariant_2x2"):
            a, prior, _ = named_mechanism(name)
            b = named_mechanism("regretnet_2x2", prior=prior)[0]
            print(_row(name, compare(a, b, prior, **budget)))
    if "participation" in parts:
        _table(
            "Credible scenarios (one equivariant network, each scenario's tweaked ALGNet)",
            f"a: {args.participation_network}, b: algnet_2x2_participation_sK",
            "scenario",
        )
        for k in scenarios:
            scenario = f"participation_2x2_s{k}"
            a, prior, participation = named_mechanism(args.participation_network, scenario=scenario)
            b = named_mechanism(f"algnet_2x2_participation_s{k}", scenario=scenario, prior=prior)[0]
            print(_row(k, compare(a, b, prior, participation=participation, **budget)))
    if "sizes" in parts:
        _table("Sizes (one network trained on 2-3 x 2-3)", "a: equivariant_mixed, b: item-wise Myerson", "size")
        for n, m in sizes:
            prior = mechanisms.make_prior(n, m)
            with warnings.catch_warnings(record=True) as caught:  # untested sizes warn once; marked below
                warnings.simplefilter("always")
                a = named_mechanism("equivariant_mixed", n, m, prior=prior)[0]
                b = mechanisms.make("myerson", context={"prior": prior})
                result = compare(a, b, prior, **budget)
            untested = any("untested" in str(w.message) for w in caught)
            print(_row(f"{n}x{m}" + (" (untested)" if untested else ""), result))
    return 0


def _table(title: str, pair: str, first: str) -> None:
    print(f"\n{title}; {pair}:\n")
    columns = "a revenue | a regret | a score | b revenue | b regret | b score | revenue a - b | score a - b"
    print(f"| {first} | {columns} |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")


def _row(label: str, c: PairedComparison) -> str:
    return (
        f"| {label} | {c.a.revenue_mean:.4f} | {c.a.regret_mean:.5f} | {c.a.score:.4f} | "
        f"{c.b.revenue_mean:.4f} | {c.b.regret_mean:.5f} | {c.b.score:.4f} | "
        f"{c.revenue_diff:+.4f} ± {c.revenue_diff_stderr:.4f} | {c.score_diff:+.4f} ± {c.score_diff_stderr:.4f} |"
    )


if __name__ == "__main__":
    raise SystemExit(main())
