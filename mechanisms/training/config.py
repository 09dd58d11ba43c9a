"""Training config YAML -> validated models (strict, like scenarios).

Schema::

    name: regretnet_2x2            # checkpoint name
    setting:                       # the auction the mechanism is trained for
      n_bidders: 2
      n_items: 2
      prior: {type: uniform, low: 0.0, high: 1.0}
      participation: {model: always}     # a participation model trains on the tweaked dataset
    mechanism: {name: regretnet, params: {hidden: 100, layers: 3}}
    init_from: regretnet_1x2       # optional: start from a checkpoint's weights (fine-tuning)
    average: {start: 500, every: 10}   # optional: the checkpoint is the mean of the weights from start
    sizes: [[2, 2], [3, 2]]        # optional, for networks of any size: train each in turn
    trainer: {name: regretnet, params: {batch_size: 512, misreport_steps: 25}}
    iterations: 60000
    dataset_size: 131072
    seed: 0
    log_every: 100
    save_every: 1000               # and every save_seconds (60) of wall clock, and on Ctrl-C
    evaluation: {profiles: 10000, protocol: default}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from mechanisms.common.config import Strict, load_yaml, parse
from mechanisms.common.errors import ConfigError
from mechanisms.setting import MechanismConfig, SettingConfig

__all__ = [
    "SettingConfig",
    "TrainerConfig",
    "AverageConfig",
    "EvaluationConfig",
    "TrainingConfig",
    "load_training_config",
]


class TrainerConfig(Strict):
    """Trainer ``name`` (``regretnet`` or ``algnet``) and its ``params``."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class AverageConfig(Strict):
    """Stochastic weight averaging (Izmailov et al. 2018): the checkpoint is the mean of the
    weights after iterations ``start``, ``start + every``, ... (:mod:`mechanisms.training.averaging`)."""

    start: int = Field(0, ge=0)
    every: int = Field(10, ge=1)


class EvaluationConfig(Strict):
    """The evaluation written into the model card after training."""

    profiles: int = Field(10_000, ge=1)
    protocol: str = "default"
    seed: int = Field(12345, ge=0)


class TrainingConfig(Strict):
    """A whole training config file."""

    name: str
    description: str | None = None
    setting: SettingConfig = Field(default_factory=SettingConfig)
    mechanism: MechanismConfig
    init_from: str | None = None
    average: AverageConfig | None = None
    trainer: TrainerConfig
    sizes: list[Annotated[list[Annotated[int, Field(ge=1, le=1024)]], Field(min_length=2, max_length=2)]] | None = (
        Field(None, min_length=1)
    )
    iterations: int = Field(ge=1)
    dataset_size: int = Field(131_072, ge=1)
    seed: int = Field(0, ge=0)
    log_every: int = Field(100, ge=1)
    save_every: int = Field(1000, ge=1)
    save_seconds: float = Field(60.0, gt=0)
    evaluation: EvaluationConfig | None = Field(default_factory=EvaluationConfig)


def load_training_config(source: str | Path | Mapping[str, Any]) -> TrainingConfig:
    """Load and validate a training config (a YAML path or a mapping)."""
    if isinstance(source, Mapping):
        return parse(TrainingConfig, source, source="<dict>")
    data = load_yaml(source)
    if data is None:
        raise ConfigError("the file is empty", source=str(source))
    return parse(TrainingConfig, data, source=str(source))
