"""The privacy sweep: rows per sigma and threat model, files written, bad input rejected."""

from __future__ import annotations

import csv

import pytest
import torch

import mechanisms
from auction_env import ConfigError
from auction_env.cli import main
from auction_env.experiments.privacy import privacy_sweep, score_reconstruction


def test_score_reconstruction_counts_hits_and_excludes_own_row() -> None:
    """Recovery counts entries within the tolerance; the with-bids model leaves out the observer's row."""
    truth = torch.zeros(2, 2, 2)
    guess = torch.tensor([[[0.0, 0.0], [0.5, 0.01]], [[0.0, 0.0], [0.03, 0.0]]])
    assert score_reconstruction(guess, truth).recovery_rate == pytest.approx(6 / 8)
    assert score_reconstruction(guess, truth, exclude_bidder=0).recovery_rate == pytest.approx(2 / 4)


def test_sweep_rows_and_noise_restored() -> None:
    """One row per sigma and threat model; the mechanism's own sigma is restored afterwards."""
    prior = mechanisms.make_prior(2, 2)
    net = mechanisms.make("regretnet", context={"prior": prior, "n_bidders": 2, "n_items": 2}, checkpoint="2x2")
    rows = privacy_sweep(
        net, prior, [0.0, 1.0], profiles=12, observer_params={"iterations": 50, "restarts": 1}, regret_profiles=0
    )
    assert [(r["sigma"], r["threat_model"]) for r in rows] == [
        (0.0, "without_bids"),
        (0.0, "with_bids"),
        (1.0, "without_bids"),
        (1.0, "with_bids"),
    ]
    assert net.noise_std == 0.0
    # without noise the inversion recovers most bids; sigma = 1 hides them (a larger error)
    assert rows[0]["recovery_rate"] > 0.5 > rows[2]["recovery_rate"] and rows[2]["mae"] > 5 * rows[0]["mae"]
    with pytest.raises(ConfigError, match="sigmas"):
        privacy_sweep(net, prior, [-1.0], profiles=2)


def test_sweep_on_a_mechanism_without_noise_only_at_sigma_zero() -> None:
    """A menu has no output noise: sigma 0 is inverted with the derivative-free solver, sigma > 0 is refused."""
    prior = mechanisms.make_prior(1, 2)
    menu = mechanisms.make(
        "rochetnet", context={"prior": prior, "n_bidders": 1, "n_items": 2}, checkpoint="rochetnet_1x2"
    )
    rows = privacy_sweep(
        menu, prior, [0.0], profiles=16, observer_params={"iterations": 20, "restarts": 1}, regret_profiles=0
    )
    # well above a random guess within +-0.02 of a U[0, 1] value (about 4%)
    assert len(rows) == 1 and "search" in rows[0]["observer"] and rows[0]["recovery_rate"] > 0.1
    with pytest.raises(ConfigError, match="only be inverted at sigma 0"):
        privacy_sweep(menu, prior, [0.0, 0.5], profiles=4)


@pytest.mark.slow
def test_privacy_cli_writes_csv_and_plots(tmp_path, capsys) -> None:
    """`auction-env privacy` writes privacy.csv and two PNGs; a bad --sigmas exits 2 with one line."""
    out = tmp_path / "p"
    assert (
        main(
            [
                "privacy",
                "regretnet_2x2",
                "--sigmas",
                "0,0.5",
                "--profiles",
                "8",
                "--iterations",
                "20",
                "--regret-profiles",
                "4",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    rows = list(csv.DictReader((out / "privacy.csv").open()))
    assert len(rows) == 4 and {"recovery_rate", "mae", "revenue_mean", "regret_mean"} <= set(rows[0])
    assert (out / "recovery_revenue.png").stat().st_size > 0 and (out / "mae.png").stat().st_size > 0
    assert main(["privacy", "regretnet_2x2", "--sigmas", "a,b", "--out", str(tmp_path / "q")]) == 2
    assert "--sigmas" in capsys.readouterr().err and not (tmp_path / "q").exists()
