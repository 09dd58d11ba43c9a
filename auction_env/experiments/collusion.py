"""The algorithmic-collusion experiment (Banchio and Skrzypacz, "Artificial Intelligence and
Auction Design", 2022): learning bidders in a long repeated auction, each episode one learning
run, with the collusion metrics (:mod:`auction_env.dynamics.metrics`) tracked over time.

Every scenario is played as one batch of episodes through :class:`EpisodeBatch`; the metrics
are averaged per episode over windows of rounds, so the spread over episodes (seeds of the
learners) is visible at every point of learning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from auction_env.catalog import Scenario, load_scenario
from auction_env.config import ScenarioConfig, parse
from auction_env.dynamics import EpisodeBatch
from auction_env.setting import build_policies, build_setting
from mechanisms.common.errors import ConfigError
from mechanisms.common.io import rows_to_csv, save_figure, write_json_atomic, write_text_atomic
from mechanisms.common.seeding import make_generators

__all__ = [
    "SCENARIOS",
    "METRICS",
    "CollusionRun",
    "collusion_config",
    "collusion_run",
    "write_collusion",
    "plot_collusion",
]

#: The shipped scenarios of the experiment: first and second price, without and with feedback.
SCENARIOS = (
    "collusion_first_price",
    "collusion_second_price",
    "collusion_first_price_winning",
    "collusion_second_price_winning",
)

#: Per-window metrics: revenue / competitive revenue, mean bid / equilibrium bid, winner rotation.
METRICS = ("revenue_ratio", "bid_ratio", "winner_rotation")


@dataclass
class CollusionRun:
    """One scenario's learning curves.

    Attributes:
        scenario: its name.
        rounds: the round at the end of each window.
        series: metric -> one list per window of per-episode values.
    """

    scenario: str
    episodes: int
    rounds: list[int] = field(default_factory=list)
    series: dict[str, list[list[float]]] = field(default_factory=lambda: {m: [] for m in METRICS})

    def spread(self, metric: str, window: int = -1) -> dict[str, float]:
        """Mean, standard deviation, min and max over episodes of ``metric`` in ``window`` (NaN
        episodes left out; all NaN where none is defined)."""
        values = [v for v in self.series[metric][window] if not math.isnan(v)]
        if not values:
            return dict.fromkeys(("mean", "sd", "min", "max"), math.nan)
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1))
        return {"mean": mean, "sd": sd, "min": min(values), "max": max(values)}

    def final(self) -> dict[str, dict[str, float]]:
        """:meth:`spread` of each metric in the last window."""
        return {metric: self.spread(metric) for metric in METRICS}


def collusion_config(
    scenario: str | Path | Scenario,
    *,
    rounds: int | None = None,
    episodes: int | None = None,
    seed: int | None = None,
) -> tuple[Scenario, ScenarioConfig]:
    """The scenario and its config with the overrides, checked as :func:`collusion_run` needs it
    (a command checks every scenario with this before playing any).

    Raises:
        ConfigError: the scenario is invalid or has no metrics.
    """
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    data = loaded.config.to_dict()
    for key, value in (("rounds", rounds), ("episodes", episodes), ("seed", seed)):
        if value is not None:
            data["env" if key == "rounds" else "run"][key] = value
    config = parse(ScenarioConfig, data, source=loaded.source)
    if not config.env.metrics:
        raise ConfigError("the collusion experiment needs metrics: true", "env.metrics", loaded.source)
    return loaded, config


def collusion_run(
    scenario: str | Path | Scenario,
    *,
    rounds: int | None = None,
    episodes: int | None = None,
    window: int = 1000,
    seed: int | None = None,
    on_rounds: Callable[[int], None] | None = None,
) -> CollusionRun:
    """Play ``scenario`` (its ``env.metrics`` must be on) and record the windowed metrics.

    Args:
        scenario: a shipped name, a YAML path or a loaded scenario.
        rounds, episodes, seed: override ``env.rounds``, ``run.episodes``, ``run.seed``.
        window: rounds per point of the learning curves (the last window may be shorter).
        on_rounds: called with the number of rounds played after each round (progress bars).

    Raises:
        ConfigError: the scenario is invalid or has no metrics.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    loaded, config = collusion_config(scenario, rounds=rounds, episodes=episodes, seed=seed)
    setting = build_setting(config.env)
    policies = build_policies(config.agents, setting)
    engine = EpisodeBatch.from_config(setting, config.env)
    generator, benchmark_generator = make_generators(config.run.seed, 2)
    n_episodes = config.run.episodes
    result = CollusionRun(loaded.name, n_episodes)
    sums = torch.zeros(6, n_episodes, dtype=torch.float64)  # revenue, competitive, bid, eq bid, changed, seen
    with torch.inference_mode():
        engine.reset(n_episodes, generator, policies=policies)
        for r in range(config.env.rounds):
            m = engine.step(policies, generator, benchmark_generator).metrics
            seen = ~torch.isnan(m.winner_changed)
            sums += torch.stack(
                (
                    m.revenue,
                    m.competitive_revenue,
                    m.mean_bid,
                    m.equilibrium_bid,
                    torch.where(seen, m.winner_changed, 0.0),
                    seen.double(),
                )
            )
            if on_rounds is not None:
                on_rounds(1)
            if (r + 1) % window == 0 or r + 1 == config.env.rounds:
                rev, comp, bid, eq, changed, count = sums
                result.rounds.append(r + 1)
                result.series["revenue_ratio"].append((rev / comp).tolist())
                result.series["bid_ratio"].append((bid / eq).tolist())
                result.series["winner_rotation"].append((changed / count).tolist())
                sums.zero_()
    return result


