"""PettingZoo conformance, seeding, bid validation and reward semantics of the environment."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pettingzoo.test import api_test, max_cycles_test, parallel_api_test, parallel_seed_test, render_test

import auction_env
from auction_env.envs import registry as env_registry

CONFIGS = {
    "1x1": dict(n_bidders=1, n_items=1),
    "2x2-myerson": dict(n_bidders=2, n_items=2, mechanism="myerson"),
    "3x5-second-price": dict(n_bidders=3, n_items=5, mechanism={"name": "second_price", "params": {"reserve": 0.1}}),
    "asymmetric": dict(
        n_bidders=2,
        n_items=3,
        prior={"type": "uniform", "low": {"per_item": [0, 0.5, 1]}, "high": [[1, 2, 3], [2, 2, 2]]},
    ),
    "participation": dict(n_bidders=3, n_items=2, participation={"model": "independent", "p": [0.9, 0.5, 0.2]}),
    "first-price-profiles": dict(
        n_bidders=2,
        n_items=2,
        mechanism="first_price",
        participation={"model": "profiles", "profiles": [[1, 1], [1, 0]], "probs": [0.5, 0.5]},
    ),
    "observer-regretnet": dict(
        n_bidders=2, n_items=2, mechanism={"name": "regretnet", "params": {"checkpoint": "2x2"}}, observer={}
    ),
    "observer-with-bids-asymmetric": dict(
        n_bidders=3, n_items=2, prior={"type": "uniform", "high": {"per_bidder": [1, 2, 3]}}, observer={"bidder": 1}
    ),
}
ENV_IDS = env_registry.available()


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PettingZoo warns that asymmetric agents have different box bounds
        yield


# The credible protocol has no observer role (yet): those pairs are not environments.
PAIRS = [(e, c) for e in ENV_IDS for c in CONFIGS if not (e == "credible_v0" and "observer" in CONFIGS[c])]


@pytest.mark.parametrize("env_id,name", PAIRS)
def test_parallel_api(env_id, name):
    """PettingZoo's parallel API test passes."""
    parallel_api_test(auction_env.make(env_id, rounds=25, **CONFIGS[name]), num_cycles=60)


@pytest.mark.parametrize("env_id,name", PAIRS)
def test_parallel_seed(env_id, name):
    """PettingZoo's parallel seed test passes: the same seed gives the same trajectory."""
    parallel_seed_test(lambda: auction_env.make(env_id, rounds=25, **CONFIGS[name]), num_cycles=60)


@pytest.mark.parametrize("name", CONFIGS)
def test_aec_api(name):
    """PettingZoo's AEC API test passes on the converted environment."""
    api_test(auction_env.env(rounds=25, **CONFIGS[name]), num_cycles=60)


def _trajectory(env, seed, steps=30):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(0)
    out = []
    while env.agents and len(out) < steps:
        actions = {a: rng.uniform(0, 1, env.action_space(a).shape).astype(np.float32) for a in env.agents}
        obs, rew, _, _, infos = env.step(actions)
        out.append((obs, rew, env.last_outcome.allocation.copy(), env.last_outcome.payments.copy()))
    return out


def _same(a, b):
    for (o1, r1, a1, p1), (o2, r2, a2, p2) in zip(a, b, strict=True):
        if r1 != r2 or not np.array_equal(a1, a2) or not np.array_equal(p1, p2):
            return False
        if any(not np.array_equal(o1[k], o2[k]) for k in o1):
            return False
    return True


def test_same_seed_same_trajectory_and_other_seed_differs():
    """Two envs reset with one seed replay identically; another seed gives other values."""
    cfg = CONFIGS["participation"]
    a = _trajectory(auction_env.parallel_env(rounds=30, **cfg), 7)
    b = _trajectory(auction_env.parallel_env(rounds=30, **cfg), 7)
    c = _trajectory(auction_env.parallel_env(rounds=30, **cfg), 8)
    assert _same(a, b)
    assert not _same(a, c)


def test_config_seed_is_used_when_reset_gets_none():
    """The `seed` argument seeds the first reset() when none is passed."""
    a = _trajectory(auction_env.parallel_env(rounds=10, seed=3), None)
    b = _trajectory(auction_env.parallel_env(rounds=10, seed=3), None)
    assert _same(a, b)


