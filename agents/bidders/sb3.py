"""A bidder that plays a saved stable-baselines3 model (trained with ``auction-env train-bidder``).

A ``model.zip`` is untrusted input: SB3's own ``load`` unpickles several of its entries, so a
crafted file runs code when loaded. :func:`load_policy` never unpickles: it reads the ``data``
entry as plain JSON, rebuilds the algorithm's ``MlpPolicy`` for the bidder's spaces from the
architecture keys it recognises (a key it could only restore by unpickling is refused), and loads
``policy.pth`` with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from agents.actions import to_bids
from agents.base import BidderPolicy
from mechanisms.priors import Prior

__all__ = ["SB3Policy", "ALGORITHMS", "algorithm", "load_policy"]

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
        from gymnasium import spaces

        file = Path(path)
        if not file.is_file() and file.with_suffix(".zip").is_file():
            file = file.with_suffix(".zip")
        low, high = prior.low[bidder].numpy(), prior.high[bidder].numpy()
        observation_space = spaces.Box(
            np.concatenate([low, [0.0, 0.0]]).astype(np.float32),
            np.concatenate([high, [1.0, 1.0]]).astype(np.float32),
            dtype=np.float32,
        )
        action_space = spaces.Box(-1.0, 1.0, (n_items,), dtype=np.float32)
        policy = load_policy(file, algo, observation_space, action_space)
        self._attach(policy, prior, bidder, n_items, deterministic, where=str(path))
        self.path = str(path)

    @classmethod
    def from_model(cls, model: Any, prior: Prior, bidder: int, n_items: int, deterministic: bool = True) -> SB3Policy:
        """The policy around a live SB3 model (no file; e.g. to score it during training)."""
        policy = cls.__new__(cls)
        policy._attach(model, prior, bidder, n_items, deterministic, where=type(model).__name__)
        policy.path = None
        return policy

    def _attach(self, model: Any, prior: Prior, bidder: int, n_items: int, deterministic: bool, *, where: str) -> None:
        """Play ``model`` (an SB3 algorithm or policy: anything with ``observation_space`` and ``predict``)."""
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


#: Plain-JSON ``policy_kwargs`` keys that shape the network, restored without unpickling.
_ARCHITECTURE_KEYS = (
    "net_arch",
    "log_std_init",
    "ortho_init",
    "use_sde",
    "full_std",
    "use_expln",
    "squash_output",
    "n_critics",
    "share_features_extractor",
    "normalize_images",
)
#: Keys that only matter for training (the optimizer), ignored for play.
_TRAINING_KEYS = ("optimizer_class", "optimizer_kwargs")
#: Activation functions by the text SB3 writes for them.
_ACTIVATIONS = {
    f"<class 'torch.nn.modules.activation.{name}'>": name
    for name in ("ReLU", "Tanh", "LeakyReLU", "ELU", "GELU", "SiLU")
}


def load_policy(path: str | Path, algo: str, observation_space: Any, action_space: Any) -> Any:
    """The ``MlpPolicy`` saved in an SB3 ``model.zip``, rebuilt without unpickling anything.

    Args:
        path: the ``.zip`` written by SB3's ``model.save``.
        algo: the algorithm it was trained with (``PPO``, ``SAC`` ...).
        observation_space, action_space: the spaces the policy acts in.

    Raises:
        ValueError: (one line) the file is missing, not an SB3 zip, needs unpickling to restore,
            or its weights do not fit the spaces.
    """
    from torch import nn

    cls = algorithm(algo)
    where = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "policy.pth" not in names:
                raise ValueError(f"{where}: not a stable-baselines3 model (no policy.pth)")
            data = json.loads(archive.read("data").decode("utf-8")) if "data" in names else {}
            weights = archive.read("policy.pth")
    except FileNotFoundError:
        raise ValueError(f"no SB3 model at {where}") from None
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{where}: not a readable stable-baselines3 zip ({type(err).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{where}: its 'data' entry is not a JSON object")
    saved = data.get("policy_kwargs") or {}
    if not isinstance(saved, dict):
        raise ValueError(f"{where}: policy_kwargs is not a JSON object")
    kwargs: dict[str, Any] = {}
    for key, value in saved.items():
        if key in (":type:", ":serialized:") or key in _TRAINING_KEYS:
            continue  # the pickled copy is never read; the optimizer does not act
        if key == "activation_fn" and value in _ACTIVATIONS:
            kwargs[key] = getattr(nn, _ACTIVATIONS[value])
        elif key in _ARCHITECTURE_KEYS and not (isinstance(value, dict) and ":serialized:" in value):
            kwargs[key] = value
        else:
            raise ValueError(
                f"{where}: policy_kwargs {key!r} can only be restored by unpickling, which could run code; refused"
            )
    try:
        state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a crafted or corrupt file
        raise ValueError(f"{where}: policy.pth is not a plain state dict ({type(err).__name__}); refused") from None
    if not isinstance(state, dict):
        raise ValueError(f"{where}: policy.pth is not a state dict")
    policy_class = cls.policy_aliases["MlpPolicy"]
    try:
        policy = policy_class(observation_space, action_space, lambda _: 0.0, **kwargs)
        policy.load_state_dict(state)
    except (RuntimeError, TypeError, ValueError) as err:
        first = str(err).strip().splitlines()[0]
        raise ValueError(
            f"{where}: the weights do not fit a {cls.__name__} policy for these spaces ({first})"
        ) from None
    policy.set_training_mode(False)
    return policy
