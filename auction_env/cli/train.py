"""``auction-env train CONFIG --out DIR``: train a learned mechanism from a config."""

from __future__ import annotations

import argparse

from auction_env.cli.args import device, no_progress, positive

HELP = "train a learned mechanism from a config"
DESCRIPTION = (
    "Train a learned mechanism (CUDA if available, else the CPU cores the machine is not busy with); "
    "resumes from DIR/last.pt, which is saved every save_every iterations, every minute and on Ctrl-C; "
    "writes metrics.csv, TensorBoard logs and the checkpoint with its model card, evaluated at the end "
    "(--evaluation-profiles, --no-evaluation). "
    "Under `torchrun --nproc_per_node=K -m auction_env train ...` it trains data-parallel "
    "(DistributedDataParallel: NCCL on GPUs, gloo on CPU); rank 0 writes everything."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", metavar="CONFIG", help="training config YAML (see mechanisms/training/configs/)")
    parser.add_argument("--out", metavar="DIR", required=True, help="run folder (rerun the same command to resume)")
    parser.add_argument("--iterations", type=positive, metavar="N", help="stop after N iterations in total")
    parser.add_argument("--device", metavar="DEV", help="torch device (default: cuda if available, else cpu)")
    parser.add_argument(
        "--threads",
        type=positive,
        metavar="N",
        help="CPU threads for torch (default: the cores the machine is not busy with, at least 1)",
    )
    parser.add_argument(
        "--no-evaluation", action="store_true", help="skip the final evaluation (the model card then has none)"
    )
    parser.add_argument(
        "--evaluation-profiles",
        type=positive,
        metavar="N",
        help="profiles of the final evaluation (default: the config's evaluation.profiles)",
    )
    no_progress(parser)


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from mechanisms.common.io import check_writable
    from mechanisms.training.config import load_training_config

    config = load_training_config(args.config)  # a bad file fails here, before torch is imported
    check_writable(args.out)

    import torch

    from mechanisms.common.device import free_cores
    from mechanisms.training.loop import train

    if args.no_evaluation:
        config = config.model_copy(update={"evaluation": None})
    elif args.evaluation_profiles is not None and config.evaluation is not None:
        evaluation = config.evaluation.model_copy(update={"profiles": args.evaluation_profiles})
        config = config.model_copy(update={"evaluation": evaluation})
    if config.evaluation is not None and os.environ.get("RANK", "0") == "0":  # say what comes after training
        e = config.evaluation
        print(
            f"after training: evaluation on {e.profiles:,} profiles ({e.protocol} attack) for the model card; "
            "--evaluation-profiles N changes it, --no-evaluation skips it",
            file=sys.stderr,
        )
    dev = device(args.device)
    processes = int(os.environ.get("WORLD_SIZE", "1"))  # torchrun --nproc_per_node=K: K data-parallel processes
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    elif (dev is None or dev.type == "cpu") and not torch.cuda.is_available():
        torch.set_num_threads(free_cores(processes))
    card = train(
        config,
        args.out,
        device=dev,
        progress=not args.no_progress and os.environ.get("RANK", "0") == "0",
        iterations=args.iterations,
        source=args.config,
    )
    if os.environ.get("RANK", "0") == "0":
        print(f"checkpoint written to {card.with_suffix('.pt')} (model card {card})")
    return 0
