"""``auction-env collusion --out DIR``: the algorithmic-collusion experiment (learning bidders in a
long repeated auction), scenario by scenario, with learning curves of the collusion metrics."""

from __future__ import annotations

import argparse
from pathlib import Path

from auction_env.cli import library
from auction_env.cli.args import no_progress, non_negative, positive

HELP = "algorithmic collusion of learning bidders (Banchio and Skrzypacz 2022)"
DESCRIPTION = (
    "Play each scenario's episodes as independent learning runs and track revenue / competitive revenue, "
    "mean bid / equilibrium bid and winner rotation over rounds. Writes collusion.csv, summary.json and "
    "collusion.png, and prints the last window's figures (mean, sd, min and max over episodes)."
)
RUN = "auction_env.experiments.collusion:collusion_run"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    scenarios = library.constant("auction_env.experiments.collusion:SCENARIOS")
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        default=list(scenarios),
        help=f"scenarios with metrics: true (default {', '.join(scenarios)})",
    )
    parser.add_argument("--out", metavar="DIR", required=True)
    parser.add_argument("--rounds", type=positive, metavar="N", help="override env.rounds (learning periods)")
    parser.add_argument("--episodes", type=positive, metavar="N", help="override run.episodes (learning runs)")
    parser.add_argument("--seed", type=non_negative, metavar="N", help="override run.seed")
    window = library.default(RUN, "window")
    parser.add_argument(
        "--window", type=positive, default=window, metavar="N", help=f"rounds per curve point (default {window})"
    )
    no_progress(parser)


def run(args: argparse.Namespace) -> int:
    import torch
    from tqdm.auto import tqdm

    from auction_env.experiments.collusion import METRICS, collusion_config, collusion_run, write_collusion
    from mechanisms.common.io import check_writable

    torch.set_num_threads(1)
    out = Path(args.out)
    # every scenario checked, with the overrides, before any work
    overrides = {"rounds": args.rounds, "episodes": args.episodes, "seed": args.seed}
    loaded = [collusion_config(name, **overrides)[0] for name in args.scenarios]
    check_writable(out)
    total = sum(args.rounds or s.config.env.rounds for s in loaded)
    runs = []
    with tqdm(total=total, unit="round", unit_scale=True, desc="collusion", disable=args.no_progress) as bar:
        for scenario in loaded:
            runs.append(
                collusion_run(
                    scenario,
                    rounds=args.rounds,
                    episodes=args.episodes,
                    window=args.window,
                    seed=args.seed,
                    on_rounds=bar.update,
                )
            )
    write_collusion(runs, out)
    print(f"{'scenario':<32}" + "".join(f" {m + ' (mean ± sd) [min, max]':<40}" for m in METRICS))
    for r in runs:
        final = r.final()
        cells = [
            f"{final[m]['mean']:.3f} ± {final[m]['sd']:.3f} [{final[m]['min']:.3f}, {final[m]['max']:.3f}]"
            for m in METRICS
        ]
        print(f"{r.scenario:<32}" + "".join(f" {c:<40}" for c in cells))
    print(f"collusion.csv, summary.json and collusion.png written to {out}")
    return 0
