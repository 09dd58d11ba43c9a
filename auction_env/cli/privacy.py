"""``auction-env privacy CHECKPOINT --out DIR``: the privacy-revenue trade-off of output noise."""

from __future__ import annotations

import argparse

from auction_env.cli import library
from auction_env.cli.args import BadInput, comma_list, no_progress, non_negative, positive

HELP = "privacy-revenue trade-off of output noise"
DESCRIPTION = (
    "Sweep the output-noise sigma of a learned checkpoint: revenue, regret, and how well a "
    "model-inversion observer recovers the bids (with and without its own bids). Writes privacy.csv, "
    "recovery_revenue.png and mae.png."
)
SWEEP = "auction_env.experiments.privacy:privacy_sweep"
INVERSION = "agents.observers.inversion:ModelInversion"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint", metavar="CHECKPOINT", help="a shipped checkpoint name (regretnet_2x2) or a card path"
    )
    sigmas = comma_list(library.default(SWEEP, "sigmas"))
    parser.add_argument("--sigmas", default=sigmas, metavar="S,S,...", help=f"noise levels (default {sigmas})")
    profiles = library.default(SWEEP, "profiles")
    parser.add_argument(
        "--profiles",
        type=positive,
        default=profiles,
        metavar="N",
        help=f"auctions inverted per sigma and threat model (default {profiles})",
    )
    parser.add_argument("--out", metavar="DIR", required=True)
    parser.add_argument("--seed", type=non_negative, default=library.default(SWEEP, "seed"), metavar="N")
    tolerance = library.default(SWEEP, "tolerance")
    parser.add_argument("--tolerance", type=float, default=tolerance, help=f"recovery tolerance (default {tolerance})")
    parser.add_argument(
        "--solver",
        choices=library.constant("agents.observers.inversion:SOLVERS"),
        default=library.default(INVERSION, "solver"),
        help="inversion solver: Levenberg-Marquardt (default for differentiable mechanisms), "
        "the paper's projected Adam, or derivative-free local search (default for menus and exact auctions)",
    )
    parser.add_argument(
        "--iterations",
        type=positive,
        default=library.default(INVERSION, "iterations"),
        metavar="N",
        help="inversion steps at most (default 100 for lm and search, 3000 for adam)",
    )
    restarts = library.default(INVERSION, "restarts")
    parser.add_argument(
        "--restarts", type=positive, default=restarts, metavar="R", help=f"inversion restarts (default {restarts})"
    )
    candidates = library.default(INVERSION, "candidates")
    parser.add_argument(
        "--candidates",
        type=non_negative,
        default=candidates,
        metavar="C",
        help=f"prior draws screened per auction for the restarts (default {candidates}; 0: plain draws)",
    )
    parser.add_argument(
        "--objective",
        choices=library.constant("agents.observers.inversion:OBJECTIVES"),
        default=library.default(INVERSION, "objective"),
        help="inversion objective: on log outcomes (default for lm and adam) or the paper's eq. 5 "
        "(outcome; default for search)",
    )
    threat_models = comma_list(library.default(SWEEP, "threat_models"))
    parser.add_argument(
        "--threat-models", default=threat_models, metavar="M,M", help=f"threat models (default {threat_models})"
    )
    regret_profiles = library.default(SWEEP, "regret_profiles")
    parser.add_argument(
        "--regret-profiles",
        type=non_negative,
        default=regret_profiles,
        metavar="N",
        help=f"profiles for regret per sigma (default {regret_profiles}; 0: skip)",
    )
    no_progress(parser)


def run(args: argparse.Namespace) -> int:
    import torch
    from tqdm.auto import tqdm

    from auction_env.experiments.privacy import privacy_sweep, write_sweep
    from mechanisms.common.io import check_writable
    from mechanisms.learned.checkpoints import load_checkpoint
    from mechanisms.reference import myerson_uniform_revenue

    try:
        sigmas = [float(x) for x in args.sigmas.split(",") if x.strip()]
    except ValueError:
        raise BadInput(f"--sigmas: give comma-separated numbers, got {args.sigmas!r}") from None
    models = [x.strip() for x in args.threat_models.split(",") if x.strip()]
    check_writable(args.out)
    torch.set_num_threads(1)
    mechanism, prior, _, card = load_checkpoint(args.checkpoint)
    if prior.n_bidders == 1:
        models = [m for m in models if m != "with_bids"]  # nothing to learn from a lone bidder's own bids
    bar = tqdm(total=len(sigmas) * len(models), desc="privacy", unit="cell", disable=args.no_progress)
    rows = privacy_sweep(
        mechanism,
        prior,
        sigmas,
        profiles=args.profiles,
        seed=args.seed,
        tolerance=args.tolerance,
        threat_models=models,
        observer_params={
            "solver": args.solver,
            "iterations": args.iterations,
            "restarts": args.restarts,
            "candidates": args.candidates,
            "objective": args.objective,
        },
        regret_profiles=args.regret_profiles,
        on_cell=lambda row: bar.update(1),
    )
    bar.close()
    s = card["setting"]
    uniform01 = bool(torch.all(prior.low == 0) and torch.all(prior.high == 1))
    reference = (
        myerson_uniform_revenue(s["n_bidders"], s["n_items"])
        if uniform01 and s.get("valuation", "additive") == "additive"
        else None
    )
    write_sweep(rows, args.out, title=f"{card.get('name', args.checkpoint)}", reference_revenue=reference)
    print(f"{'sigma':>6} {'threat model':<13} {'revenue':>8} {'regret':>8} {'recovery %':>12} {'MAE':>7}")
    for r in rows:
        regret = f"{r['regret_mean']:.5f}" if r["regret_mean"] is not None else "-"
        print(
            f"{r['sigma']:>6g} {r['threat_model']:<13} {r['revenue_mean']:8.4f} {regret:>8} "
            f"{100 * r['recovery_rate']:6.2f}±{100 * r['recovery_stderr']:.2f} {r['mae']:7.4f}"
        )
    print(
        f"random guess: recovery {100 * rows[0]['prior_guess_recovery_rate']:.2f}%, "
        f"MAE {rows[0]['prior_guess_mae']:.4f}"
    )
    print(f"privacy.csv, recovery_revenue.png and mae.png written to {args.out}")
    return 0
