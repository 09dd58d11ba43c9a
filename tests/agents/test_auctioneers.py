"""Auctioneer deviations and the audited protocol (credible-auctions paper §4.1)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mechanisms
from agents import auctioneers
from agents.auctioneers.deviations import (
    DEVIATIONS,
    deviate,
    deviate_numpy,
    deviation_revenue_numpy,
    max_revenue,
    shill_bid,
)
from auction_env.core import AuctionCore
from auction_env.credible.protocol import regret_bound, simulate_protocol

PRIOR = mechanisms.make_prior(2, 2)


def _core(name: str = "second_price") -> AuctionCore:
    return AuctionCore(mechanisms.make(name, context={"prior": PRIOR}), PRIOR)


def test_deviations_are_feasible_bid_ir_and_raise_revenue() -> None:
    """max_revenue sells each item at its highest bid; the shill makes the winner pay just under it."""
    bids = torch.tensor([[[0.9, 0.2], [0.6, 0.7]]])
    core = _core()
    honest = core.mechanism.run(bids)
    best = max_revenue(core.mechanism, bids)
    shill = shill_bid(core.mechanism, bids, margin=0.01)
    assert torch.allclose(best.payments, torch.tensor([[0.9, 0.7]]))
    assert torch.allclose(shill.payments, torch.tensor([[0.89, 0.69]]))
    assert torch.equal(shill.allocation, honest.allocation)
    for out in (best, shill):
        assert bool((out.allocation.sum(1) <= 1).all()) and bool(
            (out.payments <= (out.allocation * bids).sum(-1) + 1e-6).all()
        )
        assert bool((out.revenue >= honest.revenue).all())


def test_honest_auctioneer_is_never_penalised() -> None:
    res = simulate_protocol(_core(), auctioneers.make("honest"), rounds=5, penalty=100.0, episodes=500)
    assert res.caught_rate == 0.0 and res.gain_mean == 0.0


def test_audited_deviation_is_always_caught() -> None:
    """With every round audited, a deviating auctioneer is caught in every episode."""
    res = simulate_protocol(
        _core("myerson"), auctioneers.make("always_deviate"), rounds=4, audits=4, penalty=1.0, episodes=300
    )
    assert res.caught_rate == 1.0


@pytest.mark.parametrize("deviation", ["max_revenue", "shill_bid"])
def test_penalty_above_bound_deters_and_below_bound_pays(deviation: str) -> None:
    """§4.1: penalty > T aRgt* makes deviating unprofitable; a small penalty lets `threshold` profit."""
    core, T = _core(), 10
    bound = T * regret_bound(core)
    high = {
        n: simulate_protocol(
            core, auctioneers.make(n), rounds=T, penalty=1.1 * bound, deviation=deviation, episodes=1000
        )
        for n in ("always_deviate", "threshold")
    }
    assert high["always_deviate"].gain_ci95[1] < 0 and high["threshold"].gain_mean <= 0
    low = simulate_protocol(
        core, auctioneers.make("threshold"), rounds=T, penalty=0.1 * bound, deviation=deviation, episodes=1000
    )
    assert low.gain_ci95[0] > 0


def _noisy_core() -> AuctionCore:
    mech = mechanisms.make("regretnet", context={"prior": PRIOR}, checkpoint="2x2", noise_std=0.2)
    return AuctionCore(mech, PRIOR)


def test_seed_grind_and_drop_bidder_are_feasible_and_find_revenue() -> None:
    """Both stay feasible and charge no bidder more than its bid; the best of 32 noise draws earns
    more on average than one, and dropping the right bidder raises revenue on some profiles."""
    core, gen = _noisy_core(), torch.Generator().manual_seed(0)
    bids = torch.rand(2000, 2, 2, generator=gen)
    honest = core.mechanism.run(bids, generator=gen)
    for name in ("seed_grind", "drop_bidder"):
        out = DEVIATIONS[name](core.mechanism, bids, gen)
        assert bool((out.allocation.sum(1) <= 1 + 1e-6).all())
        assert bool((out.payments <= (out.allocation * bids).sum(-1) + 1e-5).all())
        gain = out.revenue - honest.revenue
        assert gain.mean() > 0.005 if name == "seed_grind" else (gain > 1e-6).float().mean() > 0.1


@pytest.mark.parametrize("deviation", ["seed_grind", "drop_bidder"])
def test_penalty_above_bound_deters_the_attacks_the_log_exposes(deviation: str) -> None:
    """§4.1 for the deviations issue 19 made detectable: unchecked (penalty 0) they pay, above
    T aRgt* they do not."""
    core, T = _noisy_core(), 10
    bound = T * regret_bound(core)
    free = simulate_protocol(
        core, auctioneers.make("threshold"), rounds=T, penalty=0.0, deviation=deviation, episodes=500
    )
    assert free.gain_ci95[0] > 0
    high = {
        n: simulate_protocol(
            core, auctioneers.make(n), rounds=T, penalty=1.1 * bound, deviation=deviation, episodes=500
        )
        for n in ("always_deviate", "threshold")
    }
    assert high["always_deviate"].gain_ci95[1] < 0 and high["threshold"].gain_mean <= 0


@settings(max_examples=200, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)),
    levels=st.sampled_from([0, 3, 1000]),  # 0: continuous bids (ties only by chance), else a grid
    seed=st.integers(0, 2**16),
)
def test_max_revenue_numpy_is_max_revenue_bit_for_bit(shape: tuple[int, int, int], levels: int, seed: int) -> None:
    """The max-revenue NumPy twin (winners by :func:`winners_numpy`, the tie-breaking draws only
    on a tie at the top): the torch outcome bit for bit (zeros, ties, one bidder, any batch), and
    the generator left as torch leaves it."""
    gen = torch.Generator().manual_seed(seed)
    bids = torch.rand(shape, generator=gen)
    if levels:
        bids = (bids * levels).floor() / levels
    mechanism = _core().mechanism
    torch_gen, numpy_gen = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    with torch.inference_mode():
        want = max_revenue(mechanism, bids, torch_gen)
    allocation, payments = deviate_numpy("max_revenue", mechanism, bids.numpy(), None, numpy_gen)
    assert np.array_equal(allocation, want.allocation.numpy()) and allocation.dtype == np.float32
    assert np.array_equal(payments, want.payments.numpy())
    assert torch.equal(torch_gen.get_state(), numpy_gen.get_state())


@pytest.mark.parametrize("name", sorted(DEVIATIONS))
def test_deviate_numpy_is_deviate(name: str) -> None:
    """The NumPy path of the PettingZoo step announces what the torch path would, ties broken by
    the same draws (bids on a coarse grid make ties common), absent bidders getting nothing; its
    revenue alone (`deviation_revenue_numpy`) is the announced one."""
    core, gen = _noisy_core(), torch.Generator().manual_seed(3)
    bids = (torch.randint(0, 4, (400, 2, 2), generator=gen) / 4.0).float()
    present = torch.rand(400, 2, generator=gen) < 0.8
    bids = bids * present.unsqueeze(-1)
    with torch.inference_mode():
        want = deviate(name, core.mechanism, bids, present, torch.Generator().manual_seed(9))
    got = deviate_numpy(name, core.mechanism, bids.numpy(), present.numpy(), torch.Generator().manual_seed(9))
    assert np.allclose(got[0], want.allocation.numpy(), atol=1e-6) and np.allclose(
        got[1], want.payments.numpy(), atol=1e-6
    )
    revenue, outcome = deviation_revenue_numpy(
        name, core.mechanism, bids.numpy(), present.numpy(), torch.Generator().manual_seed(1), 9
    )
    assert np.allclose(revenue, want.revenue.numpy(), atol=1e-6)  # whoever wins a tie
    if outcome is not None:  # made with the generator seeded with 9
        assert np.array_equal(outcome[0], got[0]) and np.array_equal(outcome[1], got[1])
    everyone = torch.ones_like(present)  # participation None: every bidder takes part
    with torch.inference_mode():
        want = deviate(name, core.mechanism, bids, everyone, torch.Generator().manual_seed(9))
    got = deviate_numpy(name, core.mechanism, bids.numpy(), None, torch.Generator().manual_seed(9))
    assert np.allclose(got[0], want.allocation.numpy(), atol=1e-6) and np.allclose(
        got[1], want.payments.numpy(), atol=1e-6
    )
