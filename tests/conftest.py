"""Shared fixtures."""

from __future__ import annotations

import pytest
import torch

# The suite's networks and batches are small: one thread is fastest, and it keeps results the
# same whether or not other processes share the cores.
torch.set_num_threads(1)


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)
