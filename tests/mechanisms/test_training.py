"""Training: a few steps lower the loss; runs resume exactly; the CLI writes a checkpoint."""

from __future__ import annotations

import csv
import math

import pytest
import torch

import mechanisms
from auction_env.cli import main
from mechanisms.training.loop import TrainingRun, load_training_config, train


def config(trainer="regretnet", iterations=30, **trainer_params):
    mech = "algnet" if trainer == "algnet" else "regretnet"
    params = {"batch_size": 64, **trainer_params}
    if trainer == "regretnet":
        params.setdefault("misreport_steps", 3)
    return load_training_config(
        {
            "name": f"tiny_{trainer}",
            "setting": {"n_bidders": 2, "n_items": 2},
            "mechanism": {"name": mech, "params": {"hidden": 16, "layers": 2}},
            "trainer": {"name": trainer, "params": params},
            "iterations": iterations,
            "dataset_size": 1024,
            "seed": 0,
            "log_every": 5,
            "save_every": 10,
            "evaluation": {"profiles": 16, "protocol": "weak"},
        }
    )


@pytest.mark.parametrize("trainer", ["regretnet", "algnet"])
def test_a_few_steps_lower_the_loss(trainer):
    """Forty iterations lower the training loss (mean of the last five vs the first five)."""
    run = TrainingRun(config(trainer, lr=0.01), device="cpu")
    losses = [run.trainer.step()["loss"] for _ in range(40)]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5


@pytest.mark.slow
def test_resume_continues_where_it_stopped(tmp_path):
    """Stopping at 10 iterations and resuming to 30 gives the same network as one run to 30."""
    cfg = config(iterations=30)
    train(cfg, tmp_path / "a", device="cpu", progress=False, iterations=10)
    card_resumed = train(cfg, tmp_path / "a", device="cpu", progress=False)
    card_straight = train(cfg, tmp_path / "b", device="cpu", progress=False)
    a = torch.load(card_resumed.with_suffix(".pt"), weights_only=True)
    b = torch.load(card_straight.with_suffix(".pt"), weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows = list(csv.DictReader((tmp_path / "a" / "metrics.csv").open()))
    assert [int(r["iteration"]) for r in rows] == [5, 10, 15, 20, 25, 30]


def test_average_writes_the_mean_of_the_weights(tmp_path):
    """With `average: {start: 2, every: 2}` the checkpoint is the mean of the weights a plain run
    of the same config has after iterations 2, 4 and 6 (not the last weights); the card counts
    them."""
    import json

    plain = config("algnet", iterations=6, lr=0.01)
    averaged = load_training_config({**plain.model_dump(), "average": {"start": 2, "every": 2}})
    weights = []
    for stop in (2, 4, 6):
        card = train(plain, tmp_path / "plain", device="cpu", progress=False, iterations=stop)
        weights.append(torch.load(card.with_suffix(".pt"), weights_only=True))
    card = train(averaged, tmp_path / "averaged", device="cpu", progress=False)
    mean = torch.load(card.with_suffix(".pt"), weights_only=True)
    assert json.loads(card.read_text())["training"]["averaged_iterations"] == 3
    for key, value in mean.items():
        expected = sum(w[key].double() for w in weights) / 3
        assert torch.allclose(value.double(), expected, atol=1e-6), key
    assert any(not torch.allclose(mean[k], weights[-1][k], atol=1e-4) for k in mean)


@pytest.mark.slow
def test_resume_keeps_the_running_mean(tmp_path):
    """An averaged run stopped at 10 iterations and resumed to 30 writes the checkpoint of one
    straight run: the running mean is part of last.pt."""
    cfg = load_training_config({**config(iterations=30).model_dump(), "average": {"start": 5, "every": 5}})
    train(cfg, tmp_path / "a", device="cpu", progress=False, iterations=10)
    a = torch.load(train(cfg, tmp_path / "a", device="cpu", progress=False).with_suffix(".pt"), weights_only=True)
    b = torch.load(train(cfg, tmp_path / "b", device="cpu", progress=False).with_suffix(".pt"), weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_train_and_evaluate_cli(tmp_path, capsys):
    """`auction-env train` writes a loadable checkpoint; `evaluate` reads it by path."""
    import yaml

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config(iterations=10).model_dump()))
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    card = tmp_path / "run" / "tiny_regretnet.json"
    assert card.exists() and (tmp_path / "run" / "tiny_regretnet.pt").exists() and (tmp_path / "run" / "tb").is_dir()
    assert main(["evaluate", str(card), "--profiles", "8", "--protocol", "weak", "--no-progress"]) == 0
    assert "regret" in capsys.readouterr().out


