"""The permutation-equivariant mechanism: equivariance, participation masking, feasibility and
IR under hypothesis, any size, checkpoints at other sizes, and the places it plugs into."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mechanisms
from mechanisms.common.errors import CheckpointError
from mechanisms.learned.base import init_weights
from mechanisms.learned.checkpoints import save
from mechanisms.learned.equivariant import EquivariantNet
from mechanisms.priors import UniformPrior
from mechanisms.setting import Setting


def ctx(n: int, m: int, **prior) -> dict:
    return {"n_bidders": n, "n_items": m, "prior": UniformPrior(n, m, **prior)}


def net(n: int = 2, m: int = 2, seed: int = 0, **params) -> EquivariantNet:
    model = mechanisms.make("equivariant", context=ctx(n, m), **params)
    init_weights(model, torch.Generator().manual_seed(seed))
    return model.eval()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 5), m=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_permuting_bidders_and_items_permutes_the_outcome(n, m, seed):
    g = torch.Generator().manual_seed(seed)
    model = net(seed=seed % 7)
    bids = torch.rand(3, n, m, generator=g)
    bidders, items = torch.randperm(n, generator=g), torch.randperm(m, generator=g)
    present = torch.rand(3, n, generator=g) < 0.7
    with torch.no_grad():
        out = model.run(bids, present=present)
        permuted = model.run(bids[:, bidders][:, :, items], present=present[:, bidders])
    torch.testing.assert_close(permuted.allocation, out.allocation[:, bidders][:, :, items], atol=1e-6, rtol=0)
    torch.testing.assert_close(permuted.payments, out.payments[:, bidders], atol=1e-6, rtol=0)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 5), m=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_an_absent_bidder_is_removed_not_fed_zeros(n, m, seed):
    """An absent bidder gets nothing and pays nothing, and the others' outcome is the outcome of
    the auction without it; bidding zero is something else."""
    g = torch.Generator().manual_seed(seed)
    model = net(seed=seed % 5)
    bids = torch.rand(4, n, m, generator=g)
    absent = int(torch.randint(n, (1,), generator=g))
    present = torch.ones(4, n, dtype=torch.bool)
    present[:, absent] = False
    others = [i for i in range(n) if i != absent]
    with torch.no_grad():
        masked = model.run(bids, present=present)
        removed = model.run(bids[:, others])
        zeroed = bids.clone()
        zeroed[:, absent] = 0
        fed_zeros = model.run(zeroed)
    assert torch.all(masked.allocation[:, absent] == 0) and torch.all(masked.payments[:, absent] == 0)
    torch.testing.assert_close(masked.allocation[:, others], removed.allocation, atol=1e-6, rtol=0)
    torch.testing.assert_close(masked.payments[:, others], removed.payments, atol=1e-6, rtol=0)
    assert not torch.allclose(fed_zeros.allocation[:, others], removed.allocation, atol=1e-4)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 5),
    m=st.integers(1, 10),
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([1e-3, 1.0, 50.0]),
    noise=st.sampled_from([0.0, 0.5]),
)
def test_feasible_and_ir_under_any_bids(n, m, seed, scale, noise):
    g = torch.Generator().manual_seed(seed)
    model = net(seed=seed % 3)
    model.noise_std = noise
    bids = torch.rand(5, n, m, generator=g) * scale
    bids[0] = 0.0
    present = torch.rand(5, n, generator=g) < 0.6
    for mask in (None, present):
        out = model.run(bids, present=mask, generator=torch.Generator().manual_seed(seed))
        assert torch.isfinite(out.allocation).all() and torch.isfinite(out.payments).all()
        assert torch.all(out.allocation >= 0) and torch.all(out.allocation.sum(1) <= 1 + 1e-6)
        assert torch.all(out.payments >= 0)
        assert torch.all(out.payments <= (out.allocation * bids).sum(-1) + 1e-6)  # IR for truthful bids


@pytest.mark.parametrize("n, m", [(1, 1), (1, 10), (5, 1), (3, 10), (5, 10)])
def test_every_size_from_1x1_to_5x10_runs_with_one_set_of_weights(n, m):
    model = net()  # built for 2 x 2
    bids = torch.rand(8, n, m, generator=torch.Generator().manual_seed(1))
    out = model.run(bids)
    assert out.allocation.shape == (8, n, m) and out.payments.shape == (8, n)
    out.revenue.sum().backward()  # trainable at any size
    assert model.trunk[0].own.weight.grad is not None


def test_the_dense_and_the_pooled_layer_agree():
    """Unmasked small auctions run each layer as one matmul; masked ones pool: same function."""
    model = net(2, 3)
    bids = torch.rand(6, 2, 3, generator=torch.Generator().manual_seed(2))
    everyone = torch.ones(6, 2, dtype=torch.bool)
    with torch.no_grad():
        dense, pooled = model.run(bids), model.run(bids, present=everyone)
    torch.testing.assert_close(dense.allocation, pooled.allocation, atol=1e-6, rtol=0)
    torch.testing.assert_close(dense.payments, pooled.payments, atol=1e-6, rtol=0)


def test_numpy_path_and_setting_resolve_mask_participation():
    model = net(3, 2)
    from mechanisms.participation import Independent

    setting = Setting(UniformPrior(3, 2), Independent(3, p=0.5))
    values = np.random.default_rng(0).random((2, 3, 2)).astype(np.float32)
    present = np.array([[True, False, True], [True, True, True]])
    arrays = setting.resolve_numpy(model, values, present, values, None)
    batch = setting.resolve(model, torch.from_numpy(values), torch.from_numpy(present), torch.from_numpy(values), None)
    np.testing.assert_allclose(arrays.allocation, batch.outcome.allocation.detach().numpy(), atol=1e-6)
    without = model.run(torch.from_numpy(values[:1, [0, 2]]))
    np.testing.assert_allclose(arrays.payments[0, [0, 2]], without.payments[0].detach().numpy(), atol=1e-6)
    assert arrays.payments[0, 1] == 0


def test_a_checkpoint_runs_at_other_sizes_and_warns_once_outside_its_card(tmp_path):
    model = net(2, 2)
    card = {
        "name": "eq_test",
        "mechanism": "equivariant",
        "setting": Setting(UniformPrior(2, 2)).spec(),
        "architecture": model.architecture(),
        "supports": {"sizes": [{"n_bidders": 2, "n_items": 2}, {"n_bidders": 3, "n_items": 2}]},
    }
    path = save(model, card, tmp_path / "eq_test")
    bids = torch.rand(4, 3, 2)
    at_3x2 = mechanisms.make("equivariant", context=ctx(3, 2), checkpoint=str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.testing.assert_close(at_3x2.run(bids).allocation, model.run(bids).allocation)
    at_4x3 = mechanisms.make("equivariant", context=ctx(4, 3), checkpoint=str(path))
    with pytest.warns(UserWarning, match="4x3 is untested"):
        at_4x3.run(torch.rand(2, 4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        at_4x3.run(torch.rand(2, 4, 3))  # once per size
    with pytest.raises(CheckpointError, match="trained for prior"):
        mechanisms.make(
            "equivariant",
            context=ctx(2, 2, high=2.0),
            checkpoint=str(path),
        )


def test_a_fixed_size_checkpoint_still_refuses_another_size():
    with pytest.raises(CheckpointError, match="2 bidders x 2 items"):
        mechanisms.make("regretnet", context=ctx(3, 2), checkpoint="2x2")


def test_other_mechanisms_get_zeroed_bids_and_masked_outcomes():
    """Without masking of its own a mechanism runs on the tweaked input; the outcome is masked."""
    mech = mechanisms.make("second_price")
    bids = torch.tensor([[[0.9, 0.2], [0.5, 0.7]]])
    present = torch.tensor([[False, True]])
    out = mech.run(bids, present=present)
    assert torch.equal(out.allocation, torch.tensor([[[0.0, 0.0], [1.0, 1.0]]]))
    assert torch.equal(out.payments, torch.tensor([[0.0, 0.0]]))
    with pytest.raises(ValueError, match="present must have shape"):
        mech.run(bids, present=torch.ones(1, 3, dtype=torch.bool))


def test_output_noise_and_the_evaluator_under_participation():
    from mechanisms.evaluation import AttackProtocol, evaluate
    from mechanisms.participation import Independent

    model = net(2, 2)
    model.noise_std = 0.2
    brief = AttackProtocol("brief", random_starts=1, steps=10, lr=0.02)
    participation = Independent(2, p=0.5)
    result = evaluate(model, UniformPrior(2, 2), participation=participation, profiles=64, protocol=brief, seed=0)
    assert result.regret_mean >= 0 and len(result.per_participation) >= 3
    single = [row for row in result.per_participation if sum(row["participation"]) == 1]
    assert single and all(row["revenue_mean"] >= 0 for row in single)


def test_the_inversion_observer_reconstructs_the_shipped_networks_bids():
    """Model inversion (Stein et al.) works on it as on RegretNet: most bids come back from the
    public outcome of the shipped 2 x 2 network."""
    from agents import observers
    from agents.observers.scoring import score_reconstruction

    model = mechanisms.load("equivariant_2x2_base")
    prior = model.setting.prior
    bids = prior.sample(64, torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model.run(bids)
    inversion = observers.make("inversion", context={"mechanism": model, "prior": prior})
    guess = inversion.reconstruct(out.allocation, out.payments, generator=torch.Generator().manual_seed(1))
    score = score_reconstruction(guess, bids)
    assert score.recovery_rate > 0.5, score  # a prior guess recovers about 4% within ±0.02
