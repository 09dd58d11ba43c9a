"""Evaluate mechanisms by name and build the README results table."""

from __future__ import annotations

from typing import Any

import torch

import mechanisms
from auction_env import participation as participation_models
from auction_env.errors import CheckpointError, ConfigError
from mechanisms import checkpoints
from mechanisms.evaluation import EvaluationResult, evaluate
from mechanisms.reference import OPTIMUM, OPTIMUM_UNIT_DEMAND, PAPER, PAPER_BY_CHECKPOINT

__all__ = ["load_checkpoint", "evaluate_named", "format_result", "results_table", "myerson_uniform_revenue"]


def load_checkpoint(name_or_path: str) -> tuple[mechanisms.Mechanism, mechanisms.Prior, Any, dict]:
    """Build the mechanism, prior and participation model a checkpoint's card describes."""
    card_path = checkpoints.find(name_or_path)
    card = checkpoints.load_card(card_path)
    setting = card["setting"]
    n, m = setting["n_bidders"], setting["n_items"]
    prior_spec = dict(setting.get("prior") or {"type": "uniform"})
    prior = mechanisms.make_prior(n, m, **prior_spec)
    part_spec = dict(setting.get("participation") or {"model": "always"})
    participation = participation_models.make(n, **part_spec)
    context = {"prior": prior, "n_bidders": n, "n_items": m, "valuation": setting.get("valuation", "additive")}
    mechanism = mechanisms.make(card["mechanism"], context=context, checkpoint=str(card_path))
    return mechanism, prior, participation, card


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
            from auction_env.catalog import load_scenario
            from auction_env.setting import build_setting

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


def format_result(r: EvaluationResult) -> str:
    """A few aligned lines for the terminal."""
    lines = [
        f"{r.mechanism}  ({r.n_bidders} bidders x {r.n_items} items, {r.profiles:,} profiles, seed {r.seed})",
        f"  revenue        {r.revenue_mean:.4f} +/- {r.revenue_stderr:.4f}",
        f"  welfare        {r.welfare_mean:.4f}",
        f"  IR violations  {100 * r.ir_violation_rate:.2f}% of (profile, bidder)",
        f"  regret         {r.regret_mean:.5f} +/- {r.regret_stderr:.5f} (mean per bidder), max {r.regret_max:.4f}",
    ]
    for i, b in enumerate(r.regret_per_bidder):
        lines.append(f"    bidder {i}     mean {b['mean']:.5f}  max {b['max']:.4f}  95% CI [{b['ci95'][0]:.5f}, {b['ci95'][1]:.5f}]")
    lines += [
        f"  score          {r.score:.4f}  ((sqrt(rev) - sqrt(total regret))^2)",
        f"  attack         {r.protocol}",
        f"  time           {r.wall_time_s:.1f} s ({r.profiles_per_second:,.0f} profiles/s)",
    ]
    return "\n".join(lines)


def myerson_uniform_revenue(n_bidders: int, n_items: int) -> float:
    """Item-wise Myerson revenue with additive U[0,1] values: m x ((n-1)/(n+1) + 0.5^n/(n+1))."""
    return n_items * ((n_bidders - 1) / (n_bidders + 1) + 0.5**n_bidders / (n_bidders + 1))


def results_table(*, profiles: int, protocol: str, seed: int, device: Any = None, progress: bool = False,
                  from_cards: bool = False) -> tuple[list[dict], str]:
    """Evaluate every shipped checkpoint (or, with ``from_cards``, read the evaluation each model
    card holds from the end of its training run); return the rows and a markdown table."""
    rows = []
    for name in checkpoints.shipped():
        mechanism, prior, participation, card = load_checkpoint(name)
        if from_cards:
            if not card.get("evaluation"):
                raise CheckpointError(f"checkpoint '{name}': its model card holds no evaluation; evaluate it without --from-cards")
            result = card["evaluation"]
        else:
            result = evaluate(mechanism, prior, participation=participation, profiles=profiles, protocol=protocol, seed=seed,
                              device=device, progress=progress).to_dict()
        s = card["setting"]
        size = f"{s['n_bidders']}x{s['n_items']}"
        uniform01 = bool(torch.all(prior.low == 0) and torch.all(prior.high == 1))
        unit = s.get("valuation") == "unit_demand"
        always = (s.get("participation") or {"model": "always"}).get("model", "always") == "always"
        plain = uniform01 and not unit and always
        paper = PAPER_BY_CHECKPOINT.get(name) or (PAPER.get(size, {}).get(card["mechanism"]) if plain else None)
        optimum = (OPTIMUM if not unit else OPTIMUM_UNIT_DEMAND).get(size) if uniform01 and always else None
        rows.append({
            "checkpoint": name,
            "setting": size + (" unit-demand" if unit else "") + ("" if always else " participation"),
            "result": result,
            "myerson": myerson_uniform_revenue(s["n_bidders"], s["n_items"]) if plain else None,
            "paper": paper,
            "optimum": optimum,
            "training_wall_time_s": card.get("training", {}).get("wall_time_s"),
        })
    head = "| checkpoint | setting | revenue | regret (mean) | regret (max) | score | IR viol. | item-wise Myerson | paper revenue / regret | train time |"
    out = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        res = r["result"]
        paper = f"{r['paper'][0]:.4f} / {r['paper'][1]:.4f}" if r["paper"] and r["paper"][1] is not None else (f"{r['paper'][0]:.3f} / —" if r["paper"] else "—")
        if r["optimum"]:
            paper = (paper + " " if r["paper"] else "") + f"(optimum {r['optimum']:.4f})"
        myerson = f"{r['myerson']:.4f}" if r["myerson"] is not None else "—"
        minutes = f"{r['training_wall_time_s'] / 60:.1f} min" if r["training_wall_time_s"] else "—"
        out.append(
            f"| {r['checkpoint']} | {r['setting']} | {res['revenue_mean']:.4f} | {res['regret_mean']:.5f} | {res['regret_max']:.4f} | "
            f"{res['score']:.4f} | {100 * res['ir_violation_rate']:.1f}% | {myerson} | {paper} | {minutes} |"
        )
    if rows:
        out.append("")
        attacks = "; ".join(sorted({r["result"]["protocol"] for r in rows}))
        if from_cards:
            sizes = sorted({(r["result"]["profiles"], r["result"].get("seed")) for r in rows}, key=str)
            out.append("From the model cards (evaluated at the end of each training run: "
                       + ", ".join(f"{p:,} profiles, seed {s}" for p, s in sizes) + f"). Attacks: {attacks}")
        else:
            out.append(f"{profiles:,} profiles per checkpoint, seed {seed}. Attack: {attacks}")
    return rows, "\n".join(out)
