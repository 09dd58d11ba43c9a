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
    assert "grid 21^2" in strong.protocol and "best 2 starts go on" in strong.protocol
    assert "1000 steps" in weak.protocol


@pytest.mark.slow
def test_default_protocol_keeps_the_full_budgets_regret_on_fixed_profiles():
    """Successive halving with a coarser grid (``default``) against every start run to the end on
    a 41^2 grid (``full``, the former default), same profiles and seed: the shipped RegretNet
    2x2's mean regret within 1% (``benchmarks/evaluator_speed.py`` checks every checkpoint), and
    on an untrained network, whose regret is large, within 2%."""
    from mechanisms.evaluation import attack_regrets

    for mech, prior, tolerance in (
        (mechanisms.load("regretnet_2x2").eval(), mechanisms.make_prior(2, 2), 0.99),
        (*setting("regretnet"), 0.98),
    ):
        v = prior.sample(200, torch.Generator().manual_seed(5))
        full = attack_regrets(mech, prior, v, protocol="full", seed=1)
        fast = attack_regrets(mech, prior, v, protocol="default", seed=1)
        assert fast.mean() >= tolerance * full.mean() > 0
        assert torch.equal(fast, attack_regrets(mech, prior, v, protocol="default", seed=1))  # seeded


def test_successive_halving_keeps_the_best_starts_and_finds_the_maximum():
    """A utility with its maximum at 0.7 per item, many random starts: the pruned search (2 of 9
    starts go on after 5 of 60 steps) ends at the maximum, as the unpruned one does."""
    import dataclasses

    from mechanisms.search import AttackProtocol, search

    def utility(x: torch.Tensor) -> torch.Tensor:
        return -((x - 0.7) ** 2).sum(-1)

    proto = AttackProtocol("t", random_starts=8, steps=60, lr=0.05, prune_at=5, keep=2)
    assert proto.prunes(9) and not proto.prunes(2) and not dataclasses.replace(proto, prune_at=60).prunes(9)
    truthful = torch.zeros(16, 3, 2)
    low, high = torch.zeros(2), torch.ones(2)
    gen = torch.Generator().manual_seed(0)
    x, u = search(utility, truthful, low, high, proto, differentiable=True, generator=gen)
    assert x.shape == (16, 3, 1, 2) and torch.allclose(x, torch.full_like(x, 0.7), atol=1e-2)
    assert (u >= utility(truthful.unsqueeze(-2))).all()


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
    a penalty: mean violation below 5e-4, the paper reports < 2e-4), and refuses another size
    (networks of any size load at it instead)."""
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
        if mech.any_size:  # one network for any size: it loads, and runs the bigger auction
            bigger = mechanisms.make(card["mechanism"], context=context, checkpoint=name)
            assert bigger.run(other.sample(4, None)).allocation.shape == (4, prior.n_bidders + 1, prior.n_items)
            continue
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


@pytest.mark.skipif(not torch.cuda.is_available(), reason="compares the CPU with a CUDA device")
def test_a_seed_names_the_same_profiles_on_every_device():
    """The evaluation profiles (values and participation) are drawn on the CPU, so a comparison on
    a GPU scores the profiles of the CPU's tables; only the attack's draws are the device's."""
    from mechanisms.evaluation import evaluation_profiles
    from mechanisms.participation import registry as participation_models

    prior = mechanisms.make_prior(2, 2)
    part = participation_models.make("profiles", context={"n_bidders": 2}, profiles=[[1, 1], [1, 0]], probs=[0.5, 0.5])
    v_cpu, present_cpu, gen_cpu = evaluation_profiles(prior, 500, 7, participation=part, device="cpu")
    v_gpu, present_gpu, gen_gpu = evaluation_profiles(prior, 500, 7, participation=part, device="cuda")
    assert v_gpu.device.type == "cuda" and gen_gpu.device.type == "cuda" and gen_cpu.device.type == "cpu"
    assert torch.equal(v_gpu.cpu(), v_cpu) and torch.equal(present_gpu.cpu(), present_cpu)
