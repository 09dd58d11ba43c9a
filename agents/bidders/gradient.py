"""White-box misreporters: projected gradient ascent on the bidder's own utility.

``oracle`` sees the other bidders' reports of the round (the ex-post adversary of the
RegretNet papers: its gain over truthful bidding *is* the round's regret); ``bayesian`` does
not, and maximises its expected utility over the others' reports drawn from the prior (others
truthful), a realistic sealed-bid deviation. Both run the evaluator's search
(:func:`mechanisms.search.search`) with its attack protocols: PGD (Adam) from the truthful bid and random starts, plus a
dense grid refined by PGD when the bidder has at most two items. Mechanisms without gradients
(exact ones) get the documented fallback: the grid plus random search, no PGD.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from agents.base import ResponsePolicy
from agents.observation import participating, values
from mechanisms.base import Mechanism, frozen_parameters
from mechanisms.evaluation import protocol as lookup_protocol
from mechanisms.priors import Prior
from mechanisms.search import AttackProtocol, candidate_utilities, search

__all__ = ["GradientMisreporter", "BAYESIAN_PROTOCOL"]

#: The Bayesian search scores every candidate against ``samples`` profiles, so it gets a
#: lighter budget than the evaluator's default.
BAYESIAN_PROTOCOL = AttackProtocol(
    "bayesian", random_starts=2, steps=100, lr=0.02, grid=21, grid_refine=2, random_search=32
)

MODES = ("oracle", "bayesian")


class GradientMisreporter(ResponsePolicy):
    """Bids the best misreport found by projected gradient ascent on its utility.

    Args:
        mechanism, prior, bidder: injected by the environment.
        mode: ``oracle`` (sees the others' reports) or ``bayesian`` (samples them from the prior).
        protocol: an attack protocol name (``default``, ``weak`` ...) whose budget the search
            uses; default ``default`` for oracle, a lighter one for bayesian.
        starts, steps, lr: override the protocol's random starts, Adam steps and learning rate.
        samples: others' profiles drawn per round in ``bayesian`` mode.
        chunk: rounds searched at once (bounds memory).

    The bid always lies in ``[0, upper support]``, and the truthful bid is always a candidate,
    so the found utility is never below truthful bidding's (up to the mechanism's own
    randomness).
    """

    def __init__(
        self,
        mechanism: Mechanism,
        prior: Prior,
        bidder: int,
        mode: str = "oracle",
        protocol: str | None = None,
        starts: int | None = None,
        steps: int | None = None,
        lr: float | None = None,
        samples: int = 32,
        chunk: int = 1024,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        for name, value in (("starts", starts), ("steps", steps)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if lr is not None and not (isinstance(lr, (int, float)) and lr > 0):
            raise ValueError(f"lr must be a number > 0, got {lr!r}")
        for name, value in (("samples", samples), ("chunk", chunk)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        base = (
            lookup_protocol(protocol)
            if protocol is not None
            else (BAYESIAN_PROTOCOL if mode == "bayesian" else lookup_protocol("default"))
        )
        overrides = {k: v for k, v in (("random_starts", starts), ("steps", steps), ("lr", lr)) if v is not None}
        self.mode = mode
        self.bidder = bidder
        self.protocol = dataclasses.replace(base, **overrides)
        self.samples = samples
        self.chunk = chunk
        self._mechanism = mechanism
        self._prior = prior
        self._differentiable = bool(getattr(mechanism, "differentiable", False))

    def respond(self, observations: Tensor, reports: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Best bids ``(batch, n_items)`` given the others' ``reports (batch, n_bidders, n_items)``.

        In ``bayesian`` mode ``reports`` is ignored (the others' reports are sampled).
        """
        bids = values(observations).clone()
        present = participating(observations)
        if not bool(present.any()):
            return bids
        rows = present.nonzero().squeeze(-1)
        with torch.inference_mode(False), frozen_parameters(self._mechanism):
            v_all = values(observations)[rows].clone()
            r_all = reports[rows].clone()
            found = [
                self._search(v_all[s : s + self.chunk], r_all[s : s + self.chunk], generator)
                for s in range(0, rows.numel(), self.chunk)
            ]
        bids[rows] = torch.cat(found).to(bids.dtype)
        return bids

    def _search(self, v: Tensor, reports: Tensor, generator: torch.Generator | None) -> Tensor:
        high = self._prior.bounds(v.device)[1][self.bidder].to(v.device, v.dtype)
        low = torch.zeros_like(high)  # the bid space is [0, upper support], as in AuctionCore.bid_bounds
        if self.mode == "bayesian":
            others = self._prior.sample(v.shape[0] * self.samples, generator, v.device).to(v.dtype)
            reports = others.view(v.shape[0], self.samples, *others.shape[1:])

        def utility(candidates: Tensor) -> Tensor:
            return candidate_utilities(self._mechanism, v, reports, self.bidder, candidates, generator)

        bids, _ = search(
            utility,
            v.clamp(low, high),
            low,
            high,
            self.protocol,
            differentiable=self._differentiable,
            generator=generator,
        )
        return bids[:, 0]
