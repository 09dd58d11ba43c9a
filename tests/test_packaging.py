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


def test_a_checkout_that_was_never_installed_finds_its_scenarios(monkeypatch):
    """A source checkout on PYTHONPATH has no `auction_env.scenarios` package (pyproject maps it at
    install time): shipped names then resolve to the checkout's own `scenarios/` folder, the same
    files; with neither, the import error stands."""
    import pytest

    from auction_env import catalog

    installed = catalog.shipped_scenarios()
    monkeypatch.setattr(catalog, "_PACKAGE", "auction_env.no_such_package")
    assert catalog.shipped_scenarios() == installed
    found = catalog.find_scenario("quickstart")
    assert found.resolve() == (ROOT / "scenarios" / "quickstart.yaml").resolve()
    assert catalog.load_scenario("participation_2x2_s2").config.name == "participation_2x2_s2"
    monkeypatch.setattr(catalog, "_CHECKOUT", ROOT / "no_such_folder")
    with pytest.raises(ModuleNotFoundError):
        catalog.shipped_scenarios()
