"""RegretNet training: augmented Lagrangian on revenue and per-bidder regret (Dütting et al.).

Loss (certifying paper, eq. 2; Dütting et al. per-bidder form):

    L = -E[sum_i p_i] + sum_i lambda_i rgt_i + rho / 2 sum_i rgt_i^2

where ``rgt_i`` is bidder i's mean ex-post regret on the batch, estimated by an inner
projected-gradient-ascent loop over misreports that are stored per training profile and
warm-started across iterations, as in the original code. ``lambda_i += rho * rgt_i`` every
``lagrange_every`` iterations; ``rho += rho_increment`` every ``rho_every`` iterations.

Two optional additions (off by default, i.e. the original method):
* ``regret_target`` eps: treat the constraint as ``rgt_i <= eps`` and update
  ``lambda_i = max(0, lambda_i + rho * (rgt_i - eps))``, so the multipliers settle where the
  training regret is about eps instead of growing for ever (since ``rgt_i >= 0`` the original
  update only ever raises them, which keeps trading revenue away late in training);
* ``lr_decay`` / ``lr_decay_every``: multiply the learning rate by ``lr_decay`` periodically.

Three more, for certifiable networks (Curry et al. 2020, :class:`mechanisms.learned.certnet.CertNet`):
* ``ir_penalty`` mu: adds ``mu * sum_i (mean(irv_i) + mean(irv_i^2))``, ``irv_i = max(p_i -
  <a_i, b_i>, 0)`` (eq. 7), for networks whose payments are not IR by construction. Eq. 8 has
  only the squared term; with a fixed mu it settles where its slope matches the revenue's,
  at a mean violation near 1/(2 mu), whereas the linear (exact)
  term with mu > 1 makes every violating unit of payment cost more than it earns;
* ``teacher`` + ``distill``: adds ``distill * (MSE(allocation) + MSE(payments))`` against a
  shipped checkpoint or an exact registered mechanism such as ``myerson`` (distillation, §3.2),
  which stabilises the IR-penalty training; with ``distill_iterations`` K > 0 only the first K
  iterations distill (a warm start from the teacher, then the plain objective);
* ``relu_stability`` w: adds ``w * mean(-tanh(1 + u * l))`` over the trunk's neurons, ``(l, u)``
  their interval bounds when one bidder's bid ranges over its whole support (the certifier's
  search space) and the others' are fixed (Xiao et al. 2019, §3.3): stable ReLUs need no
  binary variable in the MIP.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mechanisms.base import Mechanism
from mechanisms.learned.base import LearnedMechanism
from mechanisms.priors import Prior
from mechanisms.search import deviation_utilities, pgd_ascent
from mechanisms.training.data import ProfileDataset
from mechanisms.training.distributed import Distributed, wrap

__all__ = ["RegretNetTrainer"]


class RegretNetTrainer:
    """One call of :meth:`step` is one training iteration.

    Args:
        model: the mechanism being trained.
        data: training profiles.
        low, high: ``(n, m)`` misreport bounds (the value support).
        generator: randomness (misreport initialisation).
        batch_size: profiles per iteration (paper: 128).
        lr: Adam learning rate of the network (paper: 1e-3).
        misreport_lr, misreport_steps, misreport_inits: inner loop (paper: 0.1, 25, 10).
        lagrange_init, lagrange_every: initial multipliers and update period in iterations (paper: 5, 100).
        rho, rho_increment, rho_every: quadratic penalty, its increment and period in iterations.
        regret_target: regret budget eps of the multiplier update (0: the original update).
        lr_decay, lr_decay_every: step decay of the learning rate (every 0 iterations: none).
        ir_penalty, teacher, distill, distill_iterations, relu_stability: the optional terms above.
        parallel: the process group under torchrun (injected).
        prior: the valuation prior (injected; an exact teacher such as ``myerson`` needs it).
    """

    def __init__(
        self,
        model: LearnedMechanism,
        data: ProfileDataset,
        low: Tensor,
        high: Tensor,
        generator: torch.Generator,
        *,
        batch_size: int = 128,
        lr: float = 1e-3,
        misreport_lr: float = 0.1,
        misreport_steps: int = 25,
        misreport_inits: int = 10,
        lagrange_init: float = 5.0,
        lagrange_every: int = 100,
        rho: float = 1.0,
        rho_increment: float = 5.0,
        rho_every: int = 10_000,
        regret_target: float = 0.0,
        lr_decay: float = 1.0,
        lr_decay_every: int = 0,
        ir_penalty: float = 0.0,
        teacher: str | None = None,
        distill_iterations: int = 0,
        distill: float = 0.0,
        relu_stability: float = 0.0,
        parallel: Distributed | None = None,
        prior: Prior | None = None,
    ) -> None:
        for name, value in (
            ("batch_size", batch_size),
            ("misreport_inits", misreport_inits),
            ("lagrange_every", lagrange_every),
            ("rho_every", rho_every),
        ):
            if value < 1:
                raise ValueError(f"{name} must be >= 1")
        if misreport_steps < 0 or lr <= 0 or misreport_lr <= 0:
            raise ValueError("misreport_steps must be >= 0; lr and misreport_lr must be > 0")
        if regret_target < 0 or not 0 < lr_decay <= 1 or lr_decay_every < 0:
            raise ValueError("regret_target must be >= 0, lr_decay in (0, 1], lr_decay_every >= 0")
        if ir_penalty < 0 or distill < 0 or relu_stability < 0:
            raise ValueError("ir_penalty, distill and relu_stability must be >= 0")
        if (teacher is None) != (distill == 0):
            raise ValueError(
                "distillation needs both a teacher (a checkpoint or an exact mechanism) and a distill weight > 0"
            )
        if distill_iterations < 0 or (distill_iterations and teacher is None):
            raise ValueError(
                f"distill_iterations must be >= 0 (0: distill throughout) and needs a teacher, got {distill_iterations}"
            )
        if relu_stability > 0 and not hasattr(model, "interval_bounds"):
            raise ValueError(
                f"relu_stability needs a network with interval bounds (certnet), not {type(model).__name__}"
            )
        if parallel is not None:
            if batch_size % parallel.world:
                raise ValueError(f"batch_size {batch_size} must be divisible by the {parallel.world} processes")
            batch_size //= parallel.world  # each rank's share of the effective batch
        self.ir_penalty, self.distill, self.relu_stability = ir_penalty, distill, relu_stability
        self.teacher = _load_teacher(teacher, model, prior) if teacher is not None else None
        self.distill_iterations = distill_iterations
        self.regret_target, self.lr_decay, self.lr_decay_every = regret_target, lr_decay, lr_decay_every
        self.model, self.data, self.low, self.high = model, data, low, high
        self.batch_size, self.misreport_lr, self.misreport_steps = batch_size, misreport_lr, misreport_steps
        self.lagrange_every, self.rho_increment, self.rho_every = lagrange_every, rho_increment, rho_every
        self.parallel = parallel
        # The whole loss is one module's forward, so DistributedDataParallel sees every use of
        # the parameters (both outcome passes, the IBP regulariser) before the backward.
        self.objective = wrap(_Objective(self), parallel, data.valuations.device)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        n, m = data.valuations.shape[1:]  # the profiles' size (a network of any size trains on several)
        device = data.valuations.device
        shape = (len(data), n, misreport_inits, m)
        u = torch.rand(shape, generator=generator, device=generator.device).to(device)
        self.misreports = low.view(1, n, 1, m) + (high - low).view(1, n, 1, m) * u
        self.lagrange = torch.full((n,), float(lagrange_init), device=device)
        self.rho = float(rho)
        self.iteration = 0

    def step(self) -> dict[str, float]:
        """One iteration: refine this batch's misreports, then one Adam step on the network."""
        idx = self.data.next_indices(self.batch_size)
        v, present = self.data.valuations[idx], self.data.present(idx, self.model)
        self.model.requires_grad_(False)
        misreports, _ = pgd_ascent(
            self.model,
            v,
            self.misreports[idx],
            self.low,
            self.high,
            steps=self.misreport_steps,
            lr=self.misreport_lr,
            present=present,
        )
        self.model.requires_grad_(True)
        self.misreports[idx] = misreports

        loss, parts = self.objective(v, misreports, present)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        regret = (
            parts["regret"] if self.parallel is None else self.parallel.mean(parts["regret"])
        )  # multipliers stay in sync

        self.iteration += 1
        if self.iteration % self.lagrange_every == 0:
            self.lagrange = torch.clamp(self.lagrange + self.rho * (regret.detach() - self.regret_target), min=0.0)
        if self.lr_decay_every and self.iteration % self.lr_decay_every == 0:
            for group in self.optimizer.param_groups:
                group["lr"] *= self.lr_decay
        if self.iteration % self.rho_every == 0:
            self.rho += self.rho_increment
        metrics = {
            "revenue": parts.pop("revenue").item(),
            "regret": regret.mean().item(),
            "loss": loss.item(),
            "rho": self.rho,
            "lagrange": self.lagrange.mean().item(),
        }
        parts.pop("regret")
        return {**metrics, **{k: t.item() for k, t in parts.items()}}

    def loss(self, v: Tensor, misreports: Tensor, present: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """The augmented Lagrangian (plus the optional terms) on profiles ``v`` with their
        misreports (``present``: who takes part, for a mechanism that masks participation)."""
        outcome = self.model.run(v, check=False, present=present)
        revenue = outcome.payments.sum(-1).mean()
        u_true = outcome.utilities(v)
        u_mis = deviation_utilities(self.model, v, misreports, present=present).amax(-1)
        regret = torch.relu(u_mis - u_true).mean(0)  # (n,)
        loss = -revenue + (self.lagrange * regret).sum() + 0.5 * self.rho * (regret**2).sum()
        parts = {"revenue": revenue.detach(), "regret": regret.detach()}
        if self.ir_penalty:
            violation = torch.relu(outcome.payments - (outcome.allocation * v).sum(-1))
            parts["ir_violation"] = violation.mean().detach()
            loss = loss + self.ir_penalty * (violation.mean(0) + (violation**2).mean(0)).sum()
        if self.teacher is not None:  # reported throughout, in the loss only while distilling
            with torch.no_grad():
                target = self.teacher.run(v, check=False)
            distance = F.mse_loss(outcome.allocation, target.allocation) + F.mse_loss(outcome.payments, target.payments)
            parts["distill"] = distance.detach()
            if not self.distill_iterations or self.iteration < self.distill_iterations:
                loss = loss + self.distill * distance
        if self.relu_stability:
            instability = self._relu_instability(v)
            parts["relu_instability"] = instability.detach()
            loss = loss + self.relu_stability * instability
        return loss, parts

    def _relu_instability(self, v: Tensor) -> Tensor:
        """Mean ``-tanh(1 + u * l)`` over trunk neurons, profiles and bidders (Xiao et al. 2019)."""
        n = v.shape[1]
        low = v.unsqueeze(1).repeat(1, n, 1, 1)  # (b, n, n, m): box where bidder i's bid is free
        high = low.clone()
        own = torch.arange(n, device=v.device)
        low[:, own, own] = self.low
        high[:, own, own] = self.high
        bounds = self.model.interval_bounds(low.flatten(0, 1), high.flatten(0, 1))
        return torch.cat([-torch.tanh(1 + u * l) for l, u in bounds], dim=1).mean()

    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "misreports": self.misreports.cpu(),
            "lagrange": self.lagrange.cpu(),
            "rho": self.rho,
            "iteration": self.iteration,
            "data": self.data.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        device = self.misreports.device
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.misreports = state["misreports"].to(device)
        self.lagrange = state["lagrange"].to(device)
        self.rho, self.iteration = float(state["rho"]), int(state["iteration"])
        self.data.load_state_dict(state["data"])


class _Objective(nn.Module):
    """:meth:`RegretNetTrainer.loss` as a module around the model (what DDP wraps)."""

    def __init__(self, trainer: RegretNetTrainer) -> None:
        super().__init__()
        self.model = trainer.model
        self.__dict__["trainer"] = trainer  # not a submodule: the teacher stays out of DDP

    def forward(self, v: Tensor, misreports: Tensor, present: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        return self.__dict__["trainer"].loss(v, misreports, present)


def _load_teacher(name: str, student: LearnedMechanism, prior: Prior | None) -> Mechanism:
    """An exact registered mechanism (e.g. ``myerson``) or a shipped (or saved) checkpoint for
    the student's setting, frozen, on its device."""
    import mechanisms
    from mechanisms.learned.checkpoints import load_checkpoint

    if name in mechanisms.registry:  # a registered name or alias, e.g. myerson or vcg
        teacher = mechanisms.make(
            name, context={"n_bidders": student.n_bidders, "n_items": student.n_items, "prior": prior}
        )
        if isinstance(teacher, LearnedMechanism):
            raise ValueError(
                f"teacher '{name}' is an untrained network; name a checkpoint or an exact mechanism such as 'myerson'"
            )
        if not teacher.truthful:
            raise ValueError(
                f"teacher '{name}' is not strategyproof; distil from a truthful mechanism such as 'myerson'"
            )
        return teacher
    teacher = load_checkpoint(name)[0]
    if (teacher.n_bidders, teacher.n_items) != (student.n_bidders, student.n_items):
        raise ValueError(
            f"teacher '{name}' is for {teacher.n_bidders}x{teacher.n_items}, "
            f"the student for {student.n_bidders}x{student.n_items}"
        )
    return teacher.to(student.scale.device).eval().requires_grad_(False)
