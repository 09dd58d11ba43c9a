"""The batched core's checks of the policies' bids: one reduction when all is well, the same
verdicts and the same bidder named as when each policy's bids were checked in turn."""

from __future__ import annotations

import pytest
import torch

import mechanisms
from agents.base import BidderPolicy
from auction_env.core import AuctionCore


class Fixed(BidderPolicy):
    """Bids ``value`` on every item (any dtype), or returns ``shape`` zeros."""

    def __init__(self, value: float = 0.5, dtype: torch.dtype = torch.float32, shape: tuple | None = None) -> None:
        self.value, self.dtype, self.shape = value, dtype, shape

    def act(self, observations, *, generator=None):
        shape = self.shape or (observations.shape[0], observations.shape[-1] - 2)
        return torch.full(shape, self.value, dtype=self.dtype)

    def __repr__(self) -> str:
        return f"Fixed({self.value})"


def _core() -> AuctionCore:
    prior = mechanisms.make_prior(3, 2)
    return AuctionCore(mechanisms.make("second_price"), prior)


def test_the_first_bad_bidder_is_named_as_when_each_was_checked_in_turn() -> None:
    core, gen = _core(), torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match=r"bidder_1 \(Fixed\(nan\)\) returned NaN or infinite bids"):
        core.play([Fixed(), Fixed(float("nan")), Fixed(float("inf"))], 8, gen)
    with pytest.raises(ValueError, match=r"bidder_0 \(Fixed\(inf\)\) returned NaN or infinite bids"):
        core.play([Fixed(float("inf")), Fixed(shape=(8, 5)), Fixed()], 8, gen)  # NaN/inf before a bad shape
    with pytest.raises(ValueError, match=r"bidder_1 \(Fixed\(0.5\)\) returned bids \(8, 5\), expected \(8, 2\)"):
        core.play([Fixed(), Fixed(shape=(8, 5)), Fixed(float("nan"))], 8, gen)  # a bad shape before NaN


def test_finite_bids_too_large_for_float32_are_clipped_not_refused() -> None:
    """A float64 bid of 1e39 overflows float32 to inf when written: it is a finite bid, clipped
    to the upper support like any other too-high bid."""
    core = _core()
    played = core.play([Fixed(1e39, torch.float64), Fixed(), Fixed()], 8, torch.Generator().manual_seed(0))
    assert torch.equal(played.bids[:, 0], torch.ones(8, 2))
