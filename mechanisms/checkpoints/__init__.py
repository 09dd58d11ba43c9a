"""Shipped mechanism checkpoints (state dicts + JSON model cards)."""
