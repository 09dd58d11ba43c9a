"""Data-parallel mechanism training under torchrun (2 CPU processes, gloo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

import mechanisms

pytestmark = pytest.mark.distributed

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]  # a free local port
HELPER = Path(__file__).parent / "helpers" / "ddp_replicas.py"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}  # an abort prints every thread's stack
    return subprocess.run([*TORCHRUN, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _failure(done: subprocess.CompletedProcess) -> str:
    """What a failed torchrun said: the children's own lines (a C++ abort's ``terminate called``
    or ``what()`` comes before the launcher's summary) and the summary's end."""
    own = [line for line in done.stderr.splitlines() if "torch/distributed/elastic" not in line]
    return "\n".join(own[:40]) + "\n...\n" + done.stderr[-1500:]


def test_replicas_stay_identical_on_different_shards(tmp_path):
    """After DDP steps both ranks hold the same weights and multipliers, trained on different profiles."""
    done = _run([str(HELPER)], tmp_path)
    assert done.returncode == 0, _failure(done)
    assert "REPLICAS OK" in done.stdout


def test_torchrun_train_writes_a_checkpoint_and_resumes(tmp_path):
    """`torchrun --nproc_per_node=2 -m auction_env train` trains, resumes from last.pt, and writes a
    checkpoint (rank 0 only) that loads and runs."""
    config = {
        "name": "tiny_ddp",
        "setting": {"n_bidders": 2, "n_items": 2},
        "mechanism": {"name": "regretnet", "params": {"hidden": 16, "layers": 2}},
        "trainer": {"name": "regretnet", "params": {"batch_size": 64, "misreport_inits": 1, "misreport_steps": 3}},
        "iterations": 30,
        "dataset_size": 1024,
        "log_every": 10,
        "save_every": 10,
        "evaluation": {"profiles": 100, "protocol": "weak"},
    }
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(config))
    first = _run(
        ["-m", "auction_env", "train", "tiny.yaml", "--out", "out", "--iterations", "20", "--no-progress"], tmp_path
    )
    assert first.returncode == 0, _failure(first)
    second = _run(["-m", "auction_env", "train", "tiny.yaml", "--out", "out", "--no-progress"], tmp_path)
    assert second.returncode == 0, _failure(second)
    assert second.stdout.count("checkpoint written") == 1  # only rank 0 speaks
    rows = (tmp_path / "out" / "metrics.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["10", "20", "30"]  # resumed, no duplicate rows
    state = torch.load(tmp_path / "out" / "last.pt", weights_only=True)
    assert len(state["ranks"]) == 2
    card = json.loads((tmp_path / "out" / "tiny_ddp.json").read_text())
    assert card["training"]["iterations"] == 30 and "2 processes" in card["training"]["hardware"]
    net = mechanisms.make(
        "regretnet",
        context={"prior": mechanisms.make_prior(2, 2), "n_bidders": 2, "n_items": 2},
        checkpoint=str(tmp_path / "out" / "tiny_ddp.json"),
    )
    with torch.no_grad():
        out = net.run(torch.rand(8, 2, 2, generator=torch.Generator().manual_seed(0)))
    assert torch.all(out.allocation.sum(1) <= 1 + 1e-6)
