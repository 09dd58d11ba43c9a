"""Packaging: every package folder is listed in pyproject.toml, shipped data is reachable."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).parents[1]


def test_every_package_folder_is_listed():
    """A package folder missing from [tool.setuptools].packages would not be installed."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapped = {v: k for k, v in config.get("package-dir", {}).items()}
    found = set()
    for top in ("auction_env", "agents", "mechanisms", "scenarios"):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT).as_posix()
            found.add(mapped.get(rel, rel.replace("/", ".")))
    assert found == listed


def test_shipped_scenarios_come_from_package_resources():
    """Shipped scenarios load through importlib.resources, as from an installed wheel."""
    from importlib import resources

    names = {p.name for p in resources.files("auction_env.scenarios").iterdir()}
    assert {"quickstart.yaml", "README.md"} <= names