def test_episode_ends_after_rounds():
    """The episode ends after exactly `rounds` steps, every agent terminated and truncated (the
    horizon is in the observation; `rounds` is PettingZoo's max_cycles), and the agent list empties."""
    env = auction_env.parallel_env(rounds=4)
    obs, _ = env.reset(seed=0)
    for t in range(4):
        obs, _, term, trunc, _ = env.step({a: obs[a][:-2] for a in env.agents})
        assert all(term.values()) == all(trunc.values()) == (t == 3)
    assert env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})


def test_observation_layout():
    """Observations hold own values, a participation flag and the round fraction."""
    env = auction_env.parallel_env(n_bidders=2, n_items=3, rounds=4)
    obs, _ = env.reset(seed=0)
    values = env.last_round
    assert values is None
    for t in range(4):
        for a in env.agents:
            assert obs[a].shape == (5,) and obs[a][3] == 1.0 and obs[a][4] == pytest.approx(t / 4)
            assert env.observation_space(a).contains(obs[a])
        bids = {a: obs[a][:3] for a in env.agents}
        obs, *_ = env.step(bids)
        np.testing.assert_array_equal(env.last_round.valuations[0].numpy(), np.stack([b for b in bids.values()]))


def test_reward_is_utility_and_infos_hold_outcome():
    """Reward = <v, allocation> - payment; infos carry allocation row, payment and participation."""
    env = auction_env.parallel_env(n_bidders=3, n_items=2, mechanism="second_price", rounds=20)
    obs, _ = env.reset(seed=1)
    while env.agents:
        values = {a: obs[a][:-2].copy() for a in env.agents}
        obs, rew, _, _, infos = env.step(values)
        for i, a in enumerate(env.possible_agents):
            expected = float(values[a] @ infos[a]["allocation"]) - infos[a]["payment"]
            assert rew[a] == pytest.approx(expected, abs=1e-6)
            assert infos[a]["payment"] == pytest.approx(float(env.last_outcome.payments[i]))
            assert infos[a]["participating"] is True
            assert rew[a] >= -1e-6  # truthful in a DSIC mechanism


def test_absent_bidder_action_ignored_and_reward_zero():
    """An absent bidder's bid does not matter: it gets nothing, pays nothing, earns 0."""
    env = auction_env.parallel_env(
        n_bidders=2,
        n_items=1,
        mechanism="first_price",
        rounds=200,
        participation={"model": "independent", "p": [0.5, 1.0]},
    )
    obs, _ = env.reset(seed=0)
    absent = 0
    while env.agents:
        obs, rew, _, _, infos = env.step({"bidder_0": np.array([1.0], np.float32), "bidder_1": obs["bidder_1"][:1]})
        if not infos["bidder_0"]["participating"]:
            absent += 1
            assert rew["bidder_0"] == 0 and infos["bidder_0"]["payment"] == 0
            assert infos["bidder_0"]["allocation"].sum() == 0
            assert env.last_round.bids[0, 0].item() == 0
    assert 60 < absent < 140


