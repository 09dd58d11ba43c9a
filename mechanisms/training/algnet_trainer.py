"""ALGNet training (Rahme et al., 2021): auctioneer vs misreporter network, no Lagrange multipliers.

Auctioneer loss: ``-(sqrt(P) - sqrt(R)) + R`` with P the mean revenue and R the mean total
regret (sum over bidders) under the misreporter's lies, i.e. maximise ``sqrt(P) - sqrt(R)``
(Rahme et al.) with an extra penalty on R. The credible-auctions paper (§5.4) prints
``-(sqrt(P) - sqrt(R)) - R``; minimising that *rewards* regret (the loss falls as R grows, and
training drives regret up), so the sign of the last term is taken from the stated intent
"inclined towards auctions with low regret". The
misreporter maps true values to every bidder's lie ``sigmoid(out) x high`` (a point of the
support) and takes ``misreporter_steps`` Adam steps per auctioneer step on the deviating
bidders' utilities; it is re-initialised every ``reset_every`` iterations. A few PGD steps
from the misreporter's lies sharpen the regret estimate; with ``random_starts`` K > 0 each
bidder's PGD starts from the best of the misreporter's lie and K uniform draws from the support
(the evaluation attack's random starts, Dütting et al. §4, on a budget), so the estimate is less
bound to the misreporter's local optimum.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mechanisms.base import random_uniform
from mechanisms.learned.base import LearnedMechanism, init_weights, mlp
from mechanisms.search import deviation_utilities, keep_best, pgd_ascent
from mechanisms.training.data import ProfileDataset

__all__ = ["ALGNetTrainer", "Misreporter"]


class Misreporter(nn.Module):
    """Values ``(batch, n, m)`` -> each bidder's lie ``(batch, n, m)`` inside ``[low, high]``."""

    def __init__(
        self, n_bidders: int, n_items: int, low: Tensor, high: Tensor, hidden: int = 100, layers: int = 2
    ) -> None:
        super().__init__()
        self.net = nn.Sequential(mlp(n_bidders * n_items, hidden, layers), nn.Linear(hidden, n_bidders * n_items))
        self.register_buffer("low", low.clone())
        self.register_buffer("width", (high - low).clone())

    def forward(self, valuations: Tensor) -> Tensor:
        x = ((valuations - self.low) / self.width).flatten(1)
        return self.low + self.width * torch.sigmoid(self.net(x)).view_as(valuations)


class ALGNetTrainer:
    """One call of :meth:`step` is one auctioneer update.

    Args:
        model, data, low, high, generator: injected by the training loop.
        batch_size: profiles per iteration.
        lr: auctioneer Adam learning rate.
        misreporter_lr, misreporter_steps: misreporter Adam rate and updates per iteration.
        reset_every: re-initialise the misreporter every this many iterations.
        refine_steps, refine_lr: PGD steps from the misreporter's lies (0 disables).
        random_starts: uniform lies per bidder scored beside the misreporter's; PGD starts from
            the best (0: from the misreporter's lie alone).
    """

    def __init__(
        self,
        model: LearnedMechanism,
        data: ProfileDataset,
        low: Tensor,
        high: Tensor,
        generator: torch.Generator,
        *,
        batch_size: int = 512,
        lr: float = 1e-3,
        misreporter_lr: float = 1e-3,
        misreporter_steps: int = 5,
        reset_every: int = 1000,
        refine_steps: int = 10,
        refine_lr: float = 0.05,
        random_starts: int = 0,
    ) -> None:
        if batch_size < 1 or misreporter_steps < 0 or reset_every < 1 or refine_steps < 0 or random_starts < 0:
            raise ValueError("batch_size and reset_every must be >= 1; step counts >= 0")
        self.model, self.data, self.low, self.high = model, data, low, high
        self.batch_size, self.misreporter_steps, self.reset_every = batch_size, misreporter_steps, reset_every
        self.refine_steps, self.refine_lr, self.misreporter_lr = refine_steps, refine_lr, misreporter_lr
        self.random_starts = random_starts
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.generator = generator
        self.misreporter = Misreporter(*data.valuations.shape[1:], low, high).to(low.device)
        self._reset_misreporter()
        self.iteration = 0

    def _reset_misreporter(self) -> None:
        init_weights(self.misreporter, self.generator)
        self.misreporter_optimizer = torch.optim.Adam(self.misreporter.parameters(), lr=self.misreporter_lr)

    def _lies(self, v: Tensor) -> Tensor:
        """``(batch, n, 1, m)``: bidder i's lie in the misreporter's output row i."""
        return self.misreporter(v).unsqueeze(2)

    def _best_start(self, v: Tensor, lies: Tensor, present: Tensor | None) -> Tensor:
        """``(batch, n, 1, m)``: per bidder, the best of ``lies`` and ``random_starts`` uniform draws."""
        b, n, _, m = lies.shape
        u01 = random_uniform((b, n, self.random_starts, m), lies, self.generator)
        draws = self.low.unsqueeze(1) + (self.high - self.low).unsqueeze(1) * u01
        u_lies, u_draws = (deviation_utilities(self.model, v, x, present=present) for x in (lies, draws))
        return keep_best(lies, u_lies, draws, u_draws)[0]

    def step(self) -> dict[str, float]:
        idx = self.data.next_indices(self.batch_size)
        v, present = self.data.valuations[idx], self.data.present(idx, self.model)
        if self.iteration and self.iteration % self.reset_every == 0:
            self._reset_misreporter()
        self.model.requires_grad_(False)
        for _ in range(self.misreporter_steps):
            loss = -deviation_utilities(self.model, v, self._lies(v), present=present).mean()
            self.misreporter_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.misreporter_optimizer.step()
        with torch.no_grad():
            lies = self._lies(v)
            if self.random_starts:
                lies = self._best_start(v, lies, present)
        if self.refine_steps:
            lies, _ = pgd_ascent(
                self.model, v, lies, self.low, self.high, steps=self.refine_steps, lr=self.refine_lr, present=present
            )
        self.model.requires_grad_(True)

        outcome = self.model.run(v, check=False, present=present)
        revenue = outcome.payments.sum(-1).mean()
        u_true = outcome.utilities(v)
        u_mis = deviation_utilities(self.model, v, lies, present=present).squeeze(-1)
        regret = torch.relu(u_mis - u_true).mean(0)  # (n,)
        total = regret.sum()
        loss = -(torch.sqrt(revenue.clamp(min=1e-8)) - torch.sqrt(total + 1e-8)) + total
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.iteration += 1
        return {"revenue": revenue.item(), "regret": regret.mean().item(), "loss": loss.item()}

    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "misreporter": self.misreporter.state_dict(),
            "misreporter_optimizer": self.misreporter_optimizer.state_dict(),
            "iteration": self.iteration,
            "data": self.data.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.misreporter.load_state_dict(state["misreporter"])
        self.misreporter_optimizer.load_state_dict(state["misreporter_optimizer"])
        self.iteration = int(state["iteration"])
        self.data.load_state_dict(state["data"])
