"""Output noise on learned mechanisms: feasible, IR, seeded, exact at sigma 0, expected in regret."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mechanisms
from mechanisms.evaluation import evaluate
from mechanisms.noise import ExpectedOutcome

PRIOR = mechanisms.make_prior(2, 2)


def _net(name: str = "regretnet", **params):
    ctx = {"prior": PRIOR, "n_bidders": 2, "n_items": 2}
    return mechanisms.make(name, context=ctx, checkpoint="2x2", **params).eval()


@settings(max_examples=25, deadline=None)
@given(sigma=st.floats(0.0, 50.0), seed=st.integers(0, 2**31 - 1), name=st.sampled_from(["regretnet", "algnet"]))
def test_noise_keeps_outcomes_feasible_and_ir(sigma: float, seed: int, name: str) -> None:
    """For any sigma, each item's allocation sums to at most 1 and truthful utilities are >= 0."""
    net = _net(name, noise_std=sigma)
    gen = torch.Generator().manual_seed(seed)
    v = torch.rand(64, 2, 2, generator=gen)
    with torch.no_grad():
        out = net.run(v, generator=gen)
    assert bool((out.allocation >= 0).all()) and bool((out.allocation.sum(1) <= 1 + 1e-5).all())
    assert bool((out.utilities(v) >= -1e-6).all())


def test_sigma_zero_is_the_noiseless_mechanism() -> None:
    """noise_std = 0 gives exactly the outputs of the mechanism without noise, whatever the generator."""
    v = torch.rand(32, 2, 2, generator=torch.Generator().manual_seed(1))
    a = _net().run(v, generator=torch.Generator().manual_seed(2))
    b = _net(noise_std=0.0).run(v, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.allocation, b.allocation) and torch.equal(a.payments, b.payments)


def test_seeded_noise_repeats_and_differs_across_seeds() -> None:
    """The same generator seed gives the same noisy outcome; another seed another one."""
    net = _net(noise_std=0.3)
    v = torch.rand(16, 2, 2, generator=torch.Generator().manual_seed(4))
    run = lambda s: net.run(v, generator=torch.Generator().manual_seed(s)).allocation  # noqa: E731
    assert torch.equal(run(5), run(5)) and not torch.equal(run(5), run(6))


def test_noise_is_settable_from_a_scenario() -> None:
    """env.mechanism.params.noise_std reaches the mechanism; a negative sigma is a clear config error."""
    from auction_env import ConfigError
    from auction_env.setting import build_setting

    setting = build_setting({"mechanism": {"name": "regretnet", "params": {"checkpoint": "2x2", "noise_std": 0.2}}})
    assert setting.mechanism.noise_std == 0.2
    with pytest.raises(ConfigError, match="noise_std"):
        build_setting({"mechanism": {"name": "regretnet", "params": {"checkpoint": "2x2", "noise_std": -1}}})


def test_expected_outcome_averages_draws() -> None:
    """The expected outcome over many draws approaches the mean of single noisy runs."""
    net = _net(noise_std=0.5)
    v = torch.rand(1, 2, 2, generator=torch.Generator().manual_seed(7))
    gen = torch.Generator().manual_seed(8)
    with torch.no_grad():
        expected = ExpectedOutcome(net, 4000).run(v, generator=gen)
        singles = torch.stack([net.run(v, generator=gen).allocation for _ in range(4000)]).mean(0)
    assert torch.allclose(expected.allocation, singles, atol=0.02)


@pytest.mark.slow
def test_evaluator_states_noise_draws() -> None:
    """Regret of a noisy mechanism is measured on expected utilities, and the protocol says so."""
    result = evaluate(_net(noise_std=0.2), PRIOR, profiles=20, protocol="weak", noise_draws=4)
    noiseless = evaluate(_net(), PRIOR, profiles=20, protocol="weak", noise_draws=4)
    assert "4 noise draws" in result.protocol and "noise draws" not in noiseless.protocol
    # the attack finds a profitable lie, and the noise changes what it finds on the same profiles
    assert result.regret_mean > 0 and result.regret_mean != noiseless.regret_mean
