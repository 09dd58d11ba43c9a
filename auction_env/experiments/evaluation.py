"""Evaluate mechanisms by name (a checkpoint, or a registered mechanism in a scenario's setting)
and build the README results table from the shipped checkpoints."""

from __future__ import annotations

from typing import Any

import torch

import mechanisms
from auction_env.catalog import load_scenario
from auction_env.setting import build_setting
from mechanisms.common.errors import CheckpointError, ConfigError
from mechanisms.evaluation import EvaluationResult, evaluate
from mechanisms.learned import checkpoints
from mechanisms.learned.checkpoints import load_checkpoint
from mechanisms.reference import OPTIMUM, OPTIMUM_UNIT_DEMAND, PAPER, PAPER_BY_CHECKPOINT, myerson_uniform_revenue

__all__ = ["evaluate_named", "results_table"]


def evaluate_named(
    name: str,
    *,
    n_bidders: int = 2,
    n_items: int = 2,
    scenario: str | None = None,
    **kwargs: Any,
) -> EvaluationResult:
    """Evaluate a checkpoint (shipped name or card path) or a registered mechanism.

    A registered mechanism runs in the setting of ``scenario``'s env section, or with
    ``n_bidders`` x ``n_items`` U[0, 1] bidders.
    """
    try:
        mechanism, prior, participation, _ = load_checkpoint(name)
    except CheckpointError as err:
        if name not in mechanisms.registry:
            if "not found" in str(err):
                raise ConfigError(
                    f"'{name}' is neither a checkpoint (shipped: {', '.join(checkpoints.shipped()) or 'none'}) "
                    f"nor a registered mechanism ({', '.join(mechanisms.available())})"
                ) from None
            raise
        if scenario is not None:
            env = load_scenario(scenario).config.env
            data = env.model_dump()
            if data["mechanism"]["name"] != name:
                data["mechanism"] = {"name": name, "params": {}}
            setting = build_setting(data)
            mechanism, prior, participation = setting.mechanism, setting.prior, setting.participation
        else:
            prior = mechanisms.make_prior(n_bidders, n_items)
            mechanism = mechanisms.make(name, context={"prior": prior, "n_bidders": n_bidders, "n_items": n_items})
            participation = None
    return evaluate(mechanism, prior, participation=participation, **kwargs)


def results_table(
    *, profiles: int, protocol: str, seed: int, device: Any = None, progress: bool = False, from_cards: bool = False
) -> tuple[list[dict], str]:
    """Evaluate every shipped checkpoint (or, with ``from_cards``, read the evaluation each model
    card holds from the end of its training run); return the rows and a markdown table."""
    rows = []
    for name in checkpoints.shipped():
        mechanism, prior, participation, card = load_checkpoint(name)
        if from_cards:
            if not card.get("evaluation"):
                raise CheckpointError(
                    f"checkpoint '{name}': its model card holds no evaluation; evaluate it without --from-cards"
                )
            result = card["evaluation"]
        else:
            result = evaluate(
                mechanism,
                prior,
                participation=participation,
                profiles=profiles,
                protocol=protocol,
                seed=seed,
                device=device,
                progress=progress,
            ).to_dict()
        s = card["setting"]
        size = f"{s['n_bidders']}x{s['n_items']}"
        uniform01 = bool(torch.all(prior.low == 0) and torch.all(prior.high == 1))
        unit = s.get("valuation") == "unit_demand"
        always = (s.get("participation") or {"model": "always"}).get("model", "always") == "always"
        plain = uniform01 and not unit and always
        paper = PAPER_BY_CHECKPOINT.get(name) or (PAPER.get(size, {}).get(card["mechanism"]) if plain else None)
        optimum = (OPTIMUM if not unit else OPTIMUM_UNIT_DEMAND).get(size) if uniform01 and always else None
        rows.append(
            {
                "checkpoint": name,
                "setting": size + (" unit-demand" if unit else "") + ("" if always else " participation"),
                "result": result,
                "myerson": myerson_uniform_revenue(s["n_bidders"], s["n_items"]) if plain else None,
                "paper": paper,
                "optimum": optimum,
                "training_wall_time_s": card.get("training", {}).get("wall_time_s"),
            }
        )
    head = (
        "| checkpoint | setting | revenue | regret (mean) | regret (max) | score | IR viol. | item-wise Myerson | "
        "paper revenue / regret | train time |"
    )
    out = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        res = r["result"]
        paper = (
            f"{r['paper'][0]:.4f} / {r['paper'][1]:.4f}"
            if r["paper"] and r["paper"][1] is not None
            else (f"{r['paper'][0]:.3f} / —" if r["paper"] else "—")
        )
        if r["optimum"]:
            paper = (paper + " " if r["paper"] else "") + f"(optimum {r['optimum']:.4f})"
        myerson = f"{r['myerson']:.4f}" if r["myerson"] is not None else "—"
        minutes = f"{r['training_wall_time_s'] / 60:.1f} min" if r["training_wall_time_s"] else "—"
        out.append(
            f"| {r['checkpoint']} | {r['setting']} | {res['revenue_mean']:.4f} | {res['regret_mean']:.5f} | "
            f"{res['regret_max']:.4f} | "
            f"{res['score']:.4f} | {100 * res['ir_violation_rate']:.1f}% | {myerson} | {paper} | {minutes} |"
        )
    if rows:
        out.append("")
        attacks = "; ".join(sorted({r["result"]["protocol"] for r in rows}))
        if from_cards:
            sizes = sorted({(r["result"]["profiles"], r["result"].get("seed")) for r in rows}, key=str)
            out.append(
                "From the model cards (evaluated at the end of each training run: "
                + ", ".join(f"{p:,} profiles, seed {s}" for p, s in sizes)
                + f"). Attacks: {attacks}"
            )
        else:
            out.append(f"{profiles:,} profiles per checkpoint, seed {seed}. Attack: {attacks}")
    return rows, "\n".join(out)
