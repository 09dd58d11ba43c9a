"""Interruptions lose at most seconds: Ctrl-C and SIGTERM save the training state, a clock saves it
too, a resumed run equals an uninterrupted one, and a killed sweep leaves no worker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.slow


def _config(path: Path, *, save_every: int = 100_000, save_seconds: float = 60.0) -> Path:
    """A tiny training config that runs for ever (1,000,000 iterations) unless stopped."""
    config = {
        "name": "tiny",
        "setting": {"n_bidders": 2, "n_items": 2},
        "mechanism": {"name": "regretnet", "params": {"hidden": 8, "layers": 1}},
        "trainer": {"name": "regretnet", "params": {"batch_size": 32, "misreport_steps": 1, "misreport_inits": 1}},
        "iterations": 1_000_000,
        "dataset_size": 512,
        "log_every": 5,
        "save_every": save_every,
        "save_seconds": save_seconds,
        "evaluation": None,
    }
    path.write_text(yaml.safe_dump(config))
    return path


def _start(config: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "auction_env", "train", str(config), "--out", str(out), "--no-progress"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


def _wait_for_rows(out: Path, rows: int, timeout: float = 120.0) -> None:
    """Until metrics.csv has ``rows`` data rows (training is under way)."""
    metrics = out / "metrics.csv"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metrics.exists() and len(metrics.read_text().splitlines()) > rows:
            return
        time.sleep(0.1)
    raise AssertionError("training did not start")


def _saved_iteration(out: Path) -> int:
    return int(torch.load(out / "last.pt", weights_only=True)["ranks"][0]["trainer"]["iteration"])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_saves_and_resuming_equals_an_uninterrupted_run(tmp_path: Path, signum: int) -> None:
    """After SIGINT/SIGTERM the run saves its state and exits 130 with one line; resuming to N
    iterations gives the same weights, bit for bit, as one run to N; metrics.csv keeps LF endings."""
    from auction_env.cli import main

    config = _config(tmp_path / "tiny.yaml")
    process = _start(config, tmp_path / "a")
    _wait_for_rows(tmp_path / "a", 3)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "saved" in err and "Traceback" not in err
    stopped = _saved_iteration(tmp_path / "a")
    assert stopped >= 15
    target = str(stopped + 7)
    assert main(["train", str(config), "--out", str(tmp_path / "a"), "--iterations", target, "--no-progress"]) == 0
    assert main(["train", str(config), "--out", str(tmp_path / "b"), "--iterations", target, "--no-progress"]) == 0
    a = torch.load(tmp_path / "a" / "tiny.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "tiny.pt", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    raw = (tmp_path / "a" / "metrics.csv").read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")


def test_the_clock_saves_even_if_the_process_is_killed(tmp_path: Path) -> None:
    """With save_every far away, a run killed with SIGKILL (no handler runs) still left a recent
    last.pt: it is saved every save_seconds of wall clock."""
    process = _start(_config(tmp_path / "tiny.yaml", save_seconds=0.2), tmp_path / "run")
    _wait_for_rows(tmp_path / "run", 6)
    time.sleep(0.5)
    process.kill()
    process.communicate(timeout=60)
    assert _saved_iteration(tmp_path / "run") >= 5


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_a_killed_sweep_leaves_no_workers(tmp_path: Path) -> None:
    """Killing a sweep's main process (SIGKILL) takes its pool workers with it within seconds."""
    scenario = {
        "name": "long_sweep",
        "env": {"n_bidders": 2, "n_items": 2, "mechanism": "second_price", "rounds": 100},
        "run": {"episodes": 2_000_000, "batch_size": 1024},
        "sweep": {"grid": {"env.n_bidders": [2, 3, 4, 5]}},
    }
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(scenario))
    command = [sys.executable, "-m", "auction_env", "run", str(path), "--out", str(tmp_path / "out"), "--workers", "2"]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        workers = [c for c in _children(process.pid) if "spawn" in Path(f"/proc/{c}/cmdline").read_text()]
        time.sleep(0.2)
    assert len(workers) >= 2, "the pool did not start"
    process.kill()
    process.wait(timeout=30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.2)
    alive = [w for w in workers if _state(w) not in (None, "Z")]  # gone, or a zombie awaiting its reaper
    assert not alive, f"orphan workers still running: {alive}"
