"""Shipped scenario files (the top-level scenarios/ folder, installed as auction_env.scenarios)."""
