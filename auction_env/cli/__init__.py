"""``auction-env`` command line: parse and dispatch only.

One module per command (``run``, ``validate``, ``train``, ...), each with ``HELP``,
``DESCRIPTION``, ``add_arguments(parser)`` and ``run(args) -> int``. Defaults and choices that
mirror the library are read from it (:mod:`auction_env.cli.library`), never restated. Only the
command being run has its arguments built, so ``auction-env --help`` imports no command's
library code.

Exit codes: 0 on success, 2 on bad input (one readable line on stderr, no traceback),
130 when interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ["main", "build_parser", "COMMANDS", "PROG"]

PROG = "auction-env"

#: Command name -> its module in this package, in the order ``--help`` lists them.
COMMANDS = {
    "run": "run",
    "validate": "validate",
    "train": "train",
    "train-bidder": "train_bidder",
    "train-inverter": "train_inverter",
    "privacy": "privacy",
    "collusion": "collusion",
    "evaluate": "evaluate",
    "certify": "certify",
    "list": "listing",
}


def command_module(name: str) -> ModuleType:
    """The module of command ``name``."""
    return importlib.import_module(f"{__name__}.{COMMANDS[name]}")


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the ``commands`` given (default all) get their arguments built."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Learned and exact auction mechanisms as multi-agent environments.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = command_module(name)
        command = sub.add_parser(name, help=module.HELP, description=module.DESCRIPTION)
        if commands is None or name in commands:
            module.add_arguments(command)
            command.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    from mechanisms.common.errors import AuctionEnvError, out_of_memory

    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser([chosen] if chosen in COMMANDS else [])
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage and the error
        return int(exc.code or 0)
    torch = sys.modules.get("torch")  # a caller that already uses torch keeps its thread count
    threads = torch.get_num_threads() if torch is not None else None
    try:
        return args.handler(args)
    except AuctionEnvError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except (FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError) as err:
        # an output path that cannot be written (a file where a folder goes, or the reverse)
        print(f"{PROG}: error: cannot write {err.filename}: {err.strerror}", file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError) as err:
        if not out_of_memory(err):
            raise
        first = (str(err).strip().splitlines() or [""])[0]
        print(
            f"{PROG}: error: out of memory (a size asked for is too large for this machine): {first}", file=sys.stderr
        )
        return 2
    except KeyboardInterrupt as stop:
        print(f"{PROG}: interrupted" + (f": {stop}" if str(stop) else ""), file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`auction-env list | head`): nothing more to say
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    finally:
        if threads is not None:
            torch.set_num_threads(threads)