@pytest.mark.parametrize(
    "bid, message",
    [
        (np.array([0.1, 0.2, 0.3], np.float32), r"bidder_1: bid must have shape \(2,\)"),
        (np.array([[0.1, 0.2]], np.float32), r"bidder_1: bid must have shape \(2,\)"),
        (np.array([np.nan, 0.2], np.float32), "bidder_1: bid contains NaN"),
        (np.array([np.inf, 0.2], np.float32), "bidder_1: bid contains NaN or infinite"),
        ("abc", "bidder_1: bid must be 2 numbers"),
        (["0.1", "0.2"], "bidder_1: bid must be 2 numbers"),  # numeric text is not a number
        (np.array(["0.1", "0.2"]), "bidder_1: bid must be 2 numbers"),
        ([True, False], "bidder_1: bid must be 2 numbers"),
        (np.array([True, False]), "bidder_1: bid must be 2 numbers"),
        (np.array([0.1 + 1j, 0.2]), "bidder_1: bid must be 2 numbers"),
        ([0.1, 1e300], "bidder_1: bid contains NaN or infinite"),  # overflows float32
        (None, "bidder_1: bid must be 2 numbers"),
    ],
)
def test_bad_bid_raises_value_error_naming_agent(bid, message):
    """A NaN/inf bid or one of the wrong shape raises ValueError naming the agent."""
    env = auction_env.parallel_env(n_bidders=2, n_items=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step({"bidder_0": np.array([0.1, 0.2], np.float32), "bidder_1": bid})


AEC_REPLAY = {
    **{
        name: ("sealed_bid", CONFIGS[name])
        for name in ("2x2-myerson", "participation", "observer-with-bids-asymmetric")
    },
    "grid": ("sealed_bid", dict(n_bidders=2, n_items=2, mechanism="second_price", bidding={"levels": 5})),
    "credible": ("credible", dict(n_bidders=2, n_items=2, mechanism="first_price", credible={"audits": 1})),
}


@pytest.mark.parametrize("name", AEC_REPLAY)
def test_aec_view_plays_the_parallel_envs_rounds(name):
    """The AEC view checks each action on its turn and then steps the env without checking it
    again: with the same seed and actions (lists, float64, out-of-range values, grid levels) it
    plays the parallel env's rounds, reward for reward and outcome for outcome."""
    import importlib

    module = importlib.import_module(f"auction_env.envs.{AEC_REPLAY[name][0]}")
    config = dict(AEC_REPLAY[name][1], rounds=6)
    par, aec = module.parallel_env(**config), module.env(**config)
    par.reset(seed=3)
    aec.reset(seed=3)
    rng = np.random.default_rng(0)

    def action(agent: str, space) -> object:
        if agent == "auctioneer":
            return int(rng.integers(2))
        if hasattr(space, "nvec"):  # grid levels
            return rng.integers(space.nvec).tolist()
        value = rng.uniform(-0.2, 1.3 * space.high.max(), space.shape)  # some out of range: clipped
        return value.tolist() if rng.random() < 0.5 else value  # a list, or float64

    while par.agents:
        acting = aec.unwrapped.acting_agents() if name == "credible" else par.agents
        actions = {a: action(a, par.action_space(a)) for a in acting}
        filled = {a: actions.get(a, aec.unwrapped.idle_action(a) if name == "credible" else None) for a in par.agents}
        _, rewards, *_ = par.step(filled)
        for agent in acting:
            assert aec.agent_selection == agent
            aec.step(actions[agent])
        assert aec.rewards == rewards
        ours, theirs = aec.unwrapped.last_outcome, par.last_outcome
        assert (ours is None) == (theirs is None)  # (none yet after the credible bid step)
        if theirs is not None:
            np.testing.assert_array_equal(ours.allocation, theirs.allocation)
            np.testing.assert_array_equal(ours.payments, theirs.payments)
    assert all(aec.terminations.values())


def test_aec_refuses_a_bad_bid_on_its_own_turn():
    """Through the AEC interface a bad bid is refused when it is taken (not one step later), and
    the agent can then act again: the env is not left stuck."""
    env = auction_env.env(n_bidders=2, n_items=2, rounds=2)
    env.reset(seed=0)
    assert env.agent_selection == "bidder_0"
    with pytest.raises(ValueError, match="bidder_0: bid contains NaN"):
        env.step(np.array([np.nan, 0.2], np.float32))
    assert env.agent_selection == "bidder_0"
    turns = 0
    for _agent in env.agent_iter():
        _, _, terminated, truncated, _ = env.last()
        env.step(None if terminated or truncated else np.array([0.3, 0.4], np.float32))
        turns += 1
    assert turns == 6  # two rounds of two bidders, then each steps out


def test_aec_view_steps_agents_out_in_parallel_to_aecs_order():
    """After the last round the agents step out one by one (None actions) in the order
    PettingZoo's parallel_to_aec gives them (sorted as strings: bidder_10 before bidder_2)."""
    from pettingzoo.utils.conversions import parallel_to_aec_wrapper

    from auction_env.envs import sealed_bid

    orders = []
    for aec in (
        sealed_bid.env(n_bidders=11, n_items=1, rounds=1, observer={}),
        parallel_to_aec_wrapper(sealed_bid.parallel_env(n_bidders=11, n_items=1, rounds=1, observer={})),
    ):
        aec.reset(seed=0)
        turns = []
        for agent in aec.agent_iter():
            _, _, terminated, truncated, _ = aec.last()
            turns.append(agent)
            aec.step(None if terminated or truncated else aec.action_space(agent).sample())
        orders.append(turns)
    assert orders[0] == orders[1]
    assert orders[0][12:15] == ["bidder_0", "bidder_1", "bidder_10"]  # the round's 12 turns, then the dead steps


@pytest.mark.parametrize(
    "module,config,agent,message",
    [
        ("sealed_bid", {}, "bidder_0", "bidder_0: bid must be"),
        ("sealed_bid", {"bidding": {"levels": 5}}, "bidder_0", "bidder_0: .*grid levels"),
        ("sealed_bid", {"observer": {}}, "observer", "observer: reconstruction"),
        ("credible", {}, "auctioneer", "auctioneer: action must be 0"),
    ],
)
def test_aec_refuses_none_from_a_live_agent(module, config, agent, message):
    """``None`` is the action of an agent that is done; from a live agent it is refused on its
    turn like any bad action (a bid grid once played it as zero bids), and the agent may act again."""
    import importlib

    env = importlib.import_module(f"auction_env.envs.{module}").env(n_bidders=2, n_items=2, rounds=2, **config)
    env.reset(seed=0)
    while env.agent_selection != agent:
        env.step(env.action_space(env.agent_selection).sample())
    with pytest.raises(ValueError, match=message):
        env.step(None)
    assert env.agent_selection == agent
    env.step(env.action_space(agent).sample())
    assert env.agent_selection != agent  # its turn was taken


def test_missing_or_unknown_agent_in_actions():
    """Actions must name every live agent and no other."""
    env = auction_env.parallel_env(n_bidders=2, n_items=1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="missing: bidder_1"):
        env.step({"bidder_0": [0.1]})
    with pytest.raises(ValueError, match="unknown: bidder_9"):
        env.step({"bidder_0": [0.1], "bidder_1": [0.1], "bidder_9": [0.1]})


def test_out_of_range_bids_are_clipped_to_action_space():
    """Bids above the upper support or below zero are clipped before the mechanism sees them."""
    env = auction_env.parallel_env(
        n_bidders=2, n_items=2, mechanism="first_price", prior={"high": {"per_bidder": [1.0, 2.0]}}
    )
    env.reset(seed=0)
    env.step({"bidder_0": [5.0, -1.0], "bidder_1": [5.0, -3.0]})
    np.testing.assert_allclose(env.last_round.bids[0].numpy(), [[1.0, 0.0], [2.0, 0.0]])


def test_render_ansi_prints_round_table():
    """render() in ansi mode returns a table with one line per bidder."""
    env = auction_env.parallel_env(n_bidders=2, n_items=2, render_mode="ansi")
    obs, _ = env.reset(seed=0)
    env.step({a: obs[a][:-2] for a in env.agents})
    text = env.render()
    assert "round 1/10" in text and "bidder_0" in text and "bidder_1" in text and "revenue" in text


def test_scenario_argument_and_overrides():
    """parallel_env(scenario=...) takes the env section; keyword arguments override it."""
    env = auction_env.parallel_env(scenario="participation", rounds=3)
    assert env.setting.n_bidders == 3 and env.rounds == 3
    assert env.mechanism.__class__.__name__ == "SecondPrice"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_bidders=0), "n_bidders"),
        (dict(mechanism="myersn"), "Did you mean 'myerson'"),
        (dict(nbidders=2), "Did you mean 'n_bidders'"),
        (dict(render_mode="rgb_array"), "render_mode"),
        (dict(prior={"high": -1}), "high must be greater than low"),
    ],
)
def test_bad_env_config_raises(kwargs, message):
    """Bad keyword arguments fail with a message naming the key."""
    with pytest.raises(ValueError, match=message):
        auction_env.parallel_env(**kwargs)


