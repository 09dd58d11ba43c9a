"""Building blocks of the certification MIP in SCIP (PySCIPOpt): affine expressions, ReLUs with
big-M constraints (Curry et al. 2020, eq. 4; Tjeng et al.), the built :class:`Program`, and a
guard that silences SoPlex's per-resolve warnings during a solve."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Program", "affine_expr", "relu", "silence_stderr"]


@dataclass
class Program:
    """A built MIP: the SCIP model, bidder ``bidder``'s misreport variables, the profile."""

    mip: Any
    bids: list[Any]
    valuations: np.ndarray
    bidder: int
    binaries: int
    relus: int


def affine_expr(w: np.ndarray, c: float, inputs: list[Any]) -> Any:
    """``w . inputs + c`` as a SCIP expression (constant inputs folded into the constant)."""
    import pyscipopt

    const = float(c)
    terms = []
    for weight, x in zip(w, inputs):
        if weight == 0.0:
            continue
        if isinstance(x, float):
            const += float(weight) * x
        else:
            terms.append(float(weight) * x)
    return pyscipopt.quicksum(terms) + const


def relu(mip: Any, pre: Any, l: float, u: float, name: str) -> tuple[Any, int]:
    """``relu(pre)`` for ``pre`` in ``[l, u]``: 0 or ``pre`` when stable, else eq. 4 with a binary.

    Returns the output (a variable or 0.0) and the number of binaries used (0 or 1).
    """
    if u <= 0:
        return 0.0, 0
    x = mip.addVar(name, lb=max(l, 0.0), ub=u)
    if l >= 0:
        mip.addCons(x == pre)
        return x, 0
    d = mip.addVar(f"{name}_on", vtype="B")
    mip.addCons(x >= pre)
    mip.addCons(x <= pre - l * (1 - d))
    mip.addCons(x <= u * d)
    return x, 1


@contextlib.contextmanager
def silence_stderr() -> Iterator[None]:
    """Send the process's standard error to /dev/null for the duration: on hard solves SoPlex
    warns on every LP resolve ("Cannot set feasibility tolerance to small value 1e-12 without
    GMP"), thousands of lines per certificate over the progress bar, and ``hideOutput`` does not
    stop it. A SCIP error still raises, and is reported as the certificate's status."""
    try:
        fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2
        saved = os.dup(fd)
    except (OSError, ValueError):  # no real standard error (e.g. an embedded interpreter)
        yield
        return
    try:
        flush = ctypes.CDLL(None).fflush  # C's buffered stderr, written before the switch back
    except (OSError, TypeError, AttributeError):  # no C library handle (e.g. Windows)
        flush = None
    try:
        with open(os.devnull, "w") as null:
            if flush is not None:
                flush(None)
            os.dup2(null.fileno(), fd)
            try:
                yield
            finally:
                if flush is not None:
                    flush(None)
                os.dup2(saved, fd)
    finally:
        os.close(saved)
