"""Untrusted input ends in one line: a ConfigError/CheckpointError (exit 2 at the CLI) or a
ValueError naming the agent in the env; never a traceback. Fuzzers back the hand-written cases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import auction_env
import mechanisms
from auction_env.catalog import load_scenario
from auction_env.cli import main
from auction_env.setting import validate_scenario
from mechanisms.common.config import MAX_BYTES, load_yaml
from mechanisms.common.errors import AuctionEnvError, CheckpointError, ConfigError
from mechanisms.learned import checkpoints

ROOT = Path(__file__).parents[1]

#: A training config that runs in a second.
TINY_TRAINING = {
    "name": "tiny",
    "mechanism": {"name": "regretnet", "params": {"hidden": 8, "layers": 1}},
    "trainer": {"name": "regretnet", "params": {"batch_size": 8, "misreport_steps": 1}},
    "iterations": 2,
    "dataset_size": 64,
    "evaluation": None,
}


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xfe\x00binary\x81", "not UTF-8 text"),
        (b"env:\n  n_bidders: " + b"[" * 5000 + b"1" + b"]" * 5000 + b"\n", "nested too deeply|invalid YAML"),
        (b"a: [1, 2\n", "invalid YAML"),
    ],
)
def test_bad_files_are_one_config_error(tmp_path: Path, content: bytes, message: str) -> None:
    """Binary, deeply nested or broken YAML is one ConfigError naming the file."""
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as err:
        load_scenario(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_huge_and_folder_paths_are_refused(tmp_path: Path) -> None:
    """A file over the size limit and a folder are refused before parsing."""
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"# " + b"x" * MAX_BYTES + b"\n")
    with pytest.raises(ConfigError, match="file too large"):
        load_yaml(huge)
    with pytest.raises(ConfigError, match="is a folder"):
        load_yaml(tmp_path)


def test_validate_reports_every_bad_file_and_goes_on(tmp_path: Path, capsys) -> None:
    """`validate` checks every file: a binary one is one line and the next file is still checked."""
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\x80\x81\x82")
    code = main(["validate", str(binary), "quickstart"])
    out, err = capsys.readouterr()
    assert code == 2 and "not UTF-8 text" in err and err.count("\n") == 1 and "ok" in out


def _card(tmp_path: Path, change) -> Path:
    """A copy of the shipped regretnet_2x2 (card and weights) with its card edited by ``change``."""
    src = checkpoints.find("regretnet_2x2")
    card = json.loads(src.read_text())
    change(card)
    dst = tmp_path / "edited.json"
    dst.write_text(json.dumps(card))
    shutil.copy(src.with_suffix(".pt"), dst.with_suffix(".pt"))
    return dst


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c["setting"].update(n_bidders="two"), "setting.n_bidders"),
        (lambda c: c["architecture"].update(hidden=float("nan")), "architecture.hidden must be a finite number"),
        (lambda c: c["setting"]["prior"].update(low="zero"), "setting.prior"),
        (lambda c: c["setting"].update(valuation="quadratic"), "setting.valuation"),
        (lambda c: c.update(architecture=[1, 2]), "architecture must be a JSON object"),
        (lambda c: c["architecture"].update(hidden=-3), "does not build a regretnet"),
        (lambda c: c["architecture"].update(hidden=10**12), "architecture.hidden = 1000000000000 is beyond"),
        (lambda c: c["architecture"].update(layers=10**7), "architecture.layers = 10000000 is beyond"),
    ],
)
def test_bad_model_cards_are_one_line(tmp_path: Path, capsys, change, message: str) -> None:
    """A model card that is valid JSON with bad fields fails in one line, in the API and the CLI."""
    path = _card(tmp_path, change)
    with pytest.raises(AuctionEnvError, match=message):
        mechanisms.load(str(path))
    assert main(["evaluate", str(path), "--profiles", "2", "--protocol", "weak", "--no-progress"]) == 2
    _one_line(capsys)


def test_a_prior_without_low_takes_the_priors_default(tmp_path: Path) -> None:
    """A card's prior without `low` is the prior's default (0), not a KeyError."""
    path = _card(tmp_path, lambda c: c["setting"]["prior"].pop("low"))
    assert float(mechanisms.load(str(path)).setting.prior.low.max()) == 0.0


@pytest.mark.solver
def test_certify_a_bidder_the_network_lacks(capsys, tmp_path: Path) -> None:
    """`certify --bidders 5` on a 1-bidder network is one line and exit 2."""
    code = main(["certify", "certnet_1x2_penalty", "--bidders", "5", "--profiles", "1", "--out", str(tmp_path)])
    assert code == 2 and "bidder 5 is not in [0, 0]" in _one_line(capsys)


# ---- fuzzers -------------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
_KEYS = st.sampled_from(
    [
        "env",
        "agents",
        "run",
        "sweep",
        "n_bidders",
        "n_items",
        "prior",
        "mechanism",
        "name",
        "params",
        "policy",
        "bidders",
        "rounds",
        "episodes",
        "grid",
        "seeds",
        "participation",
        "model",
        "p",
        "type",
        "high",
        "x",
    ]
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=20,
)


def _only_config_errors(path: Path) -> None:
    try:
        scenario = load_scenario(path)
        validate_scenario(scenario.config, source=scenario.source)
    except AuctionEnvError as err:
        assert "\n" not in str(err)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200))
def test_fuzz_scenario_bytes(tmp_path: Path, content: bytes) -> None:
    """Random bytes as a scenario file: a one-line ConfigError or a valid scenario, nothing else."""
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(content)
    _only_config_errors(path)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=_DOCUMENTS)
def test_fuzz_scenario_documents(tmp_path: Path, document) -> None:
    """Random YAML documents (scenario-like keys, any values): one-line ConfigErrors only."""
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(document))
    _only_config_errors(path)


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(100, 5000), kind=st.sampled_from(["[", "{a: "]))
def test_fuzz_deep_nesting(tmp_path: Path, depth: int, kind: str) -> None:
    """Scenarios nested hundreds to thousands deep: one-line ConfigErrors only (no RecursionError)."""
    close = "]" if kind == "[" else "}"
    path = tmp_path / "deep.yaml"
    path.write_text("env: " + kind * depth + "1" + close * depth + "\n")
    _only_config_errors(path)


_BIDS = st.one_of(
    _SCALARS,
    st.lists(st.one_of(_SCALARS, st.complex_numbers()), max_size=4),
    st.lists(st.lists(st.floats(), max_size=3), max_size=3),
    st.sampled_from([np.float32, np.float64, np.int64, np.bool_, np.complex64, np.str_]).flatmap(
        lambda dtype: st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=0, max_size=3).map(
            lambda xs: np.array(xs).astype(dtype) if dtype is not np.str_ else np.array(xs).astype(str)
        )
    ),
)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(bid=_BIDS)
def test_fuzz_bids(bid) -> None:
    """Any object as a bid: the step works (a valid bid) or raises ValueError naming the agent."""
    env = auction_env.parallel_env(n_bidders=2, n_items=2, rounds=3)
    env.reset(seed=0)
    try:
        env.step({"bidder_0": np.array([0.5, 0.5], np.float32), "bidder_1": bid})
    except ValueError as err:
        assert str(err).startswith("bidder_1: ")
    else:
        arr = np.asarray(bid)
        assert arr.dtype.kind in "fiu" and arr.shape == (2,) and np.isfinite(arr.astype(np.float32)).all()


class _Payload:
    """Unpickling this creates a folder: a visible side effect standing in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.mkdir, (str(self.marker),))


