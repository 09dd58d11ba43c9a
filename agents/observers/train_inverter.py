"""Train a learned inverter for one mechanism and noise level on simulated auctions.

Every step draws a fresh batch of profiles from the prior, runs the mechanism (truthful bids,
output noise from a seeded generator) and fits :class:`~agents.observers.learned.InverterNet`
to map the public outcome back to the bids (L1 loss, i.e. the MAE the paper reports).
``auction-env train-inverter`` calls :func:`train_inverter` and :func:`save_inverter`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from agents.observers.learned import InverterNet
from agents.observers.scoring import score_reconstruction
from mechanisms import checkpoints
from mechanisms.base import Mechanism
from mechanisms.common.seeding import make_generators
from mechanisms.priors import Prior

__all__ = ["train_inverter", "save_inverter", "score_inverter"]


def train_inverter(
    mechanism: Mechanism,
    prior: Prior,
    *,
    steps: int = 20_000,
    batch_size: int = 1024,
    lr: float = 1e-3,
    hidden: int = 256,
    layers: int = 3,
    seed: int = 0,
    progress: bool = True,
) -> tuple[InverterNet, dict[str, Any]]:
    """Fit an inverter; the mechanism's current ``noise_std`` is the noise it learns to see through.

    Returns:
        The network (on CPU, eval mode) and a training record for the card.
    """
    from tqdm.auto import tqdm

    if steps < 1 or batch_size < 1 or not lr > 0:
        raise ValueError("steps and batch_size must be >= 1 and lr > 0")
    data_gen, noise_gen, init_gen = make_generators(seed, 3)
    low, high = prior.bounds("cpu")
    torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=init_gen)))
    net = InverterNet(prior.n_bidders, prior.n_items, low, high, hidden=hidden, layers=layers)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    start = time.perf_counter()
    bar = tqdm(range(steps), desc="train inverter", unit="step", disable=not progress)
    loss_value = float("nan")
    for step in bar:
        v = prior.sample(batch_size, data_gen)
        with torch.no_grad():
            out = mechanism.run(v, generator=noise_gen, check=False)
        loss = (net(out.allocation, out.payments) - v).abs().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 100 == 0:
            loss_value = loss.item()
            bar.set_postfix(mae=f"{loss_value:.4f}")
    net.eval()
    record = {
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "final_train_mae": loss_value,
        "wall_time_s": round(time.perf_counter() - start, 1),
        "torch": torch.__version__,
    }
    return net, record


def score_inverter(
    net: InverterNet,
    mechanism: Mechanism,
    prior: Prior,
    *,
    profiles: int = 10_000,
    seed: int = 1,
    tolerance: float = 0.02,
) -> dict[str, float]:
    """Recovery rate and MAE on fresh profiles (without bids), as in the privacy sweep."""
    sample_gen, noise_gen = make_generators(seed, 2)
    v = prior.sample(profiles, sample_gen)
    with torch.no_grad():
        out = mechanism.run(v, generator=noise_gen, check=False)
        guess = net(out.allocation, out.payments)
    return score_reconstruction(guess, v, tolerance=tolerance).to_dict()


def save_inverter(
    net: InverterNet,
    path: str | Path,
    *,
    target: str,
    noise_std: float,
    prior: Prior,
    training: dict[str, Any],
    evaluation: dict[str, Any] | None = None,
) -> Path:
    """Write ``path.pt`` and its card ``path.json`` atomically; returns the card path."""
    low, high = prior.bounds("cpu")
    card = {
        "kind": "learned_inverter",
        "target": {"checkpoint": target, "noise_std": float(noise_std)},
        "setting": {"n_bidders": prior.n_bidders, "n_items": prior.n_items, "low": low.tolist(), "high": high.tolist()},
        "architecture": net.architecture(),
        "training": training,
        "evaluation": evaluation,
    }
    return checkpoints.save(net, card, path)
