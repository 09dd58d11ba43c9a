"""Certifiable networks and the MIP certifier (Curry et al. 2020)."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest
import torch

import mechanisms
from auction_env.cli import main
from mechanisms.certification import CertificationError, Certifier, certify_profiles, network_bounds
from mechanisms.learned.certnet import sparsemax
from mechanisms.training.loop import load_training_config, train

pytestmark = pytest.mark.solver


def projection(x: np.ndarray) -> np.ndarray:
    """Reference Euclidean projection onto the simplex, by bisection on the threshold."""
    lo, hi = x.min() - 1.0, x.max()
    for _ in range(200):
        t = (lo + hi) / 2
        lo, hi = (t, hi) if np.maximum(x - t, 0).sum() > 1 else (lo, t)
    return np.maximum(x - (lo + hi) / 2, 0)


def certnet(n: int, m: int, ir: str, hidden: int = 16, layers: int = 2, seed: int = 0):
    torch.manual_seed(seed)  # test-only: a fixed random network
    prior = mechanisms.make_prior(n, m)
    net = mechanisms.make(
        "certnet", context={"prior": prior, "n_bidders": n, "n_items": m}, hidden=hidden, layers=layers, ir=ir
    )
    return net.eval(), prior


def grid_best(cert: Certifier, v: np.ndarray, bidder: int, points: int = 201) -> float:
    """Best utility of ``bidder`` over a dense grid of its 2-item reports (float64 network)."""
    g = np.linspace(0.0, 1.0, points)
    reports = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    bids = np.repeat(v[None], len(reports), 0)
    bids[:, bidder] = reports
    with torch.no_grad():
        out = cert.reference.run(torch.from_numpy(bids), check=False)
    return float(((out.allocation[:, bidder].numpy() * v[bidder]).sum(-1) - out.payments[:, bidder].numpy()).max())


def test_sparsemax_is_the_simplex_projection():
    """sparsemax (torch and NumPy) equals a reference projection and sums to one per column."""
    x = np.random.default_rng(0).normal(size=(200, 4, 3)) * 3
    want = np.stack([[projection(x[b, :, j]) for j in range(3)] for b in range(200)]).transpose(0, 2, 1)
    got_torch = sparsemax(torch.from_numpy(x), dim=1).numpy()
    np.testing.assert_allclose(got_torch, want, atol=1e-9)
    np.testing.assert_allclose(sparsemax(x, 1), want, atol=1e-9)
    np.testing.assert_allclose(got_torch.sum(1), 1.0, atol=1e-12)
    assert (got_torch == 0).any()  # sparse, unlike the softmax


def test_sparsemax_gradient_matches_finite_differences():
    """Autograd through the sort gives sparsemax's Jacobian (checked by gradcheck)."""
    x = torch.randn(5, 4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: sparsemax(t, dim=1), (x,))


