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
from typing import Any, Literal

from pydantic import Field, model_validator

from mechanisms.common.config import Strict, format_validation_error, load_yaml, parse, set_dotted
from mechanisms.common.errors import ConfigError
from mechanisms.setting import MechanismConfig, ParticipationConfig, PriorConfig, SettingConfig

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
    "set_dotted",
]


class ObserverConfig(Strict):
    """The optional ``observer`` agent: it sees each round's public outcome (and, as bidder
    ``bidder``, its own bids) and acts with its reconstruction of all bids."""

    enabled: bool = True
    bidder: int | None = Field(None, ge=0)
    tolerance: float = Field(0.02, gt=0)


class FeedbackConfig(Strict):
    """What each bidder learns after a round (:mod:`agents.feedback`) and how many rounds of it
    its observation carries (newest first, zero-padded at the start)."""

    mode: Literal["none", "own", "winning", "public"] = "none"
    window: int = Field(1, ge=1, le=1000)


class PriorShift(Strict):
    """From round ``round`` on (0-based), values come from ``prior`` (a nonstationary prior)."""

    round: int = Field(ge=1)
    prior: PriorConfig


class ValuesConfig(Strict):
    """How valuations move between rounds of an episode (:mod:`auction_env.dynamics.values`):
    ``iid`` (fresh draws), ``persistent`` (drawn once per episode) or ``markov`` (a mean-reverting
    process whose latent normal has correlation ``persistence`` between rounds); ``shifts``
    change the prior at given rounds."""

    dynamics: Literal["iid", "persistent", "markov"] = "iid"
    persistence: float = Field(0.9, ge=0.0, lt=1.0)
    shifts: list[PriorShift] = Field(default_factory=list)

    @model_validator(mode="after")
    def _increasing(self) -> ValuesConfig:
        rounds = [s.round for s in self.shifts]
        if rounds != sorted(set(rounds)):
            raise ValueError(f"shifts must be at increasing rounds, got {rounds}")
        return self


class BiddingConfig(Strict):
    """Discrete bidding: each bid is one of ``levels`` evenly spaced points from 0 to the upper
    support (``Discrete(levels)`` with one item, ``MultiDiscrete`` with more)."""

    levels: int = Field(ge=2, le=10_000)


class EnvConfig(SettingConfig):
    """The ``env`` section: a setting plus the mechanism, episode length, seed and observer;
    also the keyword arguments of ``auction_env.parallel_env``."""

    mechanism: MechanismConfig = Field(default_factory=lambda: MechanismConfig(name="myerson"))
    rounds: int = Field(10, ge=1)
    seed: int | None = Field(None, ge=0)
    observer: ObserverConfig | None = None
    feedback: FeedbackConfig | None = None
    values: ValuesConfig | None = None
    bidding: BiddingConfig | None = None
    metrics: bool = False

    @model_validator(mode="after")
    def _observer_is_a_bidder(self) -> EnvConfig:
        bidder = self.observer.bidder if self.observer is not None and self.observer.enabled else None
        if bidder is not None and bidder >= self.n_bidders:
            raise ValueError(f"observer.bidder must be a bidder index in [0, {self.n_bidders - 1}], got {bidder}")
        return self

    @property
    def repeated(self) -> bool:
        """True when rounds depend on each other or on options the i.i.d. fast path lacks
        (feedback, value dynamics, a bid grid or collusion metrics)."""
        return any(x is not None for x in (self.feedback, self.values, self.bidding)) or self.metrics


class AgentConfig(Strict):
    """One ``agents`` entry: a registered ``policy`` for the listed ``bidders`` (all others if omitted)."""

    policy: str
    params: dict[str, Any] = Field(default_factory=dict)
    bidders: list[int] | None = None


class RegretConfig(Strict):
    """Measure the mechanism's regret after the run (``mechanisms.evaluation``)."""

    profiles: int = Field(1000, ge=1)
    protocol: str = "default"


class RunConfig(Strict):
    """The ``run`` section: ``episodes`` episodes of ``env.rounds`` rounds, played in batches."""

    episodes: int = Field(1000, ge=1)
    batch_size: int = Field(4096, ge=1)
    seed: int = Field(0, ge=0)
    regret: RegretConfig | None = None


class SweepConfig(Strict):
    """A grid over dotted keys (``env.n_bidders: [2, 3]``) crossed with ``seeds``."""

    grid: dict[str, list[Any]] = Field(default_factory=dict)
    seeds: list[int] | None = None


class ScenarioConfig(Strict):
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


def sweep_cells(config: ScenarioConfig, *, source: str = "") -> list[tuple[dict[str, Any], ScenarioConfig]]:
    """Expand ``config.sweep`` into ``(overrides, cell_config)`` pairs, each validated.

    A scenario without a sweep gives one cell with no overrides. Seeds listed in
    ``sweep.seeds`` override ``run.seed``.
    """
    if config.sweep is None:  # one cell: the config itself, already validated
        return [({}, config)]
    base = config.to_dict()
    base.pop("sweep")
    sweep = config.sweep
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
