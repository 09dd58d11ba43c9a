"""Observers: model inversion recovers bids of an invertible mechanism; the prior guess does not."""

from __future__ import annotations

import pytest
import torch

import mechanisms
from agents import observers
from mechanisms.base import Mechanism, Outcome


class SoftmaxAuction(Mechanism):
    """A smooth, invertible toy mechanism: softmax of 4 x bids over bidders and a dummy row."""

    differentiable = True

    def outcome(self, bids: torch.Tensor, generator: torch.Generator | None) -> Outcome:
        logits = torch.cat((4 * bids, torch.zeros_like(bids[:, :1])), dim=1)
        allocation = torch.softmax(logits, dim=1)[:, :-1]
        return Outcome(allocation, 0.5 * (allocation * bids).sum(-1))


PRIOR = mechanisms.make_prior(2, 2)


def _truth(batch: int = 64):
    v = PRIOR.sample(batch, torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = SoftmaxAuction(2, 2).run(v)
    return v, out


def test_levenberg_marquardt_inverts_exactly_and_stops_early() -> None:
    """The default solver (LM on log outcomes) recovers every bid of an invertible mechanism to
    1e-3 in a few dozen steps, from plain prior draws and from screened candidates alike."""
    v, out = _truth()
    for candidates in (0, 64):
        inv = observers.make(
            "inversion", context={"mechanism": SoftmaxAuction(2, 2), "prior": PRIOR}, restarts=2, candidates=candidates
        )
        guess = inv.reconstruct(out.allocation, out.payments, generator=torch.Generator().manual_seed(1))
        assert (guess - v).abs().max().item() < 1e-3
        assert inv.steps_taken < 60


def test_levenberg_marquardt_beats_adam_at_equal_budget_of_passes() -> None:
    """On a saturating mechanism (logits x 12), LM's 40 steps recover more bids than 400 Adam steps."""

    class Sharp(SoftmaxAuction):
        def outcome(self, bids, generator):
            return super().outcome(3 * bids, generator)

    v, _ = _truth(128)
    with torch.no_grad():
        out = Sharp(2, 2).run(v)
    scores = {}
    for solver, iterations in (("lm", 40), ("adam", 400)):
        inv = observers.make(
            "inversion",
            context={"mechanism": Sharp(2, 2), "prior": PRIOR},
            solver=solver,
            iterations=iterations,
            restarts=2,
            candidates=0,
        )
        guess = inv.reconstruct(out.allocation, out.payments, generator=torch.Generator().manual_seed(1))
        scores[solver] = ((guess - v).abs() <= 0.02).float().mean().item()
    assert scores["lm"] > scores["adam"] and scores["lm"] > 0.95


def test_inversion_recovers_invertible_mechanism() -> None:
    """Projected Adam on eq. 5 finds bids within ±0.02 for nearly every entry, and stops early."""
    v, out = _truth()
    inv = observers.make(
        "inversion",
        context={"mechanism": SoftmaxAuction(2, 2), "prior": PRIOR},
        solver="adam",
        iterations=3000,
        lr=0.02,
        restarts=2,
        candidates=0,
        objective="outcome",
    )
    guess = inv.reconstruct(out.allocation, out.payments, generator=torch.Generator().manual_seed(1))
    assert ((guess - v).abs() <= 0.02).float().mean().item() >= 0.95
    assert inv.steps_taken < 3000
    assert bool((guess >= 0).all()) and bool((guess <= 1).all())


def test_with_bids_threat_model_keeps_own_bids() -> None:
    """In the "with bids" model the observer's own row is its bid, exactly."""
    v, out = _truth(16)
    for solver in ("lm", "adam"):
        inv = observers.make(
            "inversion", context={"mechanism": SoftmaxAuction(2, 2), "prior": PRIOR}, solver=solver, iterations=50
        )
        guess = inv.reconstruct(
            out.allocation, out.payments, own_bids=v[:, 1], bidder=1, generator=torch.Generator().manual_seed(2)
        )
        assert torch.equal(guess[:, 1], v[:, 1])


def test_prior_guess_is_a_random_baseline() -> None:
    """A guess from U[0,1] lands within ±0.02 about 4% of the time, with MAE about 1/3."""
    v = PRIOR.sample(20_000, torch.Generator().manual_seed(3))
    guess = observers.make("prior_guess", context={"prior": PRIOR}).reconstruct(
        torch.zeros_like(v), torch.zeros(v.shape[:2]), generator=torch.Generator().manual_seed(4)
    )
    err = (guess - v).abs()
    assert abs((err <= 0.02).float().mean().item() - 0.0396) < 0.006
    assert abs(err.mean().item() - 1 / 3) < 0.01


def test_search_inverts_without_gradients() -> None:
    """The derivative-free solver (the default for argmax mechanisms) recovers what an outcome
    reveals: in second price a bidder that wins one item pays the other's bid on it, so when the
    two items go to different bidders nearly every losing bid is recovered; on a smooth
    invertible mechanism it recovers most bids too."""
    second_price = mechanisms.make("second_price")
    v = PRIOR.sample(100, torch.Generator().manual_seed(2))
    with torch.no_grad():
        out = second_price.run(v)
    inv = observers.make("inversion", context={"mechanism": second_price, "prior": PRIOR})
    assert inv.solver == "search" and inv.objective == "outcome"
    guess = inv.reconstruct(out.allocation, out.payments, generator=torch.Generator().manual_seed(1))
    split = (out.allocation.sum(-1) == 1).all(-1)  # each bidder wins exactly one item
    losing = (out.allocation == 0) & split.view(-1, 1, 1)
    assert split.sum() > 20
    assert ((guess - v).abs() <= 0.02)[losing].float().mean().item() >= 0.9
    v, out = _truth()
    inv = observers.make(
        "inversion", context={"mechanism": SoftmaxAuction(2, 2), "prior": PRIOR}, solver="search", iterations=300
    )
    guess = inv.reconstruct(out.allocation, out.payments, generator=torch.Generator().manual_seed(1))
    assert ((guess - v).abs() <= 0.02).float().mean().item() >= 0.9


def test_inversion_rejects_gradient_solvers_without_gradients_and_bad_parameters() -> None:
    """Gradient solvers on an argmax mechanism and invalid settings fail at construction with a clear message."""
    myerson = mechanisms.make("myerson", context={"prior": PRIOR})
    for solver in ("lm", "adam"):
        with pytest.raises(Exception, match="gradients"):
            observers.make("inversion", context={"mechanism": myerson, "prior": PRIOR}, solver=solver)
    with pytest.raises(Exception, match="init"):
        observers.make("inversion", context={"mechanism": SoftmaxAuction(2, 2), "prior": PRIOR}, init="psychic")
    with pytest.raises(Exception, match="solver"):
        observers.make("inversion", context={"mechanism": SoftmaxAuction(2, 2), "prior": PRIOR}, solver="newton")


def test_observer_plays_in_the_environment() -> None:
    """An inversion observer acting on env observations reconstructs the previous round's bids."""
    import numpy as np

    import auction_env

    env = auction_env.parallel_env(
        n_bidders=2, n_items=2, mechanism={"name": "regretnet", "params": {"checkpoint": "2x2"}}, observer={}, rounds=5
    )
    obs, _ = env.reset(seed=0)
    inv = observers.make(
        "inversion", context={"mechanism": env.mechanism, "prior": env.prior}, iterations=30, restarts=2, candidates=32
    )
    rewards = []
    while env.agents:
        guess = inv.act(
            torch.from_numpy(obs["observer"]).unsqueeze(0),
            n_bidders=2,
            n_items=2,
            generator=torch.Generator().manual_seed(0),
        )[0]
        actions = {a: o[:-2] for a, o in obs.items() if a != "observer"}
        obs, reward, _, _, infos = env.step({**actions, "observer": guess.numpy()})
        rewards.append(reward["observer"])
    assert rewards[0] == 0.0 and np.mean(rewards[1:]) > -0.1  # far better than a random guess (MAE 1/3)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_naive_myerson_guessing_respects_lemma_a1(n: int) -> None:
    """In simulation the naive strategy's accuracy is at least the bound of Lemma A.1."""
    from agents.observers.myerson import naive_accuracy_bound
    from auction_env.experiments.privacy import score_reconstruction

    prior = mechanisms.make_prior(n, 1)
    gen = torch.Generator().manual_seed(n)
    v = prior.sample(20_000, gen)
    out = mechanisms.make("myerson", context={"prior": prior}).run(v, generator=gen)
    guess = observers.make("myerson_naive", context={"prior": prior}).reconstruct(
        out.allocation, out.payments, item_payments=out.item_payments
    )
    assert score_reconstruction(guess, v).recovery_rate >= naive_accuracy_bound(n, 0.5)


def test_intelligent_myerson_guess_on_hand_cases() -> None:
    """Unsold: r/2; sold at the reserve: winner (r+1)/2, loser r/2; above: loser = price, winner (p+1)/2."""
    prior = mechanisms.make_prior(2, 3)
    bids = torch.tensor([[[0.2, 0.7, 0.9], [0.1, 0.3, 0.6]]])
    out = mechanisms.make("myerson", context={"prior": prior}).run(bids)
    guess = observers.make("myerson_intelligent", context={"prior": prior}).reconstruct(
        out.allocation, out.payments, item_payments=out.item_payments
    )
    expected = torch.tensor([[[0.25, 0.75, 0.8], [0.25, 0.25, 0.6]]])
    assert torch.allclose(guess, expected)
    # Without per-item payments, bidder 0's total (0.5 + 0.6) is split over its two items.
    split = observers.make("myerson_naive", context={"prior": prior}).reconstruct(out.allocation, out.payments)
    assert torch.allclose(split[0, :, 1:], torch.full((2, 2), 0.55))