def test_a_checkpoint_with_a_pickle_payload_is_refused(tmp_path: Path, capsys) -> None:
    """Weights that are a pickle payload are refused (weights_only); nothing runs."""
    import torch

    path = _card(tmp_path, lambda c: None)
    marker = tmp_path / "pwned"
    torch.save({"trunk.0.weight": _Payload(marker)}, path.with_suffix(".pt"))
    with pytest.raises(CheckpointError, match="cannot load weights"):
        mechanisms.load(str(path))
    assert main(["evaluate", str(path), "--profiles", "2", "--no-progress"]) == 2
    _one_line(capsys)
    assert not marker.exists()


def test_a_resume_file_with_a_pickle_payload_is_refused(tmp_path: Path, capsys) -> None:
    """A crafted last.pt in a run folder is refused when training resumes; nothing runs."""
    import torch

    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY_TRAINING))
    marker = tmp_path / "pwned"
    (tmp_path / "run").mkdir()
    torch.save({"ranks": [_Payload(marker)], "elapsed": 0.0}, tmp_path / "run" / "last.pt")
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    assert "cannot resume" in _one_line(capsys) and not marker.exists()


def test_a_deeply_nested_card_and_non_finite_weights_are_one_line(tmp_path: Path, capsys) -> None:
    """A card nested past the JSON decoder's recursion limit, and weights holding NaN, are refused."""
    import torch

    deep = _card(tmp_path, lambda c: None)
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CheckpointError, match="nested too deeply"):
        mechanisms.load(str(deep))
    assert main(["evaluate", str(deep), "--profiles", "2", "--no-progress"]) == 2
    _one_line(capsys)
    (tmp_path / "nan").mkdir()
    nan = _card(tmp_path / "nan", lambda c: None)
    state = torch.load(nan.with_suffix(".pt"), weights_only=True)
    torch.save({k: v * float("nan") if v.is_floating_point() else v for k, v in state.items()}, nan.with_suffix(".pt"))
    with pytest.raises(CheckpointError, match="holds NaN or infinite values"):
        mechanisms.load(str(nan))
    assert main(["evaluate", str(nan), "--profiles", "2", "--protocol", "weak", "--no-progress"]) == 2
    _one_line(capsys)


