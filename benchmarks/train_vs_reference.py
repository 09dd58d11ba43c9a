"""RegretNet training iterations per second, ours vs the reference implementation
alexstein0/neural-auctions (Stein et al. 2023), at one identical configuration.

Run:  PYTHONPATH=DEPS .venv/bin/python benchmarks/train_vs_reference.py --reference CHECKOUT
          [--slices 5] [--iterations 3] [--warmup 2] [--batch 2000] [--threads 1]

CHECKOUT is the root of a checkout of the reference, taken outside this repository:
    git clone https://github.com/alexstein0/neural-auctions CHECKOUT
and DEPS a folder with the light pure-Python packages its `neural_auctions` package imports
that this project's environment lacks (torch, numpy, tqdm and tensorboard are ours):
    .venv/bin/python -m pip install --target DEPS "omegaconf~=2.2.2" "icecream==2.1.3"
Nothing of the reference is copied here: it is imported from CHECKOUT and driven through its
own functions (`get_model`, `get_optimizer_and_schedulers`, `get_dataloader`, and the model's
`train_loop` over a loader of `--iterations` batches: one epoch of theirs is one slice).

Configuration of both: 2 additive bidders x 2 items, U[0,1]; a RegretNet trunk of three
Linear(., 100) + ReLU layers (theirs: n_hidden_layers 2, which counts the hidden-to-hidden
layers after the input layer; ours: layers 3, which counts all of them), allocation and
payment heads; batch 2000; 25 misreport steps of lr 0.1 from 1 start; one torch thread.
Ours is regretnet_2x2.yaml with those values, built as `auction-env train` builds it.
The two take turns in slices (alternating which goes first), so that a slower spell of a
shared machine slows both alike. Goal: ours >= 2x the reference's iterations per second.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import torch
import yaml

from mechanisms.training.loop import TrainingRun, load_training_config

CONFIG = Path(__file__).parents[1] / "mechanisms" / "training" / "configs" / "regretnet_2x2.yaml"
GOAL = 2.0
N_BIDDERS, N_ITEMS, HIDDEN, TRUNK_LAYERS = 2, 2, 100, 3  # TRUNK_LAYERS: Linear + ReLU layers of width HIDDEN
MISREPORT_STEPS, MISREPORT_LR, MISREPORT_INITS = 25, 0.1, 1


class Ours:
    """Our trainer: ``run.trainer.step()`` is one iteration."""

    name = "ours (auction-env)"

    def __init__(self, batch: int) -> None:
        data = yaml.safe_load(CONFIG.read_text())
        data["mechanism"]["params"].update(hidden=HIDDEN, layers=TRUNK_LAYERS)
        data["trainer"]["params"].update(
            batch_size=batch,
            misreport_steps=MISREPORT_STEPS,
            misreport_lr=MISREPORT_LR,
            misreport_inits=MISREPORT_INITS,
        )
        self.run = TrainingRun(load_training_config(data), device="cpu")

    def iterations(self, k: int) -> None:
        for _ in range(k):
            self.run.trainer.step()


class Reference:
    """The reference: its model's ``train_loop`` over a loader of ``k`` batches is ``k`` iterations."""

    name = "reference (neural-auctions)"

    def __init__(self, na: object, checkout: Path, batch: int) -> None:
        from omegaconf import OmegaConf  # one of the reference's dependencies

        self.na, self.batch = na, batch
        self.model_cfg = OmegaConf.load(checkout / "config" / "model" / "regretnet.yaml")
        self.hyp = OmegaConf.load(checkout / "config" / "hyp" / "training_hyperparameters.yaml")
        self.model_cfg.update(
            n_agents=N_BIDDERS,
            n_items=N_ITEMS,
            hidden_layer_size=HIDDEN,
            n_hidden_layers=TRUNK_LAYERS - 1,  # theirs counts the layers after the input layer
            activation="relu",
            train_misreport_iters=MISREPORT_STEPS,
            train_misreport_lr=MISREPORT_LR,
            train_misreport_inits=MISREPORT_INITS,
        )
        self.hyp.train_batch_size = batch
        self.model, _, _ = na.get_model(self.model_cfg, None, "cpu")
        self.optimizer, self.warmup, self.scheduler, _ = na.get_optimizer_and_schedulers(
            self.hyp, self.model.parameters()
        )
        self.loaders: dict[int, object] = {}

    def layer_count(self) -> int:
        return sum(isinstance(m, torch.nn.Linear) for m in self.model.nn_model.modules())

    def iterations(self, k: int) -> None:
        if k not in self.loaders:  # their own data path: U[0,1] profiles, shuffled, batched
            self.loaders[k] = self.na.get_dataloader(
                N_BIDDERS, N_ITEMS, k * self.batch, "cpu", self.batch, self.hyp.train_data_generating_distribution
            )
        with contextlib.redirect_stderr(io.StringIO()):  # their tqdm bar (still drawn, out of sight)
            self.model.train_loop(self.loaders[k], self.model_cfg, self.optimizer, self.warmup, self.scheduler, "cpu")


