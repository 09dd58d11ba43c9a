"""A learned misreport policy: a network from a bidder's values to its bids, trained white-box.

The ALGNet misreporter (Rahme et al. 2021, §3: a network that maps valuations to misreports,
trained by gradient ascent on the bidder's utility through the mechanism) turned into an agent
that plays in the environment: one forward pass per round, no per-round search. Trained by
:func:`train_misreporter` against the other bidders' fixed policies on profiles from the prior;
mechanisms without gradients (first price) are trained through their
:meth:`~mechanisms.base.Mechanism.relaxed_outcome` and played exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from agents.base import BidderPolicy
from agents.observation import bidder_observations, participating, values
from mechanisms.base import Mechanism, frozen_parameters
from mechanisms.priors import Prior

__all__ = ["MisreportNetwork", "LearnedMisreporter", "MisreportTraining", "train_misreporter", "load_misreporter"]


class MisreportNetwork(nn.Module):
    """``values (..., m) -> bids (..., m)`` in ``[0, high]``: an MLP whose sigmoid output scales
    the upper support, initialised close to truthful bidding (the identity on the support).

    Args:
        high: ``(n_items,)`` upper bid bounds.
        hidden, layers: the MLP's width and number of hidden layers.
    """

    def __init__(self, high: Tensor, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        m = high.numel()
        self.register_buffer("high", high.detach().float().clone())
        sizes = [m] + [hidden] * layers
        blocks: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            blocks += [nn.Linear(a, b), nn.Tanh()]
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(sizes[-1], m)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, v: Tensor) -> Tensor:
        scaled = (v / self.high).clamp(1e-4, 1 - 1e-4)
        logit = torch.log(scaled) - torch.log1p(-scaled)  # truthful when the head outputs 0
        return torch.sigmoid(logit + self.head(self.body(scaled))) * self.high


class LearnedMisreporter(BidderPolicy):
    """Bids ``network(values)``; an absent bidder's bid is its values (ignored by the env).

    Args:
        network: a trained :class:`MisreportNetwork`.
    """

    def __init__(self, network: MisreportNetwork) -> None:
        self.network = network.eval()

    def act(self, observations: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        v = values(observations)
        with torch.no_grad():
            bids = self.network.to(v.device)(v)
        return torch.where(participating(observations).unsqueeze(-1), bids, v)

    def save(self, path: str | Path) -> Path:
        """Write the network's weights (``torch.save`` of a plain state dict, loadable with
        ``weights_only=True``)."""
        path = Path(path)
        torch.save({"state": self.network.state_dict(), "shape": self._shape()}, path)
        return path

    def _shape(self) -> dict[str, int]:
        linears = [m for m in self.network.body if isinstance(m, nn.Linear)]
        return {"hidden": linears[0].out_features if linears else 0, "layers": len(linears)}


def load_misreporter(path: str, prior: Prior, bidder: int) -> LearnedMisreporter:
    """The policy :meth:`LearnedMisreporter.save` wrote, for ``bidder``'s seat (the scenario
    policy ``misreport_net``). The file is untrusted: it is read with ``weights_only=True`` (no
    code runs) and must match the seat's number of items.

    Raises:
        ValueError: a missing, unreadable or mismatched file (one line).
    """
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
        shape = data["shape"]
        network = MisreportNetwork(prior.high[bidder], int(shape["hidden"]), int(shape["layers"]))
        network.load_state_dict(data["state"])
    except FileNotFoundError:
        raise ValueError(f"misreport_net: no file {path}") from None
    except Exception as err:  # any malformed content: one line, never a traceback
        raise ValueError(
            f"misreport_net: {path} is not a misreport network for this seat ({type(err).__name__})"
        ) from None
    network.high.copy_(prior.high[bidder])
    return LearnedMisreporter(network)


@dataclass
class MisreportTraining:
    """What :func:`train_misreporter` returns: the policy and its training curve (the mean
    utility of the training batch every ``log_every`` iterations)."""

    policy: LearnedMisreporter
    iterations: list[int] = field(default_factory=list)
    utility: list[float] = field(default_factory=list)


def train_misreporter(
    mechanism: Mechanism,
    prior: Prior,
    bidder: int,
    opponents: Sequence[BidderPolicy | None],
    *,
    iterations: int = 2000,
    batch: int = 512,
    lr: float = 3e-3,
    hidden: int = 64,
    layers: int = 2,
    temperature: float = 0.02,
    seed: int = 0,
    log_every: int = 100,
    on_iteration: Callable[[int], None] | None = None,
) -> MisreportTraining:
    """Train a misreport network for ``bidder`` by Adam ascent on its expected utility.

    Every iteration draws ``batch`` profiles from ``prior`` (everyone present), lets the
    ``opponents`` bid on their observations (``opponents[bidder]`` is ignored), runs the
    mechanism (its :meth:`~mechanisms.base.Mechanism.relaxed_outcome` at ``temperature``) on
    the network's bid and the others', and steps on ``-mean(<v_i, a_i> - p_i)``.

    Raises:
        NotImplementedError: the mechanism has neither gradients nor a relaxation.
    """
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the network's initial weights
    network = MisreportNetwork(prior.high[bidder], hidden, layers)
    optimizer = torch.optim.Adam(network.parameters(), lr=lr)
    result = MisreportTraining(LearnedMisreporter(network))
    n = prior.n_bidders
    present = torch.ones(batch, n, dtype=torch.bool)
    with torch.inference_mode(False), frozen_parameters(mechanism):
        network.train()
        for it in range(1, iterations + 1):
            v = prior.sample(batch, generator)
            obs = bidder_observations(v, present, 0.0)
            with torch.no_grad():
                others = [
                    p.act(obs[:, j], generator=generator) if j != bidder and p is not None else v[:, j]
                    for j, p in enumerate(opponents)
                ]
            own = network(v[:, bidder])
            bids = torch.stack([own if j == bidder else others[j] for j in range(n)], dim=1)
            outcome = mechanism.relaxed_outcome(bids, temperature)
            utility = (v[:, bidder] * outcome.allocation[:, bidder]).sum(-1) - outcome.payments[:, bidder]
            loss = -utility.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if it % log_every == 0 or it == iterations:
                result.iterations.append(it)
                result.utility.append(float(-loss.detach()))
            if on_iteration is not None:
                on_iteration(it)
    network.eval()
    return result
