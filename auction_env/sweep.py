"""Run the cells of a sweep on a backend, resumably.

Backends (no scheduler of our own):

* ``local``: a process pool on this machine (``concurrent.futures`` with spawned workers;
  ``workers=1`` runs the cells in this process);
* ``ray``: one Ray task per cell on a local Ray or an existing cluster (``address``), gathered
  as they finish. Ray is an optional extra: ``pip install 'auction-env[distributed]'``.

Every cell runs with one torch thread whatever the backend, so the same sweep gives the same
rows, bit for bit, on every backend. Each finished cell is written atomically to
``out/cells/cell-NNNN.json``; rerunning with the same ``out`` skips the cells already there
(a cell that failed is retried), so an interrupted sweep never loses or duplicates a row. A
failing cell becomes a row with its ``error`` and does not stop the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from auction_env.config import ScenarioConfig, parse
from mechanisms.common.errors import AuctionEnvError, ConfigError
from mechanisms.common.io import write_json_atomic

__all__ = ["BACKENDS", "run_cells", "play_cell", "fingerprint", "cell_records"]

BACKENDS = ("local", "ray")
Cell = tuple[dict[str, Any], ScenarioConfig]


def play_cell(config: dict[str, Any], device: str | None = None) -> dict[str, Any]:
    """Play one cell (a sweep-free config as a dict) with one torch thread: its summary, or
    ``{"error": ...}``. Runs in workers, so it takes and returns plain data."""
    import torch

    from auction_env.runner import play

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return play(parse(ScenarioConfig, config), device=device)
    except Exception as err:  # a failing cell is a row, not a crash of the sweep
        message = (
            str(err)
            if isinstance(err, AuctionEnvError)
            else "".join(traceback.format_exception_only(type(err), err)).strip()
        )
        return {"error": message}
    finally:
        torch.set_num_threads(threads)


def _cell_path(out: Path, index: int) -> Path:
    return out / "cells" / f"cell-{index:04d}.json"


def fingerprint(config: dict[str, Any]) -> str:
    """A short hash of a resolved cell config and the package version: what a cell's result depends on."""
    import auction_env

    text = json.dumps({"config": _jsonable(config), "version": auction_env.__version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _changed(old: Any, new: Any, path: str = "") -> list[str]:
    """Dotted keys whose values differ between two configs (``run.episodes: 50 -> 10000``)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            c
            for key in sorted(set(old) | set(new))
            for c in _changed(old.get(key), new.get(key), f"{path}.{key}".lstrip("."))
        ]
    return [] if old == new else [f"{path or 'config'}: {old!r} -> {new!r}"]


def _finished(out: Path | None, cells: Sequence[Cell], overwrite: bool = False) -> dict[int, dict[str, Any]]:
    """Rows of cells already finished (without error) under ``out`` with the same settings.

    A record of another sweep, or of this cell played with other settings, is refused (one line
    saying what changed), or with ``overwrite`` deleted so the cell plays again.
    """
    done: dict[int, dict[str, Any]] = {}
    if out is None:
        return done
    beyond = _records_beyond(out, len(cells))
    if beyond and not overwrite:
        raise ConfigError(
            f"{out}: holds the cells of another sweep ({beyond[0].name} and {len(beyond)} in all beyond this "
            f"sweep's {len(cells)}); rerun with --overwrite to replace them, or use a new --out"
        )
    for path in beyond:
        path.unlink()
    for index, (overrides, config) in enumerate(cells):
        path = _cell_path(out, index)
        if not path.exists():
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            row = record["row"]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
            if overwrite:
                path.unlink()
                continue
            raise ConfigError(
                f"{path}: unreadable cell record ({type(err).__name__}); rerun with --overwrite"
            ) from None
        resolved = _jsonable(config.to_dict())
        stale = None
        if record.get("overrides") != _jsonable(overrides):
            stale = f"holds the cells of another sweep ({path.name}: {record.get('overrides')})"
        elif record.get("fingerprint") != fingerprint(resolved):
            changes = _changed(record.get("config"), resolved) if record.get("config") else ["an earlier version"]
            stale = f"{path.name} was played with other settings ({'; '.join(changes[:3])})"
        if stale is not None:
            if overwrite:
                path.unlink()
                continue
            raise ConfigError(f"{out}: {stale}; rerun with --overwrite to replay it, or use a new --out")
        if "error" not in row:
            done[index] = row
    return done


def cell_records(out: Path) -> list[Path]:
    """Every cell record under ``out`` (``cells/cell-NNNN.json``), in name order."""
    folder = out / "cells"
    return sorted(folder.glob("cell-*.json")) if folder.is_dir() else []


def _records_beyond(out: Path, count: int) -> list[Path]:
    """Cell records under ``out`` whose index is not one of a sweep's ``count`` cells."""
    found = []
    for path in cell_records(out):
        index = path.stem.removeprefix("cell-")
        if not (index.isdigit() and int(index) < count):
            found.append(path)
    return found


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value))


