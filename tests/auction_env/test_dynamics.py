"""Repeated-auction options: feedback windows, value dynamics, discrete bids, collusion metrics."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test

from agents.feedback import lowest_winning_bids, round_feedback, slot_size
from auction_env.config import EnvConfig, parse
from auction_env.dynamics import CollusionMetrics, EpisodeBatch
from auction_env.dynamics.metrics import round_metrics, winners
from auction_env.envs import credible, sealed_bid
from auction_env.setting import build_policies, build_setting
from mechanisms.common.errors import ConfigError

#: One env configuration per new option (and some together), for the API and seed tests.
OPTIONS = {
    "feedback_public": dict(n_bidders=2, n_items=2, mechanism="myerson", feedback={"mode": "public", "window": 3}),
    "grid_first_price": dict(
        n_bidders=2,
        n_items=1,
        mechanism="first_price",
        feedback={"mode": "winning"},
        bidding={"levels": 11},
        metrics=True,
    ),
    "markov_grid_observer": dict(
        n_bidders=3,
        n_items=2,
        mechanism="second_price",
        values={"dynamics": "markov"},
        bidding={"levels": 5},
        observer={"bidder": 0},
    ),
    "persistent_shift_regretnet": dict(
        n_bidders=2,
        n_items=2,
        mechanism={"name": "regretnet", "params": {"checkpoint": "2x2"}},
        values={"dynamics": "persistent", "shifts": [{"round": 3, "prior": {"type": "uniform", "high": 1.5}}]},
        feedback={"mode": "own", "window": 2},
        participation={"model": "independent", "p": 0.7},
    ),
}


def engine_for(**env) -> tuple[EpisodeBatch, object]:
    cfg = parse(EnvConfig, env)
    core = build_setting(cfg)
    return EpisodeBatch.from_config(core, cfg), core


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_pettingzoo_api_and_seed_tests_pass(name):
    """PettingZoo's parallel and AEC API tests and both seed tests pass with every new option."""
    config = OPTIONS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parallel_api_test(sealed_bid.parallel_env(rounds=6, **config), num_cycles=12)
        parallel_seed_test(lambda: sealed_bid.parallel_env(rounds=6, **config))
        api_test(sealed_bid.env(rounds=6, **config), num_cycles=12)
        seed_test(lambda: sealed_bid.env(rounds=6, **config))


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_single_learner_views_pass_gymnasium_and_sb3_checks(name):
    """The single-learner view passes Gymnasium's and SB3's env checkers with every new option."""
    from gymnasium.utils.env_checker import check_env as gym_check
    from stable_baselines3.common.env_checker import check_env as sb3_check

    from auction_env.rl import SingleLearnerEnv

    config = {k: v for k, v in OPTIONS[name].items() if k != "observer"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gym_check(SingleLearnerEnv(rounds=6, **config), skip_render_check=True)
        sb3_check(SingleLearnerEnv(rounds=6, **config))


def test_vector_view_steps_episodes_with_the_engine():
    """The SB3 vector view plays its sub-environments as one batch of episodes, seeded."""
    from auction_env.rl.vector import AuctionVecEnv

    def rollout(seed):
        env = AuctionVecEnv(4, n_bidders=2, n_items=1, mechanism="first_price", feedback={"mode": "own"}, rounds=3)
        env.seed(seed)
        obs, out = env.reset(), []
        for _ in range(6):
            obs, rewards, dones, infos = env.step(np.zeros((4, 1), np.float32))
            out.append((obs.copy(), rewards.copy(), dones.copy()))
        return out, infos

    a, infos = rollout(3)
    b, _ = rollout(3)
    assert all(np.array_equal(x, y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))
    assert [d.all() for _, _, d in a] == [False, False, True] * 2
    assert obs_shape(a) == (4, 1 + 2 + 4) and "terminal_observation" in infos[0]


def obs_shape(rollout):
    return rollout[0][0].shape


# -- feedback -------------------------------------------------------------------------------
def test_lowest_winning_bid_is_the_best_competing_bid():
    bids = torch.tensor([[[0.2, 0.9], [0.7, 0.1], [0.5, 0.3]]])
    present = torch.tensor([[True, True, True]])
    expected = torch.tensor([[[0.7, 0.3], [0.5, 0.9], [0.7, 0.9]]])
    assert torch.equal(lowest_winning_bids(bids, present), expected)
    # an absent bidder's bid does not count
    absent = torch.tensor([[True, False, True]])
    assert torch.equal(lowest_winning_bids(bids, absent)[0, 0], torch.tensor([0.5, 0.3]))


@pytest.mark.parametrize("mode", ["own", "winning", "public"])
def test_each_feedback_mode_shows_exactly_what_it_says(mode):
    """A bidder's observation after a round is its values, flags and exactly the mode's slot:
    own allocation and payment; plus the best competing bid per item; plus the public outcome.
    Nothing else of the other bidders (their values or other bids) appears."""
    env = sealed_bid.parallel_env(n_bidders=3, n_items=2, mechanism="second_price", rounds=4, feedback={"mode": mode})
    obs, _ = env.reset(seed=0)
    bids = {"bidder_0": np.array([0.9, 0.1]), "bidder_1": np.array([0.4, 0.6]), "bidder_2": np.array([0.3, 0.2])}
    obs, *_ = env.step(bids)
    r = env.last_round
    alloc, pay = r.outcome.allocation[0].numpy(), r.outcome.payments[0].numpy()
    b = r.bids[0].numpy()
    for i, agent in enumerate(env.agents):
        expected = [env._vals_np[i], [1.0, 1 / 4]]  # the next round's values, participating, round 1 of 4
        slot = [[1.0, 1.0], alloc[i], [pay[i]]]
        if mode in ("winning", "public"):
            slot.append(np.delete(b, i, axis=0).max(0))
        if mode == "public":
            slot += [alloc.reshape(-1), pay]
        want = np.concatenate([np.concatenate(expected), np.concatenate(slot)]).astype(np.float32)
        assert obs[agent].shape == (2 + 2 + slot_size(mode, 3, 2),)
        np.testing.assert_allclose(obs[agent], want, rtol=0, atol=1e-7)
        others_values = np.delete(r.valuations[0].numpy(), i, axis=0).reshape(-1)
        assert not np.isin(others_values, obs[agent][4:]).any()  # no other bidder's value of that round


def test_window_pads_with_zeros_and_shifts_newest_first():
    engine, _ = engine_for(
        n_bidders=2, n_items=1, mechanism="first_price", rounds=5, feedback={"mode": "own", "window": 3}
    )
    g = torch.Generator().manual_seed(0)
    engine.reset(1, g)
    size = engine.slot
    window = lambda: engine.observations()[0, 0, 3:].reshape(3, size)  # noqa: E731
    assert torch.equal(window(), torch.zeros(3, size))
    slots = []
    for k in range(4):
        bids = torch.tensor([[[0.1 * (k + 1)], [0.05]]])
        played = engine.play(bids, g).round
        slots.insert(
            0,
            round_feedback(
                "own", played.bids, played.participation, played.outcome.allocation, played.outcome.payments
            )[0, 0],
        )
        expected = torch.stack(slots[:3] + [torch.zeros(size)] * (3 - min(len(slots), 3)))
        assert torch.equal(window(), expected), k
    assert window()[0, 0] == 1.0 and window()[0, 3] == pytest.approx(0.4)  # filled, paid its bid


def test_default_env_has_no_feedback_and_the_old_spaces():
    env = sealed_bid.parallel_env(n_bidders=2, n_items=2)
    assert env.observation_space("bidder_0").shape == (4,) and env._engine is None


# -- values ---------------------------------------------------------------------------------
def draws(engine, rounds, batch=4000, seed=0):
    g = torch.Generator().manual_seed(seed)
    engine.reset(batch, g)
    out = [engine.valuations.clone()]
    for _ in range(rounds - 1):
        engine.play(engine.valuations, g)
        out.append(engine.valuations.clone())
    return torch.stack(out)  # (rounds, batch, n, m)


def test_persistent_values_stay_fixed_within_an_episode_and_differ_across():
    engine, _ = engine_for(n_bidders=2, n_items=2, rounds=6, values={"dynamics": "persistent"})
    v = draws(engine, 6, batch=50)
    assert torch.equal(v, v[:1].expand_as(v))
    w = draws(engine, 6, batch=50, seed=1)
    assert not torch.equal(v[0], w[0])
    env = sealed_bid.parallel_env(n_bidders=2, n_items=2, rounds=3, values={"dynamics": "persistent"})
    first, _ = env.reset(seed=4)
    again, *_ = env.step({a: np.zeros(2) for a in env.agents})
    np.testing.assert_array_equal(first["bidder_0"][:2], again["bidder_0"][:2])
    other, _ = env.reset()  # a new episode of the same seed stream
    assert not np.array_equal(first["bidder_0"][:2], other["bidder_0"][:2])


def test_markov_values_revert_and_keep_the_prior_marginal():
    engine, _ = engine_for(n_bidders=1, n_items=1, rounds=30, values={"dynamics": "markov", "persistence": 0.9})
    v = draws(engine, 30)[:, :, 0, 0]
    assert float(v.min()) >= 0.0 and float(v.max()) <= 1.0
    assert abs(float(v[-1].mean()) - 0.5) < 0.02 and abs(float(v[-1].var()) - 1 / 12) < 0.005
    lag = torch.corrcoef(torch.stack((v[:-1].reshape(-1), v[1:].reshape(-1))))[0, 1]
    # Spearman correlation of a Gaussian copula: (6 / pi) asin(rho / 2) = 0.891 at rho = 0.9
    assert 0.86 < float(lag) < 0.92
    iid, _ = engine_for(n_bidders=1, n_items=1, rounds=30)
    u = draws(iid, 30)[:, :, 0, 0]
    assert abs(float(torch.corrcoef(torch.stack((u[:-1].reshape(-1), u[1:].reshape(-1))))[0, 1])) < 0.02


def test_prior_shift_changes_the_prior_at_the_stated_round():
    shift = {"round": 4, "prior": {"type": "uniform", "high": {"per_item": [1.0, 1.5]}}}
    engine, _ = engine_for(n_bidders=2, n_items=2, rounds=8, values={"shifts": [shift]})
    v = draws(engine, 8)
    assert float(v[:4].max()) <= 1.0
    assert float(v[4:, ..., 1].max()) > 1.45 and float(v[4:, ..., 0].max()) <= 1.0
    assert abs(float(v[4:, ..., 1].mean()) - 0.75) < 0.01
    env = sealed_bid.parallel_env(n_bidders=2, n_items=2, rounds=8, values={"shifts": [shift]})
    assert env.action_space("bidder_0").high.tolist() == [1.0, 1.5]  # bids may reach the shifted support


def test_bad_prior_shifts_are_refused_with_their_path():
    shift = {"type": "uniform", "high": [1.0]}
    with pytest.raises(ConfigError, match=r"env.values.shifts\[0\].prior"):
        sealed_bid.parallel_env(rounds=5, values={"shifts": [{"round": 2, "prior": shift}]})
    with pytest.raises(ConfigError, match="increasing rounds"):
        sealed_bid.parallel_env(values={"shifts": [{"round": 3, "prior": {}}, {"round": 2, "prior": {}}]})


def test_credible_env_refuses_repeated_options():
    with pytest.raises(ValueError, match="does not support feedback"):
        credible.parallel_env(feedback={"mode": "own"})


# -- discrete bids --------------------------------------------------------------------------
def test_grid_actions_bid_grid_points_and_bad_levels_name_the_agent():
    env = sealed_bid.parallel_env(n_bidders=2, n_items=2, mechanism="second_price", bidding={"levels": 5})
    assert env.action_space("bidder_1").nvec.tolist() == [5, 5]
    env.reset(seed=0)
    env.step({"bidder_0": np.array([4, 2]), "bidder_1": [1, 0]})
    np.testing.assert_allclose(env.last_round.bids[0].numpy(), [[1.0, 0.5], [0.25, 0.0]])
    for bad, why in (([5, 0], "in \\[0, 5\\)"), ([0.5, 1], "whole grid levels"), ([1], "shape")):
        with pytest.raises(ValueError, match=f"bidder_1: .*{why}"):
            env.step({"bidder_0": [0, 0], "bidder_1": bad})
    one = sealed_bid.parallel_env(n_bidders=2, n_items=1, bidding={"levels": 3})
    assert one.action_space("bidder_0").n == 3


def test_continuous_bids_snap_down_to_the_grid_in_the_engine():
    engine, _ = engine_for(n_bidders=2, n_items=1, mechanism="first_price", bidding={"levels": 11})
    engine.reset(1, torch.Generator().manual_seed(0))
    played = engine.play(torch.tensor([[[0.349], [0.35]]]), None).round
    np.testing.assert_allclose(played.bids[0, :, 0].numpy(), [0.3, 0.35 - 0.05], atol=1e-6)


# -- metrics --------------------------------------------------------------------------------
def test_equilibrium_play_has_ratios_one():
    """Shading to v/2 in first price (two U[0,1] bidders) is the equilibrium: both ratios are 1."""
    for mechanism, policy in (
        ("first_price", {"policy": "shading", "params": {"factor": 0.5}}),
        ("second_price", {"policy": "truthful"}),
    ):
        cfg = parse(EnvConfig, dict(n_bidders=2, n_items=1, mechanism=mechanism, rounds=5, metrics=True))
        core = build_setting(cfg)
        engine = EpisodeBatch.from_config(core, cfg)
        policies = build_policies([parse_agent(policy)], core)
        g = torch.Generator().manual_seed(0)
        engine.reset(500, g)
        total = CollusionMetrics()
        for _ in range(5):
            total.add(engine.step(policies, g).metrics)
        summary = total.summary()
        assert summary["revenue_ratio"] == pytest.approx(1.0, abs=1e-6), mechanism
        assert summary["bid_ratio"] == pytest.approx(1.0, abs=1e-6), mechanism
        assert 0.4 < summary["winner_rotation"] < 0.6  # i.i.d. values: the winner changes half the time


def parse_agent(entry):
    from auction_env.config import AgentConfig

    return parse(AgentConfig, entry)


def test_winner_rotation_counts_changes_between_sold_items():
    a = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])  # bidder 0 wins item 0, bidder 1 item 1
    b = torch.tensor([[[0.0, 0.0], [1.0, 1.0]]])  # bidder 1 wins both
    unsold = torch.zeros(1, 2, 2)
    assert winners(a).tolist() == [[0, 1]] and winners(unsold).tolist() == [[-1, -1]]
    cfg = parse(EnvConfig, dict(n_bidders=2, n_items=2, mechanism="second_price", metrics=True))
    core = build_setting(cfg)
    from mechanisms.base import Outcome
    from mechanisms.setting import RoundBatch

    def round_of(alloc):
        v = torch.ones(1, 2, 2)
        return RoundBatch(v, torch.ones(1, 2, dtype=torch.bool), v * 0.5, Outcome(alloc, torch.zeros(1, 2)), v[:, :, 0])

    high = core.prior.high
    first, w = round_metrics(core.setting, core.mechanism, core.prior, round_of(a), None, high, None)
    assert torch.isnan(first.winner_changed).all()
    second, w = round_metrics(core.setting, core.mechanism, core.prior, round_of(b), w, high, None)
    assert second.winner_changed.tolist() == [0.5]  # item 0 changed hands, item 1 did not
    third, _ = round_metrics(core.setting, core.mechanism, core.prior, round_of(unsold), w, high, None)
    assert torch.isnan(third.winner_changed).all()  # nothing sold: nothing to compare


