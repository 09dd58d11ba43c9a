"""Every example's main() runs as written, with a tiny budget."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"
TINY_PPO = {"n_steps": 32, "batch_size": 64, "n_epochs": 2}


def test_every_example_is_covered() -> None:
    """A new example gets a test here."""
    assert sorted(p.name for p in EXAMPLES.glob("[0-9]*.py")) == sorted(BUDGETS)


BUDGETS = {
    "01_step_by_hand.py": {"rounds": 3},
    "02_ppo_first_price.py": {"steps": 512, "eval_rounds": 1000, "algo_kwargs": TINY_PPO},
    "03_misreport_learned_mechanism.py": {"profiles": 8, "ppo_steps": 512, "protocol": "weak", "algo_kwargs": TINY_PPO},
    # one RLlib iteration, sampling in the driver (needs the [rllib] extra, installed by `make test`)
    "05_rllib_first_price.py": {"iterations": 1, "env_runners": 0, "batch": 200, "minibatch": 100, "epochs": 1},
    "06_torchrl_first_price.py": {"iterations": 1, "frames": 100, "epochs": 1, "minibatch": 50},
    "07_rllib_auctioneer.py": {"penalties": (1.5,), "iterations": 1, "batch": 200, "minibatch": 100, "epochs": 1},
}


# the RLlib example needs Ray (the [rllib] extra); the misreport example trains PPO for a few seconds
MARKS = {
    "05_rllib_first_price.py": pytest.mark.rllib,
    "07_rllib_auctioneer.py": pytest.mark.rllib,
    "03_misreport_learned_mechanism.py": pytest.mark.slow,
}


@pytest.mark.parametrize("name", [pytest.param(n, marks=MARKS[n]) if n in MARKS else n for n in sorted(BUDGETS)])
def test_example_runs(name: str, tmp_path, load_script) -> None:
    """main() completes and returns its results."""
    if "rllib" in name:
        pytest.importorskip("ray.rllib")  # the optional [rllib] extra (installed by `make test`)
    kwargs = dict(BUDGETS[name])
    if name != "01_step_by_hand.py":
        kwargs["out"] = str(tmp_path / "out")
    assert load_script(f"examples/{name}").main(**kwargs)