def test_a_plain_pickle_is_refused_without_a_warning(tmp_path: Path) -> None:
    """A .pt that is a plain pickle (protocol 4) is refused in one error, with no torch warning
    printed before it; nothing runs."""
    import pickle
    import warnings

    path = _card(tmp_path, lambda c: None)
    marker = tmp_path / "pwned"
    path.with_suffix(".pt").write_bytes(pickle.dumps({"a": _Payload(marker)}, protocol=4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(CheckpointError, match="cannot load weights"):
            mechanisms.load(str(path))
    assert not caught and not marker.exists()


def test_an_output_path_under_a_file_is_one_line(tmp_path: Path, capsys) -> None:
    """`--out` below a file (or a folder where a file goes) ends in one line and exit 2."""
    blocker = tmp_path / "afile"
    blocker.touch()
    assert (
        main(
            [
                "evaluate",
                "myerson",
                "--profiles",
                "2",
                "--protocol",
                "weak",
                "--no-progress",
                "--out",
                str(blocker / "x.json"),
            ]
        )
        == 2
    )
    assert "afile is a file, not a folder" in _one_line(capsys)
    assert (
        main(["evaluate", "myerson", "--profiles", "2", "--protocol", "weak", "--no-progress", "--out", str(tmp_path)])
        == 2
    )
    assert "is a folder, not a file" in _one_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # no temporary file left


#: Each command with ``--out``, the function its work starts with (replaced by one that fails the
#: test), and what ``--out`` names: a folder, a file, or a file stem (``PATH.pt`` and ``PATH.json``).
OUT_COMMANDS = {
    "run": (["run", "quickstart"], "auction_env.runner.play", "folder"),
    "train": (["train", "{config}"], "mechanisms.training.loop.train", "folder"),
    "train-bidder": (["train-bidder", "quickstart"], "auction_env.experiments.bidder_training.train_bidder", "folder"),
    "train-inverter": (["train-inverter", "regretnet_2x2"], "mechanisms.learned.checkpoints.load_checkpoint", "stem"),
    "privacy": (["privacy", "regretnet_2x2"], "mechanisms.learned.checkpoints.load_checkpoint", "folder"),
    "certify": (["certify", "certnet_1x2"], "mechanisms.learned.checkpoints.load_checkpoint", "folder"),
    "collusion": (["collusion", "collusion_first_price"], "auction_env.experiments.collusion.collusion_run", "folder"),
    "evaluate": (["evaluate", "myerson"], "auction_env.experiments.evaluation.evaluate_named", "file"),
}


@pytest.mark.parametrize("command", sorted(OUT_COMMANDS))
def test_every_unwritable_out_is_refused_before_any_work(tmp_path: Path, capsys, monkeypatch, command) -> None:
    """`--out` under a file, or a file where a folder goes (a folder where a file goes), ends in one
    line and exit 2 before the command's work starts, with nothing left on disk."""
    import importlib

    args, work, kind = OUT_COMMANDS[command]
    module, name = work.rsplit(".", 1)

    def no_work(*a, **k):
        raise AssertionError(f"{command} started its work before checking --out")

    monkeypatch.setattr(importlib.import_module(module), name, no_work)
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY_TRAINING))
    args = [a.format(config=config) for a in args]
    blocker = tmp_path / "afile"
    blocker.touch()
    (tmp_path / "taken.pt").mkdir()
    wrong_kind = {"folder": blocker, "file": tmp_path, "stem": tmp_path / "taken"}[kind]
    for out in (blocker / "x", wrong_kind):
        assert main([*args, "--out", str(out), "--no-progress"]) == 2
        line = _one_line(capsys)
        assert "--out" in line and ("cannot write" in line or "not a f" in line), line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "taken.pt", "tiny.yaml"]
    assert not any((tmp_path / "taken.pt").iterdir())


