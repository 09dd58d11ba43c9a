"""Build the objects a scenario names: prior, participation model, mechanism, bidder policies.

Every error carries the dotted path of the value that caused it (``env.mechanism.params.reserv``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import agents as agent_registry
import mechanisms
from agents.base import BidderPolicy
from auction_env.config import AgentConfig, EnvConfig, ScenarioConfig, parse, sweep_cells
from auction_env.core import AuctionCore
from mechanisms.base import Mechanism
from mechanisms.common.errors import ConfigError
from mechanisms.common.registry import build_named
from mechanisms.participation import Participation
from mechanisms.priors import Prior
from mechanisms.setting import build_participation, build_prior, check_prior

__all__ = ["Setting", "build_setting", "build_policies", "validate_scenario", "build_named"]


#: A built ``env`` section is an :class:`AuctionCore` (its ``config`` holds the section); the old name.
Setting = AuctionCore


def build_setting(
    env: EnvConfig | Mapping[str, Any],
    *,
    prior: Prior | None = None,
    participation: Participation | None = None,
    mechanism: Mechanism | None = None,
    prefix: str = "env",
) -> AuctionCore:
    """Build prior, participation and mechanism from an ``env`` section, joined in an :class:`AuctionCore`.

    Args:
        env: the section (validated here if a mapping).
        prior, participation, mechanism: ready objects that replace the section's entries.
        prefix: dotted path of the section, for error messages.

    Raises:
        ConfigError: an unknown name or parameter, or inconsistent sizes.
    """
    cfg = env if isinstance(env, EnvConfig) else parse(EnvConfig, env, prefix=prefix)
    if prior is None:
        prior = build_prior(cfg, prefix=prefix)
    check_prior(prior, cfg, prefix=prefix)
    if participation is None:
        participation = build_participation(cfg, prefix=prefix)
    if mechanism is None:
        mechanism = build_named(
            f"{prefix}.mechanism",
            mechanisms.registry,
            cfg.mechanism.name,
            "name",
            context={"prior": prior, "valuation": cfg.valuation, "n_bidders": cfg.n_bidders, "n_items": cfg.n_items},
            params_key="params",
            **cfg.mechanism.params,
        )
    try:
        return AuctionCore(mechanism, prior, participation, cfg.valuation, config=cfg)
    except ValueError as err:
        raise ConfigError(str(err), f"{prefix}.mechanism") from None


def build_policies(entries: Sequence[AgentConfig], setting: Setting, *, prefix: str = "agents") -> list[BidderPolicy]:
    """One policy per bidder from the ``agents`` entries.

    An entry with ``bidders`` covers those bidders; the (single) entry without covers the rest.
    Every bidder must be covered exactly once. Each bidder gets its own policy instance.
    """
    n = setting.n_bidders
    owner: dict[int, int] = {}
    default: int | None = None
    for k, entry in enumerate(entries):
        if entry.bidders is None:
            if default is not None:
                raise ConfigError(
                    f"only one entry may omit 'bidders' (agents[{default}] already covers the rest)",
                    f"{prefix}[{k}]",
                )
            default = k
            continue
        for i in entry.bidders:
            if not 0 <= i < n:
                raise ConfigError(f"bidder {i} does not exist (n_bidders = {n})", f"{prefix}[{k}].bidders")
            if i in owner:
                raise ConfigError(
                    f"bidder {i} is already given a policy by agents[{owner[i]}]", f"{prefix}[{k}].bidders"
                )
            owner[i] = k
    missing = [i for i in range(n) if i not in owner]
    if missing and default is None:
        raise ConfigError(f"no policy for bidder(s) {missing}; add an entry without 'bidders'", prefix)
    for i in missing:
        owner[i] = default  # type: ignore[assignment]
    env = setting.config
    feedback = env.feedback if env is not None else None
    policies = []
    for i in range(n):
        k = owner[i]
        entry = entries[k]
        context = {
            "bidder": i,
            "n_bidders": n,
            "n_items": setting.n_items,
            "prior": setting.prior,
            "mechanism": setting.mechanism,
            "feedback": feedback.mode if feedback is not None else "none",
            "window": feedback.window if feedback is not None else 1,
            "bid_levels": env.bidding.levels if env is not None and env.bidding is not None else None,
        }
        policies.append(
            build_named(
                f"{prefix}[{k}]",
                agent_registry.registry,
                entry.policy,
                "policy",
                context=context,
                params_key="params",
                **entry.params,
            )
        )
    return policies


def validate_scenario(config: ScenarioConfig, *, source: str = "") -> int:
    """Build every cell of a scenario (without playing it); return the number of cells.

    Raises:
        ConfigError: naming ``source`` and the dotted path of the first problem.
    """
    cells = sweep_cells(config, source=source)
    for overrides, cell in cells:
        try:
            setting = build_setting(cell.env)
            build_policies(cell.agents, setting)
        except ConfigError as err:
            if overrides:
                cell_name = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
                raise ConfigError(f"{err.message} (in sweep cell {cell_name})", err.path, source) from None
            raise err.in_file(source) from None
    return len(cells)
