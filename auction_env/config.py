"""Scenario YAML -> frozen, strictly validated config objects.

Schema (see ``scenarios/README.md``)::

    name: quickstart            # optional
    description: ...            # optional
    env:
      n_bidders: 2
      n_items: 2
      prior: {type: uniform, low: 0.0, high: 1.0}
      participation: {model: always}
      mechanism: {name: myerson, params: {}}     # or just: mechanism: myerson
      valuation: additive        # or unit_demand (each bidder wants at most one item)
      rounds: 10
      seed: null
    agents:                      # which policy each bidder uses
      - {policy: truthful}       # no `bidders`: every bidder not listed elsewhere
    run: {episodes: 1000, batch_size: 4096, seed: 0, regret: {profiles: 1000, protocol: default}}
    sweep:                       # optional grid; each cell gives one row
      grid: {env.n_bidders: [2, 3]}
      seeds: [0, 1]

Unknown keys, wrong types and out-of-range numbers fail with the file and the dotted path.
Names (mechanisms, priors, agents) and their parameters are checked when the scenario is
built (:mod:`auction_env.setting`).
"""

from __future__ import annotations

import copy
import itertools
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from auction_env.errors import ConfigError
from auction_env.registry import suggest

__all__ = [
    "PriorConfig",
    "ParticipationConfig",
    "MechanismConfig",
    "EnvConfig",
    "AgentConfig",
    "RunConfig",
    "SweepConfig",
    "ScenarioConfig",
    "load_yaml",
    "parse",
    "format_validation_error",
    "sweep_cells",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class PriorConfig(BaseModel):
    """Valuation prior: ``type`` plus that prior's parameters (checked when built)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    type: str = "uniform"

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ParticipationConfig(BaseModel):
    """Participation model: ``model`` plus its parameters (``p``, or ``profiles`` and ``probs``)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    model: str = "always"

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class MechanismConfig(_Strict):
    """Mechanism ``name`` and its ``params``; a bare string means no params."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data


class ObserverConfig(_Strict):
    """The optional ``observer`` agent: it sees each round's public outcome (and, as bidder
    ``bidder``, its own bids) and acts with its reconstruction of all bids."""

    enabled: bool = True
    bidder: int | None = Field(None, ge=0)
    tolerance: float = Field(0.02, gt=0)


class EnvConfig(_Strict):
    """The ``env`` section; also the keyword arguments of ``auction_env.parallel_env``."""

    n_bidders: int = Field(2, ge=1, le=1024)
    n_items: int = Field(2, ge=1, le=1024)
    prior: PriorConfig = Field(default_factory=PriorConfig)
    participation: ParticipationConfig = Field(default_factory=ParticipationConfig)
    mechanism: MechanismConfig = Field(default_factory=lambda: MechanismConfig(name="myerson"))
    valuation: Literal["additive", "unit_demand"] = "additive"
    rounds: int = Field(10, ge=1)
    seed: int | None = Field(None, ge=0)
    observer: ObserverConfig | None = None


class AgentConfig(_Strict):
    """One ``agents`` entry: a registered ``policy`` for the listed ``bidders`` (all others if omitted)."""

    policy: str
    params: dict[str, Any] = Field(default_factory=dict)
    bidders: list[int] | None = None


class RegretConfig(_Strict):
    """Measure the mechanism's regret after the run (``mechanisms.evaluation``)."""

    profiles: int = Field(1000, ge=1)
    protocol: str = "default"


class RunConfig(_Strict):
    """The ``run`` section: ``episodes`` episodes of ``env.rounds`` rounds, played in batches."""

    episodes: int = Field(1000, ge=1)
    batch_size: int = Field(4096, ge=1)
    seed: int = Field(0, ge=0)
    regret: RegretConfig | None = None


class SweepConfig(_Strict):
    """A grid over dotted keys (``env.n_bidders: [2, 3]``) crossed with ``seeds``."""

    grid: dict[str, list[Any]] = Field(default_factory=dict)
    seeds: list[int] | None = None


