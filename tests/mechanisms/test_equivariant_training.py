"""Training one network on several sizes and participation profiles; paired comparisons."""

from __future__ import annotations

import math

import pytest
import torch

import mechanisms
from auction_env.cli import main
from mechanisms.evaluation import compare, evaluate
from mechanisms.priors import UniformPrior
from mechanisms.training.loop import TrainingRun, load_training_config, train


def config(**changes):
    base = {
        "name": "eq_tiny",
        "setting": {"n_bidders": 2, "n_items": 2, "participation": {"model": "independent", "p": 0.6}},
        "mechanism": {"name": "equivariant", "params": {"hidden": 8, "layers": 2}},
        "sizes": [[2, 2], [3, 2], [2, 3]],
        "trainer": {"name": "regretnet", "params": {"batch_size": 32, "misreport_steps": 2}},
        "iterations": 6,
        "dataset_size": 128,
        "log_every": 3,
        "evaluation": {"profiles": 16, "protocol": "weak"},
    }
    return load_training_config({**base, **changes})


def test_one_network_trains_on_every_size_in_turn():
    run = TrainingRun(config(), device="cpu")
    before = [p.detach().clone() for p in run.model.parameters()]
    metrics = [run.trainer.step() for _ in range(3)]
    assert [t.data.valuations.shape[1:] for t in run.trainer.trainers] == [(2, 2), (3, 2), (2, 3)]
    assert math.isnan(metrics[0]["revenue_2x3"]) and not math.isnan(metrics[2]["revenue_2x3"])
    assert metrics[2]["revenue"] == pytest.approx(sum(metrics[2][f"revenue_{s}"] for s in ("2x2", "3x2", "2x3")) / 3)
    assert any(not torch.equal(a, b) for a, b in zip(before, run.model.parameters()))
    # absent bidders are masked out of the network during training, not fed zeros
    present = run.trainer.trainers[0].data.present(torch.arange(8), run.model)
    assert present is not None and present.shape == (8, 2)


def test_the_algnet_trainer_trains_it_too():
    """ALGNet's loss (a misreporter network per size) on the same network, with the mask."""
    run = TrainingRun(
        config(trainer={"name": "algnet", "params": {"batch_size": 32, "misreporter_steps": 1, "refine_steps": 1}}),
        device="cpu",
    )
    before = [p.detach().clone() for p in run.model.parameters()]
    metrics = [run.trainer.step() for _ in range(3)]
    assert all(math.isfinite(m["revenue"]) for m in metrics[2:])
    assert any(not torch.equal(a, b) for a, b in zip(before, run.model.parameters()))


