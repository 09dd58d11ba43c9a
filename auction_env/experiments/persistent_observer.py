"""Persistent values and the observer: how much an outside observer recovers round after round
when bidders keep their values over an episode (Stein et al.'s model-inversion observer, with
and without the mechanism's output noise).

Truthful bidders with persistent values (:mod:`auction_env.dynamics.values`) bid the same every
round; each round the observer inverts the public outcome (:class:`agents.observers.inversion.
ModelInversion`, which does not model the noise), and, accumulating evidence, keeps the mean of
its reconstructions so far. Both are scored against the bids, per round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

import mechanisms
from agents.observers import make as make_observer
from auction_env.config import EnvConfig, parse
from auction_env.dynamics import EpisodeBatch
from auction_env.setting import build_setting
from mechanisms.common.seeding import make_generators

__all__ = ["persistent_recovery"]


def persistent_recovery(
    checkpoint: str = "2x2",
    *,
    sigmas: Sequence[float] = (0.0, 0.2),
    episodes: int = 200,
    rounds: int = 10,
    tolerance: float = 0.02,
    seed: int = 0,
    observer: dict[str, Any] | None = None,
    on_round: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Per output-noise level and round: the observer's recovery rate of that round's inversion
    and of its running mean over the episode's rounds so far.

    Args:
        checkpoint: a shipped RegretNet checkpoint (``2x2``).
        sigmas: output-noise standard deviations.
        episodes: episodes played at once (each its own values).
        rounds: rounds per episode.
        tolerance: a bid counts as recovered within this absolute error.
        observer: parameters of the ``inversion`` observer.

    Returns:
        Rows ``{sigma, round (1-based), recovery_round, recovery_accumulated, mae_round,
        mae_accumulated}``.
    """
    rows = []
    for sigma in sigmas:
        mechanism = mechanisms.load(f"regretnet_{checkpoint}", noise_std=sigma)  # its setting from the card
        prior = mechanism.setting.prior
        size = {"n_bidders": prior.n_bidders, "n_items": prior.n_items}
        cfg = parse(EnvConfig, {**size, "rounds": rounds, "values": {"dynamics": "persistent"}})
        core = build_setting(cfg, prior=prior, mechanism=mechanism)
        engine = EpisodeBatch.from_config(core, cfg)
        inverter = make_observer(
            "inversion", context={"mechanism": core.mechanism, "prior": core.prior}, **(observer or {})
        )
        values_gen, mech_gen, observer_gen = make_generators(seed, 3)
        engine.reset(episodes, values_gen)
        total = None
        for r in range(1, rounds + 1):
            with torch.inference_mode():
                played = engine.play(engine.valuations, mech_gen).round
            guess = inverter.reconstruct(
                played.outcome.allocation, played.outcome.payments, generator=observer_gen
            ).detach()
            total = guess if total is None else total + guess
            mean = total / r
            rows.append(
                {
                    "sigma": sigma,
                    "round": r,
                    **_score("round", guess, played.bids, tolerance),
                    **_score("accumulated", mean, played.bids, tolerance),
                }
            )
            if on_round is not None:
                on_round()
    return rows


def _score(name: str, guess: torch.Tensor, bids: torch.Tensor, tolerance: float) -> dict[str, float]:
    err = (guess - bids).abs()
    return {f"recovery_{name}": float((err <= tolerance).double().mean()), f"mae_{name}": float(err.mean())}
