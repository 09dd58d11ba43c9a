"""The scenario runner: every shipped scenario runs; outputs are complete and atomic."""

from __future__ import annotations

import csv
import json
import os

import pytest
import yaml

from auction_env import runner
from auction_env.catalog import load_scenario, shipped_scenarios
from auction_env.runner import run_scenario
from auction_env.setting import validate_scenario

# the sweeps play every cell: seconds to a minute each
SLOW_SCENARIOS = {"sweep_scaling", "sweep_bidders"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_SCENARIOS else n for n in shipped_scenarios()]
)
def test_shipped_scenario_validates_and_runs_briefly(name, tmp_path):
    """Every shipped scenario validates and runs a few episodes (of at most 200 rounds), writing its files."""
    scenario = load_scenario(name)
    validate_scenario(scenario.config, source=scenario.source)
    rounds = min(scenario.config.env.rounds, 200)
    result = run_scenario(name, out=tmp_path, episodes=20, rounds=rounds, regret_profiles=8, progress=False)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (tmp_path / "config.yaml").exists()
    rows = summary["cells"] if "cells" in summary else [summary]
    for row in rows:
        for key in ("revenue_mean", "revenue_stderr", "welfare_mean", "utility_mean", "participation_rate", "rounds"):
            assert key in row
        assert len(row["utility_mean"]) == row["n_bidders"]
        assert row["rounds"] == 20 * row["rounds_per_episode"] and row["rounds_per_episode"] == rounds
        if scenario.config.env.metrics:  # the collusion metrics are in the summary
            assert {"revenue_ratio", "bid_ratio", "winner_rotation"} <= set(row)
    assert (tmp_path / "sweep.csv").exists() == (result.config.sweep is not None)


def test_resolved_config_reruns_to_the_same_summary(tmp_path):
    """config.yaml holds the resolved config (overrides applied); rerunning it repeats the numbers."""
    first = run_scenario("participation", out=tmp_path / "a", seed=5, episodes=30, progress=False)
    resolved = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())
    assert resolved["run"]["seed"] == 5 and resolved["run"]["episodes"] == 30
    second = run_scenario(resolved, out=tmp_path / "b", progress=False)
    drop = lambda s: {k: v for k, v in s.items() if k not in ("wall_time_s", "scenario")}  # noqa: E731
    assert drop(first.summary) == drop(second.summary)


def test_seed_changes_results():
    """Different seeds give different revenue; the same seed the same."""
    a = run_scenario("first_price_shading", episodes=50, seed=1, progress=False, write=False).summary
    b = run_scenario("first_price_shading", episodes=50, seed=1, progress=False, write=False).summary
    c = run_scenario("first_price_shading", episodes=50, seed=2, progress=False, write=False).summary
    assert a["revenue_mean"] == b["revenue_mean"] != c["revenue_mean"]


def test_batch_size_splits_episodes_exactly():
    """Episodes not divisible by the batch size are all played once."""
    data = {"env": {"rounds": 3}, "run": {"episodes": 10, "batch_size": 4}}
    summary = run_scenario(data, progress=False, write=False).summary
    assert summary["rounds"] == 30


@pytest.mark.slow
def test_sweep_csv_has_one_row_per_cell(tmp_path):
    """sweep.csv holds a header and one row per cell with the grid values and metrics."""
    run_scenario("sweep_bidders", out=tmp_path, episodes=10, progress=False)
    rows = list(csv.DictReader((tmp_path / "sweep.csv").open()))
    assert len(rows) == 12
    assert {"env.n_bidders", "env.mechanism.name", "run.seed", "revenue_mean", "utility_mean_0"} <= set(rows[0])
    assert rows[-1]["env.n_bidders"] == "4" and rows[-1]["utility_mean_3"] != ""


def test_interrupted_write_leaves_no_partial_file(tmp_path, monkeypatch):
    """If writing fails midway, the old file stays whole and no temporary file is left."""
    from mechanisms.common.io import write_text_atomic

    target = tmp_path / "summary.json"
    write_text_atomic(target, "old\n")

    def broken_fsync(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(target, "new and long " * 1000)
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["summary.json"]


def test_failed_run_writes_nothing(tmp_path, monkeypatch):
    """A run that fails while playing leaves the output folder without result files."""

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(runner, "play", boom)
    with pytest.raises(RuntimeError):
        run_scenario("quickstart", out=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_summary_reports_regret_when_asked():
    """With run.regret, the summary carries the mechanism's regret and the attack protocol."""
    data = {"env": {"mechanism": "first_price", "n_items": 1}, "run": {"episodes": 20, "regret": {"profiles": 100}}}
    summary = run_scenario(data, progress=False, write=False).summary
    assert summary["regret_mean"] > 0.05 and "default" in summary["regret_protocol"]
    assert len(summary["regret_per_bidder"]) == 2
    truthful = run_scenario(
        {"env": {"mechanism": "myerson"}, "run": {"episodes": 20, "regret": {"profiles": 100}}},
        progress=False,
        write=False,
    ).summary
    assert truthful["regret_max"] < 1e-6


def test_summary_json_is_strict_json(tmp_path):
    """A one-round run has no standard error (NaN): summary.json holds null and says how many."""
    run_scenario({"env": {"rounds": 1}, "run": {"episodes": 1}}, out=tmp_path, progress=False)

    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    summary = json.loads((tmp_path / "summary.json").read_text(), parse_constant=refuse)
    assert summary["revenue_stderr"] is None and summary["non_finite_as_null"] >= 1
