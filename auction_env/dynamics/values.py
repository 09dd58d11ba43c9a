"""Valuations that move between the rounds of an episode.

Every (episode, bidder, item) keeps a latent quantile ``u`` in (0, 1) and its value is the
current prior's quantile of it (:meth:`mechanisms.priors.Prior.quantile`):

* ``iid``: a fresh ``u`` each round (the same draws as :meth:`Prior.sample`);
* ``persistent``: one ``u`` per episode, so values stay fixed within it;
* ``markov``: ``u = Phi(z)`` with ``z_{t+1} = rho z_t + sqrt(1 - rho^2) eps_t`` (a Gaussian AR(1)
  copula): values revert to the median, stay in the support, and each round's marginal is
  exactly the prior;
* ``shifts``: from a given round on the quantile is taken under another prior (a nonstationary
  prior; with persistent values a bidder keeps its rank in the new distribution).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from mechanisms.priors import Prior
from mechanisms.setting import Setting, SettingConfig, build_prior

__all__ = ["ValueProcess"]

#: Latent quantiles are kept this far inside (0, 1), so the normal quantile stays finite.
_EDGE = 1e-7


class ValueProcess:
    """The valuations of a batch of episodes, drawn round by round.

    Args:
        setting: the base prior (round 0 on) and the participation model.
        dynamics: ``iid``, ``persistent`` or ``markov``.
        persistence: markov's correlation ``rho`` of the latent normal between rounds, in [0, 1).
        shifts: ``(round, prior)`` pairs, rounds increasing and >= 1.
    """

    def __init__(
        self,
        setting: Setting,
        dynamics: str = "iid",
        persistence: float = 0.9,
        shifts: list[tuple[int, Prior]] | None = None,
    ) -> None:
        if dynamics not in ("iid", "persistent", "markov"):
            raise ValueError(f"dynamics must be iid, persistent or markov, got {dynamics!r}")
        self.setting = setting
        self.dynamics = dynamics
        self.persistence = float(persistence)
        self.schedule: list[tuple[int, Prior]] = [(0, setting.prior), *(shifts or [])]
        self.low = torch.stack([p.low for _, p in self.schedule]).amin(0)
        self.high = torch.stack([p.high for _, p in self.schedule]).amax(0)
        self._u: Tensor | None = None

    @classmethod
    def from_config(cls, setting: Setting, config, *, rounds: int, prefix: str = "env.values") -> ValueProcess:
        """Build from an ``env.values`` section (:class:`auction_env.config.ValuesConfig`) or None.

        A shift at or after round ``rounds`` never takes effect (an episode shortened for a quick
        run keeps its schedule).

        Raises:
            ConfigError: a shifted prior of another size or with bad parameters.
        """
        if config is None:
            return cls(setting)
        shifts = []
        for k, shift in enumerate(config.shifts):
            where = f"{prefix}.shifts[{k}]"
            size = SettingConfig(n_bidders=setting.n_bidders, n_items=setting.n_items, prior=shift.prior)
            shifts.append((shift.round, build_prior(size, prefix=where)))
        return cls(setting, config.dynamics, config.persistence, shifts)

    def prior_at(self, round_index: int) -> Prior:
        """The prior in force at ``round_index`` (0-based)."""
        prior = self.schedule[0][1]
        for start, shifted in self.schedule[1:]:
            if round_index >= start:
                prior = shifted
        return prior

    def reset(self) -> None:
        """Start new episodes: the next draw is a fresh one whatever the dynamics."""
        self._u = None

    def draw(
        self, round_index: int, batch: int, generator: torch.Generator | None, device: torch.device | str
    ) -> tuple[Tensor, Tensor]:
        """Valuations ``(batch, n_bidders, n_items)`` and participation ``(batch, n_bidders)`` of
        round ``round_index`` of every episode (participation is drawn afresh every round)."""
        gen_device = generator.device if generator is not None else torch.device("cpu")
        shape = (batch, self.setting.n_bidders, self.setting.n_items)
        u = self._u
        if u is None or self.dynamics == "iid":
            u = torch.rand(shape, generator=generator, device=gen_device).to(device)
        elif self.dynamics == "markov":
            rho = self.persistence
            eps = torch.randn(shape, generator=generator, device=gen_device).to(device)
            z = torch.special.ndtri(u.clamp(_EDGE, 1.0 - _EDGE))
            u = torch.special.ndtr(rho * z + math.sqrt(1.0 - rho * rho) * eps)
        self._u = u
        values = self.prior_at(round_index).quantile(u)
        return values, self.setting.participation.sample(batch, generator, values.device)
