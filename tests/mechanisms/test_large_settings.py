"""The large settings (issue 24): the 3 x 10 and 5 x 10 training configs build feasible, IR
networks, a training step runs on CPU with a tiny batch, and a trained checkpoint plays in the
environment and through a ``participation_3x10`` scenario."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import torch
import yaml

import auction_env
from auction_env.runner import run_scenario
from mechanisms.training.loop import TrainingRun, load_training_config, train

CONFIGS = Path(__file__).parents[2] / "mechanisms" / "training" / "configs"


def tiny(name: str, **changes):
    """A shipped large config with a tiny batch, dataset and inner loop."""
    config = load_training_config(CONFIGS / f"{name}.yaml")
    trainer = config.trainer.model_copy(
        update={"params": {**config.trainer.params, "batch_size": 8, "misreport_steps": 2}}
    )
    return config.model_copy(update={"trainer": trainer, "dataset_size": 64, **changes})


@pytest.mark.parametrize("name,n,m", [("regretnet_3x10", 3, 10), ("regretnet_5x10", 5, 10)])
def test_large_networks_are_feasible_and_ir_and_train_on_cpu(name: str, n: int, m: int) -> None:
    """Each item is sold at most once, nobody pays more than the reported value of what it gets,
    and one training iteration (every bidder's misreports searched at once) runs and moves the
    network."""
    run = TrainingRun(tiny(name), device="cpu")
    model = run.model
    bids = torch.rand(256, n, m, generator=torch.Generator().manual_seed(0))
    bids[:7] = 0.0  # and some corner cases: nobody bids, one bidder alone, everybody at the top
    bids[1, 1:] = 0.0
    bids[2] = 1.0
    with torch.no_grad():
        out = model.run(bids)
    assert out.allocation.shape == (256, n, m) and out.payments.shape == (256, n)
    assert (out.allocation >= 0).all() and (out.allocation.sum(1) <= 1 + 1e-5).all()
    assert (out.payments >= -1e-7).all()
    assert (out.payments <= (out.allocation * bids).sum(-1) + 1e-5).all()
    before = [p.detach().clone() for p in model.parameters()]
    metrics = run.trainer.step()
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.parametrize(
    "name,checkpoint", [("regretnet", "regretnet_3x10"), ("equivariant", "equivariant_3x10_participation")]
)
def test_the_shipped_3x10_networks_play_in_the_env_and_the_participation_scenarios(name: str, checkpoint: str) -> None:
    """A shipped 3 x 10 network by name (``regretnet_3x10``, and ``equivariant_3x10_participation``,
    one network for every participation profile, which masks absent bidders out): a truthful round
    in ``parallel_env(n_bidders=3, n_items=10)`` gives every bidder a non-negative utility (IR by
    construction), and each ``participation_3x10`` scenario runs on it (absent bidders get nothing,
    so revenue falls with participation: scenario 1 has the fewest bidders)."""
    mechanism = {"name": name, "params": {"checkpoint": checkpoint}}
    env = auction_env.parallel_env(n_bidders=3, n_items=10, mechanism=mechanism, rounds=3)
    observations, _ = env.reset(seed=0)
    while env.agents:
        observations, rewards, *_ = env.step({a: o[:10] for a, o in observations.items()})
        assert len(rewards) == 3 and min(rewards.values()) >= -1e-5
    revenue = {}
    for k in (1, 3):
        data = yaml.safe_load((Path(__file__).parents[2] / "scenarios" / f"participation_3x10_s{k}.yaml").read_text())
        data["env"]["mechanism"] = mechanism
        (row,) = run_scenario(data, episodes=4, progress=False, write=False).rows
        assert row["n_items"] == 10 and all(u >= -1e-5 for u in row["utility_mean"])
        revenue[k] = row["revenue_mean"]
    assert 0.0 < revenue[1] < revenue[3] < 5.4


@pytest.mark.slow
def test_a_trained_3x10_checkpoint_plays_in_the_env_and_a_scenario(tmp_path) -> None:
    """Two iterations of the 3 x 10 config saved as a checkpoint: it loads into
    ``parallel_env(n_bidders=3, n_items=10)`` and runs a ``participation_3x10`` scenario."""
    config = tiny("regretnet_3x10", iterations=2, save_every=2, evaluation=None)
    card = train(config, tmp_path, device="cpu", progress=False)
    env = auction_env.parallel_env(
        n_bidders=3, n_items=10, mechanism={"name": "regretnet", "params": {"checkpoint": str(card)}}, rounds=3
    )
    observations, _ = env.reset(seed=0)
    while env.agents:
        observations, rewards, *_ = env.step({a: o[:10] for a, o in observations.items()})
        assert len(rewards) == 3 and all(map(torch.isfinite, map(torch.tensor, rewards.values())))
    data = yaml.safe_load((Path(__file__).parents[2] / "scenarios" / "participation_3x10_s1.yaml").read_text())
    data["env"]["mechanism"] = {"name": "regretnet", "params": {"checkpoint": str(card)}}
    result = run_scenario(data, episodes=2, progress=False, write=False)
    assert result.rows and result.rows[0]["revenue_mean"] >= 0.0


@pytest.mark.slow
def test_the_3x10_participation_table_pairs_networks_on_the_same_profiles(capsys) -> None:
    """``scripts/participation_table.py --size 3x10``: a row per participation profile, the paper's
    Tables 5-7 beside ours, and a network paired with itself differs by exactly nothing (the
    same values and participation for both, per profile)."""
    script = runpy.run_path(str(Path(__file__).parents[2] / "scripts" / "participation_table.py"))
    argv = ["--size", "3x10", "--profiles", "6", "--protocol", "weak", "--bootstrap", "20", "--scenarios", "1,3"]
    argv += ["--untweaked", "regretnet_3x10", "--against", "equivariant_mixed", "--tweaked", "regretnet_3x10"]
    assert script["main"](argv) == 0
    out = capsys.readouterr().out
    profile_rows = [line for line in out.splitlines() if line.startswith("| <")]
    assert len(profile_rows) == 7 and all(line.count("|") == 9 for line in profile_rows)  # 4 networks, 2 papers
    assert "| 1 | tweaked s1 |" in out and "| 3 | untweaked |" in out and "3.725 / 0.139 / 2.426" in out
    paired = [line for line in out.splitlines() if line.startswith(("| 1 | +", "| 3 | +", "| 1 | -", "| 3 | -"))]
    # tweaked minus untweaked: the same network, so exactly nothing
    assert len(paired) == 4 and all(line.count("0.0000 ± 0.0000") == 2 for line in paired[:2]), paired
    # then the --against network (a 3 x 3-trained network of any size, by its card's name) minus
    # each scenario's tweaked one: its aggregated revenue minus theirs, scenario by scenario
    aggregated = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) == 6 and cells[0] in ("1", "3") and cells[1] in ("equivariant_mixed", "tweaked s1", "tweaked s3"):
            aggregated[cells[0], cells[1]] = float(cells[2].split("±")[0])
    for line in paired[2:]:
        k, revenue_difference = line.split("|")[1].strip(), float(line.split("|")[2].split("±")[0])
        expected = aggregated[k, "equivariant_mixed"] - aggregated[k, f"tweaked s{k}"]
        assert revenue_difference == pytest.approx(expected, abs=2e-4) and abs(expected) > 1e-3
    full = next(line for line in out.splitlines() if line.startswith("| full participation | untweaked |"))
    assert full.split("|")[3].split("±")[0].strip()[:5] == profile_rows[0].split("|")[2].split("/")[0].strip()[:5]
    with pytest.raises(SystemExit) as refused:
        script["main"]([*argv[:-2], "--tweaked", "regretnet_2x2"])  # another size: one line, exit 2
    assert refused.value.code == 2 and "not 3 x 10" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        script["main"]([*argv[:-2], "--against", "regretnet_2x2"])  # a fixed-size network of another size
    assert refused.value.code == 2 and "--against: regretnet_2x2 is a 2 x 2 network" in capsys.readouterr().err
    for against, message in (("", "got an empty string"), ("missing/card.json", "--against: ")):
        with pytest.raises(SystemExit) as refused:
            script["main"]([*argv[:-2], "--against", against])
        assert refused.value.code == 2 and message in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        script["main"](["--against", "equivariant_2x2"])  # the 2 x 2 table has no such comparison
    assert refused.value.code == 2 and "--against is for --size 3x10" in capsys.readouterr().err


def test_the_3x10_table_aggregates_profiles_row_by_row() -> None:
    """The aggregated auction is the profiles' weighted sum, and since every profile is measured
    on the same values its standard error is that of the per-row sums (profiles that move together
    add up their spread; treating them as independent would understate it). A network that earns
    a constant more than another on every row differs from it by exactly that, with no error."""
    from mechanisms.evaluation import Measurement

    script = runpy.run_path(str(Path(__file__).parents[2] / "scripts" / "participation_table.py"))
    rows = torch.Generator().manual_seed(0)
    base = torch.rand(400, generator=rows, dtype=torch.float64)
    weights = {(1, 1, 1): 0.5, (0, 1, 1): 0.3, (0, 0, 1): 0.2}
    a = {
        g: Measurement(None, base * (k + 1) + k, torch.full((400, 3), 0.001 * (k + 1), dtype=torch.float64))
        for k, g in enumerate(weights)
    }
    rev, se, regret, total, score = script["_aggregate"](a, weights)
    sums = sum(w * a[g].revenue for g, w in weights.items())
    assert rev == pytest.approx(sum(w * a[g].revenue.mean().item() for g, w in weights.items()))
    assert se == pytest.approx(sums.std().item() / 20)  # 400 rows
    independent = sum(w**2 * a[g].revenue.var().item() / 400 for g, w in weights.items()) ** 0.5
    assert se > 1.5 * independent  # the rows move together: the independent formula is too small
    assert regret == pytest.approx(0.001 * (0.5 + 0.6 + 0.6)) and total == pytest.approx(3 * regret)
    assert score == pytest.approx((rev**0.5 - total**0.5) ** 2)
    b = {g: Measurement(None, m.revenue - 0.25, m.regret) for g, m in a.items()}
    args = type("Args", (), {"seed": 0, "bootstrap": 200})()
    diff, diff_se, score_diff, score_se, score_a, revenue_a = script["_paired"](a, b, weights, args)
    assert diff == pytest.approx(0.25) and diff_se == pytest.approx(0.0, abs=1e-12)
    assert score_diff > 0 and score_se > 0 and score_a == pytest.approx(score) and revenue_a == pytest.approx(rev)
