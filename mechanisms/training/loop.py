"""Run a training config: build, train with progress and logs, resume, evaluate, save a checkpoint.

Outputs in the run folder:
    config.yaml          the resolved config
    metrics.csv          iteration, elapsed seconds and the trainer's metrics every log_every
    tb/                  the same metrics for TensorBoard
    last.pt              resumable state (rewritten atomically every save_every iterations)
    NAME.pt, NAME.json   the final checkpoint and its model card
"""

from __future__ import annotations

import csv
import json
import os
import platform
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import yaml
from tqdm.auto import tqdm

from auction_env import participation as participation_models
from auction_env.atomic import write_text_atomic
from auction_env.config import load_yaml, parse
from auction_env.core import AuctionCore
from auction_env.errors import CheckpointError, ConfigError
from auction_env.registry import Registry
from auction_env.runner import default_device
from auction_env.seeding import make_generators
from auction_env.setting import build_named
from mechanisms import checkpoints
from mechanisms import prior_registry
from mechanisms import registry as mechanism_registry
from mechanisms.learned.base import init_weights
from mechanisms.learned.loading import setting_of
from mechanisms.training.config import TrainingConfig
from mechanisms.training.data import ProfileDataset

__all__ = ["trainers", "load_training_config", "train", "TrainingRun"]

trainers: Registry = Registry("trainer", context_params=("model", "data", "low", "high", "generator"))
trainers.register("regretnet", "mechanisms.training.regretnet_trainer:RegretNetTrainer", description="augmented Lagrangian + PGD misreports")
trainers.register("algnet", "mechanisms.training.algnet_trainer:ALGNetTrainer", description="misreporter network, -(sqrt(P)-sqrt(R))-R")
trainers.register("menu", "mechanisms.training.menu_trainer:MenuTrainer", description="revenue of a relaxed menu choice (rochetnet, lottery_ama)")


def load_training_config(source: str | Path | Mapping[str, Any]) -> TrainingConfig:
    """Load and validate a training config (a YAML path or a mapping)."""
    if isinstance(source, Mapping):
        return parse(TrainingConfig, source, source="<dict>")
    data = load_yaml(source)
    if data is None:
        raise ConfigError("the file is empty", source=str(source))
    return parse(TrainingConfig, data, source=str(source))


class TrainingRun:
    """Everything a training config builds: setting, model, data, trainer."""

    def __init__(self, config: TrainingConfig, device: torch.device | str | None = None, source: str = "") -> None:
        self.config = config
        self.device = torch.device(device) if device is not None else default_device()
        s = config.setting
        size = {"n_bidders": s.n_bidders, "n_items": s.n_items}
        try:
            self.prior = build_named("setting.prior", prior_registry, s.prior.type, "type", context=size, **s.prior.params)
            self.participation = build_named("setting.participation", participation_models.registry, s.participation.model, "model", context={"n_bidders": s.n_bidders}, **s.participation.params)
            if "checkpoint" in config.mechanism.params:
                raise ConfigError("train a fresh network: remove 'checkpoint'", "mechanism.params.checkpoint")
            self.model = build_named("mechanism", mechanism_registry, config.mechanism.name, "name", context={"prior": self.prior, "valuation": s.valuation, **size}, params_key="params", **config.mechanism.params)
            if not list(self.model.parameters()):
                raise ConfigError(f"'{config.mechanism.name}' has no trainable parameters", "mechanism.name")
            self.model.to(self.device)
            self.core = AuctionCore(self.model, self.prior, self.participation, s.valuation)
            self.data_gen, self.train_gen, self.init_gen = make_generators(config.seed, 3, self.device)
            init_weights(self.model, self.init_gen)
            if config.init_from is not None:
                self._load_initial_weights(config.init_from)
            self.data = ProfileDataset(self.core, config.dataset_size, self.data_gen, self.device)
            low, high = (t.to(self.device) for t in self.prior.bounds(self.device))
            self.trainer = build_named(
                "trainer", trainers, config.trainer.name, "name", params_key="params",
                context={"model": self.model, "data": self.data, "low": low, "high": high, "generator": self.train_gen},
                **config.trainer.params,
            )
        except ConfigError as err:
            raise err.in_file(source) from None

    def _load_initial_weights(self, name_or_path: str) -> None:
        """Start from a checkpoint's weights; its mechanism, size and architecture must match."""
        try:
            card_path = checkpoints.find(name_or_path, self.config.mechanism.name)
            card = checkpoints.load_card(card_path)
        except CheckpointError as err:
            raise ConfigError(str(err), "init_from") from None
        s, want = card["setting"], (self.config.setting.n_bidders, self.config.setting.n_items)
        if card["mechanism"] != self.config.mechanism.name or (s["n_bidders"], s["n_items"]) != want:
            raise ConfigError(f"'{name_or_path}' is a {card['mechanism']} for {s['n_bidders']}x{s['n_items']}; "
                              f"this config trains a {self.config.mechanism.name} for {want[0]}x{want[1]}", "init_from")
        if card["architecture"] != self.model.architecture():
            raise ConfigError(f"'{name_or_path}' has architecture {card['architecture']}; the config builds {self.model.architecture()}", "init_from")
        checkpoints.load_state(card_path, self.model)

    def card(self, wall_time: float, evaluation: dict[str, Any] | None) -> dict[str, Any]:
        """The model card of the trained mechanism."""
        setting = setting_of(self.config.setting.n_bidders, self.config.setting.n_items, self.prior, getattr(self.model, "valuation", "additive"))
        setting["participation"] = self.participation.spec()
        return {
            "name": self.config.name,
            "mechanism": self.config.mechanism.name,
            "setting": setting,
            "architecture": self.model.architecture(),
            "training": {
                "config": self.config.model_dump(),
                "seed": self.config.seed,
                "iterations": self.trainer.iteration,
                "wall_time_s": round(wall_time, 1),
                "hardware": hardware(self.device),
                "torch": torch.__version__,
            },
            "evaluation": evaluation,
        }


