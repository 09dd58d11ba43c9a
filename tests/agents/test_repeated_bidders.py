"""Bidders for repeated auctions: the tabular Q-learner and the learned misreport network."""

from __future__ import annotations

import pytest
import torch

import agents
import mechanisms
from agents.bidders.misreport_net import MisreportNetwork, train_misreporter
from auction_env.config import EnvConfig, parse
from auction_env.dynamics import EpisodeBatch
from auction_env.runner import run_scenario
from auction_env.setting import build_policies, build_setting
from mechanisms import make_prior
from mechanisms.exact.first_price import FirstPrice


def qlearners(**params):
    env = dict(
        n_bidders=2,
        n_items=1,
        prior={"type": "constant", "value": 1.0},
        mechanism="first_price",
        feedback={"mode": "winning"},
        bidding={"levels": 11},
        rounds=50,
    )
    cfg = parse(EnvConfig, env)
    core = build_setting(cfg)
    from auction_env.config import AgentConfig

    policies = build_policies([parse(AgentConfig, {"policy": "qlearning", "params": params})], core)
    return EpisodeBatch.from_config(core, cfg), policies


def test_qlearner_takes_the_env_grid_and_checks_its_feedback():
    _, (q, _) = qlearners()
    assert q.levels == 11 and q.epsilon == 1.0
    prior = make_prior(2, 1)
    with pytest.raises(ValueError, match="need feedback mode 'winning' or 'public'"):
        agents.make(
            "qlearning",
            context={
                "prior": prior,
                "bidder": 0,
                "n_bidders": 2,
                "n_items": 1,
                "mechanism": FirstPrice(),
                "feedback": "own",
            },
            counterfactual=True,
        )
    with pytest.raises(ValueError, match="one item"):
        agents.make(
            "qlearning",
            context={"prior": make_prior(2, 2), "bidder": 0, "n_bidders": 2, "n_items": 2, "mechanism": FirstPrice()},
        )


@pytest.mark.parametrize("counterfactual", [False, True])
def test_qlearner_updates_the_played_entry_or_every_entry(counterfactual):
    engine, policies = qlearners(counterfactual=counterfactual, decay=0.0)
    g = torch.Generator().manual_seed(0)
    engine.reset(8, g)
    for p in policies:
        p.begin_episodes(8, g)
    before = policies[0].q.clone()
    engine.step(policies, g)
    changed = (policies[0].q != before).sum(-1)  # entries changed per episode and state
    assert changed.sum(-1).tolist() == ([11] * 8 if counterfactual else [1] * 8)


def test_counterfactual_utilities_follow_the_auction():
    _, (q, _) = qlearners(counterfactual=True)
    payoff = q._counterfactual(torch.tensor([1.0]), torch.tensor([0.4]), torch.Generator().manual_seed(0))
    grid = torch.linspace(0, 1, 11)
    expected = torch.where(grid > 0.4 + 1e-6, 1.0 - grid, torch.zeros(11))
    expected[4] = 0.5 * (1 - 0.4)  # a tie is won half the time; this draw decides it
    assert torch.allclose(payoff[0, :4], expected[:4]) and torch.allclose(payoff[0, 5:], expected[5:], atol=1e-6)
    assert payoff[0, 4].item() in (0.0, pytest.approx(0.6))


def test_collusion_scenario_is_seeded():
    """Q-learning episodes replay from the seed."""
    a = run_scenario("collusion_first_price", episodes=4, rounds=300, write=False, progress=False).summary
    b = run_scenario("collusion_first_price", episodes=4, rounds=300, write=False, progress=False).summary
    a.pop("wall_time_s"), b.pop("wall_time_s")
    assert a == b and 0 < a["revenue_ratio"] <= 1.0


def test_misreport_network_starts_truthful():
    net = MisreportNetwork(torch.tensor([1.0, 2.0]))
    v = torch.tensor([[0.3, 1.5], [0.9, 0.2]])
    assert torch.allclose(net(v), v, atol=1e-4)


def test_learned_misreporter_learns_to_shade_in_first_price():
    """Against the equilibrium bid v/2 the best response is v/2 (1 item, 2 U[0,1] bidders)."""
    trained = train_misreporter(
        FirstPrice(), make_prior(2, 1), 0, [None, agents.make("shading", factor=0.5)], iterations=400, seed=0
    )
    v = torch.linspace(0.1, 0.8, 8).unsqueeze(-1)
    slope = trained.policy.network(v).detach() / v
    assert ((slope > 0.4) & (slope < 0.6)).all(), slope.flatten()
    assert trained.utility[-1] > trained.utility[0]


def test_learned_misreporter_gains_nothing_much_on_a_strategyproof_network(tmp_path):
    """Against the shipped RegretNet 2x2 the gain is bounded by the mechanism's regret; the
    policy plays in the env (one forward pass per round) and saves weights-only."""
    prior = make_prior(2, 2)
    mech = mechanisms.make("regretnet", context={"n_bidders": 2, "n_items": 2, "prior": prior}, checkpoint="2x2")
    trained = train_misreporter(mech, prior, 0, [None, agents.make("truthful")], iterations=100, seed=0)
    assert abs(trained.utility[-1] - trained.utility[0]) < 0.01
    obs = torch.tensor([[0.5, 0.7, 1.0, 0.0], [0.2, 0.1, 0.0, 0.0]])
    bids = trained.policy.act(obs)
    assert bids.shape == (2, 2) and torch.equal(bids[1], obs[1, :2])  # absent: its values
    path = trained.policy.save(tmp_path / "misreport.pt")
    assert set(torch.load(path, weights_only=True)) == {"state", "shape"}


def test_saved_misreporter_loads_as_a_scenario_policy_and_bad_files_are_refused(tmp_path):
    prior = make_prior(2, 1)
    trained = train_misreporter(FirstPrice(), prior, 0, [None, agents.make("truthful")], iterations=20, seed=0)
    path = trained.policy.save(tmp_path / "m.pt")
    policy = agents.make("misreport_net", context={"prior": prior, "bidder": 0}, path=str(path))
    obs = torch.tensor([[0.6, 1.0, 0.0]])
    assert torch.equal(policy.act(obs), trained.policy.act(obs))
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    for bad, why in ((tmp_path / "bad.pt", "not a misreport network"), (tmp_path / "none.pt", "no file")):
        with pytest.raises(ValueError, match=why):
            agents.make("misreport_net", context={"prior": prior, "bidder": 0}, path=str(bad))
    with pytest.raises(ValueError, match="not a misreport network"):  # saved for one item, seat has two
        agents.make("misreport_net", context={"prior": make_prior(2, 2), "bidder": 0}, path=str(path))
