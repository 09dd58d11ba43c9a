"""Shared fixtures."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import torch

ROOT = Path(__file__).parents[1]

# The suite's networks and batches are small: one thread is fastest, and it keeps results the
# same whether or not other processes share the cores.
torch.set_num_threads(1)


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


@pytest.fixture
def load_script() -> Callable[[str], ModuleType]:
    """Import a script of the repository (``"benchmarks/x.py"``, ``"examples/y.py"``) as a module."""

    def load(relative: str) -> ModuleType:
        path = ROOT / relative
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
