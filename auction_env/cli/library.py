"""The CLI's defaults and choices, read from the library's source without importing it.

An option that mirrors a library parameter takes the library's default (or choice list) from
here, so each value is written once, in the library, and ``auction-env --help`` does not import
torch. The value is read from the function's signature (or a module-level constant) with
:mod:`ast`; it must be a literal, or the name of a literal constant of the same module.
``tests/auction_env/test_cli_defaults.py`` compares every value read here with the imported
library's.

Targets are ``"package.module:function"`` (``"package.module:Class"`` reads ``__init__``) or
``"package.module:CONSTANT"``.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["default", "constant", "keys", "READ"]

#: Root of the three packages (``mechanisms/``, ``agents/``, ``auction_env/`` are siblings here).
ROOT = Path(__file__).resolve().parents[2]

#: Every value read, ``(target, parameter or None) -> value``: what the tests compare.
READ: dict[tuple[str, str | None], Any] = {}


def default(target: str, param: str) -> Any:
    """The default of ``param`` in the signature of ``target`` (``"pkg.mod:function"``)."""
    module, _, name = target.partition(":")
    tree = _module(module)
    node = _find(tree, name, target)
    if isinstance(node, ast.ClassDef):
        node = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        if node is None:
            raise LookupError(f"{target} has no __init__")
    if not isinstance(node, ast.FunctionDef):
        raise LookupError(f"{target} is not a function or class")
    args = node.args
    positional = args.posonlyargs + args.args
    pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    for arg, value in pairs:
        if arg.arg == param:
            READ[(target, param)] = result = _literal(tree, value, f"{target}({param})")
            return result
    raise LookupError(f"{target} has no parameter {param!r} with a default")


def constant(target: str) -> Any:
    """The literal value of the module-level constant ``target`` (``"pkg.mod:NAME"``)."""
    module, _, name = target.partition(":")
    tree = _module(module)
    READ[(target, None)] = result = _literal(tree, _assigned(tree, name, target), target)
    return result


def keys(target: str) -> list[str]:
    """The keys of the module-level dict ``target`` (``"pkg.mod:NAME"``), e.g. the attack protocols."""
    module, _, name = target.partition(":")
    node = _assigned(_module(module), name, target)
    if not isinstance(node, ast.Dict) or not all(isinstance(k, ast.Constant) for k in node.keys):
        raise LookupError(f"{target}: not a dict with literal keys")
    READ[(target, "keys")] = result = [k.value for k in node.keys]  # type: ignore[union-attr]
    return result


@cache
def _module(module: str) -> ast.Module:
    path = ROOT.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _find(tree: ast.Module, name: str, target: str) -> ast.AST:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return node
    raise LookupError(f"{target}: not found")


def _assigned(tree: ast.Module, name: str, target: str) -> ast.expr:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            if node.value is not None:
                return node.value
    raise LookupError(f"{target}: no module-level assignment")


def _literal(tree: ast.Module, node: ast.expr, where: str) -> Any:
    if isinstance(node, ast.Name):  # a module constant, e.g. ``threat_models=THREAT_MODELS``
        node = _assigned(tree, node.id, where)
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise LookupError(f"{where}: the default is not a literal") from None
