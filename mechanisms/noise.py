"""Expected outcomes of a noisy mechanism: average allocations and payments over noise draws.

With additive utilities, a bidder's expected utility under the output noise is its utility
at the expected allocation and payment (Stein et al. §5.2), so regret of a noisy mechanism
is measured on :class:`ExpectedOutcome`, which replays each profile under ``draws``
independent noise draws and averages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor

from mechanisms.base import Mechanism, Outcome

__all__ = ["ExpectedOutcome", "is_noisy", "noiseless"]


def is_noisy(mechanism: Mechanism) -> bool:
    """True when the mechanism adds output noise (``noise_std > 0``)."""
    return float(getattr(mechanism, "noise_std", 0.0) or 0.0) > 0.0


@contextmanager
def noiseless(mechanism: Mechanism) -> Iterator[None]:
    """Run ``mechanism`` without its output noise inside the block (e.g. an observer's model of
    it, which cannot know the noise draws), restoring ``noise_std`` afterwards."""
    sigma = getattr(mechanism, "noise_std", None)
    if not sigma:
        yield
        return
    mechanism.noise_std = 0.0
    try:
        yield
    finally:
        mechanism.noise_std = sigma


class ExpectedOutcome(Mechanism):
    """``mechanism`` with its outcome averaged over ``draws`` noise draws per profile.

    Shapes as for any mechanism: bids ``(batch, n, m)`` -> allocation ``(batch, n, m)``,
    payments ``(batch, n)``. Gradients flow through every draw.
    """

    def __init__(self, mechanism: Mechanism, draws: int) -> None:
        if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
            raise ValueError(f"draws must be an integer >= 1, got {draws!r}")
        super().__init__(mechanism.n_bidders, mechanism.n_items)
        self.inner = mechanism
        self.draws = draws
        self.truthful = mechanism.truthful
        self.differentiable = mechanism.differentiable
        self.valuations = mechanism.valuations
        self.masks_participation = mechanism.masks_participation
        self.any_size = mechanism.any_size

    def outcome(self, bids: Tensor, generator: torch.Generator | None) -> Outcome:
        return self._average(bids, generator, None)

    def masked_outcome(self, bids: Tensor, present: Tensor, generator: torch.Generator | None) -> Outcome:
        return self._average(bids, generator, present)

    def _average(self, bids: Tensor, generator: torch.Generator | None, present: Tensor | None) -> Outcome:
        b, n, m = bids.shape
        mask = None if present is None else present.repeat(self.draws, 1)
        out = self.inner.run(bids.repeat(self.draws, 1, 1), generator=generator, check=False, present=mask)
        return Outcome(out.allocation.view(self.draws, b, n, m).mean(0), out.payments.view(self.draws, b, n).mean(0))

    def extra_repr(self) -> str:
        return f"draws={self.draws}"
