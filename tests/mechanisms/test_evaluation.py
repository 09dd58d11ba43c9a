"""The regret evaluator: ~0 on truthful mechanisms, large on first price, consistent protocols."""

from __future__ import annotations

import pytest
import torch

import mechanisms
from mechanisms.common.errors import ConfigError
from mechanisms.evaluation import PROTOCOLS, evaluate


def setting(name, n=2, m=2):
    prior = mechanisms.make_prior(n, m)
    return mechanisms.make(name, context={"prior": prior, "n_bidders": n, "n_items": m}), prior


@pytest.mark.parametrize("name", ["second_price", "myerson"])
def test_truthful_mechanisms_have_no_regret(name):
    """Second price and Myerson: the attack finds no profitable lie (regret < 1e-6)."""
    mech, prior = setting(name)
    r = evaluate(mech, prior, profiles=300, seed=1)
    assert r.regret_max < 1e-6 and r.ir_violation_rate == 0


def test_first_price_has_large_regret():
    """First price: bidding truthfully leaves money on the table (mean regret > 0.05 per bidder)."""
    mech, prior = setting("first_price", n=2, m=1)
    r = evaluate(mech, prior, profiles=500, seed=1)
    assert r.regret_mean > 0.05
    # Against one truthful U[0,1] rival the best lie for value v earns about v^2/4 > 0.
    assert r.regret_max > 0.2


@pytest.mark.slow
def test_evaluator_finds_regret_of_a_learned_net_and_reports_protocol():
    """On an untrained network the default attack finds more regret than the weak one."""
    mech, prior = setting("regretnet")
    strong = evaluate(mech, prior, profiles=64, seed=2, protocol="default")
    weak = evaluate(mech, prior, profiles=64, seed=2, protocol="weak")
    assert strong.regret_mean >= weak.regret_mean - 1e-6
    assert strong.regret_mean > 0.01
    assert "grid 41^2" in strong.protocol and "1000 steps" in weak.protocol


@pytest.mark.slow
def test_same_seed_same_result():
    """Evaluation is seeded: same seed, same numbers."""
    mech, prior = setting("regretnet")
    a = evaluate(mech, prior, profiles=32, seed=3, protocol="weak").to_dict()
    b = evaluate(mech, prior, profiles=32, seed=3, protocol="weak").to_dict()
    for d in (a, b):
        d.pop("wall_time_s"), d.pop("profiles_per_second")
    assert a == b


def test_unknown_protocol():
    """An unknown protocol name suggests the closest."""
    mech, prior = setting("myerson")
    with pytest.raises(ConfigError, match="Did you mean 'default'"):
        evaluate(mech, prior, profiles=4, protocol="defualt")


def test_protocols_state_their_budget():
    """Every protocol describes its starts and steps."""
    for proto in PROTOCOLS.values():
        text = proto.describe(2)
        assert proto.name in text and "start" in text


@pytest.mark.slow
def test_shipped_checkpoints_table(capsys):
    """`evaluate --shipped` evaluates every shipped checkpoint and prints one table row each."""
    from auction_env.cli import main
    from mechanisms import checkpoints

    assert main(["evaluate", "--shipped", "--profiles", "4", "--protocol", "weak", "--no-progress"]) == 0
    out = capsys.readouterr().out
    for name in checkpoints.shipped():
        assert f"| {name} |" in out
    assert "item-wise Myerson" in out and "weak: PGD" in out


def test_shipped_checkpoints_load_by_short_name_and_fit_their_setting():
    """Every shipped checkpoint loads by name, is IR on truthful bids (networks that learn IR through
    a penalty: mean violation below 5e-4, the paper reports < 2e-4), and refuses another size."""
    from mechanisms import checkpoints
    from mechanisms.common.errors import CheckpointError
    from mechanisms.learned.checkpoints import load_checkpoint

    for name in checkpoints.shipped():
        mech, prior, _, card = load_checkpoint(name)
        v = prior.sample(256, torch.Generator().manual_seed(0))
        utilities = mech.run(v).utilities(v)
        if getattr(mech, "ir", None) == "penalty":
            assert torch.relu(-utilities).mean() < 5e-4, name
        else:
            assert torch.all(utilities >= -1e-6), name
        other = mechanisms.make_prior(prior.n_bidders + 1, prior.n_items)
        context = {
            "prior": other,
            "n_bidders": prior.n_bidders + 1,
            "n_items": prior.n_items,
            "valuation": card["setting"]["valuation"],
        }
        with pytest.raises(CheckpointError, match="is for"):
            mechanisms.make(card["mechanism"], context=context, checkpoint=name)


def test_evaluation_breaks_down_by_participation_profile():
    """With a participation model, each profile's share, revenue and regret are reported and add up."""
    import mechanisms
    from mechanisms.evaluation import evaluate
    from mechanisms.participation import registry as participation_models

    prior = mechanisms.make_prior(2, 2)
    part = participation_models.make(
        "profiles", context={"n_bidders": 2}, profiles=[[1, 1], [1, 0], [0, 1], [0, 0]], probs=[0.35, 0.15, 0.35, 0.15]
    )
    result = evaluate(
        mechanisms.make("myerson", context={"prior": prior}),
        prior,
        participation=part,
        profiles=20_000,
        protocol="weak",
    )
    rows = {tuple(r["participation"]): r for r in result.per_participation}
    assert set(rows) == {(1, 1), (1, 0), (0, 1), (0, 0)}
    assert abs(rows[(1, 1)]["share"] - 0.35) < 0.03 and rows[(0, 0)]["revenue_mean"] == 0.0
    assert abs(sum(r["share"] * r["revenue_mean"] for r in rows.values()) - result.revenue_mean) < 1e-9
    # Closed forms: two bidders 2 x 5/12; one bidder alone pays the reserve 0.5 half the time per item.
    assert abs(rows[(1, 1)]["revenue_mean"] - 2 * 5 / 12) < 0.02 and abs(rows[(1, 0)]["revenue_mean"] - 0.5) < 0.03


def test_shipped_table_from_cards_prints_each_cards_evaluation(capsys):
    """`evaluate --shipped --from-cards` prints every card's stored revenue, without evaluating."""
    from auction_env.cli import main
    from mechanisms import checkpoints

    assert main(["evaluate", "--shipped", "--from-cards", "--no-progress"]) == 0
    out = capsys.readouterr().out
    for name in checkpoints.shipped():
        card = checkpoints.load_card(checkpoints.find(name))
        assert f"| {name} |" in out and f"| {card['evaluation']['revenue_mean']:.4f} |" in out
    assert "From the model cards" in out
