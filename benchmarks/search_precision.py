"""Would bfloat16 speed up the trainers' misreport search without weakening it? float32 vs bfloat16.

Run:  .venv/bin/python benchmarks/search_precision.py [--profiles 2000] [--slices 5]
          [--checkpoints regretnet_2x2,regretnet_3x10] [--threads 1]

The trainers' inner loop (:func:`mechanisms.search.pgd_ascent`: 25 Adam steps of lr 0.1 from one
random start per bidder and profile, every bidder at once) on each shipped checkpoint, at its
setting, run on the network as shipped (float32) and on a bfloat16 copy of it (the misreports
stay float32 and are cast for each forward pass; matrix products in bfloat16 use the CPU's
AMX / AVX-512 BF16 units where it has them), the two taking turns in slices so that a busy spell
of a shared machine slows both alike. Speed: seconds per search. Strength: the regret the
misreports each search found are worth, both measured in float32 on the same profiles from the
same starts (a search that finds less trains the network against a weaker attacker; the trained
networks are where it matters, since their regrets are small). Fresh random starts on every
profile, everybody present: the trainers also keep each profile's misreports from one visit to
the next, which this comparison of the search itself leaves out. The evaluator's rule for a
faster attack applies: adopt bfloat16 only if it finds at least 0.99 of float32's regret.
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import time

import torch

from mechanisms.common.errors import CheckpointError
from mechanisms.learned.checkpoints import load
from mechanisms.search import deviation_utilities, pgd_ascent, projected_adam, truthful_utilities

STEPS, LR = 25, 0.1  # the trainers' inner loop (regretnet_2x2.yaml, regretnet_3x10.yaml)
KEEP = 0.99  # the least share of float32's regret a faster search must find (issue 23's rule)


def search(mechanism, values: torch.Tensor, start: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The best misreports ``(batch, n, 1, m)`` of the trainers' search, run in ``dtype``."""
    n, m = values.shape[1:]
    low, high = torch.zeros(n, m), torch.ones(n, m)
    if dtype == torch.float32:  # the trainers' own call
        return pgd_ascent(mechanism, values, start, low, high, steps=STEPS, lr=LR)[0]
    copy_ = copy.deepcopy(mechanism).to(dtype)  # (made each search, as a trainer would after its step)
    cast = values.to(dtype)
    utility = lambda x: deviation_utilities(copy_, cast, x.to(dtype)).float()  # noqa: E731
    return projected_adam(utility, start, low.unsqueeze(-2), high.unsqueeze(-2), steps=STEPS, lr=LR)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--profiles", type=int, default=2000, help="profiles per search (default 2000)")
    parser.add_argument("--slices", type=int, default=5, help="timed turns of each precision (default 5)")
    parser.add_argument(
        "--checkpoints", default="regretnet_2x2,regretnet_3x10", help="shipped networks, comma-separated"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args(argv)
    if args.profiles < 1 or args.slices < 1 or args.threads < 1:
        parser.error("--profiles, --slices and --threads must be >= 1")
    torch.set_num_threads(args.threads)
    networks = {}
    for name in args.checkpoints.split(","):
        try:
            networks[name.strip()] = load(name.strip()).requires_grad_(False)
        except CheckpointError as err:
            parser.error(f"--checkpoints: {err}")
    print(
        f"# {platform.processor() or platform.machine()} (torch's CPU capability: "
        f"{torch.backends.cpu.get_cpu_capability()}), {args.threads} torch thread(s), torch {torch.__version__}; "
        f"{args.profiles} profiles U[0,1], {STEPS} Adam steps of lr {LR} from one random start per bidder (seed 0); "
        f"{args.slices} timed slices each, interleaved"
    )
    print(
        "| network | float32 s / search | bfloat16 s / search | speed-up | float32 regret | bfloat16 regret | share |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for name, mechanism in networks.items():
        n, m = mechanism.n_bidders, mechanism.n_items
        generator = torch.Generator().manual_seed(0)
        values = torch.rand(args.profiles, n, m, generator=generator)
        start = torch.rand(args.profiles, n, 1, m, generator=generator)
        seconds: dict[torch.dtype, list[float]] = {torch.float32: [], torch.bfloat16: []}
        found: dict[torch.dtype, torch.Tensor] = {}
        for s in range(args.slices + 1):  # the first turn of each is the warm-up
            for dtype in (torch.float32, torch.bfloat16) if s % 2 else (torch.bfloat16, torch.float32):
                begin = time.perf_counter()
                found[dtype] = search(mechanism, values, start, dtype)
                if s:
                    seconds[dtype].append(time.perf_counter() - begin)
        truthful = truthful_utilities(mechanism, values)
        regret = {
            dtype: torch.relu(deviation_utilities(mechanism, values, x).squeeze(-1) - truthful).mean().item()
            for dtype, x in found.items()
        }
        t32, t16 = statistics.median(seconds[torch.float32]), statistics.median(seconds[torch.bfloat16])
        share = regret[torch.bfloat16] / regret[torch.float32] if regret[torch.float32] > 0 else float("nan")
        verdicts.append(share >= KEEP)
        print(
            f"| {name} | {t32:.4f} | {t16:.4f} | {t32 / t16:.2f}x | {regret[torch.float32]:.6f} | "
            f"{regret[torch.bfloat16]:.6f} | {share:.2f} |"
        )
    verdict = "adopt" if all(verdicts) else "keep float32"
    print(f"\nbfloat16 must find >= {KEEP} of float32's regret on every network: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
