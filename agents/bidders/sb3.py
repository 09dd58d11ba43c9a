"""A bidder that plays a saved stable-baselines3 model (trained with ``auction-env train-bidder``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from agents.actions import to_bids
from agents.base import BidderPolicy
from mechanisms.priors import Prior

__all__ = ["SB3Policy", "ALGORITHMS", "algorithm"]

#: SB3 algorithms with continuous actions, by name.
ALGORITHMS = ("PPO", "SAC", "A2C", "TD3", "DDPG")


def algorithm(name: str) -> type:
    """The SB3 class called ``name`` (case-insensitive)."""
    import stable_baselines3

    key = name.upper()
    if key not in ALGORITHMS:
        raise ValueError(f"unknown SB3 algorithm {name!r}; one of {', '.join(ALGORITHMS)}")
    return getattr(stable_baselines3, key)


class SB3Policy(BidderPolicy):
    """Bids what a saved SB3 model predicts from the bidder's observation.

    The model acts in ``[-1, 1]`` per item, as in :class:`~auction_env.rl.SingleLearnerEnv`;
    actions are rescaled to ``[0, upper support]``.

    Args:
        path: the ``.zip`` saved by SB3 (``model.save``).
        algo: the algorithm it was trained with (``PPO``, ``SAC`` ...).
        deterministic: play the mean action (default) rather than sampling.
        prior, bidder, n_items: injected by the environment.

    Raises:
        ValueError: missing or unreadable file, or a model for another observation size.
    """

    def __init__(
        self, path: str, prior: Prior, bidder: int, n_items: int, algo: str = "PPO", deterministic: bool = True
    ) -> None:
        cls = algorithm(algo)
        file = Path(path)
        if not file.is_file() and not file.with_suffix(".zip").is_file():
            raise ValueError(f"no SB3 model at {path}")
        try:
            model = cls.load(str(file), device="cpu")
        except Exception as err:  # SB3 raises many types for a bad zip
            raise ValueError(f"{path}: cannot load a {cls.__name__} model ({type(err).__name__}: {err})") from None
        self._attach(model, prior, bidder, n_items, deterministic, where=str(path))
        self.path = str(path)

    @classmethod
    def from_model(cls, model: Any, prior: Prior, bidder: int, n_items: int, deterministic: bool = True) -> SB3Policy:
        """The policy around a live SB3 model (no file; e.g. to score it during training)."""
        policy = cls.__new__(cls)
        policy._attach(model, prior, bidder, n_items, deterministic, where=type(model).__name__)
        policy.path = None
        return policy

    def _attach(self, model: Any, prior: Prior, bidder: int, n_items: int, deterministic: bool, *, where: str) -> None:
        shape = tuple(model.observation_space.shape or ())
        if shape != (n_items + 2,):
            raise ValueError(
                f"{where}: model observes {shape}, this bidder observes ({n_items + 2},) (a {n_items}-item setting)"
            )
        self._model = model
        self.algo = type(model).__name__
        self.deterministic = bool(deterministic)
        self._high = prior.high[bidder].clone()

    def act(self, observations: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        obs = observations.detach().cpu().numpy().astype(np.float32)
        actions, _ = self._model.predict(obs, deterministic=self.deterministic)
        a = torch.as_tensor(np.asarray(actions, dtype=np.float32)).reshape(obs.shape[0], -1)
        return to_bids(a, self._high).to(observations.device, observations.dtype)