def import_reference(checkout: str | None) -> tuple[object, Path] | str:
    """The reference's ``neural_auctions`` package and its checkout, or why not (one line)."""
    if not checkout:
        return (
            "no --reference given: pass the root of a checkout of "
            "https://github.com/alexstein0/neural-auctions (see --help)"
        )
    root = Path(checkout).expanduser().resolve()
    if not (root / "neural_auctions" / "__init__.py").is_file():
        return f"--reference {checkout}: not a checkout of alexstein0/neural-auctions (no neural_auctions/ package)"
    sys.path.insert(0, str(root))
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            na = importlib.import_module("neural_auctions")
            importlib.import_module("omegaconf")
    except Exception as err:  # noqa: BLE001 (any failure is reported in one line)
        return (
            f"cannot import the reference from {root}: {type(err).__name__}: {err} "
            "(install its light dependencies with pip --target DEPS and run with PYTHONPATH=DEPS; see --help)"
        )
    return na, root


def matmul_flops(batch: int, steps: int) -> dict[str, float]:
    """Matrix-multiply FLOPs (2 per multiply-add) of one iteration, from the layer sizes.

    Per row the forward pass costs ``2 M`` with ``M`` its multiply-adds; a backward pass to the
    inputs only costs ``2 M`` again, one to the weights and the inputs ``2 M + 2 (M - d h)``
    (no input gradient below the first layer). Rows: ``batch x n`` deviation profiles per
    misreport step (forward + input gradient), then the outer step's ``batch`` truthful and
    ``batch x n`` deviation profiles (forward + weight and input gradients).
    """
    d, h, n, m = N_BIDDERS * N_ITEMS, HIDDEN, N_BIDDERS, N_ITEMS
    macs = d * h + (TRUNK_LAYERS - 1) * h * h + h * ((n + 1) * m + n)
    deviations = batch * n * MISREPORT_INITS
    inner = steps * deviations * 4 * macs
    outer = (batch + deviations) * (2 * macs + 2 * macs + 2 * (macs - d * h))
    return {"per_row_forward": 2 * macs, "deviations": deviations, "common": inner + outer}


def peak_gflops(seconds: float = 0.5) -> float:
    """Single-call float32 matmul rate of a large square product at the current thread count."""
    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    torch.mm(a, b)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b)
        done += 1
    return done * 2 * 2048**3 / (time.perf_counter() - start) / 1e9


_MATMULS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm")


