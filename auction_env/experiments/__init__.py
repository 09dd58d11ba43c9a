"""Experiment drivers behind the CLI: evaluation by name and the results table, bidder training
and scoring, the privacy study. Each writes or returns results; none parses arguments."""