def test_env_infos_carry_the_metrics_with_constant_keys():
    env = sealed_bid.parallel_env(n_bidders=2, n_items=1, mechanism="first_price", metrics=True, rounds=3)
    _, infos = env.reset(seed=0)
    keys = set(infos["bidder_0"])
    assert infos["bidder_0"]["competitive_revenue"] == -1.0
    _, _, _, _, infos = env.step({a: np.array([0.3]) for a in env.agents})
    assert set(infos["bidder_0"]) == keys
    v = env.last_round.valuations[0, :, 0].numpy()
    assert infos["bidder_1"]["competitive_revenue"] == pytest.approx(v.max() / 2, abs=1e-6)
    assert infos["bidder_1"]["mean_bid"] == pytest.approx(0.3)


def test_metrics_do_not_change_the_episode():
    """The benchmark run has its own randomness: turning metrics on leaves every round as it was."""

    def play(metrics):
        env = sealed_bid.parallel_env(
            n_bidders=3, n_items=2, mechanism="first_price", metrics=metrics, feedback={"mode": "own"}, rounds=5
        )
        env.reset(seed=2)
        out = []
        for k in range(5):
            env.step({a: np.full(2, 0.5) for a in env.agents})  # ties: random tie-breaking
            out.append(env.last_round.outcome.allocation.clone())
        return torch.stack(out)

    assert torch.equal(play(False), play(True))
