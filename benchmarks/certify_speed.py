"""Seconds per exact regret certificate (MIP, SCIP) on 2x2 profiles.

Run:  .venv/bin/python benchmarks/certify_speed.py [--checkpoints certnet_2x2_penalty,certnet_2x2]
          [--profiles 50] [--split auto] [--heuristics off]

Certifies bidder 0 at ``--profiles`` profiles drawn from U[0,1] (seed 0) with one thread, for
each checkpoint, each ``--split`` setting (``auto``, ``none`` = one MIP over the whole
support, or N = at most N ReLU binaries per sub-box MIP) and each ``--heuristics`` setting of
SCIP's primal heuristics (``off``, the certifier's default, ``fast`` or ``default``, SCIP's
own), and prints one table row each: how many solves finished, the mean certified regret (the
same, within the tolerance, whatever the settings), mean, median, std and max seconds per
certificate (bounds, partition, model building and solves), sub-boxes and ReLU binaries per MIP.
Goal: a mean of at most 5.5 s per 2x2 profile, the certifying paper's figure for its 2x2 network without IR in the
architecture (Gurobi).

``--highs`` adds a solver comparison for the networks whose MIPs are linear (``ir=penalty``):
each profile's sub-box MIPs are built with the sparsemax complementarity as big-M constraints
(``complementarity="bigm"``: a plain MILP), written as MPS and solved by SCIP and by HiGHS
(``highspy``, one thread, the same absolute gap), and by SCIP from the SOS1 formulation the
certifier uses; the table gives the solve seconds per profile and whether the optima agree.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from tqdm.auto import tqdm

from mechanisms.certification import Certifier, parse_split_binaries
from mechanisms.certification.certifier import HEURISTICS
from mechanisms.certification.mip import silence_stderr
from mechanisms.common.seeding import make_generators
from mechanisms.learned.checkpoints import load_checkpoint
from mechanisms.reference import CERTIFICATION_SECONDS_2X2

GOAL_SECONDS = CERTIFICATION_SECONDS_2X2["penalty"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkpoints",
        default="certnet_2x2_penalty,certnet_2x2",
        help="comma-separated certnet checkpoints (default certnet_2x2_penalty,certnet_2x2)",
    )
    parser.add_argument("--profiles", type=int, default=50, help="profiles to certify (default 50)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per certificate (default 120)")
    parser.add_argument("--split", default="auto", help="comma-separated split settings: auto, none, N (default auto)")
    parser.add_argument(
        "--heuristics",
        default="off",
        help=f"comma-separated settings of SCIP's primal heuristics: {', '.join(HEURISTICS)} (default off)",
    )
    parser.add_argument("--bidder", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument("--highs", action="store_true", help="also compare SCIP and HiGHS on the penalty nets' MIPs")
    args = parser.parse_args(argv)
    try:
        splits = [parse_split_binaries(s) for s in args.split.split(",") if s.strip()]
    except ValueError as err:
        parser.error(f"--split: {err}")
    heuristics = [h.strip() for h in args.heuristics.split(",") if h.strip()]
    if not heuristics or any(h not in HEURISTICS for h in heuristics):
        parser.error(f"--heuristics: each of {', '.join(HEURISTICS)}, got {args.heuristics!r}")
    torch.set_num_threads(1)
    rows = []
    for name in [c.strip() for c in args.checkpoints.split(",") if c.strip()]:
        model, prior, _, card = load_checkpoint(name)
        (gen,) = make_generators(0, 1)
        profiles = prior.sample(args.profiles, gen)
        for split, heuristic in [(split, h) for split in splits for h in heuristics]:
            certifier = Certifier(model, prior, time_limit=args.time_limit, split_binaries=split, heuristics=heuristic)
            label = f"{card['name']} ({model.n_bidders}x{model.n_items}, ir={model.ir})"
            desc = f"{card['name']} split={split} heuristics={heuristic}"
            certificates = [
                certifier.certify(v, args.bidder)
                for v in tqdm(profiles, desc=desc, unit="profile", disable=args.no_progress)
            ]
            seconds = [c.seconds for c in certificates]
            regrets = [c.regret for c in certificates if c.regret is not None]
            rows.append(
                (
                    label,
                    "none" if certifier.split_binaries is None else f"{split} ({certifier.split_binaries})",
                    heuristic,
                    statistics.fmean(regrets) if regrets else float("nan"),
                    sum(c.certified for c in certificates),
                    len(certificates),
                    seconds,
                    statistics.fmean(c.boxes for c in certificates),
                    statistics.fmean(c.binaries for c in certificates),
                    certificates[0].relus,
                )
            )
    print(
        f"\n# {platform.processor() or platform.machine()}, 1 torch thread, SCIP via PySCIPOpt; bidder {args.bidder}, "
        f"{args.profiles} profiles (seed 0), time limit {args.time_limit:g} s per certificate"
    )
    print(
        "| checkpoint | split (binaries per sub-MIP) | heuristics | certified | mean regret | mean s | median s | "
        "std s | max s | sub-boxes | binaries per MIP (max) | ReLUs |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, split, heuristic, regret, solved, total, seconds, boxes, binaries, relus in rows:
        print(
            f"| {label} | {split} | {heuristic} | {solved} / {total} | {regret:.6f} | "
            f"{statistics.fmean(seconds):.2f} | {statistics.median(seconds):.2f} | "
            f"{statistics.pstdev(seconds):.2f} | {max(seconds):.2f} | {boxes:.1f} | {binaries:.1f} | {relus} |"
        )
    print()
    for label, split, heuristic, _, solved, total, seconds, *_ in rows:
        mean = statistics.fmean(seconds)
        verdict = "met" if mean <= GOAL_SECONDS and solved == total else "NOT met"
        print(
            f"{label}, split {split}, heuristics {heuristic}: mean {mean:.2f} s per profile, {solved}/{total} "
            f"certified (goal <= {GOAL_SECONDS} s): {verdict}"
        )
    if args.highs:
        compare_solvers(args)
    return 0


def compare_solvers(args: argparse.Namespace) -> None:
    """SCIP (SOS1 and big-M) and HiGHS (big-M, from the same MPS file) on every sub-box MIP."""
    import tempfile
    from pathlib import Path

    import highspy

    print(f"\n# solve seconds per profile, bidder {args.bidder}, {args.profiles} profiles, all sub-box MIPs, 1 thread")
    print("| checkpoint | SCIP, SOS1 | SCIP, big-M | HiGHS, big-M | optima agree (1e-5) |")
    print("|---|---:|---:|---:|---:|")
    for name in [c.strip() for c in args.checkpoints.split(",") if c.strip()]:
        model, prior, _, card = load_checkpoint(name)
        if model.ir != "penalty":
            continue  # the IR-by-construction payment is bilinear: no MILP
        (gen,) = make_generators(0, 1)
        certifier = Certifier(model, prior, time_limit=args.time_limit)
        totals, agree, count = {"sos1": 0.0, "bigm": 0.0, "highs": 0.0}, 0, 0
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "box.mps")
            for v in tqdm(prior.sample(args.profiles, gen), desc=f"{name} solvers", disable=args.no_progress):
                v = v.double().numpy()
                for box in certifier.partition(v, args.bidder):
                    optima = {}
                    for form in ("sos1", "bigm"):
                        program = certifier.build(v, args.bidder, box=box, complementarity=form)
                        start = time.perf_counter()
                        with silence_stderr():
                            program.mip.optimize()
                        totals[form] += time.perf_counter() - start
                        optima[form] = program.mip.getObjVal()
                    program.mip.writeProblem(path, verbose=False)
                    highs = highspy.Highs()
                    highs.silent()
                    highs.readModel(path)
                    for option, value in (("threads", 1), ("mip_rel_gap", 0.0), ("mip_abs_gap", certifier.tolerance)):
                        highs.setOptionValue(option, value)
                    start = time.perf_counter()
                    highs.run()
                    totals["highs"] += time.perf_counter() - start
                    optima["highs"] = highs.getInfo().objective_function_value
                    agree += max(optima.values()) - min(optima.values()) <= 1e-5
                    count += 1
        per = {k: t / args.profiles for k, t in totals.items()}
        print(f"| {card['name']} | {per['sos1']:.2f} | {per['bigm']:.2f} | {per['highs']:.2f} | {agree} / {count} |")


if __name__ == "__main__":
    raise SystemExit(main())
