"""Writing results: atomic files (a reader sees the old file or the whole new one, never half of
it), CSV text from rows, and ``torch.save`` through the same temporary-file-and-rename."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mechanisms.common.errors import ConfigError

__all__ = [
    "write_text_atomic",
    "write_json_atomic",
    "strict_json",
    "temporary_sibling",
    "atomic_path",
    "save_figure",
    "save_torch_atomic",
    "rows_to_csv",
    "flatten_row",
    "check_writable",
]


def check_writable(path: str | Path, *, folder: bool = True, option: str = "--out") -> Path:
    """Check, before any work, that the results can be written to ``path``; returns it as a Path.

    ``folder``: ``path`` is a folder the results go in (made with its parents if missing);
    otherwise a file, which must not be a folder and whose folder must be writable. Folders made
    by the check are removed again, so a run that fails later leaves none behind.

    Raises:
        ConfigError: one line naming ``option``.
    """
    path = Path(path)
    if not folder and path.is_dir():
        raise ConfigError(f"{path} is a folder, not a file", option)
    target = path if folder else path.parent
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} is a file, not a folder", option)
    created = [p for p in (target, *target.parents) if not p.exists()]
    try:
        target.mkdir(parents=True, exist_ok=True)
        probe = target / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ConfigError(f"cannot write to {target}: {err.strerror or err}", option) from None
    finally:
        for made in created:
            if made.is_dir():
                made.rmdir()
    return path


def _default_mode() -> int:
    """The mode a plain ``open()`` would give a new file (0o666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def temporary_sibling(path: Path) -> str:
    """A new empty temporary file next to ``path`` with ordinary permissions (mkstemp's are 0600)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, _default_mode())
    return tmp


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | Path, data: Any, *, indent: int = 2) -> Path:
    """Write ``data`` as strict JSON (``indent`` spaces, a final newline) through :func:`write_text_atomic`.

    JSON has no NaN or infinity (``json.dumps`` would write bare ``NaN``, which strict parsers
    refuse): such values are written as ``null``, and a dict gets ``"non_finite_as_null": count``.
    """
    clean, count = strict_json(data)
    if count and isinstance(clean, dict):
        clean["non_finite_as_null"] = count
    return write_text_atomic(path, json.dumps(clean, indent=indent, allow_nan=False) + "\n")


def strict_json(data: Any) -> tuple[Any, int]:
    """``data`` with every NaN or infinite float replaced by None, and how many were replaced."""
    if isinstance(data, float):
        return (data, 0) if math.isfinite(data) else (None, 1)
    if isinstance(data, dict):
        items = [(k, *strict_json(v)) for k, v in data.items()]
        return {k: v for k, v, _ in items}, sum(n for _, _, n in items)
    if isinstance(data, (list, tuple)):
        items = [strict_json(v) for v in data]
        return [v for v, _ in items], sum(n for _, n in items)
    return data, 0


def save_figure(fig: Any, path: str | Path, *, dpi: int = 110) -> Path:
    """Write a matplotlib figure as PNG atomically (:func:`atomic_path`) and close it."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)
    return Path(path)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``, on error it is removed.

    For writers that take a path or a file (a plot, a model zip)::

        with atomic_path("out/curve.png") as tmp:
            fig.savefig(tmp, format="png")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_torch_atomic(obj: Any, path: str | Path) -> None:
    """``torch.save`` through a temporary file and ``os.replace``."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def flatten_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Expand list values into numbered columns (``utility_mean`` -> ``utility_mean_0`` ...)."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, (list, tuple)):
            flat.update({f"{key}_{i}": v for i, v in enumerate(value)})
        else:
            flat[key] = value
    return flat


def rows_to_csv(rows: list[Mapping[str, Any]]) -> str:
    """CSV text with one line per row (``\\n`` endings); columns in first-seen order."""
    flat = [flatten_row(r) for r in rows]
    columns: list[str] = []
    for row in flat:
        columns.extend(k for k in row if k not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return buffer.getvalue()
