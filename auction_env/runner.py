"""Play a scenario through the batched core and summarise it (no argparse here).

A scenario plays ``run.episodes`` episodes of ``env.rounds`` rounds. Rounds are independent,
so the runner plays, for each round index, all episodes at once in batches of
``run.batch_size``: the same rounds the PettingZoo environment would play, vectorized.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import torch
import yaml
from tqdm.auto import tqdm

from agents.base import BidderPolicy
from agents.bidders.scripted import Truthful
from auction_env.catalog import Scenario, load_scenario
from auction_env.config import ScenarioConfig, parse, sweep_cells
from auction_env.core import AuctionCore, RoundBatch
from auction_env.dynamics import CollusionMetrics, EpisodeBatch, RoundMetrics
from auction_env.setting import build_policies, build_setting
from mechanisms.common.device import default_device, resolve_device
from mechanisms.common.errors import ConfigError
from mechanisms.common.io import check_writable, rows_to_csv, write_json_atomic, write_text_atomic
from mechanisms.common.seeding import make_generators
from mechanisms.common.stats import standard_error_from_sums

__all__ = ["RunResult", "run_scenario", "play", "default_device"]


@dataclass
class RunResult:
    """What a run produced.

    Attributes:
        scenario: the scenario as loaded (before overrides).
        config: the resolved config that was played (overrides applied).
        rows: one summary per sweep cell (a single row without a sweep).
        out_dir: where the files were written, or None.
        write_error: why writing the files failed, or None.
    """

    scenario: Scenario
    config: ScenarioConfig
    rows: list[dict[str, Any]] = field(default_factory=list)
    out_dir: Path | None = None
    write_error: str | None = None

    @property
    def summary(self) -> dict[str, Any]:
        """The single cell's summary, or ``{"cells": rows}`` for a sweep."""
        return self.rows[0] if self.config.sweep is None else {"cells": self.rows}


