"""Property tests (hypothesis): feasibility for every exact mechanism, IR for the truthful ones."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import mechanisms

SIZES = st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 4))  # batch, n, m


@st.composite
def bid_profiles(draw):
    batch, n, m = draw(SIZES)
    # Coarse grid values make ties (the hard case for tie-breaking) common.
    values = draw(arrays("float32", (batch, n, m), elements=st.sampled_from([0.0, 0.25, 0.5, 0.5, 0.75, 1.0])))
    noise = draw(arrays("float32", (batch, n, m), elements=st.floats(0, 1, width=32)))
    use_grid = draw(st.booleans())
    return torch.from_numpy(values if use_grid else noise)


@settings(max_examples=150, deadline=None)
@given(
    bids=bid_profiles(),
    name=st.sampled_from(["second_price", "first_price", "myerson"]),
    reserve=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 2**16),
)
def test_allocations_are_feasible(bids, name, reserve, seed):
    """Allocations lie in [0, 1], each item goes to at most one bidder, payments are >= 0."""
    _, n, m = bids.shape
    params = {} if name == "myerson" else {"reserve": reserve}
    mech = mechanisms.make(name, context={"prior": mechanisms.make_prior(n, m)}, **params)
    out = mech.run(bids, generator=torch.Generator().manual_seed(seed))
    assert torch.all((out.allocation >= 0) & (out.allocation <= 1))
    assert torch.all(out.allocation.sum(dim=1) <= 1 + 1e-6)
    assert torch.all(out.payments >= 0)


@settings(max_examples=150, deadline=None)
@given(
    bids=bid_profiles(), name=st.sampled_from(["second_price", "myerson", "first_price"]), seed=st.integers(0, 2**16)
)
def test_truthful_bidders_have_non_negative_utility(bids, name, seed):
    """Bidding one's value never yields negative utility (individual rationality)."""
    _, n, m = bids.shape
    mech = mechanisms.make(name, context={"prior": mechanisms.make_prior(n, m)})
    out = mech.run(bids, generator=torch.Generator().manual_seed(seed))
    assert torch.all(out.utilities(bids) >= -1e-6)


@settings(max_examples=60, deadline=None)
@given(
    bids=bid_profiles(),
    name=st.sampled_from(["second_price", "myerson"]),
    bidder=st.integers(0, 3),
    item=st.integers(0, 4),
    lie=st.floats(0, 1, width=32),
)
def test_truthful_mechanisms_resist_a_single_misreport(bids, name, bidder, item, lie):
    """In a DSIC mechanism, changing one bid never raises that bidder's expected utility."""
    _, n, m = bids.shape
    bidder, item = bidder % n, item % m
    mech = mechanisms.make(name, context={"prior": mechanisms.make_prior(n, m)})
    reports = bids.clone()
    reports[:, bidder, item] = lie
    # Average over tie-breaking draws: DSIC holds in expectation over the mechanism's coin flips.
    reps = 64
    truthful = mech.run(bids.repeat(reps, 1, 1), generator=torch.Generator().manual_seed(0))
    lying = mech.run(reports.repeat(reps, 1, 1), generator=torch.Generator().manual_seed(0))
    u_true = truthful.utilities(bids.repeat(reps, 1, 1))[:, bidder].mean()
    u_lie = lying.utilities(bids.repeat(reps, 1, 1))[:, bidder].mean()
    assert u_lie <= u_true + 1e-5


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 5), m=st.integers(1, 4), grid=st.booleans(), seed=st.integers(0, 2**16))
def test_top_two_is_the_same_on_large_and_small_batches(n: int, m: int, grid: bool, seed: int) -> None:
    """``top_two`` takes another path on large batches (one ``topk``): the same winners, top and
    runner-up scores, and the same tie-breaking draws, as row by row on small batches."""
    from mechanisms.exact import itemwise

    gen = torch.Generator().manual_seed(seed)
    batch = itemwise._TOPK_FROM // m + 1
    scores = torch.rand(batch, n, m, generator=gen)
    if grid:  # ties for the top, the random path
        scores = (scores * 4).floor() / 4
    large = itemwise.top_two(scores, torch.Generator().manual_seed(seed))
    threshold, itemwise._TOPK_FROM = itemwise._TOPK_FROM, 10**12
    try:
        small = itemwise.top_two(scores, torch.Generator().manual_seed(seed))
    finally:
        itemwise._TOPK_FROM = threshold
    for a, b in zip(large, small):
        assert torch.equal(a, b)