def test_observer_sees_public_outcome_and_is_scored_next_step():
    """The observer observes the last outcome (and its own bids) and is rewarded -MAE of its reconstruction."""
    env = auction_env.parallel_env(n_bidders=2, n_items=2, mechanism="second_price", observer={"bidder": 0}, rounds=5)
    obs, infos = env.reset(seed=0)
    assert env.agents[-1] == "observer" and obs["observer"][-1] == 0.0
    truthful = {a: o[:-2] for a, o in obs.items() if a != "observer"}
    obs, rewards, _, _, infos = env.step({**truthful, "observer": np.zeros((2, 2), dtype=np.float32)})
    assert rewards["observer"] == 0.0 and infos["observer"] == {"mae": 0.0, "recovery_rate": 0.0, "scored": False}
    bids = env.last_round.bids[0].numpy()
    assert np.allclose(obs["observer"][:4], env.last_outcome.allocation.reshape(-1))
    assert np.allclose(obs["observer"][4:6], env.last_outcome.payments) and np.allclose(obs["observer"][6:8], bids[0])
    truthful = {a: o[:-2] for a, o in obs.items() if a != "observer"}
    guess = bids.copy()
    guess[1, 0] += 0.5
    _, rewards, _, _, infos = env.step({**truthful, "observer": guess})
    assert infos["observer"]["recovery_rate"] == 0.5  # bidder 1's two entries; one is off by 0.5
    assert np.isclose(rewards["observer"], -min(0.5, 1 - bids[1, 0]) / 2, atol=1e-6)
    with pytest.raises(ValueError, match="observer"):
        env.step({**truthful, "observer": np.zeros(3)})


