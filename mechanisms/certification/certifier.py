"""Exact regret certificates for certifiable networks by mixed-integer programming.

For a valuation profile ``v`` and bidder ``i`` the certifier solves

    max_{b_i in supp(P_i)}  u_i(b_i, v_-i) = <v_i, a_i(b_i, v_-i)> - p_i(b_i, v_-i)

exactly (Curry et al. 2020, eq. 1 and §2.3), so the certified regret is that maximum minus the
truthful utility: not an attack's lower bound but the true number, up to ``tolerance``. The
network (:class:`mechanisms.learned.certnet.CertNet`) is written as a MIP:

* every trunk ReLU with pre-activation bounds ``l < 0 < u`` gets a binary and the big-M
  constraints of eq. 4 (Tjeng et al.); stable ReLUs (``u <= 0`` or ``l >= 0``) need none. The
  bounds come from interval arithmetic tightened by back-substituted linear relaxations
  (CROWN-style; each unstable ReLU relaxed by its triangle, Planet's LP relaxation);
* sparsemax through its KKT conditions (eq. 6): ``z = s - tau + mu``, ``sum z = 1``,
  ``z, mu >= 0`` with ``z_k mu_k = 0`` as SOS1 constraints (``z <= 1`` is implied);
* the hardsigmoid payment fraction as two ReLUs, and for ``ir="construction"`` the payment
  ``fraction * <a_i, b_i>`` through bilinear (nonconvex quadratic) equalities.

The misreport space is small (``m`` dimensions), so the certifier also splits it: the
bidder's support is bisected (widest side first) until every sub-box leaves at most
``split_binaries`` ReLUs unstable under the bounds above, and one MIP is solved per sub-box.
The network evaluated at each sub-box's centre gives an incumbent utility; each sub-box's MIP
gets it as an objective limit, so SCIP prunes a sub-box as soon as its relaxation proves that
nothing there beats the incumbent (status ``infeasible``: no better point), and a better point
raises the incumbent for the rest. The maximum over a partition is the maximum over the box,
so the certificate stays exact; the sub-MIPs have few binaries and tight big-M constants.
Every solve stops once SCIP proves nothing beats the best point by more than ``tolerance``
(1e-6 in utility, about 1e-5 relative at these utilities; Gurobi's default relative gap, which
the paper's certificates used, is 1e-4), and the reported upper bound adds it.
``split_binaries=None`` solves one MIP over the whole support (the paper's formulation).

The solver is SCIP through PySCIPOpt (open source; SOS1 and nonconvex quadratics). A solve that
stops early (time limit) is reported with its status and the valid upper bound from SCIP's dual
bound, never as a certificate. Every certificate is cross-checked: the network evaluated by
torch (float64) at the optimal misreport must reproduce the MIP's utility within
``check_tolerance``, and a certified regret below what a gradient attack found at the same
profile would be a wrong certificate; both raise :class:`CertificationError`.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn

from mechanisms.certification.bounds import _Affine, network_bounds
from mechanisms.certification.mip import Program, affine_expr, relu, silence_stderr
from mechanisms.learned.certnet import CertNet
from mechanisms.priors import Prior

__all__ = ["Certificate", "CertificationError", "Certifier", "Program", "network_bounds", "parse_split_binaries"]

#: SCIP statuses that are certificates (solved to global optimality within the gap limit).
SOLVED = ("optimal", "gaplimit")
#: The settings of SCIP's primal heuristics a :class:`Certifier` takes.
HEURISTICS = ("off", "fast", "default")


class CertificationError(RuntimeError):
    """The MIP disagrees with the network, or a certificate is below an attack's regret: a
    wrong certificate (a bug or a numerical failure), never a result to report."""


@dataclass(frozen=True)
class Certificate:
    """The result of one solve: bidder ``bidder`` at one valuation profile.

    Attributes:
        status: SCIP's status (``optimal``, ``timelimit``, ``infeasible``, ...).
        certified: True when solved to optimality: ``regret`` is then exact (up to tolerances).
        regret: the certified regret, or None when not certified.
        regret_upper_bound: from SCIP's dual bound; valid even after a time-out (inf if none).
        regret_found: regret of the best misreport the solver found (a lower bound), or None.
        misreport: that misreport ``(n_items,)``, or None.
        truthful_utility: the bidder's utility when truthful (torch, float64).
        network_utility: the network's utility at ``misreport`` (torch, float64), the cross-check.
        gap: SCIP's relative gap (the largest over the sub-boxes); seconds: wall time of
            bounds, partition, model building and solves.
        binaries: ReLU binaries in the largest sub-MIP built (unstable neurons); relus: ReLUs
            encoded per MIP; boxes: sub-boxes (MIPs) the support was split into.
    """

    bidder: int
    status: str
    certified: bool
    regret: float | None
    regret_upper_bound: float
    regret_found: float | None
    misreport: list[float] | None
    truthful_utility: float
    network_utility: float | None
    gap: float
    seconds: float
    binaries: int
    relus: int
    boxes: int = 1

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["misreport"] = None if self.misreport is None else " ".join(f"{x:.6f}" for x in self.misreport)
        return row


class Certifier:
    """Certify a :class:`CertNet`'s regret at given profiles with SCIP.

    Args:
        model: the certifiable network.
        prior: the valuation prior (the misreport ranges over its support).
        time_limit: seconds per solve; a solve that hits it is reported, not certified.
        check_tolerance: largest allowed difference between the MIP's utility and the network's
            at the optimal misreport (the paper reports ~1e-6).
        feastol: SCIP's feasibility tolerance.
        split_binaries: split the misreport box until each sub-box has at most this many
            unstable ReLUs (None: one MIP over the whole support). ``"auto"``: 48 when the MIP is
            linear (``ir="penalty"``), 16 when it has the bilinear IR-by-construction payment,
            the fastest of 4-80 on the shipped 2x2 networks (``benchmarks/certify_speed.py``).
        max_boxes: at most this many sub-boxes per certificate (splitting stops there).
        tolerance: absolute tolerance of a certificate (utility units): a (sub-)MIP stops once
            SCIP proves nothing in it beats the best point found by more than this (SCIP's
            ``limits/absgap``, and the incumbent + tolerance as objective limit of a sub-box);
            ``regret_upper_bound`` adds it. Without it the bilinear IR-by-construction MIPs can
            spend minutes closing gaps of 1e-8.
        heuristics: SCIP's primal heuristics, ``"off"`` (the default), ``"fast"`` or
            ``"default"`` (SCIP's own setting). Off, SCIP finds points only at the nodes of its
            search, which was faster on every shipped network, split or not
            (``benchmarks/certify_speed.py --heuristics off,default``): each sub-box MIP gets
            the network's best point so far as an objective limit, and the heuristics (the NLP
            ones above all, on the bilinear payment) found little the search did not. The
            certificate is exact either way.

    ``time_limit`` bounds one certificate: all its sub-box solves together.
    """

    def __init__(
        self,
        model: CertNet,
        prior: Prior,
        *,
        time_limit: float = 60.0,
        check_tolerance: float = 1e-5,
        feastol: float = 1e-9,
        split_binaries: int | Literal["auto"] | None = "auto",
        max_boxes: int = 1024,
        tolerance: float = 1e-6,
        heuristics: Literal["off", "fast", "default"] = "off",
    ) -> None:
        if not isinstance(model, CertNet):
            raise ValueError(f"only certifiable networks (certnet) can be certified, not {type(model).__name__}")
        try:
            import pyscipopt  # noqa: F401
        except ImportError:
            raise ValueError("the certifier needs PySCIPOpt: pip install pyscipopt") from None
        if not time_limit > 0:
            raise ValueError("time_limit must be > 0")
        if split_binaries == "auto":
            split_binaries = 16 if model.ir == "construction" else 48
        if split_binaries is not None and (
            not isinstance(split_binaries, int) or isinstance(split_binaries, bool) or split_binaries < 0
        ):
            raise ValueError(f"split_binaries must be >= 0 or None, got {split_binaries}")
        if heuristics not in HEURISTICS:
            raise ValueError(f"heuristics must be one of {', '.join(HEURISTICS)}, got {heuristics!r}")
        self.heuristics = heuristics
        if max_boxes < 1:
            raise ValueError(f"max_boxes must be >= 1, got {max_boxes}")
        if not tolerance >= 0:
            raise ValueError(f"tolerance must be >= 0, got {tolerance}")
        self.split_binaries, self.max_boxes, self.tolerance = split_binaries, max_boxes, tolerance
        self.model = model
        self.reference = copy.deepcopy(model).double().eval().requires_grad_(False)  # the float64 cross-check
        self.reference.noise_std = 0.0
        self.prior, self.time_limit, self.check_tolerance, self.feastol = prior, time_limit, check_tolerance, feastol
        n, m = model.n_bidders, model.n_items
        layers = [layer for layer in model.trunk if isinstance(layer, nn.Linear)]
        self.trunk = [_Affine(layer) for layer in layers]
        self.allocation = _Affine(model.allocation_head)
        self.payments = [_Affine(model.payment_head, [i]) for i in range(n)]  # bidder i's payment logit
        self.scale = model.scale.double().cpu().numpy()
        self.low, self.high = (t.double().cpu().numpy() for t in prior.bounds("cpu"))
        self.n, self.m = n, m

    # -- the network in float64 --------------------------------------------------------------
    def utility(self, valuations: np.ndarray, bidder: int, report: np.ndarray) -> float:
        """Bidder ``bidder``'s utility (true values ``valuations[bidder]``) when it reports
        ``report`` and the others report truthfully, by the float64 network."""
        bids = valuations.copy()
        bids[bidder] = report
        with torch.no_grad():
            out = self.reference.run(torch.from_numpy(bids).unsqueeze(0), check=False)
        alloc, pay = out.allocation[0, bidder].numpy(), float(out.payments[0, bidder])
        return float(alloc @ valuations[bidder] - pay)

    # -- certificate ---------------------------------------------------------------------------
    def _profile(self, valuations: Tensor | np.ndarray, bidder: int) -> np.ndarray:
        """``valuations`` as a float64 ``(n, m)`` array, after checking its shape and ``bidder``."""
        v = np.asarray(
            valuations.detach().cpu().numpy() if isinstance(valuations, Tensor) else valuations, dtype=np.float64
        )
        if v.shape != (self.n, self.m):
            raise ValueError(f"valuations must have shape ({self.n}, {self.m}), got {v.shape}")
        if not 0 <= bidder < self.n:
            raise ValueError(f"bidder must be in [0, {self.n - 1}], got {bidder}")
        return v

    def _bounds(
        self, v: np.ndarray, i: int, box_low: np.ndarray, box_high: np.ndarray
    ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]:
        """The profile as features, and the trunk's and heads' (allocation, bidder i's payment)
        pre-activation bounds while bidder i's bids range over ``[box_low, box_high]``."""
        m = self.m
        feat = (v / self.scale).reshape(-1)
        in_low, in_high = feat.copy(), feat.copy()
        own = slice(i * m, (i + 1) * m)
        in_low[own] = box_low / self.scale[i]
        in_high[own] = box_high / self.scale[i]
        trunk_bounds, head_bounds = network_bounds(self.trunk, [self.allocation, self.payments[i]], in_low, in_high)
        return feat, trunk_bounds, head_bounds

    def partition(self, valuations: np.ndarray, bidder: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Split bidder ``bidder``'s support into sub-boxes ``(low, high)`` with at most
        ``split_binaries`` unstable trunk ReLUs each (bisecting the widest side first, at most
        ``max_boxes`` boxes); the whole support when ``split_binaries`` is None."""
        root = (self.low[bidder].copy(), self.high[bidder].copy())
        if self.split_binaries is None:
            return [root]
        span = np.where(root[1] > root[0], root[1] - root[0], 1.0)
        done: list[tuple[np.ndarray, np.ndarray]] = []
        todo = [root]
        while todo:
            low, high = todo.pop()
            _, trunk_bounds, _ = self._bounds(valuations, bidder, low, high)
            unstable = sum(int(((l < 0) & (u > 0)).sum()) for l, u in trunk_bounds)
            if unstable <= self.split_binaries or len(done) + len(todo) + 2 > self.max_boxes:
                done.append((low, high))
                continue
            k = int(np.argmax((high - low) / span))
            mid = (low[k] + high[k]) / 2
            left_high, right_low = high.copy(), low.copy()
            left_high[k], right_low[k] = mid, mid
            todo += [(low, left_high), (right_low, high)]
        return done

    def build(
        self,
        valuations: Tensor | np.ndarray,
        bidder: int,
        box: tuple[np.ndarray, np.ndarray] | None = None,
        feastol: float | None = None,
        complementarity: Literal["sos1", "bigm"] = "sos1",
    ) -> Program:
        """The MIP of bidder ``bidder``'s best misreport at the profile ``valuations`` ``(n, m)``,
        over the misreports in ``box`` (``(low, high)``, default the whole support), with SCIP's
        feasibility tolerance ``feastol`` (default the certifier's). ``complementarity`` states
        sparsemax's ``z * mu = 0`` as an SOS1 constraint, or with a binary and the variables'
        bounds (``bigm``: a plain MILP for the penalty networks, which solvers without SOS1,
        such as HiGHS, take)."""
        if complementarity not in ("sos1", "bigm"):
            raise ValueError(f"complementarity must be 'sos1' or 'bigm', got {complementarity!r}")
        import pyscipopt

        v = self._profile(valuations, bidder)
        n, m, i = self.n, self.m, bidder
        box_low, box_high = box if box is not None else (self.low[i], self.high[i])
        feat, trunk_bounds, (alloc_bounds, pay_bounds) = self._bounds(v, i, box_low, box_high)
        pay_head = self.payments[i]

        mip = pyscipopt.Model()
        mip.hideOutput()
        mip.setParam("limits/time", self.time_limit)
        mip.setParam("numerics/feastol", self.feastol if feastol is None else feastol)
        mip.setParam("limits/gap", 0.0)
        mip.setParam("limits/absgap", self.tolerance)
        # No cutting planes: with a 2-4 dimensional misreport the bounds already make the LP
        # tight enough, and SCIP's separation rounds cost more than the nodes they save
        # (benchmarks/certify_speed.py measures it; the optima are the same).
        mip.setParam("separating/maxrounds", 0)
        mip.setParam("separating/maxroundsroot", 0)
        mip.setHeuristics(getattr(pyscipopt.SCIP_PARAMSETTING, self.heuristics.upper()))  # see the class
        bids = [mip.addVar(f"b{j}", lb=float(box_low[j]), ub=float(box_high[j])) for j in range(m)]
        inputs: list[Any] = [float(x) for x in feat]
        for j in range(m):
            inputs[i * m + j] = bids[j] * float(1.0 / self.scale[i, j])

        binaries = relus = 0
        layer_in = inputs
        for k, (layer, (l, u)) in enumerate(zip(self.trunk, trunk_bounds)):
            outputs: list[Any] = []
            for h in range(layer.w.shape[0]):
                pre = affine_expr(layer.w[h], layer.c[h], layer_in)
                out, used = relu(mip, pre, float(l[h]), float(u[h]), f"x{k}_{h}")
                binaries += used
                relus += 1
                outputs.append(out)
            layer_in = outputs

        # Sparsemax over bidders + dummy, per item (KKT, eq. 6).
        al, au = alloc_bounds
        alloc_own, own_high = [], []
        for j in range(m):
            rows = [r * m + j for r in range(n + 1)]
            tau = mip.addVar(f"tau{j}", lb=float(min(al[rows]) - 1.0), ub=float(max(au[rows])))
            z_vars = []
            for r, idx in enumerate(rows):
                s = affine_expr(self.allocation.w[idx], self.allocation.c[idx], layer_in)
                # tau >= max_k s_k - 1, so z_r = s_r - tau <= s_r - max_k s_k + 1 (tightens the McCormick terms)
                z_high = float(np.clip(au[idx] - max(al[rows]) + 1.0, 0.0, 1.0))
                z = mip.addVar(f"z{r}_{j}", lb=0.0, ub=z_high)
                if r == i:
                    own_high.append(z_high)
                mu_high = float(1.0 - al[idx] + max(au[rows]))
                mu = mip.addVar(f"mu{r}_{j}", lb=0.0, ub=mu_high)
                mip.addCons(z - s + tau - mu == 0)
                if complementarity == "sos1":
                    mip.addConsSOS1([z, mu])
                else:  # z > 0 only when the binary is on, mu > 0 only when it is off
                    on = mip.addVar(f"support{r}_{j}", vtype="B")
                    mip.addCons(z <= z_high * on)
                    mip.addCons(mu <= mu_high * (1 - on))
                    binaries += 1
                z_vars.append(z)
            mip.addCons(pyscipopt.quicksum(z_vars) == 1)
            alloc_own.append(z_vars[i])

        # Payment of bidder i.
        q = affine_expr(pay_head.w[0], pay_head.c[0], layer_in)
        ql, qu = float(pay_bounds[0][0]), float(pay_bounds[1][0])
        if self.model.ir == "construction":
            # hardsigmoid(q) = relu(t) - relu(t - 1), t = q / 6 + 1/2
            t = q * (1.0 / 6.0) + 0.5
            tl, tu = ql / 6 + 0.5, qu / 6 + 0.5
            r1, b1 = relu(mip, t, tl, tu, "frac_lo")
            r2, b2 = relu(mip, t - 1.0, tl - 1.0, tu - 1.0, "frac_hi")
            binaries += b1 + b2
            relus += 2
            f_low, f_high = float(np.clip(tl, 0.0, 1.0)), float(np.clip(tu, 0.0, 1.0))
            fraction = mip.addVar("fraction", lb=f_low, ub=f_high)
            mip.addCons(fraction == r1 - r2)
            value_max = float(np.dot(own_high, box_high))
            reported = mip.addVar("reported_value", lb=0.0, ub=value_max)
            mip.addCons(reported == pyscipopt.quicksum(alloc_own[j] * bids[j] for j in range(m)))
            payment = mip.addVar("payment", lb=0.0, ub=f_high * value_max)
            mip.addCons(payment == fraction * reported)
        else:
            payment, used = relu(mip, q, ql, qu, "payment")
            binaries += used
            relus += 1
        mip.setObjective(pyscipopt.quicksum(float(v[i, j]) * alloc_own[j] for j in range(m)) - payment, "maximize")
        return Program(mip, bids, v, i, binaries, relus)

    def certify(self, valuations: Tensor | np.ndarray, bidder: int) -> Certificate:
        """Bidder ``bidder``'s exact best misreport at the profile ``valuations`` ``(n, m)``:
        one MIP per sub-box of :meth:`partition`, all within ``time_limit`` seconds.

        Raises:
            CertificationError: the network does not reproduce a MIP's optimum.
        """
        start = time.perf_counter()
        v, i = self._profile(valuations, bidder), bidder
        truthful = self.utility(v, i, v[i])
        boxes = self.partition(v, i)
        # Incumbent: the truthful report and every sub-box's centre, by the float64 network;
        # the sub-boxes are solved best centre first, so good points raise the limit early.
        centres = [(low + high) / 2 for low, high in boxes]
        values = self._utilities(v, i, centres)
        best_value, best_report = truthful, v[i].copy()
        if len(boxes) > 1 and max(values) > best_value:
            k = int(np.argmax(values))
            best_value, best_report = float(values[k]), centres[k]
        order = sorted(range(len(boxes)), key=lambda k: -values[k])
        status, upper, gap, binaries, relus, solved_any = "optimal", best_value, 0.0, 0, 0, False
        for k in order:
            remaining = self.time_limit - (time.perf_counter() - start)
            if remaining <= 0:  # no time left: this box stays open with its bound unknown (not built)
                status, upper = "timelimit", float("inf")
                continue
            program = self.build(v, i, box=boxes[k])
            binaries, relus = max(binaries, program.binaries), program.relus
            limit = best_value + self.tolerance if len(boxes) > 1 else None
            error = self._optimize(program, remaining, limit)
            if error is not None:  # SCIP's LP failed: retry once with a looser feasibility tolerance
                remaining = self.time_limit - (time.perf_counter() - start)
                program = self.build(v, i, box=boxes[k], feastol=max(self.feastol, 1e-7))
                error = self._optimize(program, remaining, limit) if remaining > 0 else "no time left to retry"
            if error is not None:  # reported, never a certificate
                status, upper, gap = f"error: {error}", float("inf"), float("inf")
                continue
            mip = program.mip
            box_status = mip.getStatus()
            if mip.getNSols() > 0:
                solution = mip.getBestSol()
                report = np.array(
                    [
                        float(np.clip(mip.getSolVal(solution, b), self.low[i, j], self.high[i, j]))
                        for j, b in enumerate(program.bids)
                    ]
                )
                mip_utility = float(mip.getSolObjVal(solution))
                net_utility = self.utility(v, i, report)
                if abs(net_utility - mip_utility) > self.check_tolerance:
                    raise CertificationError(
                        f"bidder {i}: the MIP's utility {mip_utility:.8f} at misreport {report.tolist()} "
                        f"differs from the network's {net_utility:.8f} "
                        f"by more than {self.check_tolerance:g}: the encoding is wrong"
                    )
                solved_any = True
                if net_utility > best_value or len(boxes) == 1:
                    best_value, best_report = net_utility, report
            if box_status in SOLVED:
                continue
            if box_status == "infeasible" and len(boxes) > 1:
                continue  # the objective limit: nothing in this box beats the incumbent
            dual = mip.getDualbound()
            status = box_status
            upper = max(upper, float(dual) if np.isfinite(dual) and abs(dual) < 1e19 else float("inf"))
            gap = max(gap, float(mip.getGap()) if mip.getNSols() > 0 else float("inf"))
        certified = status in SOLVED
        if len(boxes) == 1 and not solved_any:
            found, report_out, net_out = None, None, None
        else:
            found, report_out, net_out = best_value - truthful, [float(x) for x in best_report], best_value
        regret = max(found, 0.0) if certified and found is not None else None
        # upper only exceeds the incumbent for a box left open, i.e. when not certified
        upper_regret = max(upper, best_value + self.tolerance) - truthful
        return Certificate(
            bidder=i,
            status=status,
            certified=certified,
            regret=regret,
            regret_upper_bound=max(upper_regret, 0.0),
            regret_found=found,
            misreport=report_out,
            truthful_utility=truthful,
            network_utility=net_out,
            gap=gap if not certified else 0.0,
            seconds=time.perf_counter() - start,
            binaries=binaries,
            relus=relus,
            boxes=len(boxes),
        )

    @staticmethod
    def _optimize(program: Program, seconds: float, objective_limit: float | None) -> str | None:
        """Solve ``program`` within ``seconds``; only points better than ``objective_limit``
        count (a box whose maximum equals the incumbent, a flat region or a shared face, could
        otherwise be neither pruned nor improved). Returns SCIP's error message, or None."""
        mip = program.mip
        mip.setParam("limits/time", seconds)
        if objective_limit is not None:
            mip.setObjlimit(objective_limit)
        try:
            with silence_stderr():
                mip.optimize()
        except Exception as err:  # PySCIPOpt raises a bare Exception on SCIP errors (e.g. LP failures)
            return str(err).strip() or type(err).__name__
        return None

    def _utilities(self, v: np.ndarray, i: int, reports: list[np.ndarray]) -> list[float]:
        """Bidder i's utility at each report (others truthful), by the float64 network, batched."""
        bids = np.repeat(v[None], len(reports), axis=0)
        bids[:, i] = np.stack(reports)
        with torch.no_grad():
            out = self.reference.run(torch.from_numpy(bids), check=False)
        alloc, pay = out.allocation[:, i].numpy(), out.payments[:, i].numpy()
        return [float(x) for x in alloc @ v[i] - pay]


def parse_split_binaries(text: str) -> int | Literal["auto"] | None:
    """A command-line ``split_binaries`` setting: ``auto``, ``none`` (one MIP) or an integer >= 0.

    Raises:
        ValueError: anything else.
    """
    value = text.strip().lower()
    if value in ("auto", "none"):
        return None if value == "none" else "auto"
    if not value.isdigit():
        raise ValueError(f"give a non-negative integer, 'auto' or 'none', got {text!r}")
    return int(value)
