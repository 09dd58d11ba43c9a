"""The credible protocol environment: auctioneer role, commitments, audits, penalty."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test

import auction_env
from auction_env.envs.credible import env as aec_env


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PettingZoo warns that the auctioneer's observation differs from the bidders'
        yield


SETTINGS = {
    "second_price": dict(mechanism="second_price"),
    "regretnet_noise_participation": dict(
        mechanism={"name": "regretnet", "params": {"checkpoint": "2x2", "noise_std": 0.2}},
        participation={"model": "independent", "p": 0.7},
    ),
    "equivariant_noise_participation": dict(  # absent bidders masked out of the network, audited alike
        mechanism={"name": "equivariant", "params": {"checkpoint": "equivariant_2x2_base", "noise_std": 0.2}},
        participation={"model": "independent", "p": 0.7},
    ),
    "myerson_shill": dict(mechanism="myerson", credible={"deviation": "shill_bid", "penalty": 1.0, "audits": 2}),
}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_pettingzoo_api(name: str) -> None:
    """Parallel, seed and AEC API tests pass with the auctioneer role."""
    make = lambda: auction_env.make("credible_v0", rounds=6, **SETTINGS[name])  # noqa: E731
    parallel_api_test(make(), num_cycles=30)
    parallel_seed_test(make, num_cycles=30)
    api_test(aec_env(rounds=6, **SETTINGS[name]), num_cycles=30)


def _play(choice: int, rounds: int = 6, **config):
    env = auction_env.make("credible_v0", rounds=rounds, **config)
    obs, _ = env.reset(seed=0)
    totals, infos_seen = {a: 0.0 for a in env.possible_agents}, []
    while env.agents:
        actions = {a: o[:-2] for a, o in obs.items() if a.startswith("bidder")}
        actions["auctioneer"] = choice
        obs, rewards, _, _, infos = env.step(actions)
        for a, r in rewards.items():
            totals[a] += r
        infos_seen.append(infos)
    return env, totals, infos_seen


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_honest_auctioneer_is_never_penalised(name: str) -> None:
    """Running the published mechanism passes every audit (all rounds audited)."""
    config = {k: v for k, v in SETTINGS[name].items() if k != "credible"}
    env, totals, infos = _play(0, credible={"penalty": 100.0, "audits": 6}, **config)
    final = infos[-1]["auctioneer"]
    assert final["caught"] is False and final["penalty"] == 0.0
    assert env.last_audit.audited_rounds == list(range(6)) and not env.last_audit.caught
    # no penalty: the auctioneer's reward is exactly the revenue it announced each round
    revenue = sum(i["auctioneer"]["revenue"] for i in infos if "revenue" in i.get("auctioneer", {}))
    assert revenue > 0 and totals["auctioneer"] == pytest.approx(revenue)


def test_deviation_in_an_audited_round_is_always_caught_and_penalised() -> None:
    """A deviation with aRgt > 0 in an audited round is caught; the penalty comes off the last reward."""
    env, totals, infos = _play(1, credible={"penalty": 100.0, "audits": 6}, mechanism="second_price")
    final = infos[-1]["auctioneer"]
    assert final["caught"] is True and final["penalty"] == 100.0 and "differ" in env.last_audit.reason
    revenue = sum(i["auctioneer"].get("revenue", 0.0) for i in infos)
    assert np.isclose(totals["auctioneer"], revenue - 100.0)
    deviations = [i["auctioneer"] for i in infos[1::2]]  # the run steps
    # every round deviates, never for less than the published revenue, and some rounds gain
    assert all(d["deviated"] and d["aRgt"] >= -1e-6 for d in deviations)
    assert max(d["aRgt"] for d in deviations) > 1e-3


def test_bidders_get_the_announced_outcome_and_absent_bidders_nothing() -> None:
    """Under max_revenue each winner pays its bid (utility 0 for truthful bidders); absent bidders get nothing."""
    env, totals, infos = _play(1, mechanism="second_price", participation={"model": "independent", "p": 0.5}, rounds=20)
    for step in infos:
        for agent in ("bidder_0", "bidder_1"):
            if "payment" in step.get(agent, {}) and not step[agent]["participating"]:
                assert step[agent]["payment"] == 0.0 and not step[agent]["allocation"].any()
    assert abs(totals["bidder_0"]) < 1e-5 and abs(totals["bidder_1"]) < 1e-5


def test_commitments_are_logged_and_bad_config_rejected() -> None:
    env, _, _ = _play(0, rounds=3)
    kinds = {(e.party, e.kind) for e in env.log.round(2)}
    assert kinds == {("auctioneer", "seed_share"), ("bidder_0", "bid"), ("bidder_1", "bid"), ("auctioneer", "outcome")}
    with pytest.raises(ValueError, match="deviation"):
        auction_env.make("credible_v0", credible={"deviation": "bribe"})
    with pytest.raises(ValueError, match="audits"):
        auction_env.make("credible_v0", rounds=2, credible={"audits": 3})


@pytest.mark.parametrize("deviation", ["max_revenue", "shill_bid", "seed_grind", "drop_bidder"])
def test_every_deviation_is_caught_when_audited(deviation: str) -> None:
    """Each deviation of ``agents.auctioneers.deviations`` changes the announced outcome under
    output noise, and an audit of every round catches it."""
    mechanism = {"name": "regretnet", "params": {"checkpoint": "2x2", "noise_std": 0.5}}
    credible = {"penalty": 100.0, "audits": 6, "deviation": deviation}
    env, totals, infos = _play(1, mechanism=mechanism, credible=credible)
    assert infos[-1]["auctioneer"]["caught"] and "differ" in env.last_audit.reason
    assert totals["auctioneer"] < 0  # the penalty outweighs six rounds of revenue


def test_penalty_above_the_bound_deters_in_credible_v0() -> None:
    """§4.1 through the environment: at penalty 1.1 T aRgt* the threshold auctioneer never
    deviates, and always deviating (one audit per episode) earns less than honesty."""
    from agents import auctioneers

    rounds, episodes = 5, 16
    penalty = 1.1 * rounds * 2.0  # aRgt* = 2 for 2 items on U[0,1]
    mechanism = {"name": "regretnet", "params": {"checkpoint": "2x2", "noise_std": 0.2}}
    totals = {}
    for name in ("honest", "threshold", "always_deviate"):
        policy, total, deviations = auctioneers.make(name), 0.0, 0
        env = auction_env.make(
            "credible_v0", rounds=rounds, mechanism=mechanism, credible={"penalty": penalty, "deviation": "seed_grind"}
        )
        for episode in range(episodes):
            obs, _ = env.reset(seed=episode)
            while env.agents:
                actions = {a: o[:-2] for a, o in obs.items() if a != "auctioneer"}
                regret = torch.tensor([float(obs["auctioneer"][-3])])
                actions["auctioneer"] = int(policy.decide(regret, penalty=penalty, rounds=rounds)[0])
                obs, rewards, _, _, infos = env.step(actions)
                total += rewards["auctioneer"]
                deviations += bool(infos["auctioneer"].get("deviated"))
        totals[name] = total / episodes
        if name == "threshold":
            assert deviations == 0
    assert totals["threshold"] == pytest.approx(totals["honest"])
    assert totals["always_deviate"] < totals["honest"] - penalty / 2


def test_auctioneer_action_is_checked_and_the_announced_outcome_is_what_everybody_sees() -> None:
    """The auctioneer's action is 0 or 1 (2, -1, 0.9 or "1" are refused naming it, in the parallel
    and the AEC view); after a deviation, last_outcome, last_round and state() show the announced
    outcome, which is what the rewards paid."""
    from auction_env.envs.credible import env as make_aec

    env = auction_env.make("credible_v0", rounds=3, mechanism="second_price")
    obs, _ = env.reset(seed=0)
    bids = {a: o[:-2] for a, o in obs.items() if a != "auctioneer"}
    obs, *_ = env.step({**bids, "auctioneer": 0})
    for bad in (2, -1, 0.9, "1", [0, 1]):
        with pytest.raises(ValueError, match="auctioneer: action must be 0"):
            env.step({**bids, "auctioneer": bad})
    _, rewards, _, _, _ = env.step({**bids, "auctioneer": np.int64(1)})
    n = len(env.bidder_agents)
    assert env.last_outcome.payments.sum() == pytest.approx(rewards["auctioneer"])
    assert float(env.last_round.outcome.payments.sum()) == pytest.approx(rewards["auctioneer"])
    state = env.state()
    assert state.shape == env.state_space.shape
    assert state[2 * n * 2 + n : 2 * n * 2 + 2 * n].sum() == pytest.approx(rewards["auctioneer"])  # last payments
    aec = make_aec(rounds=2, mechanism="second_price")
    aec.reset(seed=0)
    for agent in aec.agent_iter(2):
        aec.step(np.array([0.5, 0.5], dtype=np.float32))
    assert aec.agent_selection == "auctioneer"
    with pytest.raises(ValueError, match="auctioneer"):
        aec.step(2)
    aec.step(1)  # refused, then taken


def test_a_deviation_announced_on_tied_bids_breaks_ties_with_the_rounds_seed() -> None:
    """The max-revenue deviation, made in the run step only when announced, is the outcome of
    `deviate_numpy` with the generator seeded with the round's seed (ties broken by those draws):
    every tied item is sold once, at the tied bid. On tied bids second price charges the tied bid
    too, with the same draws: the deviation announces the published outcome (aRgt 0), and the
    audit of every round finds nothing."""
    from agents.auctioneers.deviations import deviate_numpy

    env = auction_env.make("credible_v0", rounds=40, mechanism="second_price", credible={"audits": 40})
    env.reset(seed=5)
    tie = np.array([0.6, 0.3], dtype=np.float32)
    winners = set()
    for round_ in range(40):
        obs, *_ = env.step({"bidder_0": tie, "bidder_1": tie, "auctioneer": 0})
        published = float(env._published.payments.sum())
        _, rewards, _, _, infos = env.step({"bidder_0": tie, "bidder_1": tie, "auctioneer": 1})
        seed = env._record.noise_seeds[round_]
        want = deviate_numpy(
            "max_revenue", env.core.mechanism, tie[None, None].repeat(2, 1), None, torch.Generator().manual_seed(seed)
        )
        assert np.array_equal(env.last_outcome.allocation, want[0][0])
        assert np.array_equal(env.last_outcome.payments, want[1][0])
        assert env.last_outcome.allocation.sum(0).tolist() == [1.0, 1.0]
        assert rewards["auctioneer"] == pytest.approx(0.9) == pytest.approx(published)
        assert obs["auctioneer"][4] == 0.0  # aRgt
        winners.add(tuple(env.last_outcome.allocation.argmax(0).tolist()))
    assert len(winners) > 1  # the draws differ between rounds: the ties are broken by the seeds
    assert not env.last_audit.caught and not infos["auctioneer"]["caught"]


@pytest.mark.parametrize("name", [*sorted(SETTINGS), "seed_grind", "drop_bidder"])
def test_the_log_built_when_read_holds_every_round_and_audits_as_the_env_did(name: str) -> None:
    """The env keeps each round's record and builds the log when it is first read; from then on
    it is kept up to date, so a log held since the reset shows the sealed round mid-round (seed
    share and bids, no outcome yet) and every round after. Its participation and seeds are the
    ones the env played, and the full audit of the log (chain, order, openings, participation,
    seed, Definition 4.1) gives the env's verdict on every round, whatever the deviation."""
    from auction_env.credible import check_log

    if name in SETTINGS:
        config = dict(SETTINGS[name])
        credible = {**config.pop("credible", {}), "audits": 8, "penalty": 1.0}
    else:  # the two deviations the settings above do not use, on RegretNet with noise
        config = dict(SETTINGS["regretnet_noise_participation"])
        credible = {"deviation": name, "audits": 8, "penalty": 1.0}
    env = auction_env.make("credible_v0", rounds=8, credible=credible, **config)
    obs, _ = env.reset(seed=3)
    held_log, held = env.log, env.transcript  # read once, kept up to date from here on
    choices = np.random.default_rng(0).integers(0, 2, size=8)
    seeds = []
    for t in range(8):
        bids = {a: o[:-2] for a, o in obs.items() if a != "auctioneer"}
        obs, *_ = env.step({**bids, "auctioneer": 0})
        seeds.append(env._noise_seed)
        kinds = [(e.party, e.kind) for e in held_log.round(t)]  # mid-round: up to the bids
        assert kinds[0] == ("auctioneer", "seed_share") and ("auctioneer", "outcome") not in kinds
        assert held.noise_seed(t) == seeds[-1]
        obs, *_ = env.step({**bids, "auctioneer": int(choices[t])})
        assert held_log.find(t, "auctioneer", "outcome") is not None
    assert env.transcript is held and env.log is held_log
    assert len(held.openings) == 8 and check_log(held_log, env.bidder_agents).ok
    assert [held.noise_seed(t) for t in range(8)] == seeds
    for t in range(8):
        assert np.array_equal(held.participation(t), env._record.participation[t])
    mechanism = env.core.mechanism
    full = held.audit(mechanism, list(range(8)))
    mine = [env._record.verify(mechanism, t) for t in range(8)]
    assert [v.ok for v in full] == [v.ok for v in mine] and [v.reason for v in full] == [v.reason for v in mine]
    assert env.last_audit.caught == (not all(v.ok for v in full))
    failed = [not v.ok for v in full]
    assert not any(f and not c for f, c in zip(failed, choices))  # only deviations fail
    assert any(failed)