def test_the_card_lists_the_sizes_the_network_was_trained_on(tmp_path):
    card = train(config(), tmp_path, device="cpu", progress=False)
    import json

    supports = json.loads(card.read_text())["supports"]
    sizes = {(s["n_bidders"], s["n_items"]) for s in supports["sizes"]}
    # with participation, fewer bidders than the size took part in some profiles
    assert {(2, 2), (3, 2), (2, 3), (1, 2), (1, 3)} <= sizes and (3, 3) not in sizes
    model = mechanisms.make(
        "equivariant", context={"n_bidders": 3, "n_items": 3, "prior": UniformPrior(3, 3)}, checkpoint=str(card)
    )
    with pytest.warns(UserWarning, match="3x3 is untested"):
        model.run(torch.rand(2, 3, 3))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"mechanism": {"name": "regretnet", "params": {"hidden": 8, "layers": 1}}}, "runs one size only"),
        ({"sizes": [[3, 2]]}, "sizes must include the setting's 2x2"),
        ({"sizes": [[2, 2], [0, 2]]}, "sizes[1][0]"),
    ],
)
def test_bad_sizes_exit_2_with_one_line(tmp_path, capsys, changes, message):
    import yaml

    path = tmp_path / "bad.yaml"
    data = config().model_dump()
    data.update(changes)
    path.write_text(yaml.safe_dump(data))
    assert main(["train", str(path), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err.strip().splitlines()[-1] and "Traceback" not in err
    assert not (tmp_path / "o" / "last.pt").exists()


def test_fixed_size_trainers_do_not_get_the_mask():
    run = TrainingRun(
        config(mechanism={"name": "regretnet", "params": {"hidden": 8, "layers": 1}}, sizes=None), device="cpu"
    )
    assert run.data.present(torch.arange(4), run.model) is None  # the tweaked dataset, as before


def test_a_paired_comparison_pairs_the_same_profiles():
    prior = UniformPrior(2, 2)
    myerson, second = mechanisms.make("myerson", context={"prior": prior}), mechanisms.make("second_price")
    same = compare(myerson, myerson, prior, profiles=200, protocol="weak", seed=3, bootstrap=50)
    assert same.revenue_diff == 0 and same.revenue_diff_stderr == 0 and same.score_diff == 0
    c = compare(myerson, second, prior, profiles=200, protocol="weak", seed=3, bootstrap=50)
    a = evaluate(myerson, prior, profiles=200, protocol="weak", seed=3)
    b = evaluate(second, prior, profiles=200, protocol="weak", seed=3)
    assert c.revenue_diff == pytest.approx(a.revenue_mean - b.revenue_mean)
    assert c.score_diff == pytest.approx(a.score - b.score)
    assert 0 < c.revenue_diff_stderr < math.hypot(a.revenue_stderr, b.revenue_stderr)  # pairing helps
    assert c.score_diff_stderr > 0


def test_evaluate_cli_compares_and_refuses_bad_sizes_in_one_line(capsys):
    args = ["--profiles", "20", "--protocol", "weak", "--no-progress"]
    assert main(["evaluate", "myerson", "--against", "second_price", *args]) == 0
    assert "paired on the same 20 profiles" in capsys.readouterr().out
    assert main(["evaluate", "regretnet_2x2", "--n-bidders", "3", *args]) == 2
    err = capsys.readouterr().err
    assert "is for 2 bidders x 2 items" in err and len(err.strip().splitlines()) == 1
    assert main(["evaluate", "myerson", "--against", "nonesuch", *args]) == 2
    assert "neither a checkpoint" in capsys.readouterr().err


def test_a_wider_network_starts_from_a_narrower_ones_function():
    """`widen_from`: the wider network computes what the narrower one computes (any size, with
    absent bidders), and its new channels get gradients once trained."""
    from mechanisms.learned.equivariant import EquivariantNet

    torch.manual_seed(0)
    narrow, wide = EquivariantNet(2, 2, hidden=6, layers=3), EquivariantNet(2, 2, hidden=10, layers=3)
    for p in narrow.parameters():  # weights far from any initialisation
        p.data.normal_()
    wide.widen_from(narrow)
    bids = torch.rand(64, 3, 2)
    present = torch.rand(64, 3) < 0.7
    for x, mask in ((bids[:, :2], None), (bids, present)):
        a, b = narrow.run(x, present=mask), wide.run(x, present=mask)
        assert torch.allclose(a.allocation, b.allocation, atol=1e-6)
        assert torch.allclose(a.payments, b.payments, atol=1e-6)
    wide.run(bids, present=present).payments.sum().backward()
    assert wide.payment_head.weight.grad[0, 6:].abs().sum() > 0  # the heads start reading the new channels
    assert narrow.narrower({"hidden": 6, "layers": 2}) is None and narrow.narrower({"hidden": 7, "layers": 3}) is None
    with pytest.raises(ValueError, match="cannot widen"):
        narrow.widen_from(wide)


def test_init_from_a_narrower_checkpoint_widens_it_and_other_architectures_are_refused():
    from mechanisms.common.errors import ConfigError

    shipped = mechanisms.load("equivariant_2x2_participation_alg")  # hidden 64, 3 layers
    wider = {"name": "equivariant", "params": {"hidden": 72, "layers": 3}}
    run = TrainingRun(config(init_from="equivariant_2x2_participation_alg", mechanism=wider), device="cpu")
    bids, present = torch.rand(32, 2, 2), torch.rand(32, 2) < 0.7
    a, b = shipped.run(bids, present=present), run.model.run(bids, present=present)
    assert run.model.hidden == 72 and torch.allclose(a.allocation, b.allocation, atol=1e-6)
    assert torch.allclose(a.payments, b.payments, atol=1e-6)
    for params in ({"hidden": 72, "layers": 4}, {"hidden": 32, "layers": 3}):
        other = {"name": "equivariant", "params": params}
        with pytest.raises(ConfigError, match="has architecture"):
            TrainingRun(config(init_from="equivariant_2x2_participation_alg", mechanism=other), device="cpu")
