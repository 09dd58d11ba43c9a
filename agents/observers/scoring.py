"""How well an observer reconstructs the bids: the recovery rate within a tolerance and the mean
absolute error (the attack's success measure in Stein et al., "Neural auctions compromise bidder
information", §4)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from mechanisms.common.stats import standard_error

__all__ = ["ReconstructionScore", "score_reconstruction"]


@dataclass(frozen=True)
class ReconstructionScore:
    """How close a reconstruction is: recovery rate within a tolerance and mean absolute error."""

    recovery_rate: float
    recovery_stderr: float
    mae: float
    mae_stderr: float
    entries: int

    def to_dict(self) -> dict[str, float]:
        return dict(vars(self))


def score_reconstruction(
    guess: Tensor, truth: Tensor, *, tolerance: float = 0.02, exclude_bidder: int | None = None
) -> ReconstructionScore:
    """Score ``guess`` against ``truth`` (both ``(batch, n, m)``), optionally leaving out one bidder's row."""
    err = (guess - truth).abs()
    if exclude_bidder is not None:
        keep = [i for i in range(truth.shape[1]) if i != exclude_bidder]
        err = err[:, keep]
    err = err.reshape(-1).double()
    hits = (err <= tolerance).double()
    return ReconstructionScore(
        hits.mean().item(), standard_error(hits), err.mean().item(), standard_error(err), err.numel()
    )
