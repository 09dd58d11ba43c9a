"""Mechanism.run_numpy and AuctionCore.resolve_numpy (the PettingZoo step's path) equal the torch path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import mechanisms
from auction_env.core import AuctionCore
from mechanisms import participation as participation_models

SIZES = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5))  # batch, n, m
PRIORS = {
    "symmetric": lambda n, m: mechanisms.make_prior(n, m),
    "asymmetric": lambda n, m: mechanisms.make_prior(
        n, m, low={"per_bidder": [0.1 * i for i in range(n)]}, high={"per_bidder": [1.0 + i for i in range(n)]}
    ),
}


@st.composite
def profiles(draw):
    batch, n, m = draw(SIZES)
    grid = draw(arrays("float32", (batch, n, m), elements=st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])))  # ties
    noise = draw(arrays("float32", (batch, n, m), elements=st.floats(0, 1, width=32)))
    return grid if draw(st.booleans()) else noise


def build(name: str, prior_kind: str, n: int, m: int, reserve: float) -> mechanisms.Mechanism:
    prior = PRIORS[prior_kind](n, m)
    params = {} if name == "myerson" else {"reserve": reserve}
    return mechanisms.make(name, context={"prior": prior}, **params)


@settings(max_examples=200, deadline=None)
@given(
    bids=profiles(),
    name=st.sampled_from(["second_price", "first_price", "myerson"]),
    prior_kind=st.sampled_from(sorted(PRIORS)),
    reserve=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 2**16),
)
def test_exact_mechanisms_numpy_twin_is_bit_identical(bids, name, prior_kind, reserve, seed):
    """The NumPy twin gives the same allocation and item payments, bit for bit, payments (their
    sums over items) to float32 rounding, and draws the same tie-breaking randomness."""
    _, n, m = bids.shape
    mech = build(name, prior_kind, n, m, reserve)
    g_torch, g_numpy = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    out = mech.run(torch.from_numpy(bids), generator=g_torch)
    allocation, payments, items = mech.run_numpy(bids, generator=g_numpy)
    np.testing.assert_array_equal(allocation, out.allocation.numpy())
    np.testing.assert_array_equal(items, out.item_payments.numpy())
    np.testing.assert_allclose(payments, out.payments.numpy(), rtol=1e-6, atol=1e-7)
    assert torch.equal(g_torch.get_state(), g_numpy.get_state())


def test_default_numpy_path_goes_through_run():
    """A mechanism without a NumPy twin (Lottery AMA) returns run()'s outcome as arrays."""
    prior = mechanisms.make_prior(2, 2)
    net = mechanisms.make("lottery_ama", context={"prior": prior, "n_bidders": 2, "n_items": 2}, menu_size=8).eval()
    bids = np.random.default_rng(0).random((4, 2, 2), dtype=np.float32)
    allocation, payments, items = net.run_numpy(bids)
    with torch.no_grad():
        out = net.run(torch.from_numpy(bids))
    np.testing.assert_array_equal(allocation, out.allocation.numpy())
    np.testing.assert_array_equal(payments, out.payments.numpy())
    assert items is None


@pytest.mark.parametrize("name", ["second_price", "myerson", "first_price"])
def test_resolve_numpy_matches_resolve_with_absent_bidders(name):
    """resolve_numpy zeroes absent bidders like resolve: same bids and allocation; payments and
    utilities, sums over 10 items, agree to float32 rounding (NumPy sums in its own order)."""
    n, m = 3, 10
    prior = mechanisms.make_prior(n, m)
    core = AuctionCore(
        build(name, "symmetric", n, m, 0.2), prior, participation_models.make(n, model="independent", p=[0.5, 0.7, 0.9])
    )
    gen = torch.Generator().manual_seed(0)
    for _ in range(50):
        vals, part = core.sample(1, gen)
        bids = (vals * 0.8).numpy()
        g_torch, g_numpy = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
        want = core.resolve(vals, part, torch.from_numpy(bids), g_torch)
        got = core.resolve_numpy(vals.numpy(), part.numpy(), bids, g_numpy)
        np.testing.assert_array_equal(got.bids, want.bids.numpy())
        np.testing.assert_array_equal(got.allocation, want.outcome.allocation.numpy())
        np.testing.assert_allclose(got.payments, want.outcome.payments.numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(got.utilities, want.utilities.numpy(), rtol=1e-6, atol=1e-6)
        batch = got.to_batch()
        assert torch.equal(batch.outcome.allocation, want.outcome.allocation) and torch.equal(
            batch.participation, want.participation
        )