def play(
    config: ScenarioConfig,
    *,
    device: torch.device | str | None = None,
    on_rounds: Callable[[int], None] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Play one (sweep-free) scenario config and return its summary.

    Args:
        config: the scenario; ``run.seed`` seeds everything.
        device: where to run; default :func:`default_device`.
        on_rounds: called with the number of rounds after each batch (progress bars).
        progress: show a progress bar while the regret is measured.

    Returns:
        ``revenue_mean``, ``revenue_stderr``, ``welfare_mean``, ``welfare_stderr``,
        ``utility_mean`` (per bidder), ``participation_rate`` (per bidder), ``rounds`` and more.
    """
    device = resolve_device(device)
    setting = build_setting(config.env)
    policies = build_policies(config.agents, setting)
    mechanism = setting.mechanism.to(device).eval()
    generator, benchmark_generator = make_generators(config.run.seed, 2, device)
    n, rounds, episodes = setting.n_bidders, config.env.rounds, config.run.episodes
    sums = torch.zeros(4, dtype=torch.float64, device=device)  # revenue, revenue^2, welfare, welfare^2
    utility = torch.zeros(n, dtype=torch.float64, device=device)
    present = torch.zeros(n, dtype=torch.float64, device=device)
    # Strategic bidders (any policy but truthful): utility minus what bidding their values
    # would have earned in the same rounds, others' bids unchanged. Sum and sum of squares.
    strategic = [i for i, p in enumerate(policies) if not isinstance(p, Truthful)]
    gains = torch.zeros(2, n, dtype=torch.float64, device=device)
    collusion = CollusionMetrics() if config.env.metrics else None
    start = time.perf_counter()
    with torch.inference_mode():
        for result, metrics in _rounds(setting, config, policies, generator, benchmark_generator, device):
            rev, wel = result.revenue.double(), result.welfare.double()
            sums += torch.stack((rev.sum(), (rev * rev).sum(), wel.sum(), (wel * wel).sum()))
            utility += result.utilities.double().sum(0)
            present += result.participation.double().sum(0)
            for i in strategic:
                gain = (result.utilities[:, i] - setting.truthful_utility(result, i, generator)).double()
                gains[0, i] += gain.sum()
                gains[1, i] += (gain * gain).sum()
            if collusion is not None and metrics is not None:
                collusion.add(metrics)
            if on_rounds is not None:
                on_rounds(result.revenue.shape[0])
    total = rounds * episodes
    rev_sum, rev_sq, wel_sum, wel_sq = sums.tolist()
    regret = {}
    if config.run.regret is not None:
        from mechanisms.evaluation import evaluate

        result = evaluate(
            mechanism,
            setting.prior,
            participation=setting.participation,
            profiles=config.run.regret.profiles,
            protocol=config.run.regret.protocol,
            seed=config.run.seed,
            device=device,
            progress=progress,
        )
        regret = {
            "regret_mean": result.regret_mean,
            "regret_stderr": result.regret_stderr,
            "regret_max": result.regret_max,
            "regret_per_bidder": [b["mean"] for b in result.regret_per_bidder],
            "regret_profiles": result.profiles,
            "regret_protocol": result.protocol,
        }
    return {
        "scenario": config.name,
        "mechanism": config.env.mechanism.name,
        "n_bidders": n,
        "n_items": setting.n_items,
        "episodes": episodes,
        "rounds_per_episode": rounds,
        "rounds": total,
        "seed": config.run.seed,
        "revenue_mean": rev_sum / total,
        "revenue_stderr": standard_error_from_sums(rev_sum, rev_sq, total),
        "welfare_mean": wel_sum / total,
        "welfare_stderr": standard_error_from_sums(wel_sum, wel_sq, total),
        "utility_mean": (utility / total).tolist(),
        "gain_over_truthful": [gains[0, i].item() / total if i in strategic else None for i in range(n)],
        "gain_stderr": [
            standard_error_from_sums(gains[0, i].item(), gains[1, i].item(), total) if i in strategic else None
            for i in range(n)
        ],
        "participation_rate": (present / total).tolist(),
        **(collusion.summary() if collusion is not None else {}),
        **regret,
        "device": str(device),
        "wall_time_s": time.perf_counter() - start,
    }


def _rounds(
    setting: AuctionCore,
    config: ScenarioConfig,
    policies: list[BidderPolicy],
    generator: torch.Generator,
    benchmark_generator: torch.Generator,
    device: torch.device,
) -> Iterator[tuple[RoundBatch, RoundMetrics | None]]:
    """Every batch of rounds the scenario plays. Independent rounds (the default) are played
    round index by round index, all episodes at once in batches; repeated-auction options
    (feedback, value dynamics, a bid grid, metrics) play each batch of episodes from its first
    round to its last (:class:`EpisodeBatch`), learning policies starting afresh per batch."""
    env, run = config.env, config.run
    if not env.repeated:
        for r in range(env.rounds):
            for first in range(0, run.episodes, run.batch_size):
                size = min(run.batch_size, run.episodes - first)
                yield setting.play(policies, size, generator, round_fraction=r / env.rounds, device=device), None
        return
    engine = EpisodeBatch.from_config(setting, env)
    for first in range(0, run.episodes, run.batch_size):
        size = min(run.batch_size, run.episodes - first)
        engine.reset(size, generator, device, policies)
        for _ in range(env.rounds):
            played = engine.step(policies, generator, benchmark_generator)
            yield played.round, played.metrics


def run_scenario(
    scenario: str | Path | Mapping[str, Any] | Scenario,
    *,
    out: str | Path | None = None,
    seed: int | None = None,
    episodes: int | None = None,
    rounds: int | None = None,
    regret_profiles: int | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    write: bool = True,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    overwrite: bool = False,
) -> RunResult:
    """Play a scenario (every cell of its sweep) and write its results.

    Args:
        scenario: a YAML path, a shipped scenario name, a mapping, or a loaded :class:`Scenario`.
        out: output folder; default ``runs/<name>-<timestamp>``. Rerunning a sweep with the same
            ``out`` resumes it (finished cells are kept in ``out/cells/``).
        seed: overrides ``run.seed`` (a sweep's ``seeds`` still override per cell).
        episodes: overrides ``run.episodes`` (quick runs).
        rounds: overrides ``env.rounds`` (quick runs).
        regret_profiles: overrides ``run.regret.profiles`` when the scenario measures regret.
        device: where to run; default CUDA when available.
        progress: show a progress bar (over rounds; over cells for a sweep).
        write: write ``config.yaml``, ``summary.json`` (and ``sweep.csv``) to ``out``.
        backend, workers, address: where a sweep's cells run (see :mod:`auction_env.sweep`):
            ``local`` (a process pool of ``workers``, default the CPU count) or ``ray``.
        overwrite: replace results ``out`` holds from other settings: a sweep's cells played with
            other settings or beyond this sweep's grid (deleted before the sweep plays), or a
            sweep's ``sweep.csv`` and ``cells/`` when this scenario is not a sweep (deleted when
            its results are written). Otherwise such a rerun is refused; with the same settings
            a sweep resumes.

    Returns:
        A :class:`RunResult`. Files are written atomically, after all cells finished; if that
        fails (a full disk) the result is still returned, with ``write_error`` saying why.

    Raises:
        ConfigError: the scenario (or an override) is invalid, ``out`` cannot be written, or it
            holds other results (without ``overwrite``); all checked before any work starts.
    """
    from auction_env.sweep import run_cells

    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    config = loaded.config
    overrides = (seed, episodes, rounds, regret_profiles)
    if any(x is not None for x in overrides):  # validated once more, as overridden
        data = config.to_dict()
        if rounds is not None:
            data["env"]["rounds"] = rounds
        if seed is not None:
            data["run"]["seed"] = seed
        if episodes is not None:
            data["run"]["episodes"] = episodes
        if regret_profiles is not None and data["run"].get("regret"):
            data["run"]["regret"]["profiles"] = regret_profiles
        config = parse(ScenarioConfig, data, source=loaded.source)
    cells = sweep_cells(config, source=loaded.source)
    out_dir = _out_dir(loaded.name, out) if write else None
    if out_dir is not None:
        check_writable(out_dir)
        if config.sweep is None and _sweep_files(out_dir) and not overwrite:
            raise ConfigError(
                f"{out_dir}: holds a sweep's results (sweep.csv, cells/) and this scenario is not a sweep; "
                "rerun with --overwrite to replace them, or use a new --out"
            )
    if config.sweep is not None:
        with tqdm(total=len(cells), unit="cell", disable=not progress, desc=loaded.name) as bar:
            rows = run_cells(
                cells,
                backend=backend,
                workers=workers,
                address=address,
                out=out_dir,
                device=str(device) if device is not None else None,
                on_cell=lambda: bar.update(1),
                overwrite=overwrite,
            )
    else:
        total = config.env.rounds * config.run.episodes
        with tqdm(total=total, unit="round", unit_scale=True, disable=not progress, desc=loaded.name) as bar:
            try:
                rows = [play(cells[0][1], device=device, on_rounds=bar.update, progress=progress)]
            except ConfigError as err:
                raise err.in_file(loaded.source) from None
    result = RunResult(loaded, config, rows)
    if out_dir is not None:
        try:
            result.out_dir = _write(result, out_dir)
        except OSError as err:
            result.write_error = f"cannot write the results to {out_dir}: {err.strerror or err}"
    return result


def _out_dir(name: str, out: str | Path | None) -> Path:
    return Path(out) if out is not None else Path("runs") / f"{name}-{datetime.now():%Y%m%d-%H%M%S}"


def _sweep_files(out_dir: Path) -> list[Path]:
    """A sweep's files in ``out_dir``: its cell records and ``sweep.csv``."""
    from auction_env.sweep import cell_records

    return [*cell_records(out_dir), *([out_dir / "sweep.csv"] if (out_dir / "sweep.csv").is_file() else [])]


def _write(result: RunResult, out_dir: Path) -> Path:
    write_text_atomic(out_dir / "config.yaml", yaml.safe_dump(result.config.to_dict(), sort_keys=False))
    write_json_atomic(out_dir / "summary.json", result.summary)
    if result.config.sweep is not None:
        write_text_atomic(out_dir / "sweep.csv", rows_to_csv(result.rows))
    else:  # a sweep's files from an earlier run (replaced with --overwrite) would mix with these
        for path in _sweep_files(out_dir):
            path.unlink()
        with contextlib.suppress(OSError):  # only if nothing else is in it
            (out_dir / "cells").rmdir()
    return out_dir
