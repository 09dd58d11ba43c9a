"""The README's table of strategic bidders' gains over truthful bidding, per mechanism.

For each mechanism (2 bidders x 2 items, U[0,1]): bidder_0 is a gradient misreporter
(oracle, then Bayesian), a PPO bidder trained with ``train_bidder`` or a learned misreport
network (``agents.bidders.misreport_net``, trained white-box against the truthful bidder_1;
mechanisms with gradients or a relaxation only); bidder_1 is truthful;
all rows use the same valuation profiles, and the last column is the evaluator's regret of
bidder_0 on those profiles under the same attack protocol as the oracle.

    .venv/bin/python scripts/strategic_gains.py [--profiles 1000] [--ppo-steps 100000] [--out runs/gains]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from tqdm.auto import tqdm

from agents.bidders.misreport_net import train_misreporter
from agents.bidders.sb3 import SB3Policy
from auction_env.experiments.bidder_training import train_bidder
from auction_env.experiments.comparison import compare_bidders
from auction_env.rl.learner import build_learner_setup
from mechanisms import make_prior
from mechanisms.base import Mechanism
from mechanisms.common.io import write_json_atomic, write_text_atomic

MECHANISMS = {
    "second_price": "second_price",
    "myerson": "myerson",
    "first_price": "first_price",
    "regretnet_2x2": {"name": "regretnet", "params": {"checkpoint": "2x2"}},
}


COLUMNS = ("oracle", "bayesian", "ppo", "learned", "evaluator regret")


def format_table(
    table: dict, *, profiles: int, seed: int, ppo_steps: int, protocol: str, misreport_iterations: int
) -> list[str]:
    """Markdown lines: one row per mechanism, gains (mean ± stderr) per bidder kind."""
    cell = lambda r: f"{r['gain_mean']:+.5f} ± {r['gain_stderr']:.5f}" if r else "—"  # noqa: E731
    lines = [
        "bidder_0's mean gain over truthful bidding (bidder_1 truthful), 2x2 U[0,1], "
        f"{profiles:,} profiles, seed {seed}, PPO {ppo_steps:,} steps, learned misreport network "
        f"{misreport_iterations:,} iterations; oracle and evaluator: protocol `{protocol}`",
        "",
        "| mechanism | gradient (oracle) | gradient (bayesian) | PPO | learned misreport "
        "| evaluator regret, bidder_0 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, rows in table.items():
        by_name = {r["bidder"]: r for r in rows}
        lines.append(f"| {name} | " + " | ".join(cell(by_name.get(c)) for c in COLUMNS) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--ppo-steps", type=int, default=100_000)
    parser.add_argument("--misreport-iterations", type=int, default=2000)
    parser.add_argument("--protocol", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/gains")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    table = {}
    for name, mechanism in tqdm(MECHANISMS.items(), desc="mechanisms"):
        setting = {"n_bidders": 2, "n_items": 2, "mechanism": mechanism, "rounds": 100}
        train_bidder(
            None,
            out / f"ppo_{name}",
            steps=args.ppo_steps,
            seed=args.seed,
            opponents="truthful",
            eval_rounds=10_000,
            progress=False,
            **setting,
        )
        policies = {
            "oracle": {"policy": "gradient", "params": {"mode": "oracle", "protocol": args.protocol}},
            "bayesian": {"policy": "gradient", "params": {"mode": "bayesian"}},
            "ppo": SB3Policy(str(out / f"ppo_{name}" / "model.zip"), make_prior(2, 2), 0, 2),
        }
        setup = build_learner_setup(**setting)
        mech = setup.setting.mechanism
        if mech.differentiable or type(mech).relaxed_outcome is not Mechanism.relaxed_outcome:
            trained = train_misreporter(
                mech, setup.setting.prior, 0, setup.policies, iterations=args.misreport_iterations, seed=args.seed
            )
            policies["learned"] = trained.policy
        table[name] = compare_bidders(
            policies, profiles=args.profiles, seed=args.seed, protocol=args.protocol, **setting
        )
    lines = format_table(
        table,
        profiles=args.profiles,
        seed=args.seed,
        ppo_steps=args.ppo_steps,
        protocol=args.protocol,
        misreport_iterations=args.misreport_iterations,
    )
    print("\n".join(lines))
    write_json_atomic(out / "gains.json", table)
    write_text_atomic(out / "gains.md", "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
