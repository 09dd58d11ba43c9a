"""Plain-text tables of run summaries for the terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["format_summary", "format_sweep"]


def format_summary(summary: Mapping[str, Any]) -> str:
    """A small table: headline metrics, then one line per bidder."""
    lines = [
        f"mechanism {summary['mechanism']}  ({summary['n_bidders']} bidders x {summary['n_items']} items, "
        f"{summary['rounds']:,} rounds, seed {summary['seed']})",
        f"  revenue  {summary['revenue_mean']:.4f} +/- {_num(summary['revenue_stderr'], '.4f')}",
        f"  welfare  {summary['welfare_mean']:.4f} +/- {_num(summary['welfare_stderr'], '.4f')}",
    ]
    if "regret_mean" in summary:
        lines.append(
            f"  regret   {summary['regret_mean']:.5f} +/- {_num(summary['regret_stderr'], '.5f')} per bidder, "
            f"max {summary['regret_max']:.4f}"
            f"  ({summary['regret_profiles']:,} profiles; {summary['regret_protocol']})"
        )
    if "winner_rotation" in summary:  # collusion metrics (env.metrics)
        lines.append(
            f"  revenue / competitive {_num(summary['revenue_ratio'], '.4f')}, mean bid / equilibrium "
            f"{_num(summary['bid_ratio'], '.4f')}, winner rotation {_num(summary['winner_rotation'], '.3f')}"
        )
    gains = summary.get("gain_over_truthful") or [None] * len(summary["utility_mean"])
    errors = summary.get("gain_stderr") or [None] * len(gains)
    lines.append(f"  {'bidder':<8} {'utility':>8} {'present':>8}  {'gain over truthful':>20}")
    for i, (u, p, g, e) in enumerate(zip(summary["utility_mean"], summary["participation_rate"], gains, errors)):
        gain = f"{g:+.4f} +/- {_num(e, '.4f')}" if g is not None else "(truthful)"
        lines.append(f"  {i:<8} {u:8.4f} {p:8.3f}  {gain:>20}")
    return "\n".join(lines)


def format_sweep(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> str:
    """One line per sweep cell: its grid values, revenue and welfare (or the cell's error)."""
    headers = [*keys, "revenue", "+/-", "welfare"]
    table = [
        [
            *(str(r.get(k, "")) for k in keys),
            *(
                (_num(r["revenue_mean"], ".4f"), _num(r["revenue_stderr"], ".4f"), _num(r["welfare_mean"], ".4f"))
                if "error" not in r
                else (f"error: {r['error']}", "", "")
            ),
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths))]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in table]
    return "\n".join(out)


def _num(value: float | None, spec: str) -> str:
    """A number as ``spec``; a dash for a missing one (a standard error of one round, stored as JSON null)."""
    return "—" if value is None else format(value, spec)
