"""Seeds -> independent torch generators (one stream per purpose), as Gymnasium does with NumPy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["make_generators"]


def make_generators(
    seed: int | Sequence[int] | None, count: int, device: torch.device | str = "cpu"
) -> list[torch.Generator]:
    """``count`` independent generators derived from ``seed`` through NumPy's ``SeedSequence``.

    The same seed always gives the same generators; ``None`` draws fresh OS entropy; a sequence
    (e.g. ``[seed, rank]``) gives streams independent of every other sequence's.
    """
    children = np.random.SeedSequence(seed).spawn(count)
    gens = []
    for child in children:
        g = torch.Generator(device=device)
        g.manual_seed(int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
        gens.append(g)
    return gens
