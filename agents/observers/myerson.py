"""Guessing bids from item-wise Myerson outcomes (Stein et al., Appendix A.3).

Item by item, Myerson is a second-price auction with reserve ``r``: the price is
``max(second-highest bid, r)`` when some bid reaches ``r``, and the item stays unsold otherwise.
The observer reads each item's price from the public per-item payments (``item_payments``; when
only per-bidder totals are public, a bidder's total is split equally over the items it won).

* ``naive`` (A.3.1): every bid on an item is guessed to be that item's price (0 when unsold).
* ``intelligent`` (A.3.2): use what the outcome implies: unsold -> every bid in ``[0, r)``,
  guess ``r/2``; sold at the reserve -> the winner's bid in ``[r, high]`` (guess the midpoint),
  the others in ``[0, r)`` (guess ``r/2``); sold above the reserve -> the losers' highest bid is
  the price (guess it for every loser), the winner's bid in ``[p, high]`` (midpoint).
* ``intelligent`` as bidder ``k`` (A.3.3, the adversarial bidder): its own bids are known; when
  its bid set an item's price, the other losers bid at most that, so they are guessed at half
  of it.

Guesses are the midpoints of the implied intervals: for uniform values that maximises the chance
of landing within a tolerance inside the interval and minimises the absolute error.
"""

from __future__ import annotations

import torch
from torch import Tensor

from agents.observers.base import ObserverPolicy
from mechanisms.priors import Prior

__all__ = ["MyersonGuess", "naive", "intelligent", "naive_accuracy_bound"]

STRATEGIES = ("naive", "intelligent")


def naive_accuracy_bound(n_bidders: int, reserve: float) -> float:
    """Lemma A.1's lower bound on the naive strategy's accuracy, ``(1 - (r^n + n r^(n-1) (1 - r))) / n``.

    The printed lemma omits the factor ``n`` in front of ``r^(n-1)(1 - r)``, but its proof (case
    II has probability ``n r^(n-1)(1 - r)``) and the paper's own Table 6 need it: without it the
    2-bidder bound at r = 0.5 would be 25%, above the 16.49% the paper measures.
    """
    r, n = reserve, n_bidders
    return (1 - (r**n + n * r ** (n - 1) * (1 - r))) / n


class MyersonGuess(ObserverPolicy):
    """Guess bids from item-wise Myerson outcomes (see the module docstring).

    Args:
        prior: injected; gives the reserve ``phi^{-1}(0)`` and the upper support per bidder/item.
        strategy: ``naive`` or ``intelligent``.
    """

    def __init__(self, prior: Prior, strategy: str = "intelligent") -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        self.strategy = strategy
        self._prior = prior

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
        device, dtype = allocation.device, allocation.dtype
        won = allocation > 0.5  # (b, n, m)
        if item_payments is None:
            count = won.sum(-1, keepdim=True).clamp_min(1).to(dtype)
            item_payments = won.to(dtype) * (payments.unsqueeze(-1) / count)
        sold = won.any(1, keepdim=True)  # (b, 1, m)
        price = item_payments.sum(1, keepdim=True)  # (b, 1, m)
        if self.strategy == "naive":
            guess = price.expand_as(allocation).clone()
        else:
            low, high = (t.to(device, dtype) for t in self._prior.bounds(device))
            r = self._prior.reserve().to(device, dtype)  # (n, m)
            at_reserve = sold & (price <= r.amax(0, keepdim=True) + 1e-6)
            below = (low + r) / 2  # a bid under the reserve
            winner_guess = (torch.maximum(price, r) + high) / 2
            loser_guess = torch.where(at_reserve, below.expand_as(allocation), price.expand_as(allocation))
            guess = torch.where(won, winner_guess, loser_guess)
            guess = torch.where(sold, guess, below.expand_as(allocation))
            if own_bids is not None and bidder is not None:
                # The adversarial bidder: if its own (losing) bid set the price, the other losers bid below it.
                own = own_bids.unsqueeze(1)  # (b, 1, m)
                set_price = sold & ~won[:, bidder : bidder + 1] & ((own - price).abs() <= 1e-6) & ~at_reserve
                guess = torch.where(set_price & ~won, (low + own) / 2, guess)
        if own_bids is not None and bidder is not None:
            guess[:, bidder] = own_bids
        return guess.clamp(self._prior.bounds(device)[0].to(dtype), self._prior.bounds(device)[1].to(dtype))


def naive(prior: Prior) -> MyersonGuess:
    """The naive guesser (A.3.1)."""
    return MyersonGuess(prior, "naive")


def intelligent(prior: Prior) -> MyersonGuess:
    """The intelligent guesser (A.3.2; with the observer's own bids, A.3.3)."""
    return MyersonGuess(prior, "intelligent")
