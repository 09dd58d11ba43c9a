"""Strategyproof-by-construction learned mechanisms: RochetNet (one bidder) and Lottery AMA.

Both learn a *menu* and let the outcome be the menu entry that maximises an objective of the
reports, so they are exactly DSIC and IR whatever the learned parameters:

* :class:`RochetNet` (Dütting et al.): K (lottery, price) options plus the zero option; the
  bidder gets its utility-maximising option.
* :class:`LotteryAMA` (Curry, Sandholm and Dickerson 2022): K lottery allocations, bidder weights
  ``w_i > 0`` and boosts ``lambda_k``; the allocation maximising ``sum_i w_i <b_i, a_k,i> +
  lambda_k`` is chosen, with affine-maximizer (weighted VCG) payments.

The argmax has no useful gradient, so in training mode (``model.train()`` with gradients on)
the choice is relaxed into a softmax at :attr:`temperature`; evaluation, the environment and
anything under ``torch.no_grad()`` use the exact argmax. The mechanisms are ``truthful`` and not
``differentiable`` (the evaluator searches misreports without gradients).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from mechanisms.base import Mechanism, Outcome
from mechanisms.priors import Prior

__all__ = ["RochetNet", "LotteryAMA"]

VALUATIONS = ("additive", "unit_demand")


class _Menu(Mechanism):
    """Shared: exact vs relaxed choice, temperature, the LearnedMechanism-like surface."""

    truthful = True
    differentiable = False

    def __init__(self, n_bidders: int, n_items: int, menu_size: int, valuation: str, temperature: float) -> None:
        if valuation not in VALUATIONS:
            raise ValueError(f"valuation must be one of {', '.join(VALUATIONS)}, got {valuation!r}")
        if isinstance(menu_size, bool) or not isinstance(menu_size, int) or menu_size < 1:
            raise ValueError(f"menu_size must be an integer >= 1, got {menu_size!r}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        super().__init__(n_bidders, n_items)
        self.menu_size, self.valuation, self.temperature = menu_size, valuation, float(temperature)

    @property
    def noise_std(self) -> float:
        """Always 0: a menu has no allocation logits to perturb (its outcome is a menu entry)."""
        return 0.0

    @noise_std.setter
    def noise_std(self, value: float) -> None:
        if value != 0:
            raise ValueError(f"{type(self).__name__} has no output noise; noise_std must be 0, got {value!r}")

    @property
    def valuations(self) -> tuple[str, ...]:
        return (self.valuation,)

    @property
    def relaxed(self) -> bool:
        """True when outcomes use the softmax relaxation (training with gradients on)."""
        return self.training and torch.is_grad_enabled()

    def choice_weights(self, scores: Tensor) -> Tensor:
        """``(batch, K)`` weights over menu entries: one-hot at the argmax, or a softmax at the temperature."""
        if self.relaxed:
            return torch.softmax(scores / self.temperature, dim=-1)
        return torch.nn.functional.one_hot(scores.argmax(-1), scores.shape[-1]).to(scores.dtype)

    def architecture(self) -> dict[str, Any]:
        return {"menu_size": self.menu_size, "valuation": self.valuation}


class RochetNet(_Menu):
    """A learned menu for one bidder (Dütting et al.'s RochetNet).

    Args:
        n_bidders: must be 1.
        n_items: number of items.
        prior: unused (kept for the common factory signature).
        menu_size: K learned options (the zero option is added).
        valuation: ``additive`` (each item's probability in [0, 1]) or ``unit_demand``
            (a lottery over at most one item: probabilities sum to at most 1).
        temperature: softmax temperature of the training relaxation.
    """

    def __init__(
        self,
        n_bidders: int,
        n_items: int,
        prior: Prior | None = None,
        menu_size: int = 1000,
        valuation: str = "additive",
        temperature: float = 0.01,
    ) -> None:
        if n_bidders != 1:
            raise ValueError(f"rochetnet is for one bidder, got n_bidders={n_bidders}")
        super().__init__(1, n_items, menu_size, valuation, temperature)
        width = n_items + 1 if valuation == "unit_demand" else n_items
        self.allocation_logits = nn.Parameter(torch.zeros(menu_size, width))
        self.prices = nn.Parameter(torch.zeros(menu_size))
        self.init_from_generator(None)

    def init_from_generator(self, generator: torch.Generator | None) -> None:
        """Random lotteries (logits N(0, 1)) and prices U[0, m/2), drawn from ``generator``."""
        with torch.no_grad():
            self.allocation_logits.copy_(torch.randn(self.allocation_logits.shape, generator=generator))
            self.prices.copy_(torch.rand(self.prices.shape, generator=generator) * self.n_items / 2)

    def menu(self) -> tuple[Tensor, Tensor]:
        """``(K + 1, m)`` lotteries and ``(K + 1,)`` prices; the last entry is the zero option."""
        if self.valuation == "unit_demand":
            lotteries = torch.softmax(self.allocation_logits, dim=-1)[:, :-1]
        else:
            lotteries = torch.sigmoid(self.allocation_logits)
        zero = lotteries.new_zeros(1, self.n_items)
        return torch.cat((lotteries, zero)), torch.cat((self.prices, self.prices.new_zeros(1)))

    def outcome(self, bids: Tensor, generator: torch.Generator | None) -> Outcome:
        lotteries, prices = (t.to(bids.dtype) for t in self.menu())
        utility = bids[:, 0] @ lotteries.T - prices  # (batch, K + 1)
        weights = self.choice_weights(utility)
        return Outcome((weights @ lotteries).unsqueeze(1), (weights @ prices).unsqueeze(1))


class LotteryAMA(_Menu):
    """A learned affine maximizer over a menu of lottery allocations (Curry, Sandholm and Dickerson).

    Args:
        n_bidders, n_items: the setting's size.
        prior: the valuation prior; only ``init: myerson`` uses it (its reserves set the boosts).
        menu_size: K learned allocations (each item split among the bidders and "unsold").
        valuation: ``additive`` only.
        temperature: softmax temperature of the training relaxation.
        init: ``random`` (random lotteries) or ``myerson`` (start as item-wise Myerson, see
            :meth:`init_from_generator`).
    """

    def __init__(
        self,
        n_bidders: int,
        n_items: int,
        prior: Prior | None = None,
        menu_size: int = 1024,
        valuation: str = "additive",
        temperature: float = 0.01,
        init: str = "random",
    ) -> None:
        if valuation != "additive":
            raise ValueError(f"lottery_ama supports additive valuations only, not {valuation}")
        if init not in ("random", "myerson"):
            raise ValueError(f"init must be 'random' or 'myerson', got {init!r}")
        deterministic = (n_bidders + 1) ** n_items
        if init == "myerson" and menu_size < deterministic:
            raise ValueError(
                f"init 'myerson' needs menu_size >= {deterministic} (every deterministic allocation), got {menu_size}"
            )
        super().__init__(n_bidders, n_items, menu_size, valuation, temperature)
        self.init = init
        reserve = prior.reserve().float() if prior is not None else torch.full((n_bidders, n_items), 0.5)
        self.register_buffer("_reserve", reserve, persistent=False)  # (n, m); follows .to(device)
        self.allocation_logits = nn.Parameter(torch.zeros(menu_size, n_bidders + 1, n_items))
        self.log_weights = nn.Parameter(torch.zeros(n_bidders))
        self.boosts = nn.Parameter(torch.zeros(menu_size))
        self.init_from_generator(None)

    def init_from_generator(self, generator: torch.Generator | None) -> None:
        """Random lotteries (logits N(0, 1) scaled by 3, so some are near-deterministic), unit
        weights and zero boosts, drawn from ``generator``. With ``init: myerson`` the first
        ``(n + 1)^m`` entries are instead every deterministic allocation (each item to one bidder
        or unsold) with boost ``sum_j max_i r_ij - sum of r_ij over the sold (i, j)``, ``r`` the
        prior's Myerson reserves: the AMA then starts as item-wise Myerson for uniform priors
        U[0, h] (each item to the highest ``v_ij - r_ij`` if positive, at the threshold price),
        and no random lottery (boost 0, at most the smallest deterministic boost) is chosen."""
        device = self.allocation_logits.device
        with torch.no_grad():
            noise = torch.randn(
                self.allocation_logits.shape,
                generator=generator,
                device=generator.device if generator is not None else device,
            )
            self.allocation_logits.copy_(3 * noise.to(device))
            self.log_weights.zero_()
            self.boosts.zero_()
            if self.init == "myerson":
                n, m = self.n_bidders, self.n_items
                owners = torch.cartesian_prod(*[torch.arange(n + 1, device=device)] * m).reshape(
                    -1, m
                )  # (D, m): row n = unsold
                onehot = (
                    torch.nn.functional.one_hot(owners, n + 1).transpose(1, 2).to(self.allocation_logits.dtype)
                )  # (D, n+1, m)
                reserve = self._reserve.to(device=device, dtype=onehot.dtype)
                self.allocation_logits[: len(owners)] = 30.0 * onehot - 15.0
                self.boosts[: len(owners)] = reserve.amax(0).sum() - (onehot[:, :n] * reserve).sum((1, 2))

    def menu(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(K, n, m)`` allocations, ``(n,)`` weights and ``(K,)`` boosts."""
        return torch.softmax(self.allocation_logits, dim=1)[:, :-1], self.log_weights.exp(), self.boosts

    def outcome(self, bids: Tensor, generator: torch.Generator | None) -> Outcome:
        allocations, weights, boosts = (t.to(bids.dtype) for t in self.menu())
        values = torch.einsum("bnm,knm->bkn", bids, allocations)  # (batch, K, n): <b_i, a_k,i>
        weighted = values * weights  # w_i <b_i, a_k,i>
        welfare = weighted.sum(-1) + boosts  # (batch, K)
        choice = self.choice_weights(welfare)
        others = welfare.unsqueeze(-1) - weighted  # (batch, K, n): welfare without bidder i
        best_without = (self.choice_weights(others.mT) * others.mT).sum(-1)  # (batch, n): max_k of it
        at_choice = (choice.unsqueeze(-1) * others).sum(1)  # (batch, n)
        payments = (best_without - at_choice) / weights
        allocation = torch.einsum("bk,knm->bnm", choice, allocations)
        return Outcome(allocation, payments)
