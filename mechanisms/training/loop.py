"""Run a training config: build, train with progress and logs, resume, evaluate, save a checkpoint.

Outputs in the run folder:
    config.yaml          the resolved config
    metrics.csv          iteration, elapsed seconds and the trainer's metrics every log_every
    tb/                  the same metrics for TensorBoard
    last.pt              resumable state (rewritten atomically every save_every iterations)
    NAME.pt, NAME.json   the final checkpoint and its model card (the mean of the weights when
                         the config has ``average``)
"""

from __future__ import annotations

import contextlib
import csv
import os
import pickle
import platform
import signal
import threading
import time
from pathlib import Path
from typing import Any

import torch
import yaml
from tqdm.auto import tqdm

from mechanisms import checkpoints
from mechanisms import registry as mechanism_registry
from mechanisms.common.config import load_yaml
from mechanisms.common.device import resolve_device
from mechanisms.common.errors import CheckpointError, ConfigError
from mechanisms.common.io import save_torch_atomic, write_text_atomic
from mechanisms.common.registry import Registry, build_named
from mechanisms.common.seeding import make_generators
from mechanisms.learned.base import init_weights
from mechanisms.setting import Setting
from mechanisms.training.averaging import WeightAverage
from mechanisms.training.config import TrainingConfig, load_training_config  # noqa: F401 (re-exported)
from mechanisms.training.data import ProfileDataset
from mechanisms.training.distributed import Distributed, from_environment

__all__ = ["trainers", "load_training_config", "read_run_state", "train", "TrainingRun"]

trainers: Registry = Registry(
    "trainer", context_params=("model", "data", "low", "high", "generator", "parallel", "prior")
)
trainers.register(
    "regretnet",
    "mechanisms.training.regretnet_trainer:RegretNetTrainer",
    description="augmented Lagrangian + PGD misreports",
)
trainers.register(
    "algnet",
    "mechanisms.training.algnet_trainer:ALGNetTrainer",
    description="misreporter network, -(sqrt(P)-sqrt(R))-R",
)
trainers.register(
    "menu",
    "mechanisms.training.menu_trainer:MenuTrainer",
    description="revenue of a relaxed menu choice (rochetnet, lottery_ama)",
)


