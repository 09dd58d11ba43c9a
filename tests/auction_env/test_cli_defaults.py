"""The CLI restates no library default or choice list: every one is read from the library."""

from __future__ import annotations

import argparse
import importlib
import inspect

import pytest

from auction_env.cli import COMMANDS, build_parser, command_module, library
from auction_env.cli.args import comma_list

#: CLI options whose defaults are the command line's own, with the reason.
CLI_ONLY = {
    ("list", "what"): "'all' sections: a CLI convenience with no library counterpart",
}


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _library_value(target: str, param: str | None) -> object:
    module_name, _, name = target.partition(":")
    obj = getattr(importlib.import_module(module_name), name)
    if param is None:
        return obj
    if param == "keys":
        return list(obj)
    return inspect.signature(obj).parameters[param].default


def test_every_value_read_from_source_equals_the_imported_library() -> None:
    """What the CLI read from the library's source (ast) is what the library itself holds."""
    library.READ.clear()
    build_parser()  # every command's arguments
    assert len(library.READ) >= 30
    for (target, param), value in library.READ.items():
        want = _library_value(target, param)
        if isinstance(want, tuple):
            want = list(want) if isinstance(value, list) else want
        assert value == want, f"{target} {param}: CLI read {value!r}, the library has {want!r}"


def _forms(values: object) -> list[object]:
    """Each value read from the library, and for a sequence also the list and comma text the CLI uses."""
    out: list[object] = []
    for value in values:
        out.append(value)
        if isinstance(value, (list, tuple)):
            out += [list(value), comma_list(value)]
    return out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_no_default_or_choice_is_restated(command: str) -> None:
    """Each option's default and choices are values this command read from the library, or CLI-only."""
    library.READ.clear()
    sub = _subparsers(build_parser([command]))[command]
    read = _forms(library.READ.values())
    for action in sub._actions:
        if isinstance(action, (argparse._HelpAction, argparse._StoreTrueAction)) or (command, action.dest) in CLI_ONLY:
            continue
        if action.default is not None and action.default is not argparse.SUPPRESS:
            assert action.default in read, f"{command} --{action.dest}: default {action.default!r} is restated"
        if action.choices is not None:
            assert list(action.choices) in read, f"{command} --{action.dest}: choices {action.choices!r} are restated"


def test_help_builds_no_command() -> None:
    """`auction-env --help` builds no command's arguments (so it imports none of their library code)."""
    library.READ.clear()
    parser = build_parser([])
    assert library.READ == {}
    assert set(_subparsers(parser)) == set(COMMANDS)
    assert all(hasattr(command_module(name), "run") for name in COMMANDS)