def test_pettingzoo_render_and_max_cycles_tests_pass_without_glue(capsys) -> None:
    """PettingZoo's own render_test (it builds render_mode="human") and max_cycles_test (it passes
    max_cycles) pass on sealed_bid_v0 as it is; human mode prints the ansi table."""
    from auction_env.envs import sealed_bid

    render_test(lambda render_mode=None: auction_env.env(rounds=3, render_mode=render_mode))
    max_cycles_test(sealed_bid)
    env = auction_env.parallel_env(max_cycles=2, render_mode="human")
    obs, _ = env.reset(seed=0)
    env.step({a: o[:-2] for a, o in obs.items()})
    assert env.rounds == 2 and env.render() is None and "bidder_0" in capsys.readouterr().out
    with pytest.raises(ValueError, match="max_cycles"):
        auction_env.parallel_env(max_cycles=2, rounds=3)


@pytest.mark.parametrize("module", ["sealed_bid", "credible"])
def test_aec_env_is_order_enforced_once_and_raw_env_is_bare(module, caplog) -> None:
    """PettingZoo's convention: ``raw_env()`` is the AEC env itself, ``env()`` wraps it in one
    order-enforcing wrapper (a second one only forwarded every attribute twice)."""
    import importlib

    from pettingzoo import AECEnv
    from pettingzoo.utils import BaseWrapper, OrderEnforcingWrapper

    envs = importlib.import_module(f"auction_env.envs.{module}")
    raw, wrapped = envs.raw_env(rounds=3), envs.env(rounds=3)
    assert isinstance(raw, AECEnv) and not isinstance(raw, BaseWrapper)
    assert isinstance(wrapped, OrderEnforcingWrapper) and not isinstance(wrapped.env, BaseWrapper)
    with pytest.raises(AttributeError, match="reset"):
        wrapped.agent_selection  # order enforced: reset first
    for name in ("rewards", "terminations", "truncations", "infos", "agents"):
        with pytest.raises(AttributeError, match="reset"):
            getattr(wrapped, name)  # (read directly, not through __getattr__: the same check)
    with pytest.raises(AttributeError, match="reset"):
        wrapped.last()
    for call in (lambda: wrapped.step(None), lambda: wrapped.agent_iter(), lambda: wrapped.observe("bidder_0")):
        with pytest.raises(Exception, match="reset"):  # PettingZoo's own errors
            call()
    wrapped.reset(seed=0)
    for agent in wrapped.agent_iter():
        _, _, terminated, truncated, _ = wrapped.last()
        wrapped.step(None if terminated or truncated else wrapped.action_space(agent).sample())
    assert wrapped.agents == [] and wrapped.rewards is wrapped.env.rewards
    wrapped.step(None)  # stepping after the end: PettingZoo's logged warning
    assert "step() called after all agents are terminated" in caplog.text
    with pytest.raises(AssertionError, match="step\\(\\) or reset\\(\\)"):  # two turns without a step
        wrapped.reset(seed=0)
        agents = iter(wrapped.agent_iter())
        next(agents)
        next(agents)
