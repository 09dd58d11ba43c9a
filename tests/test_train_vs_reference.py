"""``benchmarks/train_vs_reference.py``: its matmul floor counts and times the right multiplies,
and a missing reference ends in one line (the reference itself is not part of the suite)."""

from __future__ import annotations

import torch

SCRIPT = "benchmarks/train_vs_reference.py"


def test_matmul_floor_counts_every_multiply_of_the_step(load_script) -> None:
    bench = load_script(SCRIPT)
    a, b, w = torch.rand(64, 32), torch.rand(32, 16), torch.rand(8, 16)
    x = torch.rand(64, 16, requires_grad=True)

    def step() -> None:
        torch.mm(a, b)  # 1 mm
        torch.nn.functional.linear(x, w, torch.zeros(8)).sum().backward()  # 1 addmm forward, 1 mm back to x
        torch.bmm(torch.rand(3, 4, 5), torch.rand(3, 5, 6))  # 1 bmm
        (a * 2).sum()  # no multiply of matrices
        torch.mm(a, b, out=torch.empty(64, 16))  # counted, not replayable from its shapes: left out of the time

    seconds, count = bench.matmul_floor(step, repeats=3)
    assert count == 5
    assert 0 < seconds < 1


def test_missing_or_wrong_reference_is_one_line(load_script, tmp_path, capsys) -> None:
    bench = load_script(SCRIPT)
    assert bench.main([]) == 2
    assert "no --reference given" in capsys.readouterr().out
    assert bench.main(["--reference", str(tmp_path)]) == 2
    out = capsys.readouterr().out.strip()
    assert "not a checkout of alexstein0/neural-auctions" in out and "\n" not in out
