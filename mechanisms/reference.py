"""Published numbers the results table prints beside ours (additive U[0,1] unless noted).

Sources: RegretNet revenue/regret from Table 1 of "Neural Auctions Compromise Bidder
Information" (10-seed means, regret under the RegretNet attack); ALGNet 2x2 and Lottery AMA
from its Table 2; the 1x2 optimum (12 + 2 sqrt 2)/27 (Manelli & Vincent); the certifiable
networks from Table 1 of "Certifying Strategyproof Auction Networks" (ReLU-regularised rows,
empirical regret); the participation networks from Table 1 of "Credible, Sealed-Bid, Optimal
Repeated Auctions with Differentiable Economics" (aggregated revenue and regret of the
networks trained on the tweaked dataset).
"""

from __future__ import annotations

import math

__all__ = ["PAPER", "PAPER_BY_CHECKPOINT", "OPTIMUM", "OPTIMUM_UNIT_DEMAND"]

#: setting -> mechanism -> (revenue, regret or None)
PAPER: dict[str, dict[str, tuple[float, float | None]]] = {
    "1x2": {"regretnet": (0.5720, 0.0011)},
    "2x2": {"regretnet": (0.8818, 0.0008), "algnet": (0.879, None), "lottery_ama": (0.868, 0.0)},
    "2x3": {"regretnet": (1.3522, 0.0040)},
    "3x2": {"regretnet": (1.1284, 0.0028)},
    "3x3": {"regretnet": (1.6837, 0.0046)},
}

#: Known optimal revenues.
OPTIMUM: dict[str, float] = {"1x2": (12 + 2 * math.sqrt(2)) / 27}

#: Per checkpoint, where the paper's setting is more specific than n x m (same format as PAPER).
PAPER_BY_CHECKPOINT: dict[str, tuple[float, float | None]] = {
    "certnet_1x2": (0.569, 0.003),
    "certnet_1x2_penalty": (0.568, 0.009),
    "certnet_2x2": (0.874, 0.008),
    "certnet_2x2_penalty": (0.882, 0.006),
    "algnet_2x2_participation_s1": (0.470, 5e-3),
    "algnet_2x2_participation_s2": (0.580, 9e-3),
    "algnet_2x2_participation_s3": (0.765, 0.013),
    "algnet_2x2_participation_s1_base": (0.470, 5e-3),
    "algnet_2x2_participation_s2_base": (0.580, 9e-3),
    "algnet_2x2_participation_s3_base": (0.765, 0.013),
}

#: Known optimal revenues with one unit-demand U[0,1] bidder: a posted price 1/sqrt(3) per item.
OPTIMUM_UNIT_DEMAND: dict[str, float] = {"1x2": 2 / (3 * math.sqrt(3))}


def myerson_uniform_revenue(n_bidders: int, n_items: int) -> float:
    """Item-wise Myerson revenue with additive U[0,1] values: m x ((n-1)/(n+1) + 0.5^n/(n+1))."""
    return n_items * ((n_bidders - 1) / (n_bidders + 1) + 0.5**n_bidders / (n_bidders + 1))