class TrainingRun:
    """Everything a training config builds: setting, model, data, trainer."""

    def __init__(
        self,
        config: TrainingConfig,
        device: torch.device | str | None = None,
        source: str = "",
        parallel: Distributed | None = None,
    ) -> None:
        self.config = config
        self.parallel = parallel
        self.device = resolve_device(device)
        if parallel is not None and self.device.type == "cuda":
            self.device = torch.device("cuda", parallel.local_rank)
        s = config.setting
        size = {"n_bidders": s.n_bidders, "n_items": s.n_items}
        try:
            self.setting = Setting.from_config(s)
            self.prior, self.participation = self.setting.prior, self.setting.participation
            if "checkpoint" in config.mechanism.params:
                raise ConfigError("train a fresh network: remove 'checkpoint'", "mechanism.params.checkpoint")
            self.model = build_named(
                "mechanism",
                mechanism_registry,
                config.mechanism.name,
                "name",
                context={"prior": self.prior, "valuation": s.valuation, **size},
                params_key="params",
                **config.mechanism.params,
            )
            if not list(self.model.parameters()):
                raise ConfigError(f"'{config.mechanism.name}' has no trainable parameters", "mechanism.name")
            self.model.to(self.device)
            try:
                self.setting.check(self.model)
            except ValueError as err:
                raise ConfigError(str(err), "mechanism") from None
            self.data_gen, self.train_gen, self.init_gen = make_generators(config.seed, 3, self.device)
            dataset_size = config.dataset_size
            if parallel is not None:  # every rank draws its own shard of profiles and misreports
                self.data_gen, self.train_gen = make_generators([config.seed, parallel.rank], 2, self.device)
                dataset_size = max(1, dataset_size // parallel.world)
            init_weights(self.model, self.init_gen)
            if config.init_from is not None:
                self._load_initial_weights(config.init_from)
            if parallel is not None and "parallel" not in trainers.signature_params(config.trainer.name):
                raise ConfigError(
                    f"trainer '{config.trainer.name}' runs in one process; use the regretnet trainer under torchrun",
                    "trainer.name",
                )
            self.data, self.trainer = self._trainer(self.setting, dataset_size)
            self.datasets = [self.data]  # one per size the network trains on
            if config.sizes is not None:
                self._mix_sizes(config, dataset_size)
            average = config.average
            self.average = WeightAverage(self.model, average.start, average.every) if average is not None else None
        except ConfigError as err:
            raise err.in_file(source) from None

    def _trainer(self, setting: Setting, dataset_size: int) -> tuple[ProfileDataset, Any]:
        """Profiles of ``setting`` and the config's trainer on them."""
        data = ProfileDataset(setting, dataset_size, self.data_gen, self.device)
        low, high = (t.to(self.device) for t in setting.prior.bounds(self.device))
        trainer = build_named(
            "trainer",
            trainers,
            self.config.trainer.name,
            "name",
            params_key="params",
            context={
                "model": self.model,
                "data": data,
                "low": low,
                "high": high,
                "generator": self.train_gen,
                "parallel": self.parallel,
                "prior": setting.prior,
            },
            **self.config.trainer.params,
        )
        return data, trainer

    def _mix_sizes(self, config: TrainingConfig, dataset_size: int) -> None:
        """One trainer per size of ``config.sizes``, stepped in turn (:class:`MixedSizes`)."""
        from mechanisms.training.mixed import MixedSizes

        s = config.setting
        if not getattr(self.model, "any_size", False):
            raise ConfigError(f"'{config.mechanism.name}' runs one size only; remove 'sizes'", "sizes")
        if self.parallel is not None:
            raise ConfigError("training on several sizes runs in one process", "sizes")
        if "teacher" in self.config.trainer.params:
            raise ConfigError("a teacher has one size; distil at the setting's size alone, without 'sizes'", "sizes")
        sizes = [(n, m) for n, m in config.sizes]
        if (s.n_bidders, s.n_items) not in sizes:
            raise ConfigError(f"sizes must include the setting's {s.n_bidders}x{s.n_items}", "sizes")
        per_size, self.datasets = [], []
        for n, m in sizes:
            if (n, m) == (s.n_bidders, s.n_items):
                per_size.append(self.trainer)
                self.datasets.append(self.data)
                continue
            other = s.model_copy(update={"n_bidders": n, "n_items": m})
            try:
                setting = Setting.from_config(other)
            except ConfigError as err:
                raise ConfigError(f"at size {n}x{m}: {err.path}: {err.message}", "sizes") from None
            data, trainer = self._trainer(setting, dataset_size)
            per_size.append(trainer)
            self.datasets.append(data)
        self.trainer = MixedSizes(sizes, per_size)

    def supports(self) -> dict[str, Any]:
        """What the card says the network was trained on: every ``(bidders taking part, items)``
        of its training profiles, and the prior."""
        sizes = {
            (int(count), data.valuations.shape[2])
            for data in self.datasets
            for count in data.participation.sum(-1).unique().tolist()
            if count > 0
        }
        return {
            "sizes": [{"n_bidders": n, "n_items": m} for n, m in sorted(sizes)],
            "prior": self.prior.spec()["type"],
            "note": "runs at any size; at other sizes it is untested and warns once",
        }

    def _load_initial_weights(self, name_or_path: str) -> None:
        """Start from a checkpoint's weights; its mechanism and size must match, and its architecture
        too, except that an equivariant network may have more channels (it starts widened:
        :meth:`EquivariantNet.widen_from`)."""
        try:
            card_path = checkpoints.find(name_or_path, self.config.mechanism.name)
            card = checkpoints.load_card(card_path)
        except CheckpointError as err:
            raise ConfigError(str(err), "init_from") from None
        s, want = card["setting"], (self.config.setting.n_bidders, self.config.setting.n_items)
        size_ok = (s["n_bidders"], s["n_items"]) == want or getattr(self.model, "any_size", False)
        if card["mechanism"] != self.config.mechanism.name or not size_ok:
            raise ConfigError(
                f"'{name_or_path}' is a {card['mechanism']} for {s['n_bidders']}x{s['n_items']}; "
                f"this config trains a {self.config.mechanism.name} for {want[0]}x{want[1]}",
                "init_from",
            )
        if card["architecture"] == self.model.architecture():
            checkpoints.load_state(card_path, self.model)
            return
        # A network that can grow (equivariant: more channels) starts from a narrower one's function.
        narrower = getattr(self.model, "narrower", None)
        narrow = narrower(card["architecture"]) if narrower is not None else None
        if narrow is None:
            raise ConfigError(
                f"'{name_or_path}' has architecture {card['architecture']}; "
                f"the config builds {self.model.architecture()}",
                "init_from",
            )
        checkpoints.load_state(card_path, narrow)
        self.model.widen_from(narrow.to(next(self.model.parameters()).device))

    def card(self, wall_time: float, evaluation: dict[str, Any] | None) -> dict[str, Any]:
        """The model card of the trained mechanism."""
        setting = Setting(self.prior, self.participation, getattr(self.model, "valuation", "additive")).spec()
        return {
            "name": self.config.name,
            "mechanism": self.config.mechanism.name,
            "setting": setting,
            "architecture": self.model.architecture(),
            "training": {
                "config": self.config.model_dump(),
                "seed": self.config.seed,
                "iterations": self.trainer.iteration,
                **({"averaged_iterations": self.average.count} if self.average is not None else {}),
                "wall_time_s": round(wall_time, 1),
                "hardware": hardware(self.device)
                + (f"; {self.parallel.world} processes (DistributedDataParallel)" if self.parallel else ""),
                "torch": torch.__version__,
            },
            "evaluation": evaluation,
            **({"supports": self.supports()} if getattr(self.model, "any_size", False) else {}),
        }


def hardware(device: torch.device) -> str:
    """A short description of where training ran."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA)"
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"{torch.get_num_threads()} torch threads"
    )


def train(
    config: TrainingConfig,
    out: str | Path,
    *,
    device: torch.device | str | None = None,
    progress: bool = True,
    iterations: int | None = None,
    source: str = "",
) -> Path:
    """Train (resuming from ``out/last.pt`` if present), evaluate, and write the checkpoint.

    Args:
        config: the training config.
        out: the run folder.
        device: default CUDA when available, else CPU.
        progress: show a progress bar with revenue and regret.
        iterations: stop after this many iterations in total (default ``config.iterations``).

    Returns:
        The path of the model card (``out/NAME.json``).
    """
    out = Path(out)
    parallel = from_environment(resolve_device(device).type)
    try:
        return _train(config, out, device, progress, iterations, source, parallel)
    finally:
        if parallel is not None:
            parallel.close()  # (after _train has returned: its DDP replica is unreachable)


def _train(
    config: TrainingConfig,
    out: Path,
    device: torch.device | str | None,
    progress: bool,
    iterations: int | None,
    source: str,
    parallel: Distributed | None,
) -> Path:
    run = TrainingRun(config, device, source, parallel)
    main = parallel is None or parallel.is_main
    world = 1 if parallel is None else parallel.world
    total = iterations if iterations is not None else config.iterations
    state_path = out / "last.pt"
    elapsed = 0.0
    if state_path.exists():
        _check_same_run(out, config)
        try:
            ranks, elapsed = read_run_state(state_path)
            if len(ranks) != world:
                raise ValueError(f"it was written by {len(ranks)} process(es), this run has {world}")
            mine = ranks[0 if parallel is None else parallel.rank]
            if mine["generator"].numel() != run.train_gen.get_state().numel():  # CPU and CUDA states differ
                was = mine.get("device")
                where = f"on {was}" if was else "on another kind of device"
                raise ValueError(
                    f"written {where}, this run is on {run.device.type}: resume it there (--device {was or 'DEV'})"
                )
            run.trainer.load_state_dict(mine["trainer"])
            run.train_gen.set_state(mine["generator"])
            if run.average is not None:
                run.average.load_state_dict(mine["average"])
        except pickle.UnpicklingError:
            raise CheckpointError(
                f"{state_path}: cannot resume: not a plain training state (it holds objects torch will not load "
                "safely); refused: delete it to start over"
            ) from None
        except Exception as err:
            first = (str(err).strip().splitlines() or [""])[0]
            raise CheckpointError(
                f"{state_path}: cannot resume ({type(err).__name__}: {first}); delete it to start over"
            ) from None
    log = _Log(out, config, run.trainer.iteration, total, progress) if main else None
    start = time.perf_counter() - elapsed
    last_save = time.perf_counter()

    def save() -> None:
        mine = {"trainer": run.trainer.state_dict(), "generator": run.train_gen.get_state(), "device": run.device.type}
        if run.average is not None:
            mine["average"] = run.average.state_dict()
        ranks = [mine] if parallel is None else parallel.gather(mine)  # every rank's shard state
        if main:
            save_torch_atomic({"ranks": ranks, "elapsed": time.perf_counter() - start}, state_path)

    # One process: also save every save_seconds and when stopped (SIGINT, SIGTERM) after the
    # iteration in progress, so at most seconds are lost. Under torchrun the ranks save together
    # every save_every iterations only (a rank's clock or signal cannot decide for the others).
    stop = _StopSignals() if parallel is None else None
    try:
        with stop or contextlib.nullcontext():
            while run.trainer.iteration < total:
                metrics = run.trainer.step()
                it = run.trainer.iteration
                if run.average is not None:
                    run.average.update(it)
                if log is not None:
                    log.step(it, time.perf_counter() - start, metrics, write=it % config.log_every == 0 or it == total)
                timed = parallel is None and time.perf_counter() - last_save >= config.save_seconds
                if it % config.save_every == 0 or it == total or timed or (stop is not None and stop.received):
                    save()
                    last_save = time.perf_counter()
                if stop is not None and stop.received:
                    raise KeyboardInterrupt(f"stopped by {stop.received} after iteration {it}; {state_path} saved")
    finally:
        if log is not None:
            log.close()
    wall = time.perf_counter() - start
    card_path = out / f"{config.name}.json"
    if main:
        model = run.model if run.average is None else run.average.averaged()
        evaluation = None
        if config.evaluation is not None:
            from mechanisms.evaluation import evaluate

            model.eval()
            result = evaluate(
                model,
                run.prior,
                participation=run.participation,
                profiles=config.evaluation.profiles,
                protocol=config.evaluation.protocol,
                seed=config.evaluation.seed,
                device=run.device,
                progress=progress,
            )
            evaluation = result.to_dict()
        card_path = checkpoints.save(model, run.card(wall, evaluation), out / config.name)
    if parallel is not None:
        parallel.barrier()
    return card_path


#: Config keys a resumed run may change: they do not change what is trained.
_RESUMABLE_CHANGES = frozenset({"description", "iterations", "log_every", "save_every", "save_seconds", "evaluation"})


def _check_same_run(out: Path, config: TrainingConfig) -> None:
    """Refuse to resume ``out`` with a config that trains something else than the one it was
    started with (its ``config.yaml``), so that one run's metrics and checkpoint never mix two."""
    path = out / "config.yaml"
    if not path.exists():
        return
    before = load_yaml(path)
    now = yaml.safe_load(_config_yaml(config))
    if not isinstance(before, dict):
        before = {}
    changed = sorted(k for k in set(before) | set(now) if k not in _RESUMABLE_CHANGES and before.get(k) != now.get(k))
    if changed:
        raise CheckpointError(
            f"{out}: holds a run of another config (it differs in {', '.join(changed)}); "
            "use another --out, or delete the folder to start over"
        )


def _config_yaml(config: TrainingConfig) -> str:
    """The resolved config as a run folder keeps it (``config.yaml``)."""
    return yaml.safe_dump(config.model_dump(), sort_keys=False)


def read_run_state(path: Path) -> tuple[list[dict[str, Any]], float]:
    """A run's resumable state (``DIR/last.pt``): one ``{"trainer": ..., "generator": ..., "device": "cpu"}``
    per process (older files: one process) and the training seconds so far. Plain tensors and
    containers only (``weights_only``): a file holding other objects raises
    :class:`pickle.UnpicklingError`."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    return state.get("ranks", [state]), float(state["elapsed"])


class _Log:
    """Rank 0's outputs: config.yaml, metrics.csv, TensorBoard and the progress bar."""

    def __init__(self, out: Path, config: TrainingConfig, iteration: int, total: int, progress: bool) -> None:
        from torch.utils.tensorboard import SummaryWriter

        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / "config.yaml", _config_yaml(config))
        self.path = out / "metrics.csv"
        _truncate_metrics(self.path, iteration)
        self.writer = SummaryWriter(str(out / "tb"), purge_step=iteration or None)
        self.bar = tqdm(total=total, initial=iteration, disable=not progress, desc=config.name, unit="it")
        self.file = self.path.open("a", newline="")
        self.fields: list[str] | None = None

    def step(self, it: int, seconds: float, metrics: dict[str, float], *, write: bool) -> None:
        self.bar.update(1)
        if not write:
            return
        row = {"iteration": it, "elapsed_s": round(seconds, 2), **metrics}
        if self.fields is None:
            self.fields = list(row)
            if self.path.stat().st_size == 0:
                csv.writer(self.file, lineterminator="\n").writerow(self.fields)
        # The columns are fixed by the first row: a metric that vanishes leaves an empty cell (one
        # that first appears later reaches TensorBoard only); trainers report the same keys throughout.
        csv.writer(self.file, lineterminator="\n").writerow([row.get(k, "") for k in self.fields])
        self.file.flush()
        for key, value in metrics.items():
            self.writer.add_scalar(f"train/{key}", value, it)
        self.bar.set_postfix(
            rev=f"{metrics['revenue']:.4f}", **({"rgt": f"{metrics['regret']:.5f}"} if "regret" in metrics else {})
        )

    def close(self) -> None:
        self.bar.close()
        self.file.close()
        self.writer.close()


def _truncate_metrics(path: Path, iteration: int) -> None:
    """Keep only rows logged up to ``iteration`` (a resumed run re-logs the rest, no duplicates)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return
    lines = path.read_text().splitlines(keepends=True)
    keep = lines[:1] + [ln for ln in lines[1:] if int(ln.split(",", 1)[0]) <= iteration]
    write_text_atomic(path, "".join(keep))


class _StopSignals:
    """Within the block, SIGINT and SIGTERM set :attr:`received` instead of stopping the process at
    once, so the loop can finish its iteration and save; the previous handlers come back after."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.received is not None:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.received = signal.Signals(signum).name

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
