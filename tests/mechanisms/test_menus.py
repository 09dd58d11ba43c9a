"""Menu mechanisms (RochetNet, Lottery AMA): exactly DSIC and IR, feasible, and the training
relaxation approaches the exact outcome as the temperature goes to zero."""

from __future__ import annotations

import pytest
import torch

import mechanisms
from mechanisms.learned.base import init_weights


def _make(name: str, n: int, m: int, menu_size: int = 64, valuation: str = "additive"):
    prior = mechanisms.make_prior(n, m)
    mech = mechanisms.make(
        name, context={"n_bidders": n, "n_items": m, "prior": prior, "valuation": valuation}, menu_size=menu_size
    )
    init_weights(mech, torch.Generator().manual_seed(0))
    with torch.no_grad():  # a trained-looking menu: boosts and weights away from their init
        for p in (getattr(mech, "boosts", None), getattr(mech, "log_weights", None)):
            if p is not None:
                p.copy_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    return mech.eval(), prior


CASES = [
    ("rochetnet", 1, 2, {}),
    ("rochetnet", 1, 2, {"valuation": "unit_demand"}),
    ("lottery_ama", 2, 2, {}),
    ("lottery_ama", 3, 1, {}),
]


@pytest.mark.parametrize("name,n,m,params", CASES)
def test_no_misreport_on_a_grid_beats_the_truth(name: str, n: int, m: int, params: dict) -> None:
    """For 64 random profiles and every bidder, no report on a 21^m grid gains more than 1e-6."""
    mech, prior = _make(name, n, m, **params)
    v = prior.sample(64, torch.Generator().manual_seed(2))
    grid = torch.cartesian_prod(*[torch.linspace(0, 1, 21)] * m).reshape(-1, m)
    with torch.no_grad():
        truthful = mech.run(v).utilities(v)
        for i in range(n):
            bids = v.repeat_interleave(grid.shape[0], 0)
            bids[:, i] = grid.repeat(v.shape[0], 1)
            u = mech.run(bids).utilities(v.repeat_interleave(grid.shape[0], 0))[:, i].view(v.shape[0], -1)
            assert (u.max(1).values - truthful[:, i]).max().item() <= 1e-6


@pytest.mark.parametrize("name,n,m,params", CASES)
def test_feasible_and_individually_rational(name: str, n: int, m: int, params: dict) -> None:
    mech, prior = _make(name, n, m, **params)
    v = prior.sample(512, torch.Generator().manual_seed(3))
    with torch.no_grad():
        out = mech.run(v)
    assert bool((out.allocation >= 0).all()) and bool((out.allocation.sum(1) <= 1 + 1e-6).all())
    if params.get("valuation") == "unit_demand":
        assert bool((out.allocation.sum(2) <= 1 + 1e-6).all())
    assert bool((out.utilities(v) >= -1e-6).all()) and bool((out.payments >= -1e-6).all())


@pytest.mark.parametrize("name,n,m,params", CASES[::2])
def test_relaxation_converges_to_the_exact_outcome(name: str, n: int, m: int, params: dict) -> None:
    """In training mode the choice is a softmax; as the temperature falls it matches the argmax."""
    mech, prior = _make(name, n, m, **params)
    v = prior.sample(256, torch.Generator().manual_seed(4))
    with torch.no_grad():
        exact = mech.run(v).payments
    mech.train()
    gaps = []
    for t in (0.1, 0.01, 1e-4):
        mech.temperature = t
        gaps.append((mech.run(v).payments - exact).abs().mean().item())
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-3


def test_menu_trainer_raises_revenue() -> None:
    """A few hundred steps of the menu trainer raise RochetNet 1x2's exact revenue well above its start."""
    from mechanisms.training.loop import TrainingRun, load_training_config

    cfg = load_training_config(
        {
            "name": "tiny_rochet",
            "setting": {"n_bidders": 1, "n_items": 2},
            "mechanism": {"name": "rochetnet", "params": {"menu_size": 64}},
            "trainer": {"name": "menu", "params": {"batch_size": 256, "lr": 0.02, "anneal_iterations": 200}},
            "iterations": 200,
            "dataset_size": 4096,
            "seed": 0,
        }
    )
    torch.set_num_threads(1)
    run = TrainingRun(cfg, device="cpu")
    first = run.trainer.step()["revenue"]
    for _ in range(199):
        last = run.trainer.step()
    assert last["revenue"] > first + 0.2 and last["revenue"] > 0.45


def test_bad_menu_settings_fail_clearly() -> None:
    prior = mechanisms.make_prior(2, 2)
    with pytest.raises(Exception, match="one bidder"):
        mechanisms.make("rochetnet", context={"n_bidders": 2, "n_items": 2, "prior": prior})
    with pytest.raises(Exception, match="additive valuations only"):
        mechanisms.make(
            "lottery_ama", context={"n_bidders": 2, "n_items": 2, "prior": prior, "valuation": "unit_demand"}
        )
    with pytest.raises(Exception, match="menu_size"):
        mechanisms.make("lottery_ama", context={"n_bidders": 2, "n_items": 2, "prior": prior}, menu_size=0)


@pytest.mark.parametrize(
    "n,m,high", [(2, 2, 1.0), (3, 2, 1.0), (2, 2, {"per_bidder": [1.0, 2.0]}), (2, 3, {"per_item": [1.0, 3.0, 0.5]})]
)
def test_lottery_ama_myerson_init_is_item_wise_myerson(n: int, m: int, high) -> None:
    """`init: myerson` puts every deterministic allocation in the menu, boosted by the reserves of
    the unsold items: before training the AMA's outcome is item-wise Myerson's on every profile,
    asymmetric uniform priors included."""
    prior = mechanisms.make_prior(n, m, high=high)
    context = {"n_bidders": n, "n_items": m, "prior": prior}
    ama = mechanisms.make("lottery_ama", context=context, menu_size=(n + 1) ** m + 8, init="myerson")
    init_weights(ama, torch.Generator().manual_seed(0))  # the training loop's re-initialisation keeps it
    bids = prior.sample(2000, torch.Generator().manual_seed(3), torch.device("cpu"))
    with torch.no_grad():
        got, want = ama.eval().run(bids), mechanisms.make("myerson", context=context).run(bids)
    assert torch.allclose(got.allocation, want.allocation, atol=1e-6)
    assert torch.allclose(got.payments, want.payments, atol=1e-5)
    with pytest.raises(ValueError, match=r"menu_size >= 9"):
        mechanisms.make(
            "lottery_ama",
            context={"n_bidders": 2, "n_items": 2, "prior": mechanisms.make_prior(2, 2)},
            menu_size=8,
            init="myerson",
        )
    with pytest.raises(ValueError, match="fresh menu"):
        mechanisms.make(
            "lottery_ama",
            context={"n_bidders": 2, "n_items": 2, "prior": mechanisms.make_prior(2, 2)},
            checkpoint="lottery_ama_2x2",
            init="myerson",
        )
