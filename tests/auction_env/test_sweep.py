"""Sweep backends: same rows on every backend, resumable cells, failing cells as rows, Ray."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from auction_env.cli import main
from auction_env.runner import run_scenario
from mechanisms.common.errors import ConfigError


def sweep_file(folder: Path, *, episodes: int = 2000, reserves=(0.0, 0.1, 0.2), seeds=(0, 1)) -> Path:
    scenario = {
        "name": "tiny_sweep",
        "env": {
            "n_bidders": 2,
            "n_items": 2,
            "mechanism": {"name": "second_price", "params": {"reserve": 0.0}},
            "rounds": 5,
        },
        "agents": [{"policy": "truthful"}],
        "run": {"episodes": episodes, "seed": 0},
        "sweep": {"grid": {"env.mechanism.params.reserve": list(reserves)}, "seeds": list(seeds)},
    }
    path = folder / "tiny_sweep.yaml"
    path.write_text(yaml.safe_dump(scenario))
    return path


def comparable(rows):
    """Rows without their wall times (the only field that may differ between runs)."""
    return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in rows]


@pytest.mark.slow
def test_local_pool_and_in_process_give_the_same_rows(tmp_path):
    """A process pool of 2 workers and the in-process run give identical rows, in cell order."""
    path = sweep_file(tmp_path)
    one = run_scenario(str(path), out=tmp_path / "one", workers=1, progress=False)
    pool = run_scenario(str(path), out=tmp_path / "pool", workers=2, progress=False)
    assert len(one.rows) == 6 and comparable(one.rows) == comparable(pool.rows)
    assert [r["env.mechanism.params.reserve"] for r in pool.rows] == [0.0, 0.0, 0.1, 0.1, 0.2, 0.2]


def test_rerun_skips_finished_cells_and_recomputes_missing_ones(tmp_path):
    """After losing two cell records, a rerun recomputes exactly those and keeps the others untouched."""
    path = sweep_file(tmp_path)
    out = tmp_path / "out"
    first = run_scenario(str(path), out=out, workers=1, progress=False)
    records = sorted((out / "cells").glob("cell-*.json"))
    assert len(records) == 6
    for lost in records[1:3]:
        lost.unlink()
    (out / "sweep.csv").unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in records if p.exists()}
    second = run_scenario(str(path), out=out, workers=1, progress=False)
    assert comparable(second.rows) == comparable(first.rows)
    assert {p.name: p.stat().st_mtime_ns for p in records if p.name in kept} == kept
    assert len(list(csv.DictReader((out / "sweep.csv").open()))) == 6


def test_failing_cell_is_reported_and_does_not_stop_the_sweep(tmp_path, capsys):
    """A cell that fails to build becomes a row with its error; the CLI exits 1 and says so."""
    path = sweep_file(tmp_path, reserves=(0.1, -1.0), seeds=(0,))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--no-progress"]) == 1
    rows = list(csv.DictReader((tmp_path / "out" / "sweep.csv").open()))
    assert rows[0]["error"] == "" and float(rows[0]["revenue_mean"]) > 0
    assert "reserve must be finite and >= 0" in rows[1]["error"]
    assert "1 of 2 sweep cells failed" in capsys.readouterr().err


def test_out_folder_of_another_sweep_is_refused(tmp_path):
    """Resuming into a folder that holds another sweep's cells fails with a clear message."""
    out = tmp_path / "out"
    run_scenario(str(sweep_file(tmp_path)), out=out, workers=1, progress=False)
    other = sweep_file(tmp_path, reserves=(0.3, 0.4, 0.5))
    with pytest.raises(ConfigError, match="another sweep"):
        run_scenario(str(other), out=out, workers=1, progress=False)


def test_a_smaller_grid_is_refused_then_overwritten_without_leftover_cells(tmp_path):
    """A sweep whose grid is smaller than the one --out holds refuses (the extra cells would stay);
    --overwrite deletes them, so cells/ and sweep.csv hold this sweep only."""
    out = tmp_path / "out"
    run_scenario(str(sweep_file(tmp_path, episodes=2)), out=out, workers=1, progress=False)
    assert len(list((out / "cells").glob("cell-*.json"))) == 6
    smaller = sweep_file(tmp_path, episodes=2, reserves=(0.0, 0.1))
    with pytest.raises(ConfigError, match=r"another sweep \(cell-0004\.json and 2 in all beyond this sweep's 4\)"):
        run_scenario(str(smaller), out=out, workers=1, progress=False)
    result = run_scenario(str(smaller), out=out, workers=1, progress=False, overwrite=True)
    assert sorted(p.name for p in (out / "cells").iterdir()) == [f"cell-{i:04d}.json" for i in range(4)]
    assert len(result.rows) == 4 and len(list(csv.DictReader((out / "sweep.csv").open()))) == 4


