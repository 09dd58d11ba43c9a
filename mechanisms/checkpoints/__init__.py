"""Shipped mechanism checkpoints (data: ``NAME.pt`` weights beside ``NAME.json`` model cards).

The loader is :mod:`mechanisms.learned.checkpoints`; its file functions stay importable here.
"""

from mechanisms.learned.checkpoints import find, load_card, load_state, save, shipped  # noqa: F401

__all__ = ["shipped", "find", "load_card", "load_state", "save"]
