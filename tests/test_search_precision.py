"""``benchmarks/search_precision.py`` times and scores the trainers' own misreport search."""

from __future__ import annotations

import contextlib
import io

import pytest
import torch

from mechanisms.learned.checkpoints import load
from mechanisms.search import pgd_ascent

SCRIPT = "benchmarks/search_precision.py"


def test_float32_search_is_the_trainers(load_script) -> None:
    bench, mechanism = load_script(SCRIPT), load("regretnet_2x2").requires_grad_(False)
    generator = torch.Generator().manual_seed(3)
    values, start = torch.rand(32, 2, 2, generator=generator), torch.rand(32, 2, 1, 2, generator=generator)
    ours = bench.search(mechanism, values, start, torch.float32)
    trainers, _ = pgd_ascent(
        mechanism, values, start, torch.zeros(2, 2), torch.ones(2, 2), steps=bench.STEPS, lr=bench.LR
    )
    assert torch.equal(ours, trainers)
    low_precision = bench.search(mechanism, values, start, torch.bfloat16)
    assert low_precision.dtype == torch.float32 and low_precision.shape == start.shape
    assert not torch.equal(low_precision, ours)  # it did run in bfloat16
    assert bool(((low_precision >= 0) & (low_precision <= 1)).all())


def test_prints_one_row_per_network_and_a_verdict(load_script) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = load_script(SCRIPT).main(["--profiles", "16", "--slices", "1", "--checkpoints", "regretnet_2x2"])
    text = out.getvalue()
    assert code == 0
    assert text.count("| regretnet_2x2 |") == 1
    assert "of float32's regret on every network:" in text
    share = float(next(line for line in text.splitlines() if line.startswith("| regretnet_2x2 |")).split("|")[-2])
    verdict = "adopt" if share >= 0.99 else "keep float32"
    assert text.rstrip().endswith(f"on every network: {verdict}")


def test_a_bad_checkpoint_name_is_one_line_and_exit_2(load_script, capsys) -> None:
    with pytest.raises(SystemExit) as refused:
        load_script(SCRIPT).main(["--checkpoints", "regretnet_2x2,no_such_network"])
    assert refused.value.code == 2 and "--checkpoints:" in capsys.readouterr().err
