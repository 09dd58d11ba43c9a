"""Strict scenario loading: every kind of mistake names the file and the dotted path."""

from __future__ import annotations

from pathlib import Path

import pytest

from auction_env.catalog import load_scenario
from auction_env.setting import validate_scenario
from mechanisms.common.errors import ConfigError


def check(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        scenario = load_scenario(path)
        validate_scenario(scenario.config, source=scenario.source)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("envv: {}\n", "envv: unknown key. Did you mean 'env'?"),
        (
            "agents:\n  - policy: truthful\n  - {policy: shading, parms: {}}\n",
            "agents[1].parms: unknown key. Did you mean 'params'?",
        ),
        ("env: {n_bidders: two}\n", "env.n_bidders: input should be a valid integer, got 'two'"),
        ("env: {n_items: 0}\n", "env.n_items: input should be greater than or equal to 1"),
        ("run: {episodes: -5}\n", "run.episodes: input should be greater than or equal to 1"),
        ("env: {mechanism: myersn}\n", "env.mechanism.name: Unknown mechanism 'myersn'. Did you mean 'myerson'?"),
        (
            "env: {mechanism: {name: second_price, params: {reserv: 0.1}}}\n",
            "env.mechanism.params.reserv: unknown parameter",
        ),
        (
            "env: {mechanism: {name: second_price, params: {reserve: -1}}}\n",
            "env.mechanism: mechanism 'second_price': reserve must be finite and >= 0",
        ),
        (
            "env: {prior: {type: uniform, hihg: 2}}\n",
            "env.prior.hihg: unknown parameter for prior 'uniform'. Did you mean 'high'?",
        ),
        ("env: {prior: {type: gaussian}}\n", "env.prior.type: Unknown prior 'gaussian'"),
        ("env: {prior: {high: {per_bidder: [1, 2, 3]}}}\n", "high.per_bidder: expected 2 numbers, got 3"),
        (
            "env: {participation: {model: independent, p: 1.5}}\n",
            "env.participation: participation model 'independent': p: probabilities must lie in [0, 1]",
        ),
        (
            "env: {participation: {model: profiles, profiles: [[1, 1]], probs: [0.5]}}\n",
            "must lie in [0, 1] and sum to 1",
        ),
        ("agents: [{policy: truthfull}]\n", "agents[0].policy: Unknown agent 'truthfull'. Did you mean 'truthful'?"),
        ("agents: [{policy: truthful, bidders: [0]}]\n", "agents: no policy for bidder(s) [1]"),
        ("agents: [{policy: truthful, bidders: [0, 5]}]\n", "agents[0].bidders: bidder 5 does not exist"),
        ("agents: [{policy: truthful}, {policy: random}]\n", "agents[1]: only one entry may omit 'bidders'"),
        ("sweep: {grid: {env.n_bidders: [2, 0]}}\n", "(in sweep cell env.n_bidders=0)"),
        ("sweep: {grid: {env.mechanism.name: [myerson, vcgg]}}\n", "Unknown mechanism 'vcgg'"),
        ("sweep: {grid: {env.n_bidders: []}}\n", "sweep.grid.env.n_bidders: grid values must be a non-empty list"),
        ("sweep: {grid: {env.nbidders: [2]}}\n", "env.nbidders: unknown key. Did you mean 'n_bidders'?"),
        ("env: [1, 2]\n", "env: input should be a valid dictionary"),
        ("- a\n- b\n", "expected a mapping of keys, got list"),
        ("env: {n_bidders: 2\n", "invalid YAML"),
        ("", "the file is empty"),
    ],
)
def test_bad_scenarios_fail_with_file_and_path(tmp_path, text, expected):
    """Each mistake gives one line: file, dotted path, what is wrong."""
    message = check(tmp_path, text)
    assert expected in message, message


def test_missing_scenario_suggests_shipped_names():
    """An unknown scenario name lists the shipped ones, with a suggestion."""
    with pytest.raises(ConfigError, match="Did you mean 'quickstart'"):
        load_scenario("quickstrat")


def test_shipped_scenario_found_by_name_and_by_repo_path():
    """`quickstart`, `quickstart.yaml` and `scenarios/quickstart.yaml` load the same scenario."""
    a, b, c = (load_scenario(s).config for s in ("quickstart", "quickstart.yaml", "scenarios/quickstart.yaml"))
    assert a == b == c


def test_mechanism_shorthand_equals_full_form():
    """`mechanism: myerson` means `{name: myerson, params: {}}`."""
    a = load_scenario({"env": {"mechanism": "myerson"}}).config
    b = load_scenario({"env": {"mechanism": {"name": "myerson", "params": {}}}}).config
    assert a == b


def test_sweep_cells_cross_grid_and_seeds():
    """A sweep expands to the product of grid values and seeds, each validated."""
    from auction_env.config import sweep_cells

    config = load_scenario("sweep_bidders").config
    cells = sweep_cells(config)
    assert len(cells) == 3 * 2 * 2
    overrides, cell = cells[-1]
    assert overrides == {"env.n_bidders": 4, "env.mechanism.name": "myerson", "run.seed": 1}
    assert cell.env.n_bidders == 4 and cell.env.mechanism.name == "myerson" and cell.run.seed == 1
