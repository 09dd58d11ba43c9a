"""The repeated-auction experiments at tiny budgets: collusion curves, the persistent observer."""

from __future__ import annotations

import json
import math

import pytest

from auction_env.experiments.collusion import collusion_run, write_collusion
from auction_env.experiments.persistent_observer import persistent_recovery
from mechanisms.common.errors import ConfigError


def test_collusion_run_records_windows_per_episode_and_writes_its_files(tmp_path):
    run = collusion_run("collusion_first_price", rounds=250, episodes=3, window=100, seed=1)
    assert run.rounds == [100, 200, 250]
    for metric in ("revenue_ratio", "bid_ratio", "winner_rotation"):
        assert [len(w) for w in run.series[metric]] == [3, 3, 3]
    # a known common value 1: the competitive revenue is 1, so the ratio is the revenue itself, in [0, 1]
    assert all(0.0 <= v <= 1.0 for w in run.series["revenue_ratio"] for v in w)
    again = collusion_run("collusion_first_price", rounds=250, episodes=3, window=100, seed=1)
    assert again.series == run.series  # seeded
    written = write_collusion([run], tmp_path)
    assert sorted(p.name for p in written) == ["collusion.csv", "collusion.png", "summary.json"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["collusion_first_price"]["rounds"] == 250
    assert not math.isnan(summary["collusion_first_price"]["last_window"]["revenue_ratio"]["mean"])


def test_collusion_needs_metrics():
    with pytest.raises(ConfigError, match="metrics: true"):
        collusion_run("quickstart", rounds=2, episodes=1)


def test_a_scenario_without_metrics_is_refused_before_any_is_played(tmp_path, capsys, monkeypatch):
    """`collusion` checks every scenario first: one without metrics, listed after a good one, ends
    in one line and exit 2 before the first is played (no progress bar, nothing written)."""
    import auction_env.experiments.collusion as collusion
    from auction_env.cli import main

    monkeypatch.setattr(collusion, "collusion_run", lambda *a, **k: pytest.fail("played before checking"))
    out = tmp_path / "out"
    assert main(["collusion", "collusion_first_price", "quickstart", "--out", str(out), "--rounds", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "metrics: true" in err and "\n" not in err and "\r" not in err
    assert not out.exists()


def test_accumulating_observer_gains_from_persistent_values_under_noise():
    """Without noise a round's inversion recovers nearly all bids; with noise the running mean of the
    inversions gets closer to the bids than one round's inversion does."""
    rows = persistent_recovery(sigmas=(0.0, 0.3), episodes=16, rounds=4, seed=0, observer={"restarts": 2})
    clean = [r for r in rows if r["sigma"] == 0.0]
    noisy = [r for r in rows if r["sigma"] == 0.3]
    assert min(r["recovery_round"] for r in clean) > 0.85
    assert [r["round"] for r in noisy] == [1, 2, 3, 4]
    assert noisy[0]["mae_accumulated"] == noisy[0]["mae_round"]
    assert noisy[-1]["mae_accumulated"] < sum(r["mae_round"] for r in noisy) / len(noisy)
