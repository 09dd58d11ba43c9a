"""The observer contract: public outcomes in, reconstructed bids out, batched.

An observer sees what every round publishes, the allocation ``(batch, n_bidders, n_items)``
and payments ``(batch, n_bidders)``, and, in the "with bids" threat model of Stein et al.
§4.1, its own bids as bidder ``k``. It returns its reconstruction of every bid,
``(batch, n_bidders, n_items)`` (bidder k's row is its own bid when known).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

__all__ = ["ObserverPolicy", "parse_observation"]


def parse_observation(
    observation: Tensor, n_bidders: int, n_items: int, with_bids: bool
) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
    """Split the environment's observer observations ``(batch, D)`` into allocation
    ``(batch, n, m)``, payments ``(batch, n)``, own bids ``(batch, m)`` or None, and the
    "outcome available" flag ``(batch,)`` (layout in :class:`~auction_env.envs.sealed_bid.SealedBidAuctionEnv`)."""
    n, m = n_bidders, n_items
    allocation = observation[:, : n * m].reshape(-1, n, m)
    payments = observation[:, n * m : n * m + n]
    own = observation[:, n * m + n : n * m + n + m] if with_bids else None
    return allocation, payments, own, observation[:, -1]


class ObserverPolicy(ABC):
    """Reconstructs bids from public outcomes (model inversion or a baseline guess)."""

    @abstractmethod
    def reconstruct(
        self,
        allocation: Tensor,
        payments: Tensor,
        *,
        own_bids: Tensor | None = None,
        bidder: int | None = None,
        generator: torch.Generator | None = None,
        item_payments: Tensor | None = None,
    ) -> Tensor:
        """Guess all bids.

        Args:
            allocation: ``(batch, n_bidders, n_items)`` public allocation.
            payments: ``(batch, n_bidders)`` public payments.
            own_bids: ``(batch, n_items)`` the observer's own bids when it is bidder ``bidder``.
            bidder: the observer's bidder index in the "with bids" threat model, else None.
            generator: randomness (initial guesses, random baselines).
            item_payments: ``(batch, n_bidders, n_items)`` per-item payments when the mechanism
                publishes them (item-wise auctions); observers that cannot use them ignore them.

        Returns:
            ``(batch, n_bidders, n_items)`` reconstructed bids.
        """

    def act(
        self,
        observations: Tensor,
        *,
        n_bidders: int,
        n_items: int,
        bidder: int | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """The environment view: observer observations ``(batch, D)`` -> reconstructions ``(batch, n, m)``."""
        allocation, payments, own, _ = parse_observation(observations, n_bidders, n_items, bidder is not None)
        return self.reconstruct(allocation, payments, own_bids=own, bidder=bidder, generator=generator)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"
