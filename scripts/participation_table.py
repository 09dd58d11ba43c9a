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

    .venv/bin/python scripts/participation_table.py --size 3x10 [--profiles 2000] [--untweaked NAME_OR_CARD]
        [--tweaked NAME_OR_CARD] [--against NAME_OR_CARD] [--bootstrap 1000]

Appendix A.5 (3 bidders x 10 items, ``scenarios/participation_3x10_s{1,2,3}``): the untweaked
``regretnet_3x10`` and the tweaked ``regretnet_3x10_participation_sK`` by default. Each network is
measured on each of the seven non-empty participation profiles (``--profiles`` each, the same
values for every profile and network), and a scenario's aggregated auction is the sum over
profiles weighted by the scenario's probabilities (stratified: exact weights, no sampling of
the profiles). Prints per profile revenue / regret with item-wise Myerson's revenue (closed form;
its regret is 0: it is dominant-strategy IC) and the paper's Table 7, then per scenario the
aggregated revenue, regret and score beside the paper's Tables 5-6; with a tweaked network, its
paired differences from the untweaked one. ``--against`` adds one more network, measured on every
profile like the others and compared, paired, with each scenario's tweaked network: one network
for all three scenarios, such as an equivariant one (which may have been trained at another size).
Every profile sees the same values, so the standard errors come from each row's weighted sum over
the profiles (score: bootstrap over those rows).
"""

from __future__ import annotations

import argparse

import torch
from tqdm import tqdm

import mechanisms
from auction_env.catalog import load_scenario
from mechanisms import participation as participation_models
from mechanisms.common.errors import CheckpointError, ConfigError
from mechanisms.evaluation import Measurement, evaluate, evaluation_profiles, measure, protocol, scores
from mechanisms.learned.checkpoints import load_checkpoint
from mechanisms.reference import (
    PARTICIPATION_3X10_AGGREGATED,
    PARTICIPATION_3X10_PER_PROFILE,
    PARTICIPATION_3X10_UNTWEAKED_FULL,
    PARTICIPATION_AGGREGATED,
    PARTICIPATION_PER_PROFILE,
    myerson_uniform_revenue,
)

PAPER_AGG, PAPER_PROFILES = PARTICIPATION_AGGREGATED, PARTICIPATION_PER_PROFILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", choices=("2x2", "3x10"), default="2x2", help="the paper's 2 x 2 experiment or Appendix A.5's 3 x 10"
    )
    parser.add_argument(
        "--profiles",
        type=int,
        default=None,
        help="profiles per scenario and mechanism (2x2, default 10000); per participation profile and "
        "network (3x10, default 2000)",
    )
    parser.add_argument("--protocol", default="default", help="attack protocol (default: default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenarios", default="1,2,3", help="which of the three scenarios (default 1,2,3)")
    parser.add_argument(
        "--tweaked",
        default=None,
        help="the tweaked network per scenario: a shipped name or card path, {k} = scenario "
        "(default: algnet_2x2_participation_s{k} / regretnet_3x10_participation_s{k})",
    )
    parser.add_argument(
        "--untweaked",
        default=None,
        help="the network trained on full participation: a shipped name or card path "
        "(default: algnet_2x2 / regretnet_3x10)",
    )
    parser.add_argument(
        "--against",
        default=None,
        metavar="NAME_OR_CARD",
        help="3x10: one more network for every scenario, compared with each tweaked network "
        "(a 3 x 10 network or one that runs at any size)",
    )
    parser.add_argument(
        "--bootstrap", type=int, default=1000, help="3x10: resamples for the paired score difference (default 1000)"
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
    args.scenarios = _scenarios(parser, args.scenarios)
    try:
        protocol(args.protocol)
    except ConfigError as err:
        parser.error(f"--protocol: {err}")
    if args.size == "3x10":
        if args.paired_only or args.paired_profiles is not None:
            parser.error("--paired-only and --paired-profiles are for --size 2x2 (3x10 prints paired differences)")
        if args.bootstrap < 2:
            parser.error(f"--bootstrap must be at least 2, got {args.bootstrap}")
        return table_3x10(parser, args)
    if args.against is not None:
        parser.error("--against is for --size 3x10")
    args.profiles = args.profiles or 10_000
    given = {"tweaked": args.tweaked is not None, "untweaked": args.untweaked is not None}
    args.tweaked = args.tweaked or "algnet_2x2_participation_s{k}"
    args.untweaked = args.untweaked or "algnet_2x2"
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
    for k in args.scenarios:
        env = load_scenario(f"participation_2x2_s{k}").config.env
        spec = env.participation
        participation = participation_models.make(2, model=spec.model, **spec.params)
        prior = mechanisms.make_prior(2, 2)
        contenders = {}
        tweaked = args.tweaked.replace("{k}", str(k))
        for label, name in (("tweaked", tweaked), ("untweaked", args.untweaked)):
            try:
                contenders[label] = load_checkpoint(name)[0]
            except CheckpointError as err:
                if given[label]:
                    parser.error(f"--{label}: {err}")
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


#: Appendix A.5's participation profiles g1..g7 (Table 4; g8, nobody, sells nothing).
PROFILES_3X10 = ((1, 1, 1), (0, 1, 1), (1, 0, 1), (1, 1, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1))


def table_3x10(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Appendix A.5: each network per participation profile, and each scenario's aggregated auction."""
    profiles = args.profiles or 2000
    scenarios = args.scenarios
    torch.set_num_threads(1)
    prior = mechanisms.make_prior(3, 10)
    weights = {k: _scenario_weights(k) for k in scenarios}
    networks, names = {}, {}  # label -> mechanism; the --against network's label -> its card's name
    for label, flag, name, default, k in [  # k: the scenario whose network it is ({k} in its name), if any
        ("untweaked", "--untweaked", args.untweaked, "regretnet_3x10", None),
        *[(f"tweaked s{k}", "--tweaked", args.tweaked, "regretnet_3x10_participation_s{k}", k) for k in scenarios],
        *([("against", "--against", args.against, None, None)] if args.against is not None else []),
    ]:
        if name is not None and not name.strip():
            parser.error(f"{flag}: expected a shipped name or a card path, got an empty string")
        source = name or default
        if k is not None:
            source = source.replace("{k}", str(k))
        try:
            mechanism, *_, card = load_checkpoint(source)
        except CheckpointError as err:
            if name is not None:
                parser.error(f"{flag}: {err}")
            print(f"{label}: {err}")
            continue
        if (mechanism.n_bidders, mechanism.n_items) != (3, 10) and not mechanism.any_size:
            parser.error(f"{flag}: {source} is a {mechanism.n_bidders} x {mechanism.n_items} network, not 3 x 10")
        networks[label] = mechanism
        if label == "against":
            names[label] = card.get("name", source)
    print(
        f"3 bidders x 10 items U[0,1]; {profiles:,} profiles per participation profile and network "
        f"(the same values for all), seed {args.seed}, '{args.protocol}' attack; paper in brackets"
    )
    measured = {}
    with tqdm(total=len(networks) * len(PROFILES_3X10), desc="profiles", unit="profile") as bar:
        for label, mechanism in networks.items():
            measured[label] = {}
            for g in PROFILES_3X10:
                participation = participation_models.make(3, model="profiles", profiles=[list(g)], probs=[1.0])
                measured[label][g] = measure(
                    mechanism,
                    prior,
                    participation=participation,
                    profiles=profiles,
                    protocol=args.protocol,
                    seed=args.seed,
                )
                bar.update()
    print("\nPer participation profile, revenue / mean regret per bidder (paper's Table 7: its tweaked networks):\n")
    heads = [f"{names.get(label, label)} ({m[PROFILES_3X10[0]].result.mechanism})" for label, m in measured.items()]
    heads += [f"paper s{k}" for k in scenarios]
    print("| profile | " + " | ".join(heads) + " | item-wise Myerson revenue |")
    print("|---|" + "---:|" * (len(heads) + 1))
    for g in PROFILES_3X10:
        cells = [f"{m[g].result.revenue_mean:.3f} / {m[g].result.regret_mean:.5f}" for m in measured.values()]
        cells += ["{:.4g} / {:.3g}".format(*PARTICIPATION_3X10_PER_PROFILE[k][g]) for k in scenarios]
        myerson = myerson_uniform_revenue(sum(g), 10)
        print(f"| <{','.join(map(str, g))}> | " + " | ".join(cells) + f" | {myerson:.4f} |")
    print(
        "\n| scenario | mechanism | aggregated revenue | aggregated regret | score | paper revenue / regret / score |"
    )
    print("|---|---|---:|---:|---:|---:|")
    if "untweaked" in measured:
        full = _aggregate(measured["untweaked"], {(1, 1, 1): 1.0})
        print(_row("full participation", "untweaked", full, PARTICIPATION_3X10_UNTWEAKED_FULL))
    verdicts = []
    for k in scenarios:
        tweaked, untweaked = f"tweaked s{k}", "untweaked"
        myerson = sum(w * myerson_uniform_revenue(sum(g), 10) for g, w in weights[k].items())
        if tweaked in measured:
            print(_row(k, tweaked, _aggregate(measured[tweaked], weights[k]), PARTICIPATION_3X10_AGGREGATED[k][0]))
        if untweaked in measured:
            print(_row(k, untweaked, _aggregate(measured[untweaked], weights[k]), PARTICIPATION_3X10_AGGREGATED[k][1]))
        if "against" in measured:
            print(_row(k, names["against"], _aggregate(measured["against"], weights[k]), None))
        print(_row(k, "item-wise Myerson", (myerson, 0.0, 0.0, 0.0, myerson), None))
        if tweaked in measured and untweaked in measured:
            verdicts.append((k, myerson, *_paired(measured[tweaked], measured[untweaked], weights[k], args)))
    if verdicts:
        print("\nTweaked minus untweaked, paired on the same profiles (± standard error; score: bootstrap):\n")
        print(
            "| scenario | revenue difference | score difference | tweaked score vs paper's, Myerson's "
            "| tweaked revenue vs Myerson's |"
        )
        print("|---|---:|---:|---:|---:|")
        for k, myerson, rev, rev_se, diff, diff_se, score, revenue in verdicts:
            paper = PARTICIPATION_3X10_AGGREGATED[k][0][2]
            print(
                f"| {k} | {rev:+.4f} ± {rev_se:.4f} | {diff:+.4f} ± {diff_se:.4f} | "
                f"{score:.3f} vs {paper:.3f}, {myerson:.3f} | {revenue:.3f} vs {myerson:.3f} |"
            )
    if "against" in measured and all(f"tweaked s{k}" in measured for k in scenarios):
        against = [(k, *_paired(measured["against"], measured[f"tweaked s{k}"], weights[k], args)) for k in scenarios]
        print(
            f"\n{names['against']} (one network) minus each scenario's tweaked network, paired on the same profiles:\n"
        )
        print("| scenario | revenue difference | score difference | its score | its revenue |")
        print("|---|---:|---:|---:|---:|")
        for k, rev, rev_se, diff, diff_se, score, revenue in against:
            print(f"| {k} | {rev:+.4f} ± {rev_se:.4f} | {diff:+.4f} ± {diff_se:.4f} | {score:.3f} | {revenue:.3f} |")
    return 0


