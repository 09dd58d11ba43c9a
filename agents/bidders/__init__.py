"""Bidder policies."""
