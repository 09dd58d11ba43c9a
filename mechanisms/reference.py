"""Published numbers printed beside ours, and closed forms: the only home of paper figures
(additive U[0,1] unless noted).

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

__all__ = [
    "PAPER",
    "PAPER_BY_CHECKPOINT",
    "OPTIMUM",
    "OPTIMUM_UNIT_DEMAND",
    "MYERSON_INVERSION",
    "INVERSION_RECOVERY_2X2",
    "PARTICIPATION_AGGREGATED",
    "PARTICIPATION_PER_PROFILE",
    "PARTICIPATION_3X10_AGGREGATED",
    "PARTICIPATION_3X10_UNTWEAKED_FULL",
    "PARTICIPATION_3X10_PER_PROFILE",
    "CERTIFICATION",
    "CERTIFICATION_SECONDS_2X2",
    "myerson_uniform_revenue",
    "first_price_equilibrium_bid",
]

#: setting -> mechanism -> (revenue, regret or None)
PAPER: dict[str, dict[str, tuple[float, float | None]]] = {
    "1x2": {"regretnet": (0.5720, 0.0011)},
    "2x2": {"regretnet": (0.8818, 0.0008), "algnet": (0.879, None), "lottery_ama": (0.868, 0.0)},
    "2x3": {"regretnet": (1.3522, 0.0040)},
    "3x2": {"regretnet": (1.1284, 0.0028)},
    "3x3": {"regretnet": (1.6837, 0.0046)},
    # Dütting et al. (RegretNet) and Rahme et al. (ALGNet), as quoted in the large-settings issue;
    # their regrets are not given there.
    "3x10": {"regretnet": (5.541, None), "algnet": (5.562, None)},
}

#: Known optimal revenues.
OPTIMUM: dict[str, float] = {"1x2": (12 + 2 * math.sqrt(2)) / 27}

#: Per checkpoint, where the paper's setting is more specific than n x m (same format as PAPER).
PAPER_BY_CHECKPOINT: dict[str, tuple[float, float | None]] = {
    "certnet_1x2": (0.569, 0.003),
    "certnet_1x2_penalty": (0.568, 0.009),
    "certnet_2x2": (0.874, 0.008),
    "certnet_2x2_penalty": (0.882, 0.006),
}  # the participation networks are added below, from their tables

#: Known optimal revenues with one unit-demand U[0,1] bidder: a posted price 1/sqrt(3) per item.
OPTIMUM_UNIT_DEMAND: dict[str, float] = {"1x2": 2 / (3 * math.sqrt(3))}


#: Stein et al., Table 6: recovery (%) of the naive, intelligent, and intelligent-with-own-bids
#: observers of item-wise Myerson, by (n_bidders, n_items).
MYERSON_INVERSION: dict[tuple[int, int], tuple[float, float, float]] = {
    (2, 2): (16.493, 19.234, 19.219),
    (3, 2): (20.655, 22.831, 23.519),
    (3, 3): (20.580, 22.775, 23.520),
}

#: Stein et al., Table 3: recovery of the model-inversion attack on RegretNet 2x2 (50,000 Adam steps).
INVERSION_RECOVERY_2X2 = 0.9308

#: Credible auctions, Table 1 (tweaked) and Table 2 (untweaked): scenario -> ((revenue, regret), (revenue, regret)).
PARTICIPATION_AGGREGATED: dict[int, tuple[tuple[float, float], tuple[float, float]]] = {
    1: ((0.470, 5e-3), (0.279, 9e-4)),
    2: ((0.580, 9e-3), (0.422, 3e-3)),
    3: ((0.765, 0.013), (0.615, 4e-3)),
}

#: Credible auctions, Table 3 (tweaked networks): revenue, regret on profiles <1,1>, <1,0>, <0,1>.
PARTICIPATION_PER_PROFILE: dict[int, dict[tuple[int, int], tuple[float, float]]] = {
    1: {(1, 1): (0.688, 8e-4), (1, 0): (0.031, 3e-5), (0, 1): (0.563, 7e-3)},
    2: {(1, 1): (0.886, 0.019), (1, 0): (0.503, 5e-3), (0, 1): (0.563, 5e-3)},
    3: {(1, 1): (0.927, 0.017), (1, 0): (0.473, 2e-4), (0, 1): (0.535, 2e-3)},
}

#: Credible auctions, Appendix A.5, 3 x 10: Table 5 (the tweaked networks, each on its scenario)
#: and Table 6 (the untweaked network on each scenario): scenario -> ((revenue, regret, score),
#: (revenue, regret, score)), score = (sqrt(revenue) - sqrt(regret))^2 as printed there.
PARTICIPATION_3X10_AGGREGATED: dict[int, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    1: ((3.725, 0.139, 2.426), (0.816, 0.014, 0.612)),
    2: ((4.285, 0.095, 3.105), (1.918, 0.03, 1.469)),
    3: ((4.696, 0.093, 3.47), (3.3, 0.047, 2.56)),
}

#: Credible auctions, Table 6, first row: the untweaked 3 x 10 network on full participation.
PARTICIPATION_3X10_UNTWEAKED_FULL: tuple[float, float, float] = (5.172, 0.065, 4.076)

#: Credible auctions, Table 7 (the tweaked 3 x 10 networks): scenario -> profile -> (revenue, regret).
PARTICIPATION_3X10_PER_PROFILE: dict[int, dict[tuple[int, int, int], tuple[float, float]]] = {
    1: {
        (1, 1, 1): (5.334, 0.586),
        (0, 1, 1): (5.463, 0.261),
        (1, 0, 1): (4.754, 0.456),
        (1, 1, 0): (4.995, 1.468),
        (1, 0, 0): (0.002, 2e-9),
        (0, 1, 0): (4.428, 5e-5),
        (0, 0, 1): (4.06, 0.103),
    },
    2: {
        (1, 1, 1): (5.392, 0.086),
        (0, 1, 1): (5.090, 0.145),
        (1, 0, 1): (5.122, 0.16),
        (1, 1, 0): (5.067, 0.13),
        (1, 0, 0): (3.651, 0.116),
        (0, 1, 0): (3.517, 0.087),
        (0, 0, 1): (3.676, 0.131),
    },
    3: {
        (1, 1, 1): (5.427, 0.086),
        (0, 1, 1): (5.068, 0.119),
        (1, 0, 1): (5.095, 0.149),
        (1, 1, 0): (5.014, 0.207),
        (1, 0, 0): (3.287, 0.163),
        (0, 1, 0): (3.625, 0.14),
        (0, 0, 1): (6e-4, 1e-4),
    },
}

# Each tweaked participation network's row is its scenario's tweaked network in those tables.
PAPER_BY_CHECKPOINT.update(
    {
        f"algnet_2x2_participation_s{k}{stage}": tweaked
        for k, (tweaked, _) in PARTICIPATION_AGGREGATED.items()
        for stage in ("", "_base")
    }
)
PAPER_BY_CHECKPOINT.update(
    {f"regretnet_3x10_participation_s{k}": tweaked[:2] for k, (tweaked, _) in PARTICIPATION_3X10_AGGREGATED.items()}
)

#: Curry et al. 2020, Table 1 (ReLU regularised): (setting, ir, bidder) -> solve time mean (std),
#: revenue, empirical regret, certified regret.
CERTIFICATION: dict[tuple[str, str, int], str] = {
    ("1x2", "construction", 0): "7.2 s (17.5), 0.569, 0.003, 0.004",
    ("1x2", "penalty", 0): "0.034 s (0.007), 0.568, 0.009, 0.011",
    ("2x2", "construction", 0): "5.8 s (16.3), 0.874, 0.008, 0.013",
    ("2x2", "construction", 1): "7.52 s (24.2), —, 0.008, 0.012",
    ("2x2", "penalty", 0): "5.48 s (5.58), 0.882, 0.006, 0.011",
    ("2x2", "penalty", 1): "2.50 s (2.27), —, 0.011, 0.017",
}

#: Curry et al. 2020, Table 1: mean seconds per 2x2 certificate (Gurobi), IR by construction and penalty.
CERTIFICATION_SECONDS_2X2: dict[str, float] = {"construction": 5.8, "penalty": 5.5}


def myerson_uniform_revenue(n_bidders: int, n_items: int) -> float:
    """Item-wise Myerson revenue with additive U[0,1] values: m x ((n-1)/(n+1) + 0.5^n/(n+1))."""
    return n_items * ((n_bidders - 1) / (n_bidders + 1) + 0.5**n_bidders / (n_bidders + 1))


def first_price_equilibrium_bid(values, low, bidders):
    """Symmetric Bayes-Nash bid of a first-price auction with ``bidders`` risk-neutral bidders whose
    values are i.i.d. U[low, high]: ``low + (bidders - 1) / bidders * (v - low)`` (Krishna,
    *Auction Theory*, 2nd ed., §2.3; ``v / 2`` with two U[0, 1] bidders). With a point mass
    (``v == low``) it is the value itself: Bertrand competition. Works elementwise on tensors."""
    return low + (bidders - 1) / bidders * (values - low)
