"""Training iterations per second in the large settings (3 x 10, 5 x 10), on CPU and on CUDA.

Run:  .venv/bin/python benchmarks/train_speed_large.py [--iterations 20] [--configs regretnet_3x10,regretnet_5x10]
          [--devices cpu,cuda] [--threads T]

For each training config and each device (``cuda`` is skipped when none is present), builds the
run exactly as ``auction-env train`` does, takes ``--warmup`` iterations, then times
``--iterations`` more (the misreport search for every bidder at once, then the network's step)
and prints seconds per iteration, iterations per second and, with both devices, the CUDA / CPU
speed-up, next to the config's full length in hours at that rate. Prepared for a GPU machine:
the same command prints the CUDA column there.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

from mechanisms.training.loop import TrainingRun, load_training_config

CONFIGS = Path(__file__).parents[1] / "mechanisms" / "training" / "configs"


def seconds_per_iteration(config_name: str, device: str, warmup: int, iterations: int) -> tuple[float, int]:
    """Seconds per training iteration of ``config_name`` on ``device``, and the config's length."""
    config = load_training_config(CONFIGS / f"{config_name}.yaml")
    run = TrainingRun(config, device=device)
    for _ in range(warmup):
        run.trainer.step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iterations):
        run.trainer.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iterations, config.iterations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default="regretnet_3x10,regretnet_5x10", help="training configs, by name")
    parser.add_argument("--devices", default="cpu,cuda", help="devices to time (cuda skipped if absent)")
    parser.add_argument("--iterations", type=int, default=20, help="timed iterations per run (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations first (default 3)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.warmup < 0:
        parser.error("--iterations must be >= 1 and --warmup >= 0")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    if "cuda" in devices and not torch.cuda.is_available():
        print("cuda: no GPU here, CPU only")
        devices.remove("cuda")
    gpu = f", {torch.cuda.get_device_name(0)}" if "cuda" in devices else ""
    print(f"# {platform.processor() or platform.machine()}, {torch.get_num_threads()} CPU threads{gpu}")
    print("| config | device | s / iteration | iterations / s | full run at this rate |")
    print("|---|---|---:|---:|---:|")
    for name in [c.strip() for c in args.configs.split(",") if c.strip()]:
        rates = {}
        for device in devices:
            seconds, total = seconds_per_iteration(name, device, args.warmup, args.iterations)
            rates[device] = seconds
            hours = total * seconds / 3600
            print(f"| {name} | {device} | {seconds:.3f} | {1 / seconds:.2f} | {total:,} its: {hours:.1f} h |")
        if len(rates) == 2:
            print(f"| {name} | cuda / cpu | | {rates['cpu'] / rates['cuda']:.1f}x | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
