"""Learned mechanisms: ``nn.Module``s only (training lives in ``mechanisms.training``)."""
