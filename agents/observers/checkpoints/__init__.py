"""Shipped learned inverters (``NAME.pt`` + ``NAME.json``), see :mod:`agents.observers.learned`."""
