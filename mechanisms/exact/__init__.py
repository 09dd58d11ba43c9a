"""Exact item-wise baselines: second price (VCG for additive bidders), Myerson, first price."""
