"""Published numbers the results table prints beside ours (additive U[0,1] unless noted).

Sources: RegretNet revenue/regret from Table 1 of "Neural Auctions Compromise Bidder
Information" (10-seed means, regret under the RegretNet attack); ALGNet 2x2 and Lottery AMA
from its Table 2; the 1x2 optimum (12 + 2 sqrt 2)/27 (Manelli & Vincent).
"""

from __future__ import annotations

import math

__all__ = ["PAPER", "OPTIMUM"]

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