def test_bad_algorithm_arguments_are_one_line(tmp_path: Path, capsys) -> None:
    """An SB3 argument SB3 itself asserts on (a learning rate that is text) is one line, exit 2."""
    scenario = tmp_path / "fp.yaml"
    scenario.write_text("env: {n_items: 1, mechanism: first_price, rounds: 2}\n")
    args = ["train-bidder", str(scenario), "--out", str(tmp_path / "out"), "--steps", "8", "--n-envs", "2"]
    assert main([*args, "--eval-rounds", "2", "--algo-kwargs", '{"learning_rate": "x"}']) == 2
    assert "learning rate" in _one_line(capsys)
    assert not (tmp_path / "out").exists()


def test_an_observer_that_is_no_bidder_is_refused_by_validate(tmp_path: Path, capsys) -> None:
    """`validate` refuses an observer seat the env would refuse (bidder 7 of 2), in one line."""
    scenario = tmp_path / "observer.yaml"
    scenario.write_text("env:\n  observer: {bidder: 7}\n")
    assert main(["validate", str(scenario)]) == 2
    assert "observer.bidder must be a bidder index in [0, 1], got 7" in _one_line(capsys)


def test_a_run_folder_resumes_only_its_own_config(tmp_path: Path, capsys) -> None:
    """Rerunning `train` into a run folder with a config that trains something else is refused in
    one line (its metrics and checkpoint would mix two runs); more iterations resume."""
    config, run = tmp_path / "tiny.yaml", str(tmp_path / "run")
    config.write_text(yaml.safe_dump(TINY_TRAINING))
    assert main(["train", str(config), "--out", run, "--no-progress"]) == 0
    capsys.readouterr()
    other = {
        **TINY_TRAINING,
        "trainer": {"name": "regretnet", "params": {"batch_size": 8, "misreport_steps": 1, "lr": 0.01}},
    }
    config.write_text(yaml.safe_dump(other))
    assert main(["train", str(config), "--out", run, "--no-progress"]) == 2
    assert "holds a run of another config (it differs in trainer)" in _one_line(capsys)
    config.write_text(yaml.safe_dump({**TINY_TRAINING, "iterations": 3}))
    assert main(["train", str(config), "--out", run, "--no-progress"]) == 0
    assert json.loads((tmp_path / "run" / "tiny.json").read_text())["training"]["iterations"] == 3


def test_a_config_too_large_for_the_machine_is_one_line(tmp_path: Path, capsys) -> None:
    """A training config whose network cannot be allocated ends in one line and exit 2, with
    nothing written."""
    config = tmp_path / "huge.yaml"
    huge = {**TINY_TRAINING, "mechanism": {"name": "regretnet", "params": {"hidden": 100_000_000_000, "layers": 1}}}
    config.write_text(yaml.safe_dump(huge))
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    assert "out of memory" in _one_line(capsys)
    assert not (tmp_path / "run").exists()
