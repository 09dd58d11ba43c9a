"""``auction-env list [WHAT]``: what can be named in a scenario (mechanisms, agents, checkpoints ...)."""

from __future__ import annotations

import argparse

HELP = "list registered mechanisms, agents, scenarios ..."
DESCRIPTION = "List what can be named in a scenario."
#: What ``list`` can show, in order.
SECTIONS = ("mechanisms", "agents", "scenarios", "checkpoints", "priors", "participation", "envs")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", nargs="?", default="all", choices=["all", *SECTIONS])


def sections() -> dict[str, dict[str, str]]:
    """Each section's names with their one-line descriptions, read from the registries."""
    import agents
    import mechanisms
    from auction_env.catalog import shipped_scenarios
    from auction_env.envs import registry as envs
    from mechanisms import participation
    from mechanisms.learned import checkpoints

    found = {
        "mechanisms": mechanisms.registry.describe(),
        "agents": agents.registry.describe(),
        "scenarios": {name: "" for name in shipped_scenarios()},
        "checkpoints": {name: "" for name in checkpoints.shipped()},
        "priors": mechanisms.prior_registry.describe(),
        "participation": participation.registry.describe(),
        "envs": envs.describe(),
    }
    return {name: found[name] for name in SECTIONS}


def run(args: argparse.Namespace) -> int:
    for name, entries in sections().items():
        if args.what not in ("all", name):
            continue
        print(f"{name}:")
        width = max((len(k) for k in entries), default=0)
        for key, text in entries.items():
            print(f"  {key:<{width}}  {text}".rstrip())
    return 0
