"""The registry: lazy entries, parameter checks, 'did you mean' messages."""

from __future__ import annotations

import pytest

import agents
import mechanisms
from mechanisms.common.errors import ConfigError, UnknownComponentError
from mechanisms.common.registry import Registry


def test_unknown_name_suggests_and_lists():
    """Unknown names fail like Gymnasium: did you mean, then everything available."""
    with pytest.raises(UnknownComponentError, match=r"Unknown mechanism 'regretnett'.*Available: .*myerson"):
        mechanisms.make("regretnett")
    with pytest.raises(UnknownComponentError, match="Did you mean 'myerson'"):
        mechanisms.make("myersen")


def test_unknown_parameter_suggests_and_lists_accepted():
    """Unknown parameters name the closest accepted one."""
    with pytest.raises(UnknownComponentError, match="Did you mean 'factor'.*Accepted: factor"):
        agents.make("shading", facter=0.5)


def test_context_parameters_cannot_be_set_by_users():
    """Injected parameters (the prior) are not user-settable."""
    with pytest.raises(ConfigError, match="set by the environment"):
        mechanisms.make("myerson", prior=mechanisms.make_prior(2, 2))


def test_missing_required_parameter():
    """A factory's required parameter must be supplied by the user or the context."""
    with pytest.raises(ConfigError, match="needs parameter"):
        mechanisms.make("myerson")


def test_aliases_and_lazy_entries():
    """'vcg' is an alias of second price; lazy 'module:attr' entries import on first use."""
    reg = Registry("thing")
    reg.register("counter", "collections:Counter", aliases=("ctr",))
    assert reg.make("ctr").__class__.__name__ == "Counter"
    assert type(mechanisms.make("vcg")).__name__ == "SecondPrice"
    with pytest.raises(ValueError, match="already registered"):
        reg.register("counter", dict)
