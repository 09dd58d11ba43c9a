"""Shared pieces of neural mechanisms: MLP trunks, input scaling, feasible output heads.

Every learned mechanism maps bids to *logits* first (:meth:`LearnedMechanism.logits`) and
then to a feasible outcome (:meth:`LearnedMechanism.outcome_from_logits`), so noise can be
added to the allocation logits between the two (privacy, a later issue) without touching
feasibility: allocations come from softmaxes over bidders plus a dummy "unsold" row, and
each payment is a sigmoid fraction of the reported value of the bidder's allocation, so
truthful bidders are never charged more than they get (IR by construction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mechanisms.base import Mechanism, NumpyOutcome, Outcome
from mechanisms.priors import Prior

#: A torch tensor or a NumPy array (the NumPy inference path).
Array = Union[Tensor, np.ndarray]

__all__ = ["LearnedMechanism", "Logits", "mlp", "init_weights", "VALUATIONS"]

VALUATIONS = ("additive", "unit_demand")


@dataclass(frozen=True)
class Logits:
    """Pre-activation outputs of a learned mechanism.

    Attributes:
        allocation: ``(batch, n_bidders + 1, n_items)`` scores per item over bidders and the
            dummy "unsold" row (the last row).
        payment: ``(batch, n_bidders)`` payment-fraction logits.
        sell: ``(batch, n_items)`` "sell" logits (ALGNet) or None.
        item_choice: ``(batch, n_bidders, n_items + 1)`` scores per bidder over items and a
            dummy "nothing" column (unit-demand RegretNet) or None.
    """

    allocation: Tensor
    payment: Tensor
    sell: Tensor | None = None
    item_choice: Tensor | None = None


def mlp(n_in: int, hidden: int, layers: int) -> nn.Sequential:
    """``layers`` ReLU layers of width ``hidden`` on top of ``n_in`` inputs."""
    if layers < 1 or hidden < 1:
        raise ValueError("layers and hidden must be >= 1")
    modules: list[nn.Module] = []
    width = n_in
    for _ in range(layers):
        modules += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    return nn.Sequential(*modules)


def apply_linear(layer: nn.Linear, x: Array) -> Array:
    """``layer(x)`` for a torch tensor, or the same affine map for a NumPy array.

    The NumPy path reads the weight copies made by :meth:`LearnedMechanism.sync_numpy`.
    """
    if isinstance(x, Tensor):
        return F.linear(x, layer.weight, layer.bias)
    w, b = layer.__dict__["_numpy_weights"]
    return x @ w + b


def run_sequential(layers: nn.Sequential, x: Array) -> Array:
    """Apply a stack of ``Linear``/``ReLU`` (nested ``Sequential`` allowed) to a tensor or a NumPy
    array, without per-module call overhead: at batch 1 (one environment step) the module
    machinery costs more than the math. Module hooks do not fire on this path."""
    fresh = False  # x is a new array this function made (an affine map's output), free to overwrite
    for layer in layers:
        if isinstance(layer, nn.Linear):
            x, fresh = apply_linear(layer, x), True
            continue
        if isinstance(layer, nn.ReLU):
            # In place after an affine map: its backward needs its inputs, not its output, and
            # ReLU's needs only its own output, so autograd is unaffected; one pass less over memory.
            if isinstance(x, Tensor):
                x = torch.relu_(x) if fresh else torch.relu(x)
            else:
                x = np.maximum(x, 0.0, out=x) if fresh else np.maximum(x, 0.0)
        elif isinstance(layer, nn.Sequential):
            x = run_sequential(layer, x)
        else:
            x = layer(x)
        fresh = False
    return x


def init_weights(module: nn.Module, generator: torch.Generator) -> None:
    """Re-initialise every ``nn.Linear`` in ``module`` like PyTorch's default, and every module
    with an ``init_from_generator`` method by that method, from ``generator``.

    (``nn.Linear.reset_parameters`` draws from the global RNG; training runs must not.)
    """
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_uniform_(layer.weight, a=5**0.5, generator=generator)
            if layer.bias is not None:
                bound = 1 / layer.in_features**0.5
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        elif hasattr(layer, "init_from_generator"):
            layer.init_from_generator(generator)  # learned menus (mechanisms.learned.menus)


class LearnedMechanism(Mechanism):
    """Base class: bids are scaled by the prior's upper support before the network sees them.

    Args:
        n_bidders, n_items: the setting's size.
        prior: the valuation prior (its ``high`` sets the input scale), or None for scale 1.
        valuation: ``additive`` or ``unit_demand`` (each bidder gets at most one item in
            expectation; the allocation is doubly normalized).
    """

    truthful = False
    differentiable = True
    output_noise = True

    def __init__(self, n_bidders: int, n_items: int, prior: Prior | None = None, valuation: str = "additive") -> None:
        if valuation not in VALUATIONS:
            raise ValueError(f"valuation must be one of {', '.join(VALUATIONS)}, got {valuation!r}")
        if n_bidders < 1 or n_items < 1:
            raise ValueError("n_bidders and n_items must be >= 1")
        super().__init__(n_bidders, n_items)
        self.valuation = valuation
        scale = prior.high.clone() if prior is not None else torch.ones(n_bidders, n_items)
        if scale.shape != (n_bidders, n_items):
            raise ValueError(f"prior is for {tuple(scale.shape)}, mechanism for {(n_bidders, n_items)}")
        self.register_buffer("scale", scale)
        self.noise_std = 0.0

    @property
    def noise_std(self) -> float:
        """σ of the Gaussian noise added to the allocation logits before the softmax (0: none)."""
        return self._noise_std

    @noise_std.setter
    def noise_std(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"noise_std must be a finite number >= 0, got {value!r}")
        self._noise_std = float(value)

    @property
    def valuations(self) -> tuple[str, ...]:
        return (self.valuation,)

    def perturb(self, logits: Logits, generator: torch.Generator | None) -> Logits:
        """Add N(0, σ²) noise, drawn from ``generator``, to every allocation logit (Stein et al. §5.1).

        The noisy logits still go through the softmax (and the dummy row), so the allocation
        stays feasible, and payments are fractions of the noisy allocation's reported value,
        so truthful bidders stay individually rational for every draw.
        """
        if self._noise_std == 0.0:
            return logits

        def noisy(x: Tensor | None) -> Tensor | None:
            if x is None:
                return None
            device = generator.device if generator is not None else x.device
            z = torch.randn(x.shape, generator=generator, device=device, dtype=x.dtype)
            return x + self._noise_std * (z if z.device == x.device else z.to(x.device))

        return Logits(
            allocation=noisy(logits.allocation),
            payment=logits.payment,
            sell=logits.sell,
            item_choice=noisy(logits.item_choice),
        )

    def logits(self, bids: Tensor) -> Logits:
        """Network outputs before the feasibility-enforcing activations."""
        raise NotImplementedError

    def outcome_from_logits(self, bids: Tensor, logits: Logits) -> Outcome:
        """Feasible allocation and IR payments from ``logits``, charged on the reported ``bids``."""
        allocation = torch.softmax(logits.allocation, dim=1)[:, :-1, :]
        if logits.sell is not None:
            allocation = allocation * torch.sigmoid(logits.sell).unsqueeze(1)
        if logits.item_choice is not None:
            per_bidder = torch.softmax(logits.item_choice, dim=2)[:, :, :-1]
            allocation = torch.minimum(allocation, per_bidder)
        reported_value = (allocation * bids).sum(dim=-1)
        return Outcome(allocation, torch.sigmoid(logits.payment) * reported_value)

    def outcome(self, bids: Tensor, generator: torch.Generator | None) -> Outcome:
        return self.outcome_from_logits(bids, self.perturb(self.logits(bids), generator))

    def outcome_numpy(self, bids: np.ndarray, generator: torch.Generator | None) -> NumpyOutcome:
        """:meth:`Mechanism.outcome_numpy`: the network's forward pass computed in NumPy.

        Same network, same weights, no autograd and no torch dispatch: a batch-1 call costs a
        fraction of the torch path (the PettingZoo and RL steps); outputs agree with
        :meth:`run` to float32 rounding. A mechanism with output noise, or with its weights
        off the CPU, goes through :meth:`run` (the noise is drawn from ``generator``).
        """
        if self._noise_std != 0.0 or self.scale.device.type != "cpu":
            return super().outcome_numpy(bids, generator)
        self.sync_numpy()
        return self.numpy_outcome(bids, self.logits(bids))

    def numpy_outcome(self, bids: np.ndarray, logits: Logits) -> NumpyOutcome:
        """:meth:`outcome_from_logits` in NumPy (subclasses with other output layers override)."""
        a = logits.allocation - logits.allocation.max(axis=1, keepdims=True)
        a = np.exp(a)
        allocation = (a / a.sum(axis=1, keepdims=True))[:, :-1, :]
        if logits.sell is not None:
            allocation = allocation * (1.0 / (1.0 + np.exp(-logits.sell)))[:, None, :]
        if logits.item_choice is not None:
            c = np.exp(logits.item_choice - logits.item_choice.max(axis=2, keepdims=True))
            allocation = np.minimum(allocation, (c / c.sum(axis=2, keepdims=True))[:, :, :-1])
        payments = (1.0 / (1.0 + np.exp(-logits.payment))) * (allocation * bids).sum(axis=-1)
        return allocation, payments, None

    def sync_numpy(self) -> None:
        """Refresh the NumPy copies of the weights if any parameter changed since the last call
        (optimizer steps and ``load_state_dict`` update tensors in place, bumping their version)."""
        tensors = self.__dict__.get("_numpy_tensors")
        if tensors is None:
            tensors = [*self.parameters(), self.scale]
            self.__dict__["_numpy_tensors"] = tensors
        key = [(t._version, t.data_ptr()) for t in tensors]
        if key == self.__dict__.get("_numpy_key"):
            return
        for layer in self.modules():
            if isinstance(layer, nn.Linear):
                w = layer.weight.detach().cpu().numpy().T.copy()
                b = (
                    layer.bias.detach().cpu().numpy().copy()
                    if layer.bias is not None
                    else np.zeros(w.shape[1], dtype=w.dtype)
                )
                layer.__dict__["_numpy_weights"] = (w, b)
        self.__dict__["_numpy_scale"] = self.scale.detach().cpu().numpy().copy()
        self.__dict__["_numpy_key"] = key

    def features(self, bids: Array) -> Array:
        """``(batch, n_bidders * n_items)`` bids scaled to [0, 1] by the prior's upper support."""
        if isinstance(bids, Tensor):
            return (bids / self.scale).flatten(1)
        return (bids / self.__dict__["_numpy_scale"]).reshape(bids.shape[0], -1)

    def extra_repr(self) -> str:
        return f"n_bidders={self.n_bidders}, n_items={self.n_items}, valuation={self.valuation}"
