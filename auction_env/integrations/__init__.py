"""Adapters for outside RL libraries, one module per library (as TorchRL keeps ``envs/libs/``)."""
