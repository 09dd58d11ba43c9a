"""The README's certification table (the certifying paper's Table 1) from `auction-env certify` runs.

    .venv/bin/python scripts/certification_table.py DIR [DIR ...]

Each DIR is the ``--out`` folder of ``auction-env certify CHECKPOINT --profiles N --out DIR``
(its ``summary.json``). Prints one Markdown row per certified bidder: the checkpoint's revenue
and empirical regret from its model card (10,000 profiles, default attack), the certified regret,
how much of it the ``default`` and ``weak`` attacks find at the same profiles (their mean over
the certified mean, and the share of profiles where they miss more than 1e-4), the time per
certificate, and the paper's Table 1 row (ReLU-regularised networks) beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mechanisms.common.errors import CheckpointError
from mechanisms.learned.checkpoints import load_checkpoint
from mechanisms.reference import CERTIFICATION

PAPER = CERTIFICATION

HEADER = (
    "| checkpoint | IR | revenue | empirical regret (default, 10k) | certified regret: mean (std), profiles "
    "| default / certified (missed) | weak / certified (missed) | time per certificate: mean (std), median "
    "| paper (Table 1): time, revenue, empirical, certified |\n|---|---|---:|---:|---:|---:|---:|---:|---|"
)


def rows(run_dir: Path) -> list[str]:
    """The table rows of one certification run folder."""
    path = run_dir / "summary.json"
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise SystemExit(f"certification_table: {path}: {err}") from None
    name = summary["checkpoint"]
    try:
        model, _, _, card = load_checkpoint(name)
    except CheckpointError as err:
        raise SystemExit(f"certification_table: {run_dir}: {err}") from None
    setting = f"{model.n_bidders}x{model.n_items}"
    evaluation = card.get("evaluation") or {}
    revenue = evaluation.get("revenue_mean", float("nan"))
    empirical = evaluation.get("regret_mean", float("nan"))
    out = []
    for b in summary["per_bidder"]:
        label = name if model.n_bidders == 1 else f"{name}, bidder {b['bidder']}"
        total = b["certificates"] + b["not_certified"]
        cert, secs = b["certified_regret"], b["solve_seconds"]
        certified = f"{num(cert['mean'], '.5f')} ({num(cert['std'], '.5f')}), {b['certificates']} of {total}"
        if b["not_certified"]:
            certified += (
                f" ({b['not_certified']} not certified: {', '.join(s for s in b['statuses'] if s != 'optimal')})"
            )
        attacks = []
        for attack in ("default", "weak"):
            if f"ratio_{attack}" in b:
                missed = b[f"missed_{attack}"]
                attacks.append(f"{num(b[f'ratio_{attack}'], '.3f')} ({num(missed and 100 * missed, '.0f')}%)")
            else:
                attacks.append("—")
        paper = PAPER.get((setting, model.ir, b["bidder"]), "—")
        out.append(
            f"| {label} | {model.ir} | {revenue:.4f} | {empirical:.5f} | {certified} | {attacks[0]} | {attacks[1]} | "
            f"{num(secs['mean'], '.2f')} s ({num(secs['std'], '.2f')}), {num(secs['median'], '.2f')} s | {paper} |"
        )
    return out


def num(value: float | None, spec: str) -> str:
    """A number as ``spec``, or a dash where the summary has none (JSON null: no value, e.g. the
    spread of a single certificate)."""
    return "—" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="auction-env certify --out folders")
    args = parser.parse_args(argv)
    lines = [HEADER]
    for run_dir in args.dirs:
        lines += rows(run_dir)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
