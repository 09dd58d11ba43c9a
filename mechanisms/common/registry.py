"""Name -> factory registries with Gymnasium-style lazy entry points and "did you mean" errors.

Each package keeps one :class:`Registry` (mechanisms, priors, participation models, trainers,
bidder policies, environments). An entry is a callable or a lazy ``"module:attr"`` string, so
registering costs no import. :meth:`Registry.make` checks parameters against the factory's
signature before calling it, so a YAML typo fails with the accepted names, not a TypeError
from deep inside.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from mechanisms.common.errors import ConfigError, UnknownComponentError, join_path

__all__ = ["Registry", "suggest", "build_named"]

T = TypeVar("T")


def suggest(name: str, candidates: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest candidate, or ``""``."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


@dataclass
class _Entry:
    target: Callable[..., Any] | str
    description: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)

    def load(self) -> Callable[..., Any]:
        if isinstance(self.target, str):
            module_name, _, attr = self.target.partition(":")
            self.target = getattr(importlib.import_module(module_name), attr)
        return self.target


class Registry(Generic[T]):
    """A registry of named factories for one kind of component.

    Args:
        kind: what the registry holds, used in messages ("mechanism", "agent" ...).
        context_params: parameter names the caller injects (e.g. ``prior``, ``n_items``);
            a user may not set them, and they are passed only if the factory accepts them.
    """

    def __init__(self, kind: str, context_params: Iterable[str] = ()) -> None:
        self.kind = kind
        self.context_params = frozenset(context_params)
        self._entries: dict[str, _Entry] = {}
        self._aliases: dict[str, str] = {}

    def register(
        self,
        name: str,
        target: Callable[..., T] | str,
        *,
        description: str = "",
        aliases: Iterable[str] = (),
    ) -> None:
        """Register ``target`` (a callable or a lazy ``"module:attr"``) under ``name``."""
        if name in self._entries or name in self._aliases:
            raise ValueError(f"{self.kind} '{name}' is already registered")
        self._entries[name] = _Entry(target, description, tuple(aliases))
        for alias in aliases:
            self._aliases[alias] = name

    def available(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def describe(self) -> dict[str, str]:
        """Name -> one-line description."""
        return {name: self._entries[name].description for name in self.available()}

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases

    def canonical(self, name: str) -> str:
        """Resolve aliases; raise :class:`UnknownComponentError` for unknown names."""
        if not isinstance(name, str):
            raise ConfigError(f"{self.kind} name must be a string, got {type(name).__name__}")
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        hint = suggest(name, [*self._entries, *self._aliases])
        raise UnknownComponentError(f"Unknown {self.kind} '{name}'.{hint} Available: {', '.join(self.available())}")

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered under ``name`` (imported on first use)."""
        return self._entries[self.canonical(name)].load()

    def signature_params(self, name: str) -> list[str]:
        """Every parameter name of ``name``'s factory, injected ones included."""
        return self._signature(self.get(name))[0]

    def accepted_params(self, name: str) -> list[str]:
        """User-settable parameter names of ``name``'s factory."""
        params = self._signature(self.get(name))[0]
        return [p for p in params if p not in self.context_params]

    def make(self, name: str, /, context: Mapping[str, Any] | None = None, **params: Any) -> T:
        """Build the component ``name`` with ``params``.

        Args:
            name: registered name or alias.
            context: values for injected parameters (only those the factory accepts are passed).
            **params: user parameters, checked against the factory's signature.

        Raises:
            UnknownComponentError: unknown name or parameter (with a "did you mean").
            ConfigError: a missing required parameter, a context-only parameter set by the
                user, or a ``ValueError`` raised by the factory.
        """
        canonical = self.canonical(name)
        factory = self.get(canonical)
        accepted, required, open_kwargs = self._signature(factory)
        user_params = [p for p in accepted if p not in self.context_params]
        for key in params:
            if key in self.context_params and key in accepted:
                raise ConfigError("set by the environment; do not give it", key)
            if key not in accepted and not open_kwargs:
                raise UnknownComponentError(
                    f"unknown parameter for {self.kind} '{canonical}'.{suggest(key, user_params)}"
                    f" Accepted: {', '.join(user_params) or '(none)'}",
                    key,
                )
        kwargs = dict(params)
        for key, value in (context or {}).items():
            if key in accepted and key not in kwargs:
                kwargs[key] = value
        missing = [p for p in required if p not in kwargs]
        if missing:
            raise ConfigError(f"{self.kind} '{canonical}' needs parameter(s): {', '.join(missing)}")
        try:
            return factory(**kwargs)
        except ConfigError:
            raise
        except ValueError as err:
            raise ConfigError(f"{self.kind} '{canonical}': {err}") from None

    @staticmethod
    def _signature(factory: Callable[..., Any]) -> tuple[list[str], list[str], bool]:
        """Accepted and required parameter names, and whether it takes ``**kwargs`` (checks its own)."""
        sig = inspect.signature(factory)
        accepted, required, open_kwargs = [], [], False
        for p in sig.parameters.values():
            if p.kind == p.VAR_KEYWORD:
                open_kwargs = True
                continue
            if p.kind == p.VAR_POSITIONAL or p.name == "self":
                continue
            accepted.append(p.name)
            if p.default is p.empty:
                required.append(p.name)
        return accepted, required, open_kwargs


def build_named(
    path: str, registry: Registry[Any], name: str, name_key: str, /, *, params_key: str = "", **kwargs: Any
) -> Any:
    """Build ``name`` from ``registry``, locating any error under ``path``.

    An unknown name is reported at ``path.name_key``; a parameter error at
    ``path.params_key.<param>`` (the registry reports the parameter as the error's path).
    """
    try:
        registry.canonical(name)
    except ConfigError as err:
        raise err.replace(path=join_path(path, name_key)) from None
    try:
        return registry.make(name, **kwargs)
    except ConfigError as err:
        inner = join_path(params_key, err.path) if err.path else ""
        raise err.replace(path=join_path(path, inner)) from None