def _scenario_weights(k: int) -> dict[tuple[int, ...], float]:
    """Scenario ``k``'s probability of each non-empty profile (from its scenario file)."""
    spec = load_scenario(f"participation_3x10_s{k}").config.env.participation
    return {tuple(g): float(p) for g, p in zip(spec.params["profiles"], spec.params["probs"]) if any(g)}


def _rows(per_profile: dict[tuple, Measurement], weights: dict[tuple, float]) -> tuple[torch.Tensor, ...]:
    """Per row of values, the aggregated auction's revenue, total regret and mean regret per
    bidder: the profiles' weighted sums. Every profile is measured on the same values (the same
    seed), so row ``i`` of each is the same draw, and the profiles' results are correlated: the
    standard errors come from these per-row sums, not from the profiles as if independent."""
    revenue = sum(w * per_profile[g].revenue for g, w in weights.items())
    total = sum(w * per_profile[g].regret.sum(1).double() for g, w in weights.items())
    regret = sum(w * per_profile[g].regret.mean(1).double() for g, w in weights.items())
    return revenue, total, regret


def _aggregate(per_profile: dict[tuple, Measurement], weights: dict[tuple, float]) -> tuple[float, ...]:
    """The aggregated auction (the empty profile adds nothing): revenue, its standard error, mean
    regret per bidder, total regret and score."""
    return _summary(*_rows(per_profile, weights))


