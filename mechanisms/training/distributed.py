"""Data-parallel training under ``torchrun`` (PyTorch DistributedDataParallel).

``torchrun --nproc_per_node=K -m auction_env train CONFIG --out DIR`` starts K processes; each
reads ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` from the environment, joins a process group (NCCL
on GPUs, gloo on CPU), samples its own shard of profiles and misreports, and trains a replica
whose gradients DDP averages. The effective batch is the config's: each rank takes
``batch_size / K`` profiles per iteration, so training matches one process in expectation.
Only rank 0 writes logs and checkpoints.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ["Distributed", "from_environment"]


@dataclass(frozen=True)
class Distributed:
    """This process's place in the process group."""

    rank: int
    world: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def mean(self, tensor: Tensor) -> Tensor:
        """The average of ``tensor`` over all ranks (a new tensor)."""
        out = tensor.detach().clone()
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
        return out / self.world

    def gather(self, obj: Any) -> list[Any] | None:
        """Every rank's ``obj``, on rank 0 (None elsewhere)."""
        objects: list[Any] | None = [None] * self.world if self.is_main else None
        dist.gather_object(obj, objects, dst=0)
        return objects

    def barrier(self) -> None:
        dist.barrier()

    def close(self) -> None:
        """Destroy the process group, once the DDP replicas are no longer used.

        A replica no longer reachable may still be alive in a reference cycle; left to the
        interpreter's exit, its reducer would be freed after the group, where a rank now and then
        died by SIGABRT ("terminate called without an active exception"). So unreachable objects
        are collected first."""
        gc.collect()
        dist.destroy_process_group()


def from_environment(device_type: str) -> Distributed | None:
    """Join the process group torchrun set up (``WORLD_SIZE`` > 1), else None.

    Args:
        device_type: ``cuda`` (NCCL) or ``cpu`` (gloo).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return Distributed(
        rank=dist.get_rank(), world=dist.get_world_size(), local_rank=int(os.environ.get("LOCAL_RANK", "0"))
    )


def wrap(module: torch.nn.Module, parallel: Distributed | None, device: torch.device) -> torch.nn.Module:
    """``module`` itself, or wrapped in DistributedDataParallel (which broadcasts rank 0's weights)."""
    if parallel is None:
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)