def matmul_floor(step: Callable[[], None], repeats: int = 20) -> tuple[float, int]:
    """Seconds that the matrix multiplies of one ``step()`` take on their own, and how many there are.

    One call runs under ``torch.profiler`` (shapes recorded); each distinct multiply (op and
    shapes) is then timed alone on fresh contiguous float32 tensors, the fastest of ``repeats``
    calls, and multiplied by its count: an estimate of what this iteration's multiplies cost
    with these kernels at this thread count, everything around them (activations, softmax, the
    optimisers, Python) coming on top. The count includes multiplies that cannot be replayed
    from their shapes alone (an ``out=`` tensor, a 0-d operand); their time is left out.
    """
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        step()
    counts: Counter[tuple[str, tuple[tuple[int, ...], ...]]] = Counter()
    for event in prof.events():
        if event.name in _MATMULS:
            shapes = tuple(tuple(shape) for shape in event.input_shapes if shape)  # (the scalars have none)
            counts[event.name, shapes] += 1
    total = 0.0
    for (name, shapes), count in counts.items():
        op = getattr(torch, name.removeprefix("aten::"))
        tensors = [torch.rand(shape) for shape in shapes]
        try:
            op(*tensors)
        except (TypeError, RuntimeError):  # not replayable from its shapes: left out
            continue
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            op(*tensors)
            best = min(best, time.perf_counter() - start)
        total += count * best
    return total, sum(counts.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--reference", metavar="PATH", help="root of a checkout of alexstein0/neural-auctions (needed)")
    parser.add_argument("--slices", type=int, default=5, help="turns each implementation takes (default 5)")
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations per slice (default 3)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations of each first (default 2)")
    parser.add_argument("--batch", type=int, default=2000, help="training profiles per iteration (default 2000)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args(argv)
    if args.slices < 1 or args.iterations < 1 or args.warmup < 0 or args.batch < 1 or args.threads < 1:
        parser.error("--slices, --iterations, --batch and --threads must be >= 1, --warmup >= 0")
    found = import_reference(args.reference)
    if isinstance(found, str):
        print(found)
        return 2
    na, checkout = found
    torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    ours, theirs = Ours(args.batch), Reference(na, checkout, args.batch)
    ours_layers = sum(isinstance(m, torch.nn.Linear) for m in ours.run.model.trunk.modules())
    if ours_layers != theirs.layer_count():
        print(f"trunks differ: ours {ours_layers} Linear layers, theirs {theirs.layer_count()}")
        return 1
    for impl in (ours, theirs):
        if args.warmup:
            impl.iterations(args.warmup)
    spent: dict[str, list[float]] = {ours.name: [], theirs.name: []}
    for s in range(args.slices):
        for impl in (ours, theirs) if s % 2 == 0 else (theirs, ours):
            start = time.perf_counter()
            impl.iterations(args.iterations)
            spent[impl.name].append((time.perf_counter() - start) / args.iterations)

    flops = matmul_flops(args.batch, MISREPORT_STEPS)
    # ours evaluates the last misreport once more (best-visited tracking): one extra forward
    extra = {ours.name: flops["deviations"] * flops["per_row_forward"], theirs.name: 0.0}
    peak = peak_gflops()
    print(
        f"# {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread(s), "
        f"torch {torch.__version__}, reference at {checkout}"
    )
    print(
        f"# {N_BIDDERS} additive bidders x {N_ITEMS} items, U[0,1]; trunk {TRUNK_LAYERS} x Linear({HIDDEN}) + ReLU "
        f"(ours layers={TRUNK_LAYERS}, theirs n_hidden_layers={TRUNK_LAYERS - 1}: theirs counts the layers after "
        f"the input layer); batch {args.batch}; {MISREPORT_STEPS} misreport steps, lr {MISREPORT_LR}, "
        f"{MISREPORT_INITS} init; {args.slices} slices x {args.iterations} iterations, {args.warmup} warm-up"
    )
    print("| implementation | s / iteration (median of slices) | min | max | iterations / s | matmul GFLOP/s |")
    print("|---|---:|---:|---:|---:|---:|")
    median = {}
    for name, values in spent.items():
        median[name] = statistics.median(values)
        gflops = (flops["common"] + extra[name]) / median[name] / 1e9
        print(
            f"| {name} | {median[name]:.4f} | {min(values):.4f} | {max(values):.4f} | "
            f"{1 / median[name]:.2f} | {gflops:.1f} |"
        )
    ratio = median[theirs.name] / median[ours.name]
    print(
        f"\nroofline: {flops['common'] / 1e9:.2f} GFLOP of matmuls per iteration in both "
        f"({MISREPORT_STEPS} x {flops['deviations']:,} deviation rows forward + input gradient, then "
        f"{args.batch + flops['deviations']:,} rows forward + backward; {flops['per_row_forward']:,} FLOP per row "
        f"forward), ours {extra[ours.name] / 1e9:.2f} more (it evaluates the last misreport once more); "
        f"a 2048^3 matmul runs at {peak:.1f} GFLOP/s here"
    )
    floor, count = matmul_floor(lambda: ours.iterations(1))
    goal_time = median[theirs.name] / GOAL
    print(
        f"matmul floor: the {count} matrix multiplies of one iteration of ours, each timed alone at its shape, "
        f"take {floor:.4f} s (ours spends {median[ours.name]:.4f} s an iteration); {GOAL:g}x the reference is "
        f"{goal_time:.4f} s an iteration, {'above' if goal_time >= floor else 'below'} that floor"
    )
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"speed ours / reference: {ratio:.2f}x (goal >= {GOAL:g}): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
