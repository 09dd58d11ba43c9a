"""Imports point down the layers only (``../shared/ARCHITECTURE.md``).

``mechanisms`` imports neither ``agents`` nor ``auction_env``; ``agents`` does not import
``auction_env``; inside ``mechanisms`` the models (and the shared infrastructure) import no
training, evaluation or certification code. Every module is scanned with ``ast``, so imports
inside functions (lazy imports) count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = ("mechanisms", "agents", "auction_env")
RANK = {name: level for level, name in enumerate(PACKAGES)}

#: Inside ``mechanisms``: modules that hold models or infrastructure, and what they may not import.
MODEL_MODULES = (
    "mechanisms.common",
    "mechanisms.exact",
    "mechanisms.learned",
    "mechanisms.base",
    "mechanisms.priors",
    "mechanisms.participation",
    "mechanisms.noise",
    "mechanisms.setting",
)
DRIVER_MODULES = (
    "mechanisms.training",
    "mechanisms.evaluation",
    "mechanisms.certify",
    "mechanisms.search",
    "mechanisms.certification",
    "mechanisms.results",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(name: str, source: str, is_package: bool = False) -> list[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in module ``name``, nested ones included."""
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # ``from mechanisms import training`` imports a submodule too
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def violations(name: str, source: str, is_package: bool = False, label: str = "") -> list[str]:
    """Every import in module ``name`` that points up a layer, as ``file:line imports module`` lines."""
    top = name.split(".")[0]
    out = []
    for line, target in imported_modules(name, source, is_package):
        target_top = target.split(".")[0]
        where = f"{label or name}:{line} imports {target}"
        if target_top in RANK and RANK[target_top] > RANK[top]:
            out.append(where)
        if name.startswith(MODEL_MODULES) and target.startswith(DRIVER_MODULES):
            out.append(where + " (a model or shared module imports a training/evaluation/certification module)")
    return out


def package_modules() -> list[Path]:
    return sorted(p for top in PACKAGES for p in (ROOT / top).rglob("*.py"))


def test_every_package_is_scanned() -> None:
    """The scan sees the modules of all three packages (a moved tree would otherwise pass vacuously)."""
    tops = {module_name(p).split(".")[0] for p in package_modules()}
    assert tops == set(PACKAGES)
    assert len(package_modules()) > 50


@pytest.mark.parametrize("top", PACKAGES)
def test_imports_point_down_only(top: str) -> None:
    """No module of ``top`` imports a package above it, not even lazily inside a function."""
    bad = [
        v
        for p in package_modules()
        if module_name(p).split(".")[0] == top
        for v in violations(
            module_name(p), p.read_text(encoding="utf-8"), p.name == "__init__.py", str(p.relative_to(ROOT))
        )
    ]
    assert not bad, "imports that point up the layers:\n" + "\n".join(bad)


def test_the_scan_catches_lazy_and_relative_imports() -> None:
    """A lazy import inside a function and relative imports that climb out are all reported."""
    lazy = violations("mechanisms.probe", "def f():\n    import auction_env.core\n")
    assert any("auction_env.core" in v for v in lazy)
    relative = violations("mechanisms.learned.probe", "from ..training import loop\nfrom .. import evaluation\n")
    assert any("mechanisms.training" in v for v in relative) and any("mechanisms.evaluation" in v for v in relative)
    from_package = violations("agents.bidders.probe", "from auction_env import core\n")
    assert any("auction_env" in v for v in from_package)
    assert violations("auction_env.probe", "import agents\nfrom mechanisms.learned import checkpoints\n") == []
