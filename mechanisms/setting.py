"""The one description of an auction setting: valuation prior, participation model, valuation kind.

A setting is what a mechanism is built, trained and evaluated for. As data it is a
:class:`SettingConfig` (the ``env`` section of a scenario and the ``setting`` of a training
config or model card extend it); live it is a :class:`Setting`, which samples profiles and
resolves a mechanism's outcome under participation. A round, batched::

    valuations (batch, n_bidders, n_items), participation (batch, n_bidders)
      -> bids (batch, n_bidders, n_items) -> mechanism -> allocation (batch, n_bidders, n_items),
         payments (batch, n_bidders)

Absent bidders bid nothing, get nothing and pay nothing (the credible-auctions paper's model of
stochastic participation, §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mechanisms.common.config import Strict, parse
from mechanisms.common.errors import ConfigError
from mechanisms.common.registry import build_named

if TYPE_CHECKING:  # the configs above import no torch, so a config error is reported at once
    import numpy as np
    import torch
    from torch import Tensor

    from mechanisms.base import Mechanism, Outcome
    from mechanisms.participation import Participation
    from mechanisms.priors import Prior

__all__ = [
    "PriorConfig",
    "ParticipationConfig",
    "MechanismConfig",
    "SettingConfig",
    "Setting",
    "RoundBatch",
    "RoundArrays",
    "build_prior",
    "build_participation",
    "check_prior",
]


class PriorConfig(BaseModel):
    """Valuation prior: ``type`` plus that prior's parameters (checked when built)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    type: str = "uniform"

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ParticipationConfig(BaseModel):
    """Participation model: ``model`` plus its parameters (``p``, or ``profiles`` and ``probs``)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
    model: str = "always"

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class MechanismConfig(Strict):
    """Mechanism ``name`` and its ``params``; a bare string means no params."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data


class SettingConfig(Strict):
    """An auction setting as data: size, prior, participation and valuation kind."""

    n_bidders: int = Field(2, ge=1, le=1024)
    n_items: int = Field(2, ge=1, le=1024)
    prior: PriorConfig = Field(default_factory=PriorConfig)
    participation: ParticipationConfig = Field(default_factory=ParticipationConfig)
    valuation: Literal["additive", "unit_demand"] = "additive"


@dataclass(frozen=True)
class RoundBatch:
    """A batch of played rounds.

    Attributes:
        valuations: ``(batch, n_bidders, n_items)`` private values.
        participation: ``(batch, n_bidders)`` bool.
        bids: ``(batch, n_bidders, n_items)`` bids the mechanism saw (absent bidders' are 0).
        outcome: allocation ``(batch, n_bidders, n_items)`` and payments ``(batch, n_bidders)``;
            absent bidders get nothing and pay nothing.
        utilities: ``(batch, n_bidders)`` ``<v_i, a_i> - p_i`` (0 for absent bidders).
    """

    valuations: Tensor
    participation: Tensor
    bids: Tensor
    outcome: Outcome
    utilities: Tensor

    @property
    def revenue(self) -> Tensor:
        """``(batch,)`` total payments."""
        return self.outcome.revenue

    @property
    def welfare(self) -> Tensor:
        """``(batch,)`` total value of the allocated items."""
        return self.outcome.welfare(self.valuations)


@dataclass(frozen=True)
class RoundArrays:
    """A small batch of played rounds as NumPy arrays (:meth:`Setting.resolve_numpy`); the
    fields and shapes of :class:`RoundBatch`, with the outcome unpacked."""

    valuations: np.ndarray
    participation: np.ndarray
    bids: np.ndarray
    allocation: np.ndarray
    payments: np.ndarray
    item_payments: np.ndarray | None
    utilities: np.ndarray

    def to_batch(self) -> RoundBatch:
        """The same rounds as a :class:`RoundBatch` of CPU tensors (sharing memory)."""
        import torch

        from mechanisms.base import Outcome

        t = torch.from_numpy
        items = None if self.item_payments is None else t(self.item_payments)
        outcome = Outcome(t(self.allocation), t(self.payments), items)
        return RoundBatch(t(self.valuations), t(self.participation), t(self.bids), outcome, t(self.utilities))

    @classmethod
    def from_batch(cls, played: RoundBatch) -> RoundArrays:
        """Inverse of :meth:`to_batch`: a :class:`RoundBatch` of CPU tensors as NumPy arrays."""
        items = played.outcome.item_payments
        return cls(
            played.valuations.numpy(),
            played.participation.numpy(),
            played.bids.numpy(),
            played.outcome.allocation.numpy(),
            played.outcome.payments.numpy(),
            None if items is None else items.numpy(),
            played.utilities.numpy(),
        )


