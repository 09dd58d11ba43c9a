"""Regret evaluator speed: the ``default`` protocol vs the ``full`` budget and a plain implementation.

Run:  .venv/bin/python benchmarks/evaluator_speed.py [--profiles 10000] [--compare 1000] [--check 300]

Three tables, measured in one run (torch's default thread count, CPU):

1. RegretNet 2x2 on the same ``--compare`` profiles: a plain batched PyTorch implementation of
   the ``full`` attack budget (written below as the yardstick: 41^2 grid per bidder, PGD with
   Adam from the truthful bid, the 2 best grid points and 8 random starts, 300 steps), the
   evaluator with that budget (``full``), and the evaluator's ``default`` protocol (a 21^2 grid,
   its 4 best points, the truthful bid and 8 random starts; after 50 steps only the best 2 starts
   of each bidder and profile go on; 300 steps). Goal: ``default`` at least 3x the plain
   implementation's profiles per second, and at least 0.99 of ``full``'s mean regret.
2. ``default`` on ``--profiles`` fresh RegretNet 2x2 profiles. Goal: 10,000 in at most 60 s.
3. ``default`` / ``full`` mean regret on ``--check`` profiles of every shipped checkpoint
   (the same profiles and seed for both). Goal: at least 0.99 each.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
from torch import Tensor
from tqdm.auto import tqdm

import mechanisms
from mechanisms.base import Mechanism
from mechanisms.evaluation import PROTOCOLS, attack_regrets
from mechanisms.learned.checkpoints import shipped

SPEED_GOAL, REGRET_GOAL, TIME_GOAL = 3.0, 0.99, 60.0


def plain_regrets(mech: Mechanism, v: Tensor, low: Tensor, high: Tensor, gen: torch.Generator) -> Tensor:
    """``(profiles, n)`` regrets under the ``full`` budget, the plain way: every bidder's
    candidates in one batch, the grid scored without autograd, Adam on the rest, best kept."""
    b, n, m = v.shape
    eye = torch.eye(n, dtype=torch.bool).view(1, n, 1, n, 1)

    def utility(x: Tensor) -> Tensor:  # x (b, n, k, m): bidder i reports x[:, i, k]
        k = x.shape[2]
        profiles = torch.where(eye, x.unsqueeze(3), v.view(b, 1, 1, n, m)).reshape(-1, n, m)
        out = mech(profiles)
        alloc, pay = out.allocation.view(b, n, k, n, m), out.payments.view(b, n, k, n)
        own_a = torch.diagonal(alloc, dim1=1, dim2=3).permute(0, 3, 1, 2)
        own_p = torch.diagonal(pay, dim1=1, dim2=3).permute(0, 2, 1)
        return (own_a * v.unsqueeze(2)).sum(-1) - own_p

    lo, hi = low.view(1, n, 1, m), high.view(1, n, 1, m)
    with torch.no_grad():
        truthful = utility(v.unsqueeze(2))[..., 0]
        axis = torch.linspace(0, 1, 41)
        grid = lo + (hi - lo) * torch.cartesian_prod(*[axis] * m).view(1, 1, -1, m)
        u_grid = utility(grid.expand(b, n, -1, m).contiguous())
        best = torch.maximum(truthful, u_grid.max(-1).values)
        top = torch.gather(grid.expand(b, n, -1, m), 2, u_grid.topk(2, -1).indices.unsqueeze(-1).expand(-1, -1, -1, m))
        rand = lo + (hi - lo) * torch.rand((b, n, 8, m), generator=gen)
        x = torch.cat([v.unsqueeze(2), top, rand], 2).clone().requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=0.02)
    for step in range(301):
        u = utility(x)
        best = torch.maximum(best, u.detach().max(-1).values)
        if step == 300:
            break
        optimizer.zero_grad()
        (-u.sum()).backward()
        optimizer.step()
        with torch.no_grad():
            x.clamp_(lo, hi)
    return (best - truthful).clamp(min=0.0)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000, help="profiles for the 60 s goal (0: skip)")
    parser.add_argument("--compare", type=int, default=1000, help="profiles of the side-by-side table")
    parser.add_argument("--check", type=int, default=300, help="profiles per shipped checkpoint (0: skip)")
    args = parser.parse_args()
    full, default = PROTOCOLS["full"], PROTOCOLS["default"]
    print(f"{platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}, CPU")
    print(f"full:    {full.describe(2)}\ndefault: {default.describe(2)}\n")

    mech = mechanisms.load("regretnet_2x2").eval()
    prior = mechanisms.make_prior(2, 2)
    v = prior.sample(args.compare, torch.Generator().manual_seed(1))
    low, high = prior.bounds("cpu")
    chunk = 256
    plain, t_plain = timed(
        lambda: torch.cat(
            [
                plain_regrets(mech, v[i : i + chunk], low, high, torch.Generator().manual_seed(i))
                for i in tqdm(range(0, len(v), chunk), desc="plain", leave=False)
            ]
        )
    )
    old, t_old = timed(lambda: attack_regrets(mech, prior, v, protocol="full", progress=True))
    new, t_new = timed(lambda: attack_regrets(mech, prior, v, protocol="default", progress=True))
    print(f"1. RegretNet 2x2, {args.compare:,} profiles (the same for all three)")
    print("| attack | time (s) | profiles/s | speed vs plain | mean regret | regret vs full |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r, t in (("plain PyTorch, full budget", plain, t_plain), ("full", old, t_old), ("default", new, t_new)):
        ratio = r.mean().item() / old.mean().item()
        print(f"| {name} | {t:.1f} | {len(v) / t:.1f} | {t_plain / t:.2f}x | {r.mean().item():.6f} | {ratio:.4f} |")
    speed, kept = t_plain / t_new, new.mean().item() / old.mean().item()
    print(f"default vs plain: {speed:.2f}x (goal >= {SPEED_GOAL}) -> {'met' if speed >= SPEED_GOAL else 'NOT met'}")
    print(f"default / full regret: {kept:.4f} (goal >= {REGRET_GOAL}) -> {'met' if kept >= REGRET_GOAL else 'NOT met'}")

    if args.profiles:
        profiles = prior.sample(args.profiles, torch.Generator().manual_seed(2))
        _, t = timed(lambda: attack_regrets(mech, prior, profiles, protocol="default", progress=True))
        verdict = "met" if t <= TIME_GOAL else "NOT met"
        goal = f"goal <= {TIME_GOAL:g} s"
        print(f"\n2. default on {args.profiles:,} RegretNet 2x2 profiles: {t:.1f} s ({goal}) -> {verdict}")

    if args.check:
        print(f"\n3. default / full mean regret, {args.check} profiles per shipped checkpoint")
        print("| checkpoint | full | default | ratio | full s | default s |")
        print("|---|---:|---:|---:|---:|---:|")
        worst = float("inf")
        for name in shipped():
            m = mechanisms.load(name).eval()
            p = m.setting.prior
            vals = p.sample(args.check, torch.Generator().manual_seed(3))
            r_full, tf = timed(lambda: attack_regrets(m, p, vals, protocol="full"))
            r_new, tn = timed(lambda: attack_regrets(m, p, vals, protocol="default"))
            a, b = r_full.mean().item(), r_new.mean().item()
            ratio = b / a if a > 0 else 1.0
            worst = min(worst, ratio)
            print(f"| {name} | {a:.6f} | {b:.6f} | {ratio:.4f} | {tf:.1f} | {tn:.1f} |", flush=True)
        print(f"worst ratio {worst:.4f} (goal >= {REGRET_GOAL}) -> {'met' if worst >= REGRET_GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
