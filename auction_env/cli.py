"""``auction-env`` command line: parse and dispatch only.

Exit codes: 0 on success, 2 on bad input (one readable line on stderr, no traceback),
130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mechanisms.common.errors import AuctionEnvError

__all__ = ["main", "build_parser"]

PROG = "auction-env"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Learned and exact auction mechanisms as multi-agent environments.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="play a scenario and summarise it", description="Play a scenario (or every cell of its sweep) through the batched core; write config.yaml, summary.json and, for sweeps, sweep.csv. A sweep's cells run on a local process pool or on Ray, each finished cell is kept in DIR/cells/, and rerunning with the same --out resumes the sweep.")
    run.add_argument("scenario", metavar="SCENARIO", help="a YAML path or a shipped scenario name (see `auction-env list scenarios`)")
    run.add_argument("--out", metavar="DIR", help="output folder (default runs/<name>-<timestamp>)")
    run.add_argument("--seed", type=_non_negative, metavar="N", help="override run.seed")
    run.add_argument("--episodes", type=_positive, metavar="N", help="override run.episodes (quick runs)")
    run.add_argument("--regret-profiles", type=_positive, metavar="N", help="override run.regret.profiles")
    run.add_argument("--device", metavar="DEV", help="torch device (default: cuda if available, else cpu)")
    run.add_argument("--backend", choices=["local", "ray"], default="local", help="where a sweep's cells run: local process pool (default) or Ray")
    run.add_argument("--workers", type=_positive, metavar="N", help="local processes (default: CPU count; 1 runs cells in this process), or a local Ray's CPUs")
    run.add_argument("--address", metavar="ADDR", help="an existing Ray cluster for --backend ray, e.g. 127.0.0.1:6379")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.set_defaults(handler=_cmd_run)

    validate = sub.add_parser("validate", help="check scenario files without running them", description="Load and build every scenario (and every sweep cell) given; report the first problem of each.")
    validate.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    validate.set_defaults(handler=_cmd_validate)

    train = sub.add_parser("train", help="train a learned mechanism from a config", description="Train a learned mechanism (CUDA if available, else all CPU cores); resumes from DIR/last.pt; writes metrics.csv, TensorBoard logs and the checkpoint with its model card. Under `torchrun --nproc_per_node=K -m auction_env train ...` it trains data-parallel (DistributedDataParallel: NCCL on GPUs, gloo on CPU); rank 0 writes everything.")
    train.add_argument("config", metavar="CONFIG", help="training config YAML (see mechanisms/training/configs/)")
    train.add_argument("--out", metavar="DIR", required=True, help="run folder (rerun the same command to resume)")
    train.add_argument("--iterations", type=_positive, metavar="N", help="stop after N iterations in total")
    train.add_argument("--device", metavar="DEV", help="torch device (default: cuda if available, else cpu)")
    train.add_argument("--threads", type=_positive, metavar="N", help="CPU threads for torch (default: all cores; 1 lets runs share a machine)")
    train.add_argument("--no-evaluation", action="store_true", help="skip the final evaluation (the model card then has none)")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.set_defaults(handler=_cmd_train)

    bidder = sub.add_parser("train-bidder", help="train an RL bidder with stable-baselines3", description="Train one bidder of a scenario with an SB3 algorithm against the scenario's other bidders (batched vector env); writes model.zip, curve.csv, curve.png, bids.png and summary.json (utility, gain over truthful bidding, bid slope).")
    bidder.add_argument("scenario", metavar="SCENARIO", help="a YAML path or a shipped scenario name")
    bidder.add_argument("--algo", default="PPO", type=str.upper, choices=["PPO", "SAC", "A2C", "TD3", "DDPG"], help="SB3 algorithm (default PPO)")
    bidder.add_argument("--steps", type=_positive, default=200_000, metavar="N", help="environment steps (default 200000)")
    bidder.add_argument("--out", metavar="DIR", required=True, help="run folder")
    bidder.add_argument("--bidder", type=_non_negative, default=0, metavar="I", help="the learning bidder (default 0)")
    bidder.add_argument("--n-envs", type=_positive, default=64, metavar="N", help="auctions per batched step (default 64)")
    bidder.add_argument("--seed", type=_non_negative, default=0, metavar="N")
    bidder.add_argument("--eval-rounds", type=_positive, default=100_000, metavar="N", help="rounds to score the trained bidder")
    bidder.add_argument("--algo-kwargs", metavar="JSON", help='override hyperparameters, e.g. \'{"learning_rate": 3e-4}\'')
    bidder.add_argument("--no-progress", action="store_true")
    bidder.set_defaults(handler=_cmd_train_bidder)

    inverter = sub.add_parser("train-inverter", help="train a learned inverter (outcome -> bids) for a checkpoint", description="Train a network that reconstructs all bids from a learned mechanism's public outcome (allocations, payments) on simulated auctions at one output-noise level; writes OUT.pt and its card OUT.json with recovery rate and MAE on fresh profiles.")
    inverter.add_argument("checkpoint", metavar="CHECKPOINT", help="a shipped checkpoint name (regretnet_2x2) or a card path")
    inverter.add_argument("--out", metavar="PATH", required=True, help="output path without suffix (writes PATH.pt and PATH.json)")
    inverter.add_argument("--sigma", type=float, default=0.0, help="output noise std of the mechanism (default 0)")
    inverter.add_argument("--steps", type=_positive, default=20_000, metavar="N", help="training steps (default 20000)")
    inverter.add_argument("--batch-size", type=_positive, default=1024, metavar="B", help="auctions per step (default 1024)")
    inverter.add_argument("--hidden", type=_positive, default=256, metavar="H", help="hidden width (default 256)")
    inverter.add_argument("--layers", type=_positive, default=3, metavar="L", help="hidden layers (default 3)")
    inverter.add_argument("--seed", type=_non_negative, default=0, metavar="N")
    inverter.add_argument("--eval-profiles", type=_positive, default=10_000, metavar="N", help="fresh profiles to score it on (default 10000)")
    inverter.add_argument("--no-progress", action="store_true")
    inverter.set_defaults(handler=_cmd_train_inverter)

    privacy = sub.add_parser("privacy", help="privacy-revenue trade-off of output noise", description="Sweep the output-noise sigma of a learned checkpoint: revenue, regret, and how well a model-inversion observer recovers the bids (with and without its own bids). Writes privacy.csv, recovery_revenue.png and mae.png.")
    privacy.add_argument("checkpoint", metavar="CHECKPOINT", help="a shipped checkpoint name (regretnet_2x2) or a card path")
    privacy.add_argument("--sigmas", default="0,0.05,0.1,0.2,0.5,1,2,5", metavar="S,S,...", help="noise levels (default 0,0.05,0.1,0.2,0.5,1,2,5)")
    privacy.add_argument("--profiles", type=_positive, default=1000, metavar="N", help="auctions inverted per sigma and threat model (default 1000)")
    privacy.add_argument("--out", metavar="DIR", required=True)
    privacy.add_argument("--seed", type=_non_negative, default=0, metavar="N")
    privacy.add_argument("--tolerance", type=float, default=0.02, help="recovery tolerance (default 0.02)")
    privacy.add_argument("--solver", choices=["lm", "adam", "search"], default=None,
                         help="inversion solver: Levenberg-Marquardt (default for differentiable mechanisms), the paper's projected Adam, "
                              "or derivative-free local search (default for menus and exact auctions)")
    privacy.add_argument("--iterations", type=_positive, default=None, metavar="N", help="inversion steps at most (default 100 for lm, 3000 for adam)")
    privacy.add_argument("--restarts", type=_positive, default=4, metavar="R", help="inversion restarts (default 4)")
    privacy.add_argument("--candidates", type=_non_negative, default=256, metavar="C", help="prior draws screened per auction for the restarts (default 256; 0: plain draws)")
    privacy.add_argument("--objective", choices=["outcome", "log"], default="log", help="inversion objective: on log outcomes (default) or the paper's eq. 5 (outcome)")
    privacy.add_argument("--threat-models", default="without_bids,with_bids", metavar="M,M", help="without_bids, with_bids")
    privacy.add_argument("--regret-profiles", type=_non_negative, default=200, metavar="N", help="profiles for regret per sigma (0: skip)")
    privacy.add_argument("--no-progress", action="store_true")
    privacy.set_defaults(handler=_cmd_privacy)

    evaluate = sub.add_parser("evaluate", help="revenue, welfare, IR and regret of a mechanism", description="Evaluate a checkpoint (shipped name or path) or a registered mechanism on fresh profiles; regret comes from a named attack protocol whose budget is printed.")
    evaluate.add_argument("mechanism", nargs="?", metavar="CHECKPOINT_OR_NAME", help="e.g. regretnet_2x2, path/to/card.json, or myerson")
    evaluate.add_argument("--shipped", action="store_true", help="evaluate every shipped checkpoint and print the results table (markdown)")
    evaluate.add_argument("--from-cards", action="store_true",
                          help="with --shipped: print the table from the evaluation each model card holds (seconds) instead of re-evaluating (about an hour)")
    evaluate.add_argument("--profiles", type=_positive, default=10_000, metavar="N", help="valuation profiles (default 10000)")
    evaluate.add_argument("--protocol", default="default", help="attack protocol: default, weak, regretnet_code")
    evaluate.add_argument("--seed", type=_non_negative, default=0, metavar="N")
    evaluate.add_argument("--n-bidders", type=_positive, default=2, metavar="N", help="setting for a registered mechanism (U[0,1])")
    evaluate.add_argument("--n-items", type=_positive, default=2, metavar="M", help="setting for a registered mechanism (U[0,1])")
    evaluate.add_argument("--scenario", metavar="SCENARIO", help="take the setting (and mechanism params) from a scenario's env section")
    evaluate.add_argument("--out", metavar="FILE", help="write the result(s) as JSON")
    evaluate.add_argument("--device", metavar="DEV")
    evaluate.add_argument("--no-progress", action="store_true")
    evaluate.set_defaults(handler=_cmd_evaluate)

    certify = sub.add_parser("certify", help="exact regret certificates of a certifiable network (MIP, SCIP)", description="For each of N profiles and each bidder, solve the bidder's best-misreport problem exactly as a mixed-integer program (SCIP through PySCIPOpt) and compare with gradient attacks at the same profile. Writes certificates.csv (per profile and bidder: certified regret, optimal misreport, status, gap, seconds, attack regrets) and summary.json.")
    certify.add_argument("checkpoint", metavar="CHECKPOINT", help="a certnet checkpoint: shipped name (certnet_2x2) or card path")
    certify.add_argument("--profiles", type=_positive, default=200, metavar="N", help="valuation profiles (default 200)")
    certify.add_argument("--out", metavar="DIR", required=True)
    certify.add_argument("--time-limit", type=float, default=60.0, metavar="S",
                         help="seconds per certificate (default 60); a time-out is reported, never certified")
    certify.add_argument("--split-binaries", default="auto", metavar="N",
                         help="split the misreport box until each sub-box's MIP has at most N ReLU binaries; "
                              "'auto' (default: 48 for linear MIPs, 16 with bilinear IR payments) or 'none' (one MIP)")
    certify.add_argument("--tolerance", type=float, default=1e-6, metavar="T",
                         help="absolute tolerance of a certificate in utility (default 1e-6): a solve stops once nothing "
                              "can beat the best misreport found by more than T, and the reported upper bound adds T")
    certify.add_argument("--bidders", metavar="I,I", help="bidders to certify (default all)")
    certify.add_argument("--attacks", default="default,weak", metavar="P,P", help="attack protocols to compare with (default default,weak)")
    certify.add_argument("--seed", type=_non_negative, default=0, metavar="N")
    certify.add_argument("--no-progress", action="store_true")
    certify.set_defaults(handler=_cmd_certify)

    lister = sub.add_parser("list", help="list registered mechanisms, agents, scenarios ...", description="List what can be named in a scenario.")
    lister.add_argument("what", nargs="?", default="all", choices=["all", "mechanisms", "agents", "scenarios", "checkpoints", "priors", "participation", "envs"])
    lister.set_defaults(handler=_cmd_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage and the error
        return int(exc.code or 0)
    try:
        return args.handler(args)
    except AuctionEnvError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _cmd_run(args: argparse.Namespace) -> int:
    from auction_env.report import format_summary, format_sweep
    from auction_env.runner import run_scenario

    result = run_scenario(
        args.scenario,
        out=args.out,
        seed=args.seed,
        episodes=args.episodes,
        regret_profiles=args.regret_profiles,
        device=_device(args.device),
        progress=not args.no_progress,
        backend=args.backend,
        workers=args.workers,
        address=args.address,
    )
    print(f"scenario {result.scenario.name}  ({result.scenario.source})")
    if result.config.sweep is None:
        print(format_summary(result.rows[0]))
    else:
        keys = [*result.config.sweep.grid, *(["run.seed"] if result.config.sweep.seeds else [])]
        print(format_sweep(result.rows, keys))
    print(f"results written to {result.out_dir}")
    failed = sum("error" in row for row in result.rows)
    if failed:
        print(f"{PROG}: {failed} of {len(result.rows)} sweep cells failed (their errors are in the table); "
              f"rerun with the same --out to retry only those", file=sys.stderr)
        return 1
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from auction_env.catalog import load_scenario
    from auction_env.setting import validate_scenario

    failed = 0
    for source in args.scenarios:
        try:
            scenario = load_scenario(source)
            cells = validate_scenario(scenario.config, source=scenario.source)
        except AuctionEnvError as err:
            print(f"{PROG}: error: {err}", file=sys.stderr)
            failed += 1
            continue
        print(f"ok  {scenario.source}" + (f"  ({cells} sweep cells)" if scenario.config.sweep else ""))
    return 2 if failed else 0


def _cmd_list(args: argparse.Namespace) -> int:
    import agents
    import mechanisms
    from auction_env import participation
    from auction_env.catalog import shipped_scenarios
    from auction_env.envs import registry as envs
    from mechanisms import checkpoints

    sections = {
        "mechanisms": mechanisms.registry.describe(),
        "agents": agents.registry.describe(),
        "priors": mechanisms.prior_registry.describe(),
        "participation": participation.registry.describe(),
        "envs": envs.describe(),
        "scenarios": {name: "" for name in shipped_scenarios()},
        "checkpoints": {name: "" for name in checkpoints.shipped()},
    }
    for name, entries in sections.items():
        if args.what not in ("all", name):
            continue
        print(f"{name}:")
        width = max((len(k) for k in entries), default=0)
        for key, text in entries.items():
            print(f"  {key:<{width}}  {text}".rstrip())
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    import os

    import torch

    from mechanisms.training.loop import load_training_config, train

    config = load_training_config(args.config)
    if args.no_evaluation:
        config = config.model_copy(update={"evaluation": None})
    device = _device(args.device)
    processes = int(os.environ.get("WORLD_SIZE", "1"))  # torchrun --nproc_per_node=K: K data-parallel processes
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    elif (device is None or device.type == "cpu") and not torch.cuda.is_available():
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // processes))
    card = train(config, args.out, device=device, progress=not args.no_progress and os.environ.get("RANK", "0") == "0",
                 iterations=args.iterations, source=args.config)
    if os.environ.get("RANK", "0") == "0":
        print(f"checkpoint written to {card.with_suffix('.pt')} (model card {card})")
    return 0


def _cmd_train_bidder(args: argparse.Namespace) -> int:
    import json

    import torch

    from auction_env.experiments.bidder_training import train_bidder

    kwargs = None
    if args.algo_kwargs:
        try:
            kwargs = json.loads(args.algo_kwargs)
        except json.JSONDecodeError as err:
            raise _BadInput(f"--algo-kwargs: not valid JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(kwargs, dict):
            raise _BadInput("--algo-kwargs: give a JSON object")
    torch.set_num_threads(1)  # small networks and batches: one thread is fastest
    summary = train_bidder(args.scenario, args.out, algo=args.algo, steps=args.steps, learner=args.bidder, n_envs=args.n_envs,
                           seed=args.seed, algo_kwargs=kwargs, eval_rounds=args.eval_rounds, progress=not args.no_progress)
    slope = ", ".join(f"{s:.3f}" for s in summary["slope"])
    print(f"{summary['algo']} bidder_{args.bidder}: utility {summary['utility_mean']:.4f} +/- {summary['utility_stderr']:.4f}, "
          f"gain over truthful {summary['gain_mean']:+.4f} +/- {summary['gain_stderr']:.4f}, bid slope {slope} "
          f"({summary['steps']:,} steps in {summary['wall_time_s']:.0f} s)")
    print(f"model, curve and plots written to {args.out}")
    return 0


def _cmd_privacy(args: argparse.Namespace) -> int:
    import torch
    from tqdm.auto import tqdm

    from auction_env.privacy import privacy_sweep, write_sweep
    from mechanisms.learned.checkpoints import load_checkpoint
    from mechanisms.reference import myerson_uniform_revenue

    try:
        sigmas = [float(x) for x in args.sigmas.split(",") if x.strip()]
    except ValueError:
        raise _BadInput(f"--sigmas: give comma-separated numbers, got {args.sigmas!r}") from None
    models = [x.strip() for x in args.threat_models.split(",") if x.strip()]
    torch.set_num_threads(1)
    mechanism, prior, _, card = load_checkpoint(args.checkpoint)
    if prior.n_bidders == 1:
        models = [m for m in models if m != "with_bids"]  # nothing to learn from a lone bidder's own bids
    bar = tqdm(total=len(sigmas) * len(models), desc="privacy", unit="cell", disable=args.no_progress)
    rows = privacy_sweep(
        mechanism, prior, sigmas, profiles=args.profiles, seed=args.seed, tolerance=args.tolerance, threat_models=models,
        observer_params={"solver": args.solver, "iterations": args.iterations, "restarts": args.restarts,
                         "candidates": args.candidates, "objective": args.objective},
        regret_profiles=args.regret_profiles, on_cell=lambda row: bar.update(1),
    )
    bar.close()
    s = card["setting"]
    uniform01 = bool(torch.all(prior.low == 0) and torch.all(prior.high == 1))
    reference = myerson_uniform_revenue(s["n_bidders"], s["n_items"]) if uniform01 and s.get("valuation", "additive") == "additive" else None
    write_sweep(rows, args.out, title=f"{card.get('name', args.checkpoint)}", reference_revenue=reference)
    print(f"{'sigma':>6} {'threat model':<13} {'revenue':>8} {'regret':>8} {'recovery %':>12} {'MAE':>7}")
    for r in rows:
        regret = f"{r['regret_mean']:.5f}" if r["regret_mean"] is not None else "-"
        print(f"{r['sigma']:>6g} {r['threat_model']:<13} {r['revenue_mean']:8.4f} {regret:>8} "
              f"{100 * r['recovery_rate']:6.2f}±{100 * r['recovery_stderr']:.2f} {r['mae']:7.4f}")
    print(f"random guess: recovery {100 * rows[0]['prior_guess_recovery_rate']:.2f}%, MAE {rows[0]['prior_guess_mae']:.4f}")
    print(f"privacy.csv, recovery_revenue.png and mae.png written to {args.out}")
    return 0


def _cmd_train_inverter(args: argparse.Namespace) -> int:
    import math

    from agents.observers.train_inverter import save_inverter, score_inverter, train_inverter
    from mechanisms.learned.checkpoints import load_checkpoint

    if not (math.isfinite(args.sigma) and args.sigma >= 0):
        raise _BadInput(f"--sigma must be a finite number >= 0, got {args.sigma}")
    mechanism, prior, _, card = load_checkpoint(args.checkpoint)
    if not hasattr(mechanism, "noise_std"):
        raise _BadInput(f"{args.checkpoint}: has no output noise setting; train inverters for learned mechanisms")
    mechanism.noise_std = args.sigma
    net, record = train_inverter(mechanism, prior, steps=args.steps, batch_size=args.batch_size, hidden=args.hidden,
                                 layers=args.layers, seed=args.seed, progress=not args.no_progress)
    score = score_inverter(net, mechanism, prior, profiles=args.eval_profiles)
    path = save_inverter(net, args.out, target=card.get("name", str(args.checkpoint)), noise_std=args.sigma, prior=prior,
                         training=record, evaluation={"profiles": args.eval_profiles, "threat_model": "without_bids", **score})
    print(f"recovery {100 * score['recovery_rate']:.2f}% ± {100 * score['recovery_stderr']:.2f}, MAE {score['mae']:.4f} "
          f"on {args.eval_profiles:,} fresh profiles (sigma {args.sigma:g}); trained in {record['wall_time_s']:.0f} s")
    print(f"wrote {path} and {path.with_suffix('.pt')}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from mechanisms.common.io import write_text_atomic
    from auction_env.experiments.evaluation import evaluate_named, results_table
    from mechanisms.evaluation import format_result

    if args.shipped:
        rows, table = results_table(profiles=args.profiles, protocol=args.protocol, seed=args.seed, device=_device(args.device),
                                    progress=not args.no_progress, from_cards=args.from_cards)
        print(table)
        payload = rows
    else:
        if not args.mechanism:
            raise _BadInput("evaluate: give a CHECKPOINT_OR_NAME or --shipped")
        result = evaluate_named(args.mechanism, n_bidders=args.n_bidders, n_items=args.n_items, scenario=args.scenario,
                                profiles=args.profiles, protocol=args.protocol, seed=args.seed, device=_device(args.device), progress=not args.no_progress)
        print(format_result(result))
        payload = result.to_dict()
    if args.out:
        write_text_atomic(args.out, json.dumps(payload, indent=2) + "\n")
        print(f"written to {args.out}")
    return 0


def _cmd_certify(args: argparse.Namespace) -> int:
    import json
    import math
    from pathlib import Path

    import torch
    from tqdm.auto import tqdm

    from mechanisms.common.io import write_text_atomic
    from mechanisms.certification import certify_profiles
    from mechanisms.certify import CertificationError, parse_split_binaries
    from mechanisms.learned.certnet import CertNet
    from mechanisms.learned.checkpoints import load_checkpoint

    if not (math.isfinite(args.time_limit) and args.time_limit > 0):
        raise _BadInput(f"--time-limit must be a positive number of seconds, got {args.time_limit}")
    if not (math.isfinite(args.tolerance) and args.tolerance >= 0):
        raise _BadInput(f"--tolerance must be a number >= 0, got {args.tolerance}")
    try:
        bidders = [int(x) for x in args.bidders.split(",")] if args.bidders else None
    except ValueError:
        raise _BadInput(f"--bidders: give comma-separated bidder indices, got {args.bidders!r}") from None
    attacks = [a.strip() for a in args.attacks.split(",") if a.strip()]
    try:
        split_binaries = parse_split_binaries(args.split_binaries)
    except ValueError as err:
        raise _BadInput(f"--split-binaries: {err}") from None
    torch.set_num_threads(1)
    model, prior, _, card = load_checkpoint(args.checkpoint)
    if not isinstance(model, CertNet):
        raise _BadInput(f"{args.checkpoint}: only certnet checkpoints can be certified (this is {card['mechanism']})")
    n_bidders = len(bidders) if bidders is not None else model.n_bidders
    bar = tqdm(total=args.profiles * n_bidders, desc="certify", unit="solve", disable=args.no_progress)
    try:
        study = certify_profiles(model, prior, profiles=args.profiles, seed=args.seed, bidders=bidders, time_limit=args.time_limit,
                                 split_binaries=split_binaries, tolerance=args.tolerance,
                                 attacks=attacks, on_certificate=lambda c: bar.update(1))
    except CertificationError as err:  # a wrong certificate: nothing is written
        bar.close()
        print(f"{PROG}: certification failed: {err}", file=sys.stderr)
        return 1
    bar.close()
    study.summary["checkpoint"] = card.get("name", str(args.checkpoint))
    out = Path(args.out)
    write_text_atomic(out / "certificates.csv", study.csv())
    write_text_atomic(out / "summary.json", json.dumps(study.summary, indent=2) + "\n")
    print(f"{study.summary['checkpoint']}: revenue {study.summary['revenue_mean']:.4f} on {study.summary['profiles']} profiles")
    for b in study.summary["per_bidder"]:
        cert, secs = b["certified_regret"], b["solve_seconds"]
        line = (f"  bidder {b['bidder']}: certified regret {cert['mean']:.5f} ({cert['std']:.5f}) on {b['certificates']} certificates"
                f" ({b['not_certified']} not certified); solve {secs['mean']:.2f} s ({secs['std']:.2f}), median {secs['median']:.2f} s")
        for a in attacks:
            line += f"; {a}: {b[f'regret_{a}']['mean']:.5f}, ratio {b[f'ratio_{a}']:.3f}, misses {100 * b[f'missed_{a}']:.0f}%"
        print(line)
    print(f"certificates.csv and summary.json written to {out}")
    return 0


def _device(name: str | None):
    if name is None:
        return None
    import torch

    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise _BadInput(f"--device: {err}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise _BadInput("--device: CUDA is not available on this machine")
    return device


class _BadInput(AuctionEnvError):
    pass


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value
