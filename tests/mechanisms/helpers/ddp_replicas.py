"""Run under torchrun by tests/mechanisms/test_distributed.py: after a few data-parallel steps
every replica holds the same weights, the ranks trained on different profiles, and a trainer
without distributed support is refused."""

from __future__ import annotations

import gc
import sys

import torch
import torch.distributed as dist

from mechanisms.common.errors import ConfigError
from mechanisms.training.distributed import from_environment
from mechanisms.training.loop import TrainingRun, load_training_config

CONFIG = {
    "name": "replicas",
    "setting": {"n_bidders": 2, "n_items": 2},
    "mechanism": {"name": "regretnet", "params": {"hidden": 16, "layers": 2}},
    "trainer": {"name": "regretnet", "params": {"batch_size": 64, "misreport_inits": 1, "misreport_steps": 3}},
    "iterations": 5,
    "dataset_size": 512,
    "evaluation": None,
}


def main() -> int:
    torch.set_num_threads(1)
    parallel = from_environment("cpu")
    assert parallel is not None and parallel.world == 2
    run = TrainingRun(load_training_config(CONFIG), "cpu", parallel=parallel)
    assert run.trainer.batch_size == 32 and len(run.data) == 256  # each rank's share
    for _ in range(5):
        run.trainer.step()
    weights = torch.cat([p.detach().flatten() for p in run.model.parameters()])
    gathered = [torch.empty_like(weights) for _ in range(2)]
    dist.all_gather(gathered, weights)
    assert torch.equal(gathered[0], gathered[1]), "replicas diverged"
    first = run.data.valuations[:4].flatten()
    shards = [torch.empty_like(first) for _ in range(2)]
    dist.all_gather(shards, first)
    assert not torch.equal(shards[0], shards[1]), "both ranks drew the same profiles"
    lagrange = [torch.empty_like(run.trainer.lagrange) for _ in range(2)]
    dist.all_gather(lagrange, run.trainer.lagrange)
    assert torch.equal(lagrange[0], lagrange[1])
    try:
        TrainingRun(
            load_training_config(
                {
                    **CONFIG,
                    "mechanism": {"name": "algnet", "params": {"hidden": 8, "layers": 1}},
                    "trainer": {"name": "algnet", "params": {}},
                }
            ),
            "cpu",
            parallel=parallel,
        )
    except ConfigError as err:
        assert "one process" in str(err)
    else:
        raise AssertionError("the algnet trainer was accepted under torchrun")
    if parallel.is_main:
        print("REPLICAS OK")
    parallel.barrier()  # both ranks are done before either tears the group down
    del run  # (close() frees the replica before the group)
    parallel.close()
    from torch.nn.parallel import DistributedDataParallel

    assert not any(isinstance(o, DistributedDataParallel) for o in gc.get_objects()), "a replica outlived its group"
    return 0


if __name__ == "__main__":
    sys.exit(main())
