"""Evaluate mechanisms by name (a checkpoint, or a registered mechanism in a scenario's setting)
and build the README results table from the shipped checkpoints."""

from __future__ import annotations

from typing import Any

import torch

import mechanisms
from auction_env.catalog import load_scenario
from auction_env.setting import build_setting
from mechanisms.base import Mechanism
from mechanisms.common.errors import CheckpointError, ConfigError
from mechanisms.evaluation import EvaluationResult, PairedComparison, compare, evaluate
from mechanisms.learned import checkpoints
from mechanisms.learned.checkpoints import load_checkpoint
from mechanisms.participation import Participation
from mechanisms.priors import Prior
from mechanisms.reference import OPTIMUM, OPTIMUM_UNIT_DEMAND, PAPER, PAPER_BY_CHECKPOINT, myerson_uniform_revenue

__all__ = ["evaluate_named", "named_mechanism", "results_table"]


def evaluate_named(
    name: str,
    *,
    n_bidders: int | None = None,
    n_items: int | None = None,
    scenario: str | None = None,
    against: str | None = None,
    **kwargs: Any,
) -> EvaluationResult | PairedComparison:
    """Evaluate a checkpoint (shipped name or card path) or a registered mechanism; with
    ``against``, evaluate both on the same profiles and pair the differences (:func:`compare`).

    The setting is ``scenario``'s env section if given; else a checkpoint's card, at
    ``n_bidders`` x ``n_items`` if given (a network of any size); else ``n_bidders`` x
    ``n_items`` (default 2 x 2) U[0, 1] bidders.
    """
    mechanism, prior, participation = named_mechanism(name, n_bidders, n_items, scenario)
    if against is None:
        return evaluate(mechanism, prior, participation=participation, **kwargs)
    size = (prior.n_bidders, prior.n_items)
    other = named_mechanism(against, *size, scenario, prior=prior)[0]
    return compare(mechanism, other, prior, participation=participation, **kwargs)


def named_mechanism(
    name: str,
    n_bidders: int | None = None,
    n_items: int | None = None,
    scenario: str | None = None,
    *,
    prior: Prior | None = None,
) -> tuple[Mechanism, Prior, Participation | None]:
    """The mechanism ``name`` (a checkpoint or a registered name) with the prior and participation
    of its setting (see :func:`evaluate_named`); ``prior``, if given, is the setting's."""
    try:
        card = checkpoints.load_card(checkpoints.find(name))
    except CheckpointError as err:
        if name not in mechanisms.registry:
            if "not found" in str(err):
                raise ConfigError(
                    f"'{name}' is neither a checkpoint (shipped: {', '.join(checkpoints.shipped()) or 'none'}) "
                    f"nor a registered mechanism ({', '.join(mechanisms.available())})"
                ) from None
            raise
        card = None
    if scenario is not None:
        data = load_scenario(scenario).config.env.model_dump()
        params = {"checkpoint": name} if card is not None else {}
        data["mechanism"] = {"name": card["mechanism"] if card is not None else name, "params": params}
        try:
            setting = build_setting(data, prior=prior)
        except ConfigError as err:
            raise ConfigError(f"{name} in scenario {scenario}: {err.message}", err.path) from None
        return setting.mechanism, setting.prior, setting.participation
    if card is not None:
        mechanism, card_prior, participation, _ = load_checkpoint(name)
        if (n_bidders is None or n_bidders == card_prior.n_bidders) and (
            n_items is None or n_items == card_prior.n_items
        ):
            return mechanism, card_prior, participation
        n, m = n_bidders or card_prior.n_bidders, n_items or card_prior.n_items
        prior = prior or _resized(card_prior, n, m, name)
        context = {"prior": prior, "n_bidders": n, "n_items": m, "valuation": mechanism.setting.valuation}
        return mechanisms.make(card["mechanism"], context=context, checkpoint=name), prior, None
    n, m = n_bidders or 2, n_items or 2
    prior = prior or mechanisms.make_prior(n, m)
    return mechanisms.make(name, context={"prior": prior, "n_bidders": n, "n_items": m}), prior, None


def _resized(prior: Prior, n: int, m: int, name: str) -> Prior:
    """``prior`` (the same bounds for every bidder and item) for ``n`` x ``m``."""
    spec = prior.spec()
    bounds = {b: torch.tensor(spec[b]).unique() for b in ("low", "high")}
    if any(v.numel() != 1 for v in bounds.values()):
        raise ConfigError(f"checkpoint '{name}' has an asymmetric prior; give a --scenario for its setting at {n}x{m}")
    return mechanisms.make_prior(n, m, spec["type"], **{b: v.item() for b, v in bounds.items()})


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