class ScenarioConfig(_Strict):
    """A whole scenario file."""

    name: str | None = None
    description: str | None = None
    env: EnvConfig = Field(default_factory=EnvConfig)
    agents: list[AgentConfig] = Field(default_factory=lambda: [AgentConfig(policy="truthful")])
    run: RunConfig = Field(default_factory=RunConfig)
    sweep: SweepConfig | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (YAML-ready), with defaults filled in."""
        return self.model_dump(mode="python", exclude_none=False)


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file, turning I/O and syntax errors into :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", source=str(path)) from None
    except OSError as err:
        raise ConfigError(f"cannot read file: {err.strerror}", source=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{where}invalid YAML: {problem}", source=str(path)) from None


def parse(model: type[BaseModel], data: Any, *, source: str = "", prefix: str = "") -> Any:
    """Validate ``data`` against ``model``; raise one-line :class:`ConfigError` on failure."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"expected a mapping of keys, got {type(data).__name__}", prefix, source)
    try:
        return model.model_validate(dict(data))
    except ValidationError as err:
        raise format_validation_error(err, model).at(prefix).in_file(source) from None


def format_validation_error(err: ValidationError, model: type[BaseModel]) -> ConfigError:
    """The first error of a pydantic ``ValidationError`` as a one-line :class:`ConfigError`."""
    first = err.errors(include_url=False)[0]
    loc = [part for part in first["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
    loc = [part for part in loc if part not in ("str", "int", "float", "list[int]", "dict[str,any]")]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    kind = first["type"]
    if kind == "extra_forbidden":
        known = _fields_at(model, loc[:-1])
        return ConfigError(f"unknown key.{suggest(str(loc[-1]), known)} Known keys: {', '.join(known)}", path)
    if kind == "missing":
        return ConfigError("required key is missing", path)
    message = first["msg"]
    message = message[0].lower() + message[1:]
    if kind not in ("value_error", "assertion_error"):
        message += f", got {first['input']!r}"
    return ConfigError(message, path)


def _fields_at(model: Any, loc: list[Any]) -> list[str]:
    """Field names of the model reached by following ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else Any
        elif isinstance(current, type) and issubclass(current, BaseModel):
            current = current.model_fields[part].annotation if part in current.model_fields else Any
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


_INDEX = re.compile(r"^(\w+)((?:\[\d+\])*)$")


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``data[key]`` for a dotted key with optional list indices (``agents[1].params.factor``).

    Raises:
        ConfigError: the path does not exist in ``data``.
    """
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        match = _INDEX.match(part)
        if not match:
            raise ConfigError(f"bad key syntax {part!r}", key)
        name, indices = match.group(1), [int(i) for i in re.findall(r"\d+", match.group(2))]
        last = depth == len(parts) - 1 and not indices
        if not isinstance(node, dict):
            raise ConfigError(f"'{'.'.join(parts[:depth])}' is not a mapping", key)
        if last:
            node[name] = value
            return
        if name not in node:
            node[name] = {}
        node = node[name]
        for j, index in enumerate(indices):
            if not isinstance(node, list) or index >= len(node):
                raise ConfigError(f"index [{index}] is out of range", key)
            if depth == len(parts) - 1 and j == len(indices) - 1:
                node[index] = value
                return
            node = node[index]


def sweep_cells(config: ScenarioConfig, *, source: str = "") -> list[tuple[dict[str, Any], ScenarioConfig]]:
    """Expand ``config.sweep`` into ``(overrides, cell_config)`` pairs, each validated.

    A scenario without a sweep gives one cell with no overrides. Seeds listed in
    ``sweep.seeds`` override ``run.seed``.
    """
    base = config.to_dict()
    base.pop("sweep")
    sweep = config.sweep or SweepConfig()
    keys = list(sweep.grid)
    for key in keys:
        if not sweep.grid[key]:
            raise ConfigError("grid values must be a non-empty list", f"sweep.grid.{key}", source)
    grid = [sweep.grid[k] for k in keys]
    seeds = sweep.seeds if sweep.seeds is not None else [None]
    cells = []
    for values in itertools.product(*grid):
        for seed in seeds:
            overrides = dict(zip(keys, values))
            if seed is not None:
                overrides["run.seed"] = seed
            data = copy.deepcopy(base)
            for key, value in overrides.items():
                try:
                    set_dotted(data, key, value)
                except ConfigError as err:
                    raise err.at("sweep.grid").in_file(source) from None
            try:
                cell = parse(ScenarioConfig, data)
            except ConfigError as err:
                cell_name = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
                raise ConfigError(f"{err.message} (in sweep cell {cell_name})", err.path, source) from None
            cells.append((overrides, cell))
    return cells
