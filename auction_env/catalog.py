"""Find and load scenarios: a YAML path, or the name of one shipped with the package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from auction_env.config import ScenarioConfig, load_yaml, parse
from mechanisms.common.errors import ConfigError
from mechanisms.common.registry import suggest

__all__ = ["Scenario", "shipped_scenarios", "find_scenario", "load_scenario"]

_PACKAGE = "auction_env.scenarios"
_CHECKOUT = Path(__file__).resolve().parents[1] / "scenarios"  # a source checkout's top-level folder


def _root() -> Path | resources.abc.Traversable:
    """The shipped scenarios: the installed package's resources, or, for a source checkout on
    ``PYTHONPATH`` that was never pip-installed (no ``auction_env.scenarios`` package), its
    top-level ``scenarios/`` folder."""
    try:
        return resources.files(_PACKAGE)
    except ModuleNotFoundError:
        if _CHECKOUT.is_dir():
            return _CHECKOUT
        raise


@dataclass(frozen=True)
class Scenario:
    """A validated scenario and where it came from (a path, or ``<dict>``)."""

    config: ScenarioConfig
    source: str

    @property
    def name(self) -> str:
        return self.config.name or Path(self.source).stem


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped with the package (``scenarios/*.yaml``)."""
    root = _root()
    return sorted(p.name[: -len(".yaml")] for p in root.iterdir() if p.name.endswith(".yaml"))


def find_scenario(name_or_path: str | Path) -> Path:
    """Resolve an existing file path, or a shipped scenario name (``quickstart``).

    Raises:
        ConfigError: neither a file nor a shipped scenario.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    stem = path.name[: -len(".yaml")] if path.name.endswith(".yaml") else path.name
    shipped = shipped_scenarios()
    if stem in shipped and (path.parent == Path(".") or path.parent.name == "scenarios"):
        with resources.as_file(_root() / f"{stem}.yaml") as found:
            return Path(found)
    raise ConfigError(
        f"scenario not found: no such file and no shipped scenario '{stem}'.{suggest(stem, shipped)}"
        f" Shipped: {', '.join(shipped)}",
        source=str(name_or_path),
    )


def load_scenario(source: str | Path | Mapping[str, Any]) -> Scenario:
    """Load and validate a scenario from a path, a shipped name, or a mapping.

    Raises:
        ConfigError: naming the file and the dotted path of the first problem.
    """
    if isinstance(source, Mapping):
        return Scenario(parse(ScenarioConfig, source, source="<dict>"), "<dict>")
    path = find_scenario(source)
    data = load_yaml(path)
    label = str(source) if Path(source).is_file() else str(path)
    if data is None:
        raise ConfigError("the file is empty", source=label)
    return Scenario(parse(ScenarioConfig, data, source=label), label)
