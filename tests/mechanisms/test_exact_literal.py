"""Hand-computed outcomes of the exact mechanisms: winners, prices, reserves, ties, absences."""

from __future__ import annotations

import pytest
import torch

import mechanisms
from auction_env.core import AuctionCore
from mechanisms.participation import Profiles


def T(x):
    return torch.tensor(x, dtype=torch.float32)


def myerson(low=0.0, high=1.0, n=2, m=2):
    prior = mechanisms.make_prior(n, m, low=low, high=high)
    return mechanisms.make("myerson", context={"prior": prior})


def test_second_price_highest_wins_pays_second(gen):
    """Second price: each item goes to the top bid at the second-highest bid."""
    bids = T([[[0.9, 0.2], [0.5, 0.7], [0.1, 0.4]]])
    out = mechanisms.make("second_price").run(bids, generator=gen)
    assert torch.equal(out.allocation, T([[[1, 0], [0, 1], [0, 0]]]))
    assert torch.allclose(out.payments, T([[0.5, 0.4, 0.0]]))


def test_second_price_reserve_blocks_and_raises_price(gen):
    """A reserve leaves items below it unsold and lifts the price to at least the reserve."""
    bids = T([[[0.9, 0.25], [0.3, 0.1]]])
    out = mechanisms.make("second_price", reserve=0.4).run(bids, generator=gen)
    assert torch.equal(out.allocation, T([[[1, 0], [0, 0]]]))
    assert torch.allclose(out.payments, T([[0.4, 0.0]]))


def test_second_price_bid_equal_to_reserve_sells_at_reserve(gen):
    """A bid exactly at the reserve wins and pays the reserve."""
    out = mechanisms.make("second_price", reserve=[0.5, 0.2]).run(T([[[0.5, 0.1]]]), generator=gen)
    assert torch.equal(out.allocation, T([[[1, 0]]]))
    assert torch.allclose(out.payments, T([[0.5]]))


def test_second_price_single_bidder_pays_reserve(gen):
    """With one bidder the second price is the reserve (zero without one)."""
    bids = T([[[0.7, 0.3]]])
    assert torch.allclose(mechanisms.make("second_price").run(bids, generator=gen).payments, T([[0.0]]))
    assert torch.allclose(mechanisms.make("second_price", reserve=0.2).run(bids, generator=gen).payments, T([[0.4]]))


def test_ties_are_broken_uniformly_and_winner_pays_the_tied_bid():
    """A three-way tie is won by each tied bidder about a third of the time, at the tied price."""
    bids = T([[[0.6], [0.6], [0.6], [0.2]]]).expand(30000, 4, 1).contiguous()
    g = torch.Generator().manual_seed(1)
    out = mechanisms.make("second_price").run(bids, generator=g)
    shares = out.allocation[:, :, 0].mean(0)
    assert torch.all((shares[:3] - 1 / 3).abs() < 0.015), shares
    assert shares[3] == 0
    assert torch.allclose(out.payments.sum(1), torch.full((30000,), 0.6))
    assert torch.all(out.allocation.sum(1) == 1)


def test_ties_follow_the_generator():
    """The same generator seed breaks ties the same way; another seed differs somewhere."""
    bids = torch.full((64, 2, 3), 0.5)
    a = mechanisms.make("first_price").run(bids, generator=torch.Generator().manual_seed(5))
    b = mechanisms.make("first_price").run(bids, generator=torch.Generator().manual_seed(5))
    c = mechanisms.make("first_price").run(bids, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a.allocation, b.allocation)
    assert not torch.equal(a.allocation, c.allocation)


def test_first_price_pays_own_bid_with_reserve(gen):
    """First price: the winner pays its own bid; bids under the reserve do not sell."""
    bids = T([[[0.9, 0.25], [0.3, 0.1]]])
    out = mechanisms.make("first_price", reserve=0.3).run(bids, generator=gen)
    assert torch.equal(out.allocation, T([[[1, 0], [0, 0]]]))
    assert torch.allclose(out.payments, T([[0.9, 0.0]]))