def test_the_log_read_at_the_end_is_the_one_published_as_it_went() -> None:
    """Two envs on the same seed, one whose log is read from the start and one whose log is first
    read after the episode: the same entries in the same order, the same openings but for the
    salts, and the same verdicts."""
    envs = [auction_env.make("credible_v0", rounds=5, mechanism="second_price") for _ in range(2)]
    for k, env in enumerate(envs):
        obs, _ = env.reset(seed=11)
        if k == 0:
            _ = env.log
        for choice in (0, 1, 1, 0, 1):
            bids = {a: o[:-2] for a, o in obs.items() if a != "auctioneer"}
            obs, *_ = env.step({**bids, "auctioneer": 0})
            obs, *_ = env.step({**bids, "auctioneer": choice})
    early, late = (env.transcript for env in envs)
    assert [(e.seq, e.round, e.party, e.kind) for e in early.log.entries] == [
        (e.seq, e.round, e.party, e.kind) for e in late.log.entries
    ]
    for t in range(5):
        a, b = early.openings[t], late.openings[t]
        assert a.share.payload == b.share.payload and a.outcome.payload == b.outcome.payload
        assert {k: o.payload for k, o in a.bids.items()} == {k: o.payload for k, o in b.bids.items()}
    mechanism = envs[0].core.mechanism
    assert [v.reason for v in early.audit(mechanism, range(5))] == [v.reason for v in late.audit(mechanism, range(5))]
