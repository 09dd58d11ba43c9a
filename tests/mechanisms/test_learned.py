"""Learned mechanisms: shapes, feasibility and IR by construction, logits, checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mechanisms
from mechanisms import checkpoints
from mechanisms.common.errors import CheckpointError, ConfigError
from mechanisms.learned.base import Logits

MODELS = [
    ("regretnet", {}),
    ("regretnet", {"valuation": "unit_demand"}),
    ("algnet", {}),
    ("regretnet", {"layers": 1, "hidden": 8}),
]


def build(name, n, m, high=1.0, valuation="additive", **params):
    prior = mechanisms.make_prior(n, m, high=high)
    torch.manual_seed(0)
    context = {"prior": prior, "n_bidders": n, "n_items": m, "valuation": valuation}
    return mechanisms.make(name, context=context, **params), prior


@settings(max_examples=40, deadline=None)
@given(
    model=st.sampled_from(MODELS),
    n=st.integers(1, 4),
    m=st.integers(1, 4),
    batch=st.integers(1, 6),
    high=st.sampled_from([1.0, 3.0]),
    seed=st.integers(0, 1000),
)
def test_feasible_and_ir_for_any_bids(model, n, m, batch, high, seed):
    """Allocations lie in [0,1] with column sums <= 1; truthful utilities are >= 0."""
    name, params = model
    mech, prior = build(name, n, m, high=high, **params)
    bids = prior.sample(batch, torch.Generator().manual_seed(seed))
    out = mech.run(bids)
    assert out.allocation.shape == (batch, n, m) and out.payments.shape == (batch, n)
    assert torch.all(out.allocation >= 0) and torch.all(out.allocation.sum(1) <= 1 + 1e-5)
    assert torch.all(out.payments >= 0)
    assert torch.all(out.utilities(bids) >= -1e-5)
    if params.get("valuation") == "unit_demand":
        assert torch.all(out.allocation.sum(2) <= 1 + 1e-5)


def test_logits_are_exposed_and_reproduce_the_outcome():
    """logits() + outcome_from_logits() is the outcome; the allocation logits have a dummy row."""
    mech, prior = build("regretnet", 2, 3)
    bids = prior.sample(4, torch.Generator().manual_seed(0))
    logits = mech.logits(bids)
    assert isinstance(logits, Logits) and logits.allocation.shape == (4, 3, 3)
    a, b = mech.outcome_from_logits(bids, logits), mech.run(bids)
    assert torch.allclose(a.allocation, b.allocation) and torch.allclose(a.payments, b.payments)


def test_outputs_differentiable_in_bids():
    """Utilities have gradients with respect to the bids (what misreport attacks need)."""
    mech, prior = build("algnet", 2, 2)
    bids = prior.sample(3, torch.Generator().manual_seed(0)).requires_grad_(True)
    mech.run(bids).payments.sum().backward()
    assert bids.grad is not None and torch.isfinite(bids.grad).all() and bids.grad.abs().sum() > 0


def test_checkpoint_round_trip(tmp_path):
    """A saved checkpoint loads into an identical mechanism (weights_only state dict + card)."""
    mech, prior = build("regretnet", 2, 2, layers=2, hidden=16)
    card = {
        "mechanism": "regretnet",
        "setting": {"n_bidders": 2, "n_items": 2, "prior": prior.spec(), "valuation": "additive"},
        "architecture": mech.architecture(),
    }
    path = checkpoints.save(mech, card, tmp_path / "tiny")
    loaded = mechanisms.make("regretnet", context={"prior": prior, "n_bidders": 2, "n_items": 2}, checkpoint=str(path))
    bids = prior.sample(16, torch.Generator().manual_seed(1))
    assert torch.equal(loaded.run(bids).payments, mech.run(bids).payments)


def _saved(tmp_path):
    mech, prior = build("regretnet", 2, 2, layers=1, hidden=4)
    card = {
        "mechanism": "regretnet",
        "setting": {"n_bidders": 2, "n_items": 2, "prior": prior.spec(), "valuation": "additive"},
        "architecture": mech.architecture(),
    }
    return checkpoints.save(mech, card, tmp_path / "ck")


@pytest.mark.parametrize(
    "n, m, high, message",
    [(3, 2, 1.0, "is for 2 bidders x 2 items; the setting has 3 x 2"), (2, 2, 2.0, "was trained for prior")],
)
def test_mismatched_checkpoint_raises_clear_error(tmp_path, n, m, high, message):
    """Loading a checkpoint into another setting fails and says what differs."""
    path = _saved(tmp_path)
    prior = mechanisms.make_prior(n, m, high=high)
    with pytest.raises(CheckpointError, match=message):
        mechanisms.make("regretnet", context={"prior": prior, "n_bidders": n, "n_items": m}, checkpoint=str(path))


def test_corrupt_or_missing_checkpoint_raises_clear_error(tmp_path):
    """Corrupt weights, a broken card or an unknown name give a one-line CheckpointError."""
    path = _saved(tmp_path)
    prior = mechanisms.make_prior(2, 2)
    ctx = {"prior": prior, "n_bidders": 2, "n_items": 2}
    path.with_suffix(".pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="cannot load weights"):
        mechanisms.make("regretnet", context=ctx, checkpoint=str(path))
    path.write_text("{ broken json")
    with pytest.raises(CheckpointError, match="cannot read model card"):
        mechanisms.make("regretnet", context=ctx, checkpoint=str(path))
    with pytest.raises(CheckpointError, match="not found"):
        mechanisms.make("regretnet", context=ctx, checkpoint="9x9")


def test_weights_of_another_architecture_are_rejected(tmp_path):
    """A card whose architecture does not fit the weights fails clearly."""
    path = _saved(tmp_path)
    card = json.loads(path.read_text())
    card["architecture"]["hidden"] = 8
    path.write_text(json.dumps(card))
    prior = mechanisms.make_prior(2, 2)
    with pytest.raises(CheckpointError, match="do not fit the architecture"):
        mechanisms.make("regretnet", context={"prior": prior, "n_bidders": 2, "n_items": 2}, checkpoint=str(path))


def test_unit_demand_is_a_setting_the_env_and_checkpoints_check(tmp_path):
    """The env injects valuation=unit_demand; item-wise mechanisms are refused; cards must match."""
    import auction_env
    from mechanisms.common.errors import ConfigError

    env = auction_env.parallel_env(
        n_bidders=2,
        n_items=2,
        valuation="unit_demand",
        mechanism={"name": "regretnet", "params": {"hidden": 8, "layers": 1}},
    )
    assert env.mechanism.valuation == "unit_demand"
    with pytest.raises(ConfigError, match="supports additive valuations, not unit_demand"):
        auction_env.parallel_env(valuation="unit_demand", mechanism="myerson")
    path = _saved(tmp_path)
    prior = mechanisms.make_prior(2, 2)
    with pytest.raises(CheckpointError, match="is for additive valuations; the setting has unit_demand"):
        mechanisms.make(
            "regretnet",
            context={"prior": prior, "n_bidders": 2, "n_items": 2, "valuation": "unit_demand"},
            checkpoint=str(path),
        )


@pytest.mark.parametrize(
    "name,valuation", [("regretnet", "additive"), ("regretnet", "unit_demand"), ("algnet", "additive")]
)
def test_numpy_outcome_matches_torch(name: str, valuation: str) -> None:
    """The NumPy inference path gives the torch outcome, follows in-place weight updates, and
    hands a noisy mechanism to the torch path with the caller's generator."""
    prior = mechanisms.make_prior(2, 3)
    net = mechanisms.make(name, context={"prior": prior, "n_bidders": 2, "n_items": 3, "valuation": valuation}).eval()
    bids = torch.rand(16, 2, 3, generator=torch.Generator().manual_seed(0))
    for _ in range(2):
        with torch.no_grad():
            ref = net.run(bids)
        allocation, payments, _ = net.run_numpy(bids.numpy())
        assert np.allclose(allocation, ref.allocation.numpy(), atol=1e-6) and np.allclose(
            payments, ref.payments.numpy(), atol=1e-6
        )
        with torch.no_grad():
            next(net.parameters()).add_(0.1)  # the next round must see the new weights
    net.noise_std = 0.1
    allocation, payments, _ = net.run_numpy(bids.numpy(), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ref = net.run(bids, generator=torch.Generator().manual_seed(3))
    np.testing.assert_array_equal(allocation, ref.allocation.numpy())
    np.testing.assert_array_equal(payments, ref.payments.numpy())


def test_load_by_name_takes_the_setting_from_the_card() -> None:
    """mechanisms.load("regretnet_2x2") is ready to run: size, prior and participation come from its card."""
    mech = mechanisms.load("regretnet_2x2")
    assert (mech.setting.n_bidders, mech.setting.n_items) == (2, 2)
    assert torch.equal(mech.setting.prior.high, torch.ones(2, 2)) and mech.setting.participation.always
    assert mech.card["name"] == "regretnet_2x2" and not mech.training
    bids = mech.setting.prior.sample(64, torch.Generator().manual_seed(0))
    with torch.no_grad():
        outcome = mech.run(bids)
    assert outcome.allocation.shape == (64, 2, 2) and bool((outcome.payments >= 0).all())
    scenario = mechanisms.load("algnet_2x2_participation_s1")
    assert not scenario.setting.participation.always  # the card's participation model, not "always"


def test_make_with_a_checkpoint_needs_no_context() -> None:
    """make("regretnet", checkpoint="2x2") loads without a setting and equals the loaded network."""
    plain = mechanisms.make("regretnet", checkpoint="2x2")
    loaded = mechanisms.load("regretnet_2x2")
    bids = torch.rand(32, 2, 2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(plain.run(bids).payments, loaded.run(bids).payments)
    with pytest.raises(ConfigError, match="needs n_bidders and n_items"):
        mechanisms.make("regretnet")


def test_a_checkpoint_in_another_setting_still_fails_clearly() -> None:
    """A 2x2 checkpoint asked to run in a 3x2 setting fails, naming both sizes."""
    with pytest.raises(CheckpointError, match=r"is for 2 bidders x 2 items; the setting has 3 x 2"):
        mechanisms.make("regretnet", context={"n_bidders": 3, "n_items": 2}, checkpoint="2x2")
    with pytest.raises(CheckpointError, match="not found"):
        mechanisms.load("regretnet_9x9")


def test_run_sequential_matches_the_modules_and_leaves_its_input_alone():
    """``run_sequential`` (the networks' trunk runner, ReLU in place after each affine map) gives
    the modules' own outputs and gradients, and never writes into the array it was given, on
    torch and NumPy alike (a stack that starts with a ReLU included)."""
    from torch import nn

    from mechanisms.learned.base import run_sequential

    torch.manual_seed(0)
    for stack in (
        nn.Sequential(
            nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 3), nn.ReLU())
        ),
        nn.Sequential(nn.ReLU(), nn.Linear(4, 3), nn.ReLU(), nn.ReLU()),
    ):
        x = torch.randn(16, 4)
        before = x.clone()
        a, b = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
        want, got = stack(a), run_sequential(stack, b)
        torch.testing.assert_close(got, want, rtol=0, atol=0)
        (want * torch.arange(3.0)).sum().backward()
        grads = [p.grad.clone() for p in stack.parameters()]
        stack.zero_grad()
        (got * torch.arange(3.0)).sum().backward()
        torch.testing.assert_close(b.grad, a.grad, rtol=0, atol=0)
        for p, g in zip(stack.parameters(), grads):
            torch.testing.assert_close(p.grad, g, rtol=0, atol=0)
        stack.zero_grad()
        assert torch.equal(x, before)
        for layer in stack.modules():  # the NumPy path reads weight copies
            if isinstance(layer, nn.Linear):
                layer.__dict__["_numpy_weights"] = (
                    layer.weight.detach().numpy().T.copy(),
                    layer.bias.detach().numpy().copy(),
                )
        xn = x.numpy().copy()
        out = run_sequential(stack, xn)
        np.testing.assert_allclose(out, want.detach().numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(xn, before.numpy())