class Setting:
    """A live auction setting: a prior, a participation model and the valuation kind.

    Args:
        prior: valuation prior; fixes ``n_bidders`` and ``n_items``.
        participation: who takes part; default everyone.
        valuation: ``additive`` or ``unit_demand``.

    Raises:
        ValueError: the participation model is for another number of bidders.
    """

    def __init__(self, prior: Prior, participation: Participation | None = None, valuation: str = "additive") -> None:
        self.prior = prior
        self.valuation = valuation
        self.n_bidders, self.n_items = prior.n_bidders, prior.n_items
        if participation is None:
            from mechanisms.participation import Always

            participation = Always(self.n_bidders)
        self.participation = participation
        if self.participation.n_bidders != self.n_bidders:
            raise ValueError(
                f"participation model is for {self.participation.n_bidders} bidders, prior for {self.n_bidders}"
            )

    @classmethod
    def from_config(cls, config: SettingConfig | Mapping[str, Any], *, prefix: str = "setting") -> Setting:
        """Build the prior and participation model a config names.

        Raises:
            ConfigError: an unknown name or parameter, located under ``prefix``.
        """
        cfg = config if isinstance(config, SettingConfig) else parse(SettingConfig, config, prefix=prefix)
        prior = build_prior(cfg, prefix=prefix)
        participation = build_participation(cfg, prefix=prefix)
        return cls(prior, participation, cfg.valuation)

    def spec(self) -> dict[str, Any]:
        """The setting as model cards store it (rebuilds with :meth:`from_config`)."""
        return {
            "n_bidders": self.n_bidders,
            "n_items": self.n_items,
            "prior": self.prior.spec(),
            "valuation": self.valuation,
            "participation": self.participation.spec(),
        }

    def check(self, mechanism: Mechanism) -> None:
        """Raise ``ValueError`` if ``mechanism`` is built for another size or valuation kind."""
        if self.valuation not in mechanism.valuations:
            raise ValueError(
                f"mechanism {type(mechanism).__name__} supports {', '.join(mechanism.valuations)} valuations, "
                f"not {self.valuation}"
            )
        for what, want, got in (
            ("bidders", self.n_bidders, mechanism.n_bidders),
            ("items", self.n_items, mechanism.n_items),
        ):
            if got is not None and got != want:
                raise ValueError(
                    f"mechanism {type(mechanism).__name__} is built for {got} {what}, the setting has {want}"
                )

    def sample(
        self, batch: int, generator: torch.Generator | None, device: torch.device | str | None = None
    ) -> tuple[Tensor, Tensor]:
        """Draw valuations ``(batch, n_bidders, n_items)`` and participation ``(batch, n_bidders)``."""
        valuations = self.prior.sample(batch, generator, device)
        return valuations, self.participation.sample(batch, generator, valuations.device)

    def bid_bounds(self, device: torch.device | str) -> tuple[Tensor, Tensor]:
        """``(low, high)`` of the bid space, each ``(n_bidders, n_items)``: 0 and the upper support."""
        _, high = self.prior.bounds(device)
        return high.new_zeros(high.shape), high

    def resolve(
        self,
        mechanism: Mechanism,
        valuations: Tensor,
        participation: Tensor,
        bids: Tensor,
        generator: torch.Generator | None,
        *,
        check: bool = True,
    ) -> RoundBatch:
        """Run ``mechanism`` on ``bids`` and score the outcome.

        Args:
            mechanism: the auction.
            valuations: ``(batch, n_bidders, n_items)``.
            participation: ``(batch, n_bidders)`` bool.
            bids: ``(batch, n_bidders, n_items)``; absent bidders' bids are zeroed here, and
                the mechanism runs with ``participation`` (:meth:`Mechanism.run`'s ``present``).
            generator: randomness for the mechanism (tie-breaking, noise).
            check: validate the bids (shape, finite, >= 0) before running.
        """
        if self.participation.always:
            outcome = mechanism.run(bids, generator=generator, check=check)
        else:
            bids = bids * participation.unsqueeze(-1).to(bids.dtype)  # what the record shows
            outcome = mechanism.run(bids, generator=generator, check=check, present=participation)
        return RoundBatch(valuations, participation, bids, outcome, outcome.utilities(valuations))

    def resolve_numpy(
        self,
        mechanism: Mechanism,
        valuations: np.ndarray,
        participation: np.ndarray,
        bids: np.ndarray,
        generator: torch.Generator | None,
    ) -> RoundArrays:
        """:meth:`resolve` for a small CPU batch of validated NumPy bids (the PettingZoo step).

        The same round: absent bidders' bids are zeroed, they get nothing and pay nothing. The
        mechanism runs through :meth:`Mechanism.run_numpy` (NumPy twins of the exact and most
        learned mechanisms; others through :meth:`Mechanism.run`), and utilities are
        summed in NumPy, so they may differ from :meth:`resolve`'s in the last bit.
        """
        if self.participation.always:
            allocation, payments, items = mechanism.run_numpy(bids, generator=generator)
        else:
            bids = bids * participation.astype(bids.dtype)[..., None]  # what the record shows
            allocation, payments, items = mechanism.run_numpy(bids, generator=generator, present=participation)
        utilities = (valuations * allocation).sum(-1) - payments
        return RoundArrays(valuations, participation, bids, allocation, payments, items, utilities)

    def truthful_utility(
        self, mechanism: Mechanism, played: RoundBatch, bidder: int, generator: torch.Generator | None
    ) -> Tensor:
        """``(batch,)`` what ``bidder`` would have earned bidding its values in the rounds ``played``
        (the others' bids unchanged): the baseline of a strategic bidder's gain over truthful bidding."""
        low, high = self.bid_bounds(played.valuations.device)
        bids = played.bids.clone()
        bids[:, bidder] = played.valuations[:, bidder].clamp(low[bidder], high[bidder])
        return self.resolve(mechanism, played.valuations, played.participation, bids, generator, check=False).utilities[
            :, bidder
        ]