def hardware(device: torch.device) -> str:
    """A short description of where training ran."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA)"
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads"


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
    run = TrainingRun(config, device, source)
    total = iterations if iterations is not None else config.iterations
    state_path = out / "last.pt"
    elapsed = 0.0
    if state_path.exists():
        try:
            state = torch.load(state_path, map_location="cpu", weights_only=True)
            run.trainer.load_state_dict(state["trainer"])
            run.train_gen.set_state(state["generator"])
            elapsed = float(state["elapsed"])
        except Exception as err:
            raise CheckpointError(f"{state_path}: cannot resume ({type(err).__name__}: {err}); delete it to start over") from None
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "config.yaml", yaml.safe_dump(config.model_dump(), sort_keys=False))
    metrics_path = out / "metrics.csv"
    _truncate_metrics(metrics_path, run.trainer.iteration)
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(out / "tb"), purge_step=run.trainer.iteration or None)
    start = time.perf_counter() - elapsed
    bar = tqdm(total=total, initial=run.trainer.iteration, disable=not progress, desc=config.name, unit="it")
    csv_file = metrics_path.open("a", newline="")
    fields: list[str] | None = None
    try:
        while run.trainer.iteration < total:
            metrics = run.trainer.step()
            it = run.trainer.iteration
            bar.update(1)
            if it % config.log_every == 0 or it == total:
                row = {"iteration": it, "elapsed_s": round(time.perf_counter() - start, 2), **metrics}
                if fields is None:
                    fields = list(row)
                    if metrics_path.stat().st_size == 0:
                        csv.writer(csv_file).writerow(fields)
                csv.writer(csv_file).writerow([row[k] for k in fields])
                csv_file.flush()
                for key, value in metrics.items():
                    writer.add_scalar(f"train/{key}", value, it)
                bar.set_postfix(rev=f"{metrics['revenue']:.4f}", **({"rgt": f"{metrics['regret']:.5f}"} if "regret" in metrics else {}))
            if it % config.save_every == 0 or it == total:
                state = {"trainer": run.trainer.state_dict(), "generator": run.train_gen.get_state(), "elapsed": time.perf_counter() - start}
                checkpoints.save_torch_atomic(state, state_path)
    finally:
        bar.close()
        csv_file.close()
        writer.close()
    wall = time.perf_counter() - start
    evaluation = None
    if config.evaluation is not None:
        from mechanisms.evaluation import evaluate

        run.model.eval()
        result = evaluate(run.model, run.prior, participation=run.participation, profiles=config.evaluation.profiles,
                          protocol=config.evaluation.protocol, seed=config.evaluation.seed, device=run.device, progress=progress)
        evaluation = result.to_dict()
    return checkpoints.save(run.model, run.card(wall, evaluation), out / config.name)


def _truncate_metrics(path: Path, iteration: int) -> None:
    """Keep only rows logged up to ``iteration`` (a resumed run re-logs the rest, no duplicates)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return
    lines = path.read_text().splitlines(keepends=True)
    keep = lines[:1] + [ln for ln in lines[1:] if int(ln.split(",", 1)[0]) <= iteration]
    write_text_atomic(path, "".join(keep))
