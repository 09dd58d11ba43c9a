"""Configs are data, checked at the door: a strict pydantic base, YAML loading, one-line errors.

Every config of the project (scenarios, training configs) is a pydantic model built on
:class:`Strict`: unknown keys, wrong types and out-of-range values fail with the file and the
dotted path (``scenarios/x.yaml: agents[1].parms: unknown key (did you mean 'params'?)``).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from mechanisms.common.errors import ConfigError
from mechanisms.common.registry import suggest

__all__ = ["Strict", "load_yaml", "parse", "format_validation_error", "set_dotted", "MAX_BYTES"]


class Strict(BaseModel):
    """Frozen, strict, no unknown keys: the base of every config model."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


#: Largest config file read (a scenario or training config is a few kilobytes).
MAX_BYTES = 1 << 20


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file (``yaml.safe_load``: plain data only), turning every way it can be bad into
    one-line :class:`ConfigError`: missing, unreadable, too large, not UTF-8 text, invalid or too
    deeply nested YAML."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(f"file too large ({size:,} bytes; a config is at most {MAX_BYTES:,})", source=str(path))
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", source=str(path)) from None
    except IsADirectoryError:
        raise ConfigError("is a folder, not a file", source=str(path)) from None
    except OSError as err:
        raise ConfigError(f"cannot read file: {err.strerror}", source=str(path)) from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"not UTF-8 text (byte {err.start}); is it a binary file?", source=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{where}invalid YAML: {problem}", source=str(path)) from None
    except RecursionError:
        raise ConfigError("YAML nested too deeply", source=str(path)) from None


def parse(model: type[BaseModel], data: Any, *, source: str = "", prefix: str = "") -> Any:
    """Validate ``data`` against ``model``; raise one-line :class:`ConfigError` on failure."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"expected a mapping of keys, got {type(data).__name__}", prefix, source)
    try:
        return model.model_validate(dict(data))
    except ValidationError as err:
        raise format_validation_error(err, model).at(prefix).in_file(source) from None
    except RecursionError:
        raise ConfigError("nested too deeply", prefix, source) from None


def format_validation_error(err: ValidationError, model: type[BaseModel]) -> ConfigError:
    """The first error of a pydantic ``ValidationError`` as a one-line :class:`ConfigError`."""
    first = err.errors(include_url=False)[0]
    loc = [part for part in first["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
    loc = [part for part in loc if part not in ("str", "int", "float", "list[int]", "dict[str,any]")]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    kind = first["type"]
    if kind == "extra_forbidden":
        known = _fields_at(model, loc[:-1])
        return ConfigError(f"unknown key.{suggest(str(loc[-1]), known)} Known keys: {', '.join(known)}", path)
    if kind == "missing":
        return ConfigError("required key is missing", path)
    message = first["msg"]
    message = message[0].lower() + message[1:]
    if kind not in ("value_error", "assertion_error"):
        message += f", got {first['input']!r}"
    return ConfigError(message, path)


def _fields_at(model: Any, loc: list[Any]) -> list[str]:
    """Field names of the model reached by following ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else Any
        elif isinstance(current, type) and issubclass(current, BaseModel):
            current = current.model_fields[part].annotation if part in current.model_fields else Any
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


_INDEX = re.compile(r"^(\w+)((?:\[\d+\])*)$")


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``data[key]`` for a dotted key with optional list indices (``agents[1].params.factor``).

    Raises:
        ConfigError: the path does not exist in ``data``.
    """
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        match = _INDEX.match(part)
        if not match:
            raise ConfigError(f"bad key syntax {part!r}", key)
        name, indices = match.group(1), [int(i) for i in re.findall(r"\d+", match.group(2))]
        last = depth == len(parts) - 1 and not indices
        if not isinstance(node, dict):
            raise ConfigError(f"'{'.'.join(parts[:depth])}' is not a mapping", key)
        if last:
            node[name] = value
            return
        if name not in node:
            node[name] = {}
        node = node[name]
        for j, index in enumerate(indices):
            if not isinstance(node, list) or index >= len(node):
                raise ConfigError(f"index [{index}] is out of range", key)
            if depth == len(parts) - 1 and j == len(indices) - 1:
                node[index] = value
                return
            node = node[index]