def test_bad_training_config_exits_2(tmp_path, capsys):
    """A typo in a training config fails with the file and the key."""
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nmechanism: regretnet\ntrainer: {name: regretnett}\niterations: 5\n")
    assert main(["train", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "trainer.name: Unknown trainer 'regretnett'. Did you mean 'regretnet'?" in capsys.readouterr().err


def test_shipped_training_configs_build():
    """Every training config in the repo validates and builds its model, data and trainer."""
    from pathlib import Path

    configs = sorted((Path(__file__).parents[2] / "mechanisms" / "training" / "configs").glob("*.yaml"))
    assert len(configs) >= 7
    for path in configs:
        cfg = load_training_config(path)
        run = TrainingRun(cfg.model_copy(update={"dataset_size": 64}), device="cpu")
        assert run.model.n_bidders == cfg.setting.n_bidders and run.model.valuation == cfg.setting.valuation


def test_init_from_starts_at_a_checkpoints_weights() -> None:
    """`init_from` fine-tunes: the network starts with the checkpoint's weights; a checkpoint of
    another size or architecture is refused with the config path."""
    from mechanisms.common.errors import ConfigError

    base = {
        "name": "ft",
        "setting": {"n_bidders": 2, "n_items": 2},
        "mechanism": {"name": "regretnet", "params": {"hidden": 100, "layers": 3}},
        "trainer": {"name": "regretnet", "params": {"batch_size": 8}},
        "iterations": 1,
        "dataset_size": 64,
        "init_from": "regretnet_2x2",
    }
    run = TrainingRun(load_training_config(base), device="cpu")
    shipped = mechanisms.make(
        "regretnet", context={"n_bidders": 2, "n_items": 2, "prior": mechanisms.make_prior(2, 2)}, checkpoint="2x2"
    )
    for (name, a), b in zip(run.model.state_dict().items(), shipped.state_dict().values()):
        assert torch.equal(a, b), name
    with pytest.raises(ConfigError, match=r"init_from: 'regretnet_1x2' is a regretnet for 1x2"):
        TrainingRun(load_training_config({**base, "init_from": "regretnet_1x2"}), device="cpu")
    with pytest.raises(ConfigError, match="init_from: 'regretnet_2x2' has architecture"):
        TrainingRun(
            load_training_config({**base, "mechanism": {"name": "regretnet", "params": {"hidden": 50, "layers": 3}}}),
            device="cpu",
        )


def test_distilling_an_exact_teacher_pulls_the_network_towards_it(tmp_path) -> None:
    """`teacher: myerson` works without a checkpoint: distillation alone brings the network's
    outcomes closer to item-wise Myerson's; after `distill_iterations` the term is dropped; an
    untrained network is refused as a teacher."""
    run = TrainingRun(
        config(iterations=60, lr=0.01, teacher="myerson", distill=100.0, distill_iterations=40), device="cpu"
    )
    distances = [run.trainer.step()["distill"] for _ in range(40)]
    assert sum(distances[-5:]) < 0.75 * sum(distances[:5])
    v, misreports = run.data.valuations[:64], run.trainer.misreports[:64]
    after, parts = run.trainer.loss(v, misreports)  # iteration 40: the term is out of the loss
    run.trainer.iteration = 39
    during = run.trainer.loss(v, misreports)[0]
    assert torch.isclose(during - after, 100.0 * parts["distill"], rtol=1e-4)
    with pytest.raises(ValueError, match="untrained network"):
        TrainingRun(config(teacher="regretnet", distill=1.0), device="cpu")
    with pytest.raises(ValueError, match="not strategyproof"):
        TrainingRun(config(teacher="first_price", distill=1.0), device="cpu")
    with pytest.raises(ValueError, match="needs a teacher"):
        TrainingRun(config(distill_iterations=5), device="cpu")
    train(
        config(iterations=20, teacher="myerson", distill=1.0, distill_iterations=8),
        tmp_path,
        device="cpu",
        progress=False,
    )
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert len(rows) == 4 and all(float(r["distill"]) > 0 for r in rows)


def test_a_run_written_on_another_device_says_where_to_resume(tmp_path):
    """A last.pt written on CUDA (its random state is CUDA's, 16 bytes) cannot resume on CPU: the
    error names the device to resume on instead of torch's generator-size message."""
    from mechanisms.common.errors import CheckpointError

    cfg = config(iterations=4)
    train(cfg, tmp_path, device="cpu", progress=False, iterations=2)
    state = torch.load(tmp_path / "last.pt", weights_only=True)
    state["ranks"][0].update(generator=torch.zeros(16, dtype=torch.uint8), device="cuda")
    torch.save(state, tmp_path / "last.pt")
    expected = r"written on cuda, this run is on cpu: resume it there \(--device cuda\)"
    with pytest.raises(CheckpointError, match=expected):
        train(cfg, tmp_path, device="cpu", progress=False)


def test_random_starts_give_the_refinement_a_start_at_least_as_good():
    """With `random_starts: 16` each bidder's PGD start is the best of the misreporter's lie and
    16 uniform draws inside the support: never worse than the lie alone, better for some bidders
    (a freshly initialised misreporter is far from a best response)."""
    from mechanisms.search import deviation_utilities

    run = TrainingRun(config("algnet", random_starts=16), device="cpu")
    trainer = run.trainer
    idx = trainer.data.next_indices(64)
    v, present = trainer.data.valuations[idx], trainer.data.present(idx, trainer.model)
    with torch.no_grad():
        lies = trainer._lies(v)
        start = trainer._best_start(v, lies, present)
        u_lie = deviation_utilities(trainer.model, v, lies, present=present)
        u_start = deviation_utilities(trainer.model, v, start, present=present)
    assert start.shape == lies.shape
    assert bool(((start >= trainer.low.unsqueeze(1)) & (start <= trainer.high.unsqueeze(1))).all())
    assert bool((u_start >= u_lie - 1e-6).all())
    assert bool((u_start > u_lie + 1e-4).any())
    assert math.isfinite(trainer.step()["loss"])


def test_the_data_order_resumes_from_a_generator_state_not_a_copy():
    """The dataset's state holds the generator state that drew the epoch's order, not the order
    (8 bytes a profile): a dataset restored from it, mid-epoch, serves the same next batches as
    the one that wrote it; a state of the older format (the order itself) still loads and is kept."""
    from mechanisms.priors import UniformPrior
    from mechanisms.setting import Setting
    from mechanisms.training.data import ProfileDataset

    def dataset():
        return ProfileDataset(Setting(UniformPrior(2, 2)), 20_000, torch.Generator().manual_seed(3))

    a = dataset()
    for _ in range(250):  # into the second epoch
        a.next_indices(100)
    state = a.state_dict()
    assert all(not torch.is_tensor(v) or v.numel() < 20_000 for v in state.values())
    b = dataset()
    b.load_state_dict(state)
    assert all(torch.equal(a.next_indices(100), b.next_indices(100)) for _ in range(200))  # and into the next epoch

    old = dataset()
    old.load_state_dict({"order": a._order.clone(), "pos": a._pos, "epoch": a.epoch, "generator": state["generator"]})
    kept = old.state_dict()
    assert torch.equal(kept["order"], a._order)
    assert torch.equal(old.next_indices(100), a.next_indices(100))