def run_cells(
    cells: Sequence[Cell],
    *,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    out: Path | None = None,
    device: str | None = None,
    on_cell: Callable[[], None] | None = None,
    ray_init: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> list[dict[str, Any]]:
    """Play every cell and return one row per cell, in cell order (``{**overrides, **summary}``).

    Args:
        cells: ``(overrides, config)`` pairs (see :func:`auction_env.config.sweep_cells`).
        backend: ``local`` or ``ray``.
        workers: local processes (default: CPU count); for ``ray``, the CPUs of a local Ray.
        address: an existing Ray cluster (``ray`` only), e.g. ``127.0.0.1:6379``.
        out: folder for per-cell records (resume); None keeps nothing on disk.
        on_cell: called once per finished cell (progress bars), resumed cells included.
        ray_init: extra keyword arguments for ``ray.init`` (e.g. a temp dir).
        overwrite: replay cells whose records under ``out`` were made with other settings
            (otherwise such a record is refused).

    Raises:
        ConfigError: unknown backend, Ray missing, or ``out`` holds another sweep's cells or cells
            played with other settings (without ``overwrite``).
    """
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}", "--backend")
    if address is not None and backend != "ray":
        raise ConfigError("--address needs --backend ray", "--address")
    if workers is not None and workers < 1:
        raise ConfigError("--workers must be >= 1", "--workers")
    rows: dict[int, dict[str, Any]] = dict(_finished(out, cells, overwrite))
    for _ in rows:
        if on_cell is not None:
            on_cell()
    pending = [i for i in range(len(cells)) if i not in rows]
    configs = {i: cells[i][1].to_dict() for i in pending}

    def finish(index: int, summary: dict[str, Any]) -> None:
        overrides = cells[index][0]
        row = {**overrides, **summary}
        if out is not None:
            resolved = _jsonable(cells[index][1].to_dict())
            record = {"overrides": _jsonable(overrides), "fingerprint": fingerprint(resolved), "config": resolved}
            write_json_atomic(_cell_path(out, index), {**record, "row": row}, indent=1)
        rows[index] = row
        if on_cell is not None:
            on_cell()

    if pending and backend == "ray":
        _run_ray(pending, configs, device, workers, address, ray_init or {}, finish)
    elif pending and (workers or os.cpu_count() or 1) > 1 and len(pending) > 1:
        _run_pool(pending, configs, device, workers or os.cpu_count() or 1, finish)
    else:
        for i in pending:
            finish(i, play_cell(configs[i], device))
    return [rows[i] for i in range(len(cells))]


def _run_pool(
    pending: list[int],
    configs: dict[int, dict],
    device: str | None,
    workers: int,
    finish: Callable[[int, dict[str, Any]], None],
) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # Spawned (not forked) workers: forking a process that holds torch threads can deadlock.
    with ProcessPoolExecutor(
        max_workers=min(workers, len(pending)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        futures = {pool.submit(play_cell, configs[i], device): i for i in pending}
        remaining = set(futures)
        while remaining:
            done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    summary = future.result()
                except Exception as err:  # the worker died (e.g. killed): a row with the error
                    summary = {"error": f"worker failed: {type(err).__name__}: {err}"}
                finish(futures[future], summary)


def _exit_with_parent(parent: int) -> None:
    """In a pool worker: exit as soon as the sweep's main process is gone (killed), leaving no orphan."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def _run_ray(
    pending: list[int],
    configs: dict[int, dict],
    device: str | None,
    workers: int | None,
    address: str | None,
    ray_init: dict[str, Any],
    finish: Callable[[int, dict[str, Any]], None],
) -> None:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--backend ray needs Ray: pip install 'auction-env[distributed]' (or pip install 'ray>=2.9')", "--backend"
        ) from None
    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, **ray_init}
        if address is not None:
            kwargs["address"] = address
        elif workers is not None:
            kwargs["num_cpus"] = workers
        ray.init(**kwargs)
    try:
        task = ray.remote(num_cpus=1)(play_cell)
        refs = {task.remote(configs[i], device): i for i in pending}
        remaining = list(refs)
        while remaining:
            done, remaining = ray.wait(remaining, num_returns=1)
            for ref in done:
                try:
                    summary = ray.get(ref)
                except Exception as err:  # a task or its worker failed
                    summary = {"error": f"ray task failed: {type(err).__name__}: {err}"}
                finish(refs[ref], summary)
    finally:
        if started:
            ray.shutdown()