def _summary(revenue: torch.Tensor, total: torch.Tensor, regret: torch.Tensor) -> tuple[float, ...]:
    """:func:`_aggregate` from the per-row sums of :func:`_rows`."""
    rev, tot = revenue.mean(), total.mean()
    se = revenue.std().item() / revenue.numel() ** 0.5
    return rev.item(), se, regret.mean().item(), tot.item(), scores(rev, tot).item()


def _row(scenario, label: str, agg: tuple[float, ...], paper: tuple[float, float, float] | None) -> str:
    rev, se, regret, _, score = agg
    ref = f"{paper[0]:.3f} / {paper[1]:.3g} / {paper[2]:.3f}" if paper else ""
    return f"| {scenario} | {label} | {rev:.4f} ± {se:.4f} | {regret:.5f} | {score:.4f} | {ref} |"


def _paired(a: dict, b: dict, weights: dict, args: argparse.Namespace) -> tuple[float, ...]:
    """Aggregated revenue and score of ``a`` minus ``b`` on the same values, with standard errors
    (revenue: of the per-row differences; score: ``args.bootstrap`` resamples of the rows, the
    same rows for both networks and every profile); then ``a``'s aggregated score and revenue."""
    rows_a, rows_b = _rows(a, weights), _rows(b, weights)
    (rev_a, tot_a, _), (rev_b, tot_b, _) = rows_a, rows_b
    diff = rev_a - rev_b
    generator = torch.Generator().manual_seed(args.seed)
    diffs = []
    for first in range(0, args.bootstrap, 100):
        idx = torch.randint(diff.numel(), (min(100, args.bootstrap - first), diff.numel()), generator=generator)
        diffs.append(scores(rev_a[idx].mean(1), tot_a[idx].mean(1)) - scores(rev_b[idx].mean(1), tot_b[idx].mean(1)))
    agg_a, agg_b = _summary(*rows_a), _summary(*rows_b)
    return (
        diff.mean().item(),
        diff.std().item() / diff.numel() ** 0.5,
        agg_a[4] - agg_b[4],
        torch.cat(diffs).std().item(),
        agg_a[4],
        agg_a[0],
    )


def _scenarios(parser: argparse.ArgumentParser, text: str) -> list[int]:
    """``--scenarios`` as a sorted list of distinct numbers among 1, 2, 3 (else one line, exit 2)."""
    try:
        chosen = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        parser.error(f"--scenarios: expected some of 1, 2, 3 separated by commas, got {text!r}")
    if not chosen or any(k not in (1, 2, 3) for k in chosen):
        parser.error(f"--scenarios: expected some of 1, 2, 3 separated by commas, got {text!r}")
    return chosen


def _revenues(mechanism, prior, participation, profiles: int, seed: int) -> torch.Tensor:
    """Revenue per profile on the profiles and participation draws :func:`evaluate` uses for ``seed``."""
    v, _, attack_gen = evaluation_profiles(prior, profiles, seed, participation=participation)
    with torch.no_grad():
        return mechanism.run(v, generator=attack_gen, check=False).payments.sum(-1).double()


if __name__ == "__main__":
    raise SystemExit(main())
