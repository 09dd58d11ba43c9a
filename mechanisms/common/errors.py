"""Exception hierarchy: every error a user can cause is an :class:`AuctionEnvError`.

The CLI turns these into one readable line on stderr and exit code 2.
"""

from __future__ import annotations

__all__ = [
    "AuctionEnvError",
    "ConfigError",
    "UnknownComponentError",
    "CheckpointError",
    "RenderModeError",
    "check_render_mode",
    "join_path",
    "out_of_memory",
]


class AuctionEnvError(Exception):
    """Base class for errors caused by user input (configs, bids, checkpoints)."""


class ConfigError(AuctionEnvError, ValueError):
    """A configuration value is missing, of the wrong type, out of range or unknown.

    Attributes:
        message: what is wrong.
        path: dotted location of the offending value (``"env.mechanism.params.reserve"``),
            or ``""`` when the error concerns the whole object.
        source: the file the value came from, or ``""``.
    """

    def __init__(self, message: str, path: str = "", source: str = "") -> None:
        self.message, self.path, self.source = message, path, source
        super().__init__(": ".join(part for part in (source, path, message) if part))

    def replace(self, *, path: str | None = None, source: str | None = None) -> ConfigError:
        """A copy (same subclass and message) with another path and/or source."""
        err = type(self).__new__(type(self))
        ConfigError.__init__(
            err, self.message, self.path if path is None else path, self.source if source is None else source
        )
        return err

    def at(self, prefix: str) -> ConfigError:
        """The same error located under ``prefix``."""
        return self.replace(path=join_path(prefix, self.path))

    def in_file(self, source: str) -> ConfigError:
        """The same error, naming the file it came from."""
        return self.replace(source=source)


class UnknownComponentError(ConfigError):
    """A name (mechanism, agent, prior ...) or a parameter is not registered."""


class CheckpointError(AuctionEnvError):
    """A checkpoint file is missing, corrupt, or does not match the setting."""


class RenderModeError(AuctionEnvError, ValueError, TypeError):
    """An environment was asked for a render mode it does not have. Also a ``TypeError``: that is
    what SB3's ``make_vec_env`` catches before retrying without its default ``"rgb_array"``."""


def check_render_mode(render_mode: str | None, modes: list[str]) -> None:
    """Raise :class:`RenderModeError` unless ``render_mode`` is None or one of ``modes``."""
    if render_mode is not None and render_mode not in modes:
        raise RenderModeError(f"render_mode must be one of {modes} or None, got {render_mode!r}")


def join_path(prefix: str, path: str) -> str:
    """Join two dotted paths, keeping ``[i]`` indices attached: ``agents`` + ``[1].params``."""
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def out_of_memory(err: BaseException) -> bool:
    """Whether ``err`` is an allocation the machine could not make (Python's ``MemoryError``, or
    torch's allocator errors, which are ``RuntimeError``s: a size in the input was too large)."""
    return isinstance(err, MemoryError) or (isinstance(err, RuntimeError) and "allocate" in str(err))