def test_a_single_run_into_a_sweep_folder_is_refused_then_replaces_it(tmp_path, capsys):
    """A scenario without a sweep, run into a folder holding a sweep's results, refuses (one line,
    exit 2, the sweep's files untouched); --overwrite writes its results and removes sweep.csv and
    cells/, so the folder holds one run's results only."""
    out = tmp_path / "out"
    sweep = sweep_file(tmp_path, episodes=2)
    run_scenario(str(sweep), out=out, workers=1, progress=False)
    single = yaml.safe_load(sweep.read_text())
    del single["sweep"]
    path = tmp_path / "single.yaml"
    path.write_text(yaml.safe_dump(single))
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "holds a sweep's results" in err and "--overwrite" in err and err.count("\n") == 1
    assert (out / "sweep.csv").exists() and len(list((out / "cells").iterdir())) == 6
    assert main(["run", str(path), "--out", str(out), "--no-progress", "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "summary.json"]
    assert "cells" not in json.loads((out / "summary.json").read_text())


def test_ray_backend_without_ray_says_how_to_install(tmp_path, monkeypatch, capsys):
    """--backend ray without Ray installed: exit 2 and one line with the install command."""
    monkeypatch.setitem(sys.modules, "ray", None)
    assert (
        main(["run", str(sweep_file(tmp_path)), "--backend", "ray", "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert "pip install 'auction-env[distributed]'" in err and len(err.splitlines()) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_head():
    """A loopback Ray head of 2 CPUs started with `ray start --block` in its own process group;
    temp and auth files live in a temp folder, and only this cluster is stopped (by its group)."""
    folder = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths have a length limit
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "HOME": str(folder), "RAY_USAGE_STATS_ENABLED": "0"}
    ray_cli = Path(sys.executable).with_name("ray")
    head = subprocess.Popen(
        [
            str(ray_cli),
            "start",
            "--head",
            "--block",
            "--port",
            str(port),
            "--node-ip-address",
            "127.0.0.1",
            "--num-cpus",
            "2",
            "--temp-dir",
            str(folder / "t"),
            "--include-dashboard",
            "false",
            "--disable-usage-stats",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        address = f"127.0.0.1:{port}"
        deadline = time.time() + 90
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        else:
            raise RuntimeError("the Ray head did not start")
        yield address, env
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        time.sleep(1)
        try:
            os.killpg(head.pid, signal.SIGKILL)  # anything left of *this* cluster
        except ProcessLookupError:
            pass
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.distributed
def test_ray_cluster_sweep_survives_a_kill_and_resumes(tmp_path, ray_head):
    """A sweep on a loopback Ray head, killed halfway and rerun, ends with every row exactly once,
    equal to the local backend's rows."""
    address, env = ray_head
    path = sweep_file(tmp_path, episodes=60_000, reserves=(0.0, 0.05, 0.1, 0.15, 0.2, 0.25), seeds=(0, 1))
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "auction_env",
        "run",
        str(path),
        "--backend",
        "ray",
        "--address",
        address,
        "--out",
        str(out),
        "--no-progress",
    ]
    run = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "cells").glob("cell-*.json"))) < 3 and run.poll() is None:
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    done_before = len(list((out / "cells").glob("cell-*.json")))
    assert 3 <= done_before < 12, "the sweep was not interrupted halfway"
    assert not (out / "sweep.csv").exists()
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    cells = [(r["env.mechanism.params.reserve"], r["run.seed"]) for r in rows]
    assert len(rows) == 12 and len(set(cells)) == 12
    records = sorted((out / "cells").glob("cell-*.json"))
    assert len(records) == 12 and all("error" not in json.loads(p.read_text())["row"] for p in records)
    local = run_scenario(str(path), out=tmp_path / "local", workers=1, progress=False)
    ray_rows = [json.loads(p.read_text())["row"] for p in records]
    assert comparable(ray_rows) == comparable(json.loads(json.dumps(local.rows)))


def test_rerun_with_other_settings_is_refused_then_overwritten(tmp_path, capsys):
    """A rerun into the same --out with changed settings refuses, naming the change; --overwrite
    replays every cell; the same settings resume (the cells keep their rows)."""
    out = tmp_path / "out"
    scenario = str(sweep_file(tmp_path))
    first = run_scenario(scenario, out=out, workers=1, episodes=2, progress=False)
    with pytest.raises(ConfigError, match=r"other settings \(run\.episodes: 2 -> 3\).*--overwrite"):
        run_scenario(scenario, out=out, workers=1, episodes=3, progress=False)
    assert main(["run", scenario, "--out", str(out), "--episodes", "3", "--workers", "1", "--no-progress"]) == 2
    assert "run.episodes: 2 -> 3" in capsys.readouterr().err
    again = run_scenario(scenario, out=out, workers=1, episodes=3, progress=False, overwrite=True)
    assert [r["episodes"] for r in again.rows] == [3] * len(again.rows)
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert {r["episodes"] for r in rows} == {"3"}
    resumed = run_scenario(scenario, out=out, workers=1, episodes=3, progress=False)
    assert resumed.rows == again.rows and first.rows != again.rows


@pytest.mark.parametrize("kind", ["file", "unwritable"])
def test_a_bad_out_is_refused_before_any_work(tmp_path, capsys, kind):
    """--out that is a file, or a folder that cannot be written, fails at once with one line."""
    if kind == "file":
        out = tmp_path / "taken"
        out.write_text("not a folder")
    else:  # a folder that cannot be made, whoever runs the test (root ignores permission bits)
        (tmp_path / "plain_file").write_text("x")
        out = tmp_path / "plain_file" / "out"
    started = time.perf_counter()
    assert main(["run", "quickstart", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and err.count("\n") == 1 and time.perf_counter() - started < 30
