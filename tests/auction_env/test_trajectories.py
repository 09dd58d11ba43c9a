"""Recorded seeded trajectories of every shipped scenario replay exactly.

If dynamics change on purpose, re-record with ``.venv/bin/python scripts/record_trajectories.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auction_env.catalog import shipped_scenarios
from auction_env.trajectory import record_trajectory

DATA = Path(__file__).parents[1] / "data" / "trajectories"


def test_every_shipped_scenario_has_a_recording():
    """Each shipped scenario has a recorded trajectory (and no recording is orphaned)."""
    assert sorted(p.stem for p in DATA.glob("*.json")) == shipped_scenarios()


@pytest.mark.parametrize("name", shipped_scenarios())
def test_trajectory_replays_exactly(name):
    """Valuations, participation, bids, outcomes and rewards equal the recording."""
    recorded = json.loads((DATA / f"{name}.json").read_text())
    replayed = record_trajectory(name, rounds=len(recorded["rounds"]), seed=recorded["seed"])
    assert replayed["rounds"] == recorded["rounds"]