@pytest.mark.parametrize("ir", ["construction", "penalty"])
def test_certnet_is_feasible_and_its_numpy_path_agrees(ir):
    """Allocations are feasible; IR by construction holds for truthful bids; run_numpy = run."""
    net, _ = certnet(2, 3, ir)
    bids = torch.rand(64, 2, 3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = net.run(bids)
    assert torch.all(out.allocation >= 0) and torch.all(out.allocation.sum(1) <= 1 + 1e-6)
    assert torch.all(out.payments >= 0)
    if ir == "construction":
        assert torch.all(out.utilities(bids) >= -1e-6)
    allocation, payments, _ = net.run_numpy(bids.numpy())
    np.testing.assert_allclose(allocation, out.allocation.numpy(), atol=1e-6)
    np.testing.assert_allclose(payments, out.payments.numpy(), atol=1e-6)


def test_bounds_contain_every_pre_activation():
    """The certifier's neuron bounds hold at random reports of the free bidder (soundness)."""
    net, prior = certnet(2, 2, "construction", hidden=24, layers=3)
    cert = Certifier(net, prior)
    v = np.array([[0.3, 0.8], [0.6, 0.2]])
    in_low, in_high = v.reshape(-1).copy(), v.reshape(-1).copy()
    in_low[:2], in_high[:2] = 0.0, 1.0
    trunk_bounds, (alloc_bounds,) = network_bounds(cert.trunk, [cert.allocation], in_low, in_high)
    x = np.repeat(v.reshape(1, -1), 5000, 0)
    x[:, :2] = np.random.default_rng(0).random((5000, 2))
    for layer, (l, u) in zip(cert.trunk, trunk_bounds):
        pre = x @ layer.w.T + layer.c
        assert np.all(pre >= l - 1e-9) and np.all(pre <= u + 1e-9)
        x = np.maximum(pre, 0)
    logits = x @ cert.allocation.w.T + cert.allocation.c
    assert np.all(logits >= alloc_bounds[0] - 1e-9) and np.all(logits <= alloc_bounds[1] + 1e-9)


@pytest.mark.parametrize("ir", ["construction", "penalty"])
def test_mip_encoding_matches_the_network_at_fixed_reports(ir):
    """With the misreport fixed to a random point, the MIP's optimum is the network's utility there."""
    net, prior = certnet(2, 2, ir)
    cert = Certifier(net, prior)
    rng = np.random.default_rng(3)
    for _ in range(5):
        v, report = rng.random((2, 2)), rng.random(2)
        program = cert.build(v, 1)
        for var, value in zip(program.bids, report):
            program.mip.chgVarLb(var, float(value))
            program.mip.chgVarUb(var, float(value))
        program.mip.optimize()
        assert program.mip.getStatus() == "optimal"
        assert program.mip.getObjVal() == pytest.approx(cert.utility(v, 1, report), abs=1e-6)


def test_big_m_complementarity_has_the_same_optimum_in_scip_and_highs(tmp_path):
    """Sparsemax's complementarity as big-M constraints gives the SOS1 formulation's optimum, and
    the MILP written as MPS solves to it in HiGHS too (benchmarks/certify_speed.py --highs)."""
    highspy = pytest.importorskip("highspy")
    net, prior = certnet(2, 2, "penalty", seed=7)
    cert = Certifier(net, prior)
    for v in np.random.default_rng(7).random((2, 2, 2)):
        optima = []
        for form in ("sos1", "bigm"):
            program = cert.build(v, 0, complementarity=form)
            program.mip.optimize()
            assert program.mip.getStatus() == "optimal"
            optima.append(program.mip.getObjVal())
        program.mip.writeProblem(str(tmp_path / "box.mps"), verbose=False)
        highs = highspy.Highs()
        highs.silent()
        highs.readModel(str(tmp_path / "box.mps"))
        highs.setOptionValue("mip_rel_gap", 0.0)
        highs.run()
        assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
        optima.append(highs.getInfo().objective_function_value)
        assert max(optima) - min(optima) <= 1e-5 and max(optima) >= grid_best(cert, v, 0) - 1e-6
    with pytest.raises(ValueError, match="complementarity"):
        cert.build(v, 0, complementarity="sos2")


@pytest.mark.parametrize("ir", ["construction", "penalty"])
def test_certificate_equals_grid_search_on_random_networks(ir):
    """On 1x2 and 2x2 networks the certified best utility equals a 201x201 grid's best (within
    what the grid's spacing can miss) and is never below it."""
    for n in (1, 2):
        net, prior = certnet(n, 2, ir, seed=n)
        cert = Certifier(net, prior)
        for v in np.random.default_rng(n).random((3, n, 2)):
            c = cert.certify(v, 0)
            assert c.certified and c.status == "optimal"
            best = grid_best(cert, v, 0) - c.truthful_utility
            assert c.regret >= best - 1e-6
            assert c.regret == pytest.approx(best, abs=2e-3)
            assert c.network_utility == pytest.approx(c.truthful_utility + c.regret, abs=1e-5)


@pytest.mark.parametrize("ir", ["construction", "penalty"])
def test_split_certificate_equals_the_single_mip(ir):
    """Splitting the misreport box into sub-MIPs (pruned against the incumbent) certifies the
    same regret as one MIP over the whole support."""
    net, prior = certnet(2, 2, ir, hidden=24, layers=3, seed=5)
    whole, split = Certifier(net, prior, split_binaries=None), Certifier(net, prior, split_binaries=4)
    for v in np.random.default_rng(5).random((3, 2, 2)):
        a, b = whole.certify(v, 1), split.certify(v, 1)
        assert a.certified and b.certified and a.boxes == 1 and b.boxes > 1
        assert b.regret == pytest.approx(a.regret, abs=split.tolerance + 1e-9)  # both within tolerance of the maximum
        assert (
            b.regret_upper_bound >= max(a.regret, b.regret)
            and b.regret_upper_bound - b.regret <= split.tolerance + 1e-12
        )
        assert b.network_utility == pytest.approx(b.truthful_utility + b.regret, abs=1e-9)


@pytest.mark.parametrize("ir", ["construction", "penalty"])
def test_certificate_is_the_same_whatever_scips_heuristics(ir):
    """The certifier switches SCIP's primal heuristics off by default, for speed: with SCIP's own
    setting (or its fast one) every certificate is the same, within the tolerance."""
    net, prior = certnet(2, 2, ir, hidden=24, layers=3, seed=6)
    profiles = np.random.default_rng(6).random((3, 2, 2))
    heuristic = "heuristics/rounding/freq"  # -1 when SCIP's heuristics are off
    default = Certifier(net, prior)
    assert default.heuristics == "off" and default.build(profiles[0], 0).mip.getParam(heuristic) == -1
    off = [default.certify(v, 0) for v in profiles]
    for setting in ("default", "fast"):
        certifier = Certifier(net, prior, heuristics=setting)
        assert certifier.build(profiles[0], 0).mip.getParam(heuristic) != -1
        for a, b in zip(off, [certifier.certify(v, 0) for v in profiles]):
            assert a.certified and b.certified
            assert a.regret == pytest.approx(b.regret, abs=default.tolerance + 1e-9)  # both within it of the maximum
    with pytest.raises(ValueError, match="heuristics must be one of off, fast, default"):
        Certifier(net, prior, heuristics="aggressive")


def test_partition_covers_the_support_with_few_unstable_relus():
    """The sub-boxes tile the bidder's support (volumes sum to its volume, every point is in
    one) and each leaves at most split_binaries ReLUs unstable."""
    net, prior = certnet(2, 2, "penalty", hidden=24, layers=3, seed=5)
    cert = Certifier(net, prior, split_binaries=4)
    v = np.array([[0.3, 0.8], [0.6, 0.2]])
    boxes = cert.partition(v, 0)
    assert len(boxes) > 1
    assert sum(float(np.prod(high - low)) for low, high in boxes) == pytest.approx(1.0)
    points = np.random.default_rng(0).random((500, 2))
    inside = [sum(bool(np.all((low <= p) & (p <= high))) for low, high in boxes) for p in points]
    assert min(inside) >= 1
    for low, high in boxes:
        _, trunk_bounds, _ = cert._bounds(v, 0, low, high)
        assert sum(int(((l < 0) & (u > 0)).sum()) for l, u in trunk_bounds) <= 4
    (whole,) = Certifier(net, prior, split_binaries=None).partition(v, 0)
    np.testing.assert_array_equal(whole[0], cert.low[0])
    np.testing.assert_array_equal(whole[1], cert.high[0])
    assert len(Certifier(net, prior, split_binaries=4, max_boxes=3).partition(v, 0)) <= 3


def test_bad_split_settings_are_refused():
    net, prior = certnet(1, 2, "penalty")
    for bad in (-1, "many", 2.5):
        with pytest.raises(ValueError, match="split_binaries"):
            Certifier(net, prior, split_binaries=bad)
    with pytest.raises(ValueError, match="max_boxes"):
        Certifier(net, prior, max_boxes=0)
    for bad in (-1e-6, float("nan")):
        with pytest.raises(ValueError, match="tolerance"):
            Certifier(net, prior, tolerance=bad)


def test_solver_messages_are_silenced_and_stderr_restored(capfd):
    """SoPlex's warnings go to /dev/null during a solve; the process's stderr works afterwards."""
    from mechanisms.certification.mip import silence_stderr

    with silence_stderr():
        os.write(2, b"solver noise\n")
    os.write(2, b"after\n")
    net, prior = certnet(1, 2, "penalty")
    assert Certifier(net, prior).certify(np.array([[0.4, 0.7]]), 0).certified
    print("still here", file=sys.stderr)
    err = capfd.readouterr().err
    assert "solver noise" not in err and "after" in err and "still here" in err


@pytest.fixture(scope="module")
def trained_1x2(tmp_path_factory):
    """A 1x2 certnet trained for a few hundred iterations (card path)."""
    config = {
        "name": "tiny_certnet",
        "setting": {"n_bidders": 1, "n_items": 2},
        "mechanism": {"name": "certnet", "params": {"hidden": 16, "layers": 2}},
        "trainer": {
            "name": "regretnet",
            "params": {"batch_size": 256, "misreport_inits": 1, "misreport_steps": 10, "relu_stability": 0.01},
        },
        "iterations": 300,
        "dataset_size": 4096,
        "log_every": 100,
        "save_every": 300,
        "evaluation": None,
    }
    return train(load_training_config(config), tmp_path_factory.mktemp("certnet") / "run", progress=False)


def test_certificate_of_a_trained_1x2_model_equals_grid_search(trained_1x2):
    """A certnet trained for a few hundred iterations: certificate = fine grid search."""
    prior = mechanisms.make_prior(1, 2)
    net = mechanisms.make(
        "certnet", context={"prior": prior, "n_bidders": 1, "n_items": 2}, checkpoint=str(trained_1x2)
    )
    with torch.no_grad():
        revenue = net.run(prior.sample(2000, torch.Generator().manual_seed(0))).payments.sum(-1).mean()
    assert revenue > 0.3  # it learned to sell
    cert = Certifier(net, prior)
    for v in np.random.default_rng(0).random((4, 1, 2)):
        c = cert.certify(v, 0)
        best = grid_best(cert, v, 0, points=401) - c.truthful_utility
        assert c.certified and c.regret >= best - 1e-6 and c.regret == pytest.approx(best, abs=1e-3)


def test_time_out_is_reported_not_certified():
    """A solve stopped by the time limit is not a certificate; its upper bound is still valid."""
    net, prior = certnet(2, 2, "construction", hidden=64, layers=3)
    c = Certifier(net, prior, time_limit=0.01).certify(np.array([[0.4, 0.7], [0.5, 0.9]]), 0)
    assert c.status == "timelimit" and not c.certified and c.regret is None
    if c.regret_found is not None:
        assert c.regret_upper_bound >= c.regret_found - 1e-6


def test_solver_error_is_reported_not_certified(monkeypatch):
    """A SCIP failure (e.g. unresolved LP numerics) is retried once with a looser tolerance, then
    reported as an error status: not certified, infinite upper bound, and no exception."""
    from mechanisms.certification.mip import Program

    class FailingModel:
        def setParam(self, *args):
            pass

        def setObjlimit(self, *args):
            pass

        def optimize(self):
            raise Exception("SCIP: error in LP solver!")

    net, prior = certnet(1, 2, "penalty")
    cert = Certifier(net, prior, split_binaries=None)
    tolerances = []

    def build(v, bidder, box=None, feastol=None):
        tolerances.append(feastol)
        return Program(FailingModel(), [], np.asarray(v), bidder, 0, 0)

    monkeypatch.setattr(cert, "build", build)
    c = cert.certify(np.array([[0.4, 0.7]]), 0)
    assert not c.certified and c.regret is None and c.status == "error: SCIP: error in LP solver!"
    assert c.regret_upper_bound == float("inf")
    assert tolerances == [None, 1e-7]  # the retry loosens the feasibility tolerance


def test_attack_above_certificate_fails_loudly(monkeypatch):
    """If an attack finds more regret than the certificate, certification raises."""
    net, prior = certnet(1, 2, "penalty")
    monkeypatch.setattr("mechanisms.certification.study.attack_regrets", lambda *a, **k: torch.full((2, 1), 10.0))
    with pytest.raises(CertificationError, match="below"):
        certify_profiles(net, prior, profiles=2, attacks=("weak",))


def test_only_certnets_are_certified():
    """Another mechanism is refused with a clear message."""
    prior = mechanisms.make_prior(2, 2)
    with pytest.raises(ValueError, match="certifiable"):
        Certifier(mechanisms.make("regretnet", context={"prior": prior, "n_bidders": 2, "n_items": 2}), prior)


def test_certify_cli_writes_certificates(trained_1x2, tmp_path, capsys):
    """`auction-env certify` writes certificates.csv and summary.json; a non-certnet exits 2."""
    assert (
        main(
            [
                "certify",
                str(trained_1x2),
                "--profiles",
                "3",
                "--out",
                str(tmp_path / "out"),
                "--attacks",
                "weak",
                "--no-progress",
            ]
        )
        == 0
    )
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["per_bidder"][0]["certificates"] == 3 and summary["tolerance"] == 1e-6
    assert len((tmp_path / "out" / "certificates.csv").read_text().splitlines()) == 4
    assert main(["certify", "regretnet_2x2", "--profiles", "1", "--out", str(tmp_path / "bad")]) == 2
    assert "only certnet" in capsys.readouterr().err
    assert (
        main(
            ["certify", str(trained_1x2), "--profiles", "1", "--split-binaries", "lots", "--out", str(tmp_path / "bad")]
        )
        == 2
    )
    assert "--split-binaries" in capsys.readouterr().err
    assert (
        main(["certify", str(trained_1x2), "--profiles", "1", "--tolerance", "-1", "--out", str(tmp_path / "bad")]) == 2
    )
    assert "--tolerance" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
