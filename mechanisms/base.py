"""The mechanism contract: bids in, a feasible :class:`Outcome` out.

Shapes (batched everywhere):
    bids        (batch, n_bidders, n_items), float, >= 0
    allocation  (batch, n_bidders, n_items), entries in [0, 1], each item's column sums to <= 1
    payments    (batch, n_bidders)

Utility of bidder i with additive valuation v_i is ``<v_i, allocation_i> - payment_i``.
The device of every output follows the input bids.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["Outcome", "Mechanism", "NumpyOutcome", "check_bids", "random_uniform", "frozen_parameters"]

#: ``(allocation (batch, n, m), payments (batch, n), item_payments (batch, n, m) or None)`` as
#: NumPy arrays: what :meth:`Mechanism.run_numpy` returns.
NumpyOutcome = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]


@dataclass(frozen=True)
class Outcome:
    """Result of one batch of auctions.

    Attributes:
        allocation: ``(batch, n_bidders, n_items)`` probability that bidder i gets item j.
        payments: ``(batch, n_bidders)`` payment charged to each bidder.
        item_payments: ``(batch, n_bidders, n_items)`` what each bidder pays for each item, for
            mechanisms that charge item by item (exact item-wise auctions); else None.
            ``payments`` is its sum over items.
    """

    allocation: Tensor
    payments: Tensor
    item_payments: Tensor | None = None

    @property
    def revenue(self) -> Tensor:
        """``(batch,)`` total payments of each auction."""
        return self.payments.sum(dim=-1)

    def utilities(self, valuations: Tensor) -> Tensor:
        """``(batch, n_bidders)`` additive utilities ``<v_i, a_i> - p_i``."""
        return torch.linalg.vecdot(valuations, self.allocation) - self.payments

    def welfare(self, valuations: Tensor) -> Tensor:
        """``(batch,)`` social welfare: total value of the allocated items."""
        return (valuations * self.allocation).sum(dim=(-2, -1))


def check_bids(bids: object, n_bidders: int | None = None, n_items: int | None = None) -> Tensor:
    """Validate a batch of bids and return it.

    Args:
        bids: expected a floating tensor ``(batch, n_bidders, n_items)`` with finite, >= 0 entries.
        n_bidders: required number of bidders, or None for any.
        n_items: required number of items, or None for any.

    Raises:
        ValueError: with a one-line description of what is wrong.
    """
    if not isinstance(bids, Tensor):
        raise ValueError(f"bids must be a torch.Tensor, got {type(bids).__name__}")
    if not bids.is_floating_point():
        raise ValueError(f"bids must be a floating tensor, got dtype {bids.dtype}")
    if bids.dim() != 3:
        raise ValueError(f"bids must have shape (batch, n_bidders, n_items), got {tuple(bids.shape)}")
    expected = (n_bidders, n_items)
    for axis, (want, got) in enumerate(zip(expected, bids.shape[1:]), start=1):
        if want is not None and want != got:
            raise ValueError(
                f"bids must have shape (batch, {n_bidders or 'n_bidders'}, "
                f"{n_items or 'n_items'}), got {tuple(bids.shape)}"
            )
    if not bool(torch.isfinite(bids).all()):
        raise ValueError("bids contain NaN or infinite values")
    if bool((bids < 0).any()):
        raise ValueError("bids must be >= 0")
    return bids


def random_uniform(shape: tuple[int, ...], like: Tensor, generator: torch.Generator | None) -> Tensor:
    """Uniform [0, 1) samples of ``shape`` on ``like``'s device and dtype, drawn from ``generator``.

    The draw happens on the generator's device (a CPU generator cannot fill a CUDA tensor),
    then moves to ``like``'s device, so results do not depend on where the bids live.
    """
    device = generator.device if generator is not None else like.device
    u = torch.rand(shape, generator=generator, device=device, dtype=like.dtype)
    return u if u.device == like.device else u.to(like.device)


@contextmanager
def frozen_parameters(module: nn.Module) -> Iterator[None]:
    """Turn off the parameters' gradients for a search over the *inputs* (misreports,
    inversion), and restore each parameter's flag afterwards."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