def write_collusion(runs: Sequence[CollusionRun], out: str | Path) -> list[Path]:
    """Write ``collusion.csv`` (per scenario and window: each metric's mean and standard deviation
    over episodes), ``summary.json`` (the last window per scenario) and ``collusion.png``."""
    out = Path(out)
    rows = []
    for run in runs:
        for k, end in enumerate(run.rounds):
            row: dict[str, Any] = {"scenario": run.scenario, "round": end}
            for metric in METRICS:
                spread = run.spread(metric, k)
                row[f"{metric}_mean"], row[f"{metric}_sd"] = spread["mean"], spread["sd"]
            rows.append(row)
    written = [write_text_atomic(out / "collusion.csv", rows_to_csv(rows))]
    summary = {
        run.scenario: {"episodes": run.episodes, "rounds": run.rounds[-1], "last_window": run.final()} for run in runs
    }
    written.append(write_json_atomic(out / "summary.json", _finite(summary), indent=1))
    written.append(plot_collusion(runs, out / "collusion.png"))
    return written


def _finite(value: Any) -> Any:
    """``value`` with NaN floats as None (strict JSON)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def plot_collusion(runs: Sequence[CollusionRun], path: Path) -> Path:
    """Revenue / competitive revenue and winner rotation against rounds: the mean over episodes
    with a band from the lowest to the highest episode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for run in runs:
        for ax, metric in zip(axes, ("revenue_ratio", "winner_rotation")):
            values = torch.tensor(run.series[metric], dtype=torch.float64)  # (windows, episodes)
            mean = values.nanmean(1)
            low = torch.where(values.isnan(), math.inf, values).amin(1)
            high = torch.where(values.isnan(), -math.inf, values).amax(1)
            (line,) = ax.plot(run.rounds, mean.tolist(), label=run.scenario)
            ax.fill_between(run.rounds, low.tolist(), high.tolist(), color=line.get_color(), alpha=0.15)
    axes[0].set_ylabel("revenue / competitive revenue")
    axes[1].set_ylabel("winner rotation")
    for ax in axes:
        ax.set_xlabel("round")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)
