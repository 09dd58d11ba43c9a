"""Gradient misreporters: bids stay in the bid space, gains are >= 0 and match the evaluator."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import agents
import mechanisms
from auction_env.core import AuctionCore
from mechanisms.evaluation import PROTOCOLS, best_misreports, evaluate

SMALL = {"protocol": "weak", "starts": 2, "steps": 40}


def _setting(name: str, n: int = 2, m: int = 2, **prior):
    p = mechanisms.make_prior(n, m, **prior)
    params = {"checkpoint": "2x2"} if name == "regretnet" else {}
    mech = mechanisms.make(name, context={"prior": p, "n_bidders": n, "n_items": m}, **params).eval()
    return p, mech, AuctionCore(mech, p)


def _misreporter(p, mech, bidder=0, **params):
    ctx = {"prior": p, "mechanism": mech, "bidder": bidder, "n_bidders": p.n_bidders, "n_items": p.n_items}
    return agents.make("gradient", context=ctx, **params)


def _gain(core, policies, batch, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.inference_mode():
        played = core.play(policies, batch, gen)
        truthful = played.bids.clone()
        truthful[:, 0] = played.valuations[:, 0]
        base = core.resolve(played.valuations, played.participation, truthful, gen, check=False)
    return played, played.utilities[:, 0] - base.utilities[:, 0]


@pytest.mark.parametrize("mechanism", ["second_price", "myerson"])
@pytest.mark.parametrize("mode", ["oracle", "bayesian"])
def test_no_gain_on_truthful_mechanisms(mechanism: str, mode: str) -> None:
    """On DSIC mechanisms no misreport found beats truthful bidding beyond Monte Carlo noise."""
    p, mech, core = _setting(mechanism)
    policy = _misreporter(p, mech, mode=mode, **({"samples": 8} if mode == "bayesian" else {}))
    _, gain = _gain(core, [policy, agents.make("truthful")], 200, seed=1)
    if mode == "oracle":
        assert gain.max().item() <= 1e-5  # truthful is a candidate and is optimal ex post
    else:
        assert gain.mean().item() <= 3 * gain.std().item() / 200**0.5 + 1e-6


def test_oracle_gains_on_first_price() -> None:
    """Against a truthful opponent, first price leaves a large ex-post gain to a misreporter."""
    p, mech, core = _setting("first_price", m=1)
    _, gain = _gain(core, [_misreporter(p, mech), agents.make("truthful")], 300, seed=2)
    assert gain.min().item() >= -1e-6
    assert gain.mean().item() > 0.1


@pytest.mark.parametrize("mechanism", ["first_price", "regretnet"])
def test_bids_stay_in_the_bid_space(mechanism: str) -> None:
    """Bids lie in [0, upper support] of the bidder's own prior, asymmetric priors included."""
    prior = {"high": {"per_bidder": [1.0, 1.0]}} if mechanism == "regretnet" else {"high": {"per_bidder": [2.0, 0.5]}}
    p, mech, core = _setting(mechanism, **prior)
    for bidder in (0, 1):
        policies = [agents.make("truthful"), agents.make("truthful")]
        policies[bidder] = _misreporter(p, mech, bidder=bidder, **SMALL)
        gen = torch.Generator().manual_seed(3)
        with torch.inference_mode():
            played = core.play(policies, 100, gen)
        bids = played.bids[:, bidder]
        assert bool((bids >= 0).all()) and bool((bids <= p.high[bidder] + 1e-6).all())


def test_oracle_gain_matches_evaluator_regret() -> None:
    """On the same profiles and budget, the oracle's mean gain is the evaluator's regret of bidder 0."""
    p, mech, core = _setting("regretnet")
    gen = torch.Generator().manual_seed(4)
    with torch.inference_mode():
        v, part = core.sample(300, gen)
    policy = _misreporter(p, mech, **SMALL)
    from agents.observation import bidder_observations

    obs = bidder_observations(v, part, 0.0)
    with torch.inference_mode():
        bids = core.collect_bids([policy, agents.make("truthful")], obs, v, part, gen)
        played = core.resolve(v, part, bids, gen, check=False)
        truthful = core.resolve(v, part, v, gen, check=False)
    gain = (played.utilities[:, 0] - truthful.utilities[:, 0]).double()
    proto = dataclasses.replace(PROTOCOLS["weak"], random_starts=2, steps=40)
    result = evaluate(mech, p, protocol=proto, valuations=v, seed=5)
    regret = result.regret_per_bidder[0]["mean"]
    assert gain.mean().item() > 0  # RegretNet is not exactly strategyproof
    noise = 3 * gain.std().item() / 300**0.5
    assert abs(gain.mean().item() - regret) <= max(noise, 0.2 * regret)


def test_oracle_cannot_act_without_reports() -> None:
    """Outside the core the oracle has no reports to respond to, and says so."""
    p, mech, _ = _setting("second_price")
    with pytest.raises(TypeError, match="other bidders' reports"):
        _misreporter(p, mech).act(torch.zeros(1, 4))


@pytest.mark.parametrize("params", [{"mode": "psychic"}, {"steps": -1}, {"samples": 0}, {"protocol": "strongest"}])
def test_bad_parameters_fail_clearly(params: dict) -> None:
    """Unknown modes, negative budgets and unknown protocols are rejected at construction."""
    p, mech, _ = _setting("second_price")
    with pytest.raises(Exception, match="mode|steps|samples|protocol"):
        _misreporter(p, mech, **params)


def test_misreporter_is_seeded() -> None:
    """The same generator seed gives the same bids."""
    p, mech, core = _setting("regretnet")
    policy = _misreporter(p, mech, **SMALL)
    runs = []
    for _ in range(2):
        with torch.inference_mode():
            runs.append(core.play([policy, agents.make("truthful")], 50, torch.Generator().manual_seed(7)).bids)
    assert torch.equal(runs[0], runs[1])


@pytest.mark.parametrize("name", ["regretnet", "myerson"])
def test_evaluator_and_bidder_find_the_same_best_report(name: str) -> None:
    """The evaluator and the oracle gradient bidder run the one search: same profiles and budget
    (truthful start and the 41^2 grid, its best 2 refined by 300 Adam steps), same best report."""
    p, mech, _ = _setting(name)
    budget = dataclasses.replace(PROTOCOLS["default"], random_starts=0)  # random starts draw other numbers
    v = p.sample(64, torch.Generator().manual_seed(3))
    found = best_misreports(mech, p, v, protocol=budget)
    for bidder in range(2):
        policy = _misreporter(p, mech, bidder=bidder, protocol="default", starts=0)
        obs = torch.cat((v[:, bidder], torch.ones(64, 2)), dim=1)
        bids = policy.respond(obs, v, generator=torch.Generator().manual_seed(0))
        assert torch.allclose(bids, found[:, bidder], atol=1e-5), (bids - found[:, bidder]).abs().max()
