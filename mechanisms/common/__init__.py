"""Shared infrastructure of all three packages: errors, registries, config parsing, file writing,
seeding, statistics and the default device. It imports nothing above ``mechanisms``."""