class Mechanism(nn.Module, ABC):
    """A (possibly randomized, possibly learned) sealed-bid multi-item auction.

    Subclasses implement :meth:`outcome`; callers use :meth:`run`. Exact mechanisms have no
    parameters; learned ones are ordinary ``nn.Module``s, so ``.to(device)`` and
    ``state_dict()`` work for all.

    Class attributes:
        truthful: True when truthful bidding is a dominant strategy (DSIC).
        differentiable: True when outcomes are differentiable in the bids (gradient attacks).
        output_noise: True when the mechanism takes ``noise_std`` (Gaussian noise on its
            allocation logits, for privacy).
        valuations: the valuation kinds the mechanism supports.
        masks_participation: True when the mechanism takes a participation mask itself.
        any_size: True when the mechanism runs bids of any ``(n_bidders, n_items)``.
    """

    truthful: bool = False
    differentiable: bool = False
    output_noise: bool = False
    #: True when absent bidders are left out of the auction itself (:meth:`masked_outcome`)
    #: rather than fed zero bids.
    masks_participation: bool = False
    #: True when one instance runs auctions of any size (:meth:`input_size`).
    any_size: bool = False
    #: Valuation kinds whose feasibility the mechanism guarantees ("unit_demand": each bidder
    #: gets at most one item in expectation, so <v_i, a_i> is its expected value).
    valuations: tuple[str, ...] = ("additive",)

    def __init__(self, n_bidders: int | None = None, n_items: int | None = None) -> None:
        super().__init__()
        self.n_bidders = n_bidders
        self.n_items = n_items

    def run(
        self,
        bids: Tensor,
        *,
        generator: torch.Generator | None = None,
        check: bool = True,
        present: Tensor | None = None,
    ) -> Outcome:
        """Run a batch of auctions.

        Args:
            bids: ``(batch, n_bidders, n_items)`` reported bids.
            generator: source of randomness (tie-breaking, noise); None uses torch's default.
            check: validate ``bids`` first (callers that already validated pass False).
            present: ``(batch, n_bidders)`` who takes part (stochastic participation, the
                credible-auctions paper §5), or None for everyone. A mechanism that
                :attr:`masks_participation` leaves absent bidders out of the auction
                (:meth:`masked_outcome`); any other runs on bids with the absent bidders' zeroed
                (the paper's "tweaked" input). Either way absent bidders get nothing and pay nothing.

        Returns:
            The :class:`Outcome`, on ``bids.device``.
        """
        if check:
            check_bids(bids, *self.input_size())
            if present is not None and tuple(present.shape) != tuple(bids.shape[:2]):
                raise ValueError(f"present must have shape {tuple(bids.shape[:2])}, got {tuple(present.shape)}")
        if present is None:
            return self.outcome(bids, generator)
        if self.masks_participation:
            return self.masked_outcome(bids, present.to(torch.bool), generator)
        mask = present.unsqueeze(-1).to(bids.dtype)
        raw = self.outcome(bids * mask, generator)
        # An item allocated to an absent bidder goes unsold; absent bidders pay nothing.
        items = raw.item_payments * mask if raw.item_payments is not None else None
        return Outcome(raw.allocation * mask, raw.payments * mask.squeeze(-1), items)

    def equilibrium_bids(self, valuations: Tensor, present: Tensor | None, prior: Any) -> Tensor | None:
        """The static benchmark bids ``(batch, n_bidders, n_items)`` for ``valuations``: what
        bidders play in the one-shot game's equilibrium, against which repeated play is judged
        (the collusion metrics). Truthful bidding for mechanisms designed to be strategyproof,
        exactly or approximately (the learned networks); mechanisms that are not override it
        (first price) or return None where no closed form is known.

        Args:
            valuations: ``(batch, n_bidders, n_items)``.
            present: ``(batch, n_bidders)`` bool, or None for everyone.
            prior: the valuation prior the bidders believe in.
        """
        return valuations

    def relaxed_outcome(self, bids: Tensor, temperature: float) -> Outcome:
        """A differentiable stand-in for :meth:`outcome`, for gradient-trained bidders: the
        outcome itself for :attr:`differentiable` mechanisms; others may override with a smoothed
        version that tends to the outcome as ``temperature`` goes to 0 (first price)."""
        if self.differentiable:
            return self.outcome(bids, None)
        raise NotImplementedError(f"{type(self).__name__} has no differentiable relaxation")

    def input_size(self) -> tuple[int | None, int | None]:
        """``(n_bidders, n_items)`` :meth:`run` requires of the bids (None: any)."""
        return (None, None) if self.any_size else (self.n_bidders, self.n_items)

    def masked_outcome(self, bids: Tensor, present: Tensor, generator: torch.Generator | None) -> Outcome:
        """The outcome with only the ``present`` ``(batch, n_bidders)`` bidders taking part, for
        mechanisms that :attr:`masks_participation`."""
        raise NotImplementedError(f"{type(self).__name__} does not mask participation")

    def run_numpy(
        self, bids: np.ndarray, *, generator: torch.Generator | None = None, present: np.ndarray | None = None
    ) -> NumpyOutcome:
        """:meth:`run` on a small CPU batch of validated bids, as NumPy arrays.

        For Python loops that resolve one round at a time (the PettingZoo step), where torch's
        per-op dispatch costs more than the arithmetic. ``present`` is :meth:`run`'s, as a 0/1
        array; the outcome itself comes from :meth:`outcome_numpy`.

        Args:
            bids: ``(batch, n_bidders, n_items)`` float array, already checked.
            generator: the CPU generator :meth:`run` would get.
            present: ``(batch, n_bidders)`` who takes part, or None for everyone.
        """
        if present is None:
            return self.outcome_numpy(bids, generator)
        if self.masks_participation:
            return _numpy(self, bids, generator, torch.from_numpy(np.asarray(present, dtype=bool)))
        mask = np.asarray(present).astype(bids.dtype)
        allocation, payments, items = self.outcome_numpy(bids * mask[..., None], generator)
        items = items * mask[..., None] if items is not None else None
        return allocation * mask[..., None], payments * mask, items

    def outcome_numpy(self, bids: np.ndarray, generator: torch.Generator | None) -> NumpyOutcome:
        """The outcome of validated NumPy ``bids`` with everybody present.

        This default goes through :meth:`outcome`; the exact item-wise mechanisms override it
        with NumPy twins that draw their tie-breaks from ``generator`` exactly as :meth:`run`
        does, so the outcome is the same (sums over items may differ in the last bit, their
        order of summation being NumPy's).
        """
        return _numpy(self, bids, generator, None)

    def forward(self, bids: Tensor, generator: torch.Generator | None = None) -> Outcome:
        return self.outcome(bids, generator)

    @abstractmethod
    def outcome(self, bids: Tensor, generator: torch.Generator | None) -> Outcome:
        """Compute the outcome of validated ``bids`` ``(batch, n_bidders, n_items)``."""

    def extra_repr(self) -> str:
        return f"n_bidders={self.n_bidders}, n_items={self.n_items}"


def _numpy(
    mechanism: Mechanism, bids: np.ndarray, generator: torch.Generator | None, present: Tensor | None
) -> NumpyOutcome:
    """:meth:`Mechanism.run` on NumPy bids through torch, as NumPy arrays."""
    with torch.inference_mode():
        out = mechanism.run(torch.from_numpy(bids), generator=generator, check=False, present=present)
    items = out.item_payments
    return out.allocation.cpu().numpy(), out.payments.cpu().numpy(), None if items is None else items.cpu().numpy()