def test_myerson_uniform_symmetric(gen):
    """U[0,1]: reserve 0.5; winner pays max(0.5, second bid)."""
    bids = T([[[0.9, 0.45, 0.8], [0.7, 0.3, 0.2]]])
    out = myerson(m=3).run(bids, generator=gen)
    assert torch.equal(out.allocation, T([[[1, 0, 1], [0, 0, 0]]]))
    assert torch.allclose(out.payments, T([[0.7 + 0.5, 0.0]]))


def test_myerson_asymmetric_weak_bidder_can_win_with_lower_bid(gen):
    """Bidder 0 ~ U[0,1], bidder 1 ~ U[0,2]: phi_0(0.8) = 0.6 beats phi_1(1.2) = 0.4.

    Bidder 0 pays phi_0^{-1}(0.4) = 0.7; bidder 1 would pay phi_1^{-1}(0) = 1.0 when alone.
    """
    bids = T([[[0.8, 0.2], [1.2, 1.3]]])
    out = myerson(high={"per_bidder": [1.0, 2.0]}).run(bids, generator=gen)
    assert torch.equal(out.allocation, T([[[1, 0], [0, 1]]]))
    assert torch.allclose(out.payments, T([[0.7, 1.0]]))


def test_myerson_price_never_below_support(gen):
    """U[0.6, 1]: phi^{-1}(0) = 0.5 lies below the support, so the lone winner pays 0.6."""
    out = myerson(low=0.6, n=1, m=1).run(T([[[0.9]]]), generator=gen)
    assert torch.allclose(out.payments, T([[0.6]]))


def test_absent_bidders_get_nothing_and_pay_nothing(gen):
    """With bidder 0 absent, its (high) bid is ignored: bidder 1 wins at the reserve."""
    prior = mechanisms.make_prior(2, 1)
    core = AuctionCore(mechanisms.make("second_price", reserve=0.1), prior, Profiles(2, [[0, 1]], [1.0]))
    valuations = T([[[0.9], [0.5]]])
    participation = torch.tensor([[False, True]])
    r = core.resolve(valuations, participation, valuations.clone(), gen)
    assert torch.equal(r.bids, T([[[0.0], [0.5]]]))
    assert torch.equal(r.outcome.allocation, T([[[0.0], [1.0]]]))
    assert torch.allclose(r.outcome.payments, T([[0.0, 0.1]]))
    assert torch.allclose(r.utilities, T([[0.0, 0.4]]))


def test_item_allocated_to_absent_bidder_goes_unsold(gen):
    """If every bidder is absent, nothing is sold and nobody pays, even at a zero reserve."""
    prior = mechanisms.make_prior(2, 2)
    core = AuctionCore(mechanisms.make("second_price"), prior, Profiles(2, [[0, 0]], [1.0]))
    r = core.resolve(torch.rand(4, 2, 2), torch.zeros(4, 2, dtype=torch.bool), torch.rand(4, 2, 2), gen)
    assert r.outcome.allocation.abs().sum() == 0 and r.outcome.payments.abs().sum() == 0


@pytest.mark.parametrize("name", ["second_price", "first_price", "myerson"])
def test_outputs_follow_input_dtype_and_device(name, gen):
    """Allocations and payments come back on the bids' device with the bids' dtype."""
    prior = mechanisms.make_prior(3, 2)
    mech = mechanisms.make(name, context={"prior": prior})
    bids = torch.rand(5, 3, 2, dtype=torch.float64)
    out = mech.run(bids, generator=gen)
    assert out.allocation.shape == (5, 3, 2) and out.payments.shape == (5, 3)
    assert out.allocation.dtype == torch.float64 and out.allocation.device == bids.device


@pytest.mark.parametrize(
    "bids, message",
    [
        (torch.rand(2, 2), "shape"),
        (torch.rand(1, 3, 2), "shape"),
        (torch.tensor([[[float("nan"), 0.1], [0.2, 0.3]]]), "NaN"),
        (torch.tensor([[[-0.1, 0.1], [0.2, 0.3]]]), ">= 0"),
        (torch.ones(1, 2, 2, dtype=torch.int64), "floating"),
        ([[0.1, 0.2]], "torch.Tensor"),
    ],
)
def test_bad_bids_raise_clear_errors(bids, message):
    """Bids of the wrong shape, type or with NaN/negatives raise ValueError saying so."""
    mech = myerson()
    with pytest.raises(ValueError, match=message):
        mech.run(bids)