def build_prior(config: SettingConfig, *, prefix: str = "setting") -> Prior:
    """The prior ``config`` names, for its size; errors are located under ``prefix.prior``."""
    from mechanisms.priors import prior_registry

    size = {"n_bidders": config.n_bidders, "n_items": config.n_items}
    prior = build_named(
        f"{prefix}.prior", prior_registry, config.prior.type, "type", context=size, **config.prior.params
    )
    check_prior(prior, config, prefix=prefix)
    return prior


def check_prior(prior: Prior, config: SettingConfig, *, prefix: str = "setting") -> None:
    """Raise :class:`ConfigError` if ``prior`` is for another size than ``config``."""
    if (prior.n_bidders, prior.n_items) != (config.n_bidders, config.n_items):
        raise ConfigError(
            f"prior is for {prior.n_bidders}x{prior.n_items}, the setting is {config.n_bidders}x{config.n_items}",
            f"{prefix}.prior",
        )


def build_participation(config: SettingConfig, *, prefix: str = "setting") -> Participation:
    """The participation model ``config`` names; errors are located under ``prefix.participation``."""
    from mechanisms.participation import registry as participation_registry

    return build_named(
        f"{prefix}.participation",
        participation_registry,
        config.participation.model,
        "model",
        context={"n_bidders": config.n_bidders},
        **config.participation.params,
    )
