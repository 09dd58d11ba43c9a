"""BoundedBox: Gymnasium's Box with a direct sample, the same numbers from the same generator."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from auction_env.envs import credible, sealed_bid
from auction_env.envs.boxes import BoundedBox


@pytest.mark.parametrize(
    "low, high, shape",
    [
        (0.0, np.array([1.0, 0.5], np.float32), None),
        (np.zeros((3, 4), np.float32), np.full((3, 4), 2.5, np.float32), None),
        (-1.0, 1.0, (5,)),
        (np.array([0.25, -3.0], np.float32), np.array([0.5, 7.0], np.float32), None),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sample_is_gymnasiums(low, high, shape, dtype) -> None:
    reference, box = spaces.Box(low, high, shape, dtype=dtype), BoundedBox(low, high, shape, dtype=dtype)
    reference.seed(7)
    box.seed(7)
    for _ in range(200):
        want, got = reference.sample(), box.sample()
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        assert box.contains(got)
    assert box.np_random.random() == reference.np_random.random()  # the generators moved alike
    assert box == reference and reference == box and isinstance(box, spaces.Box)


def test_rejects_what_it_cannot_sample_directly() -> None:
    with pytest.raises(ValueError, match="finite bounds"):
        BoundedBox(0.0, np.inf, (2,))
    with pytest.raises(ValueError, match="float dtype"):
        BoundedBox(0, 5, (2,), dtype=np.int64)
    with pytest.raises(Exception, match="mask"):
        BoundedBox(0.0, 1.0, (2,)).sample(mask=np.ones(2))


def test_every_env_box_samples_directly() -> None:
    """Every Box of the environments is a BoundedBox (the random-action loops of PettingZoo's
    harness and of the RL libraries sample them every step)."""
    for env in (
        sealed_bid.parallel_env(mechanism="second_price", observer={}),
        credible.parallel_env(mechanism="second_price"),
    ):
        boxes = [env.action_space(a) for a in env.possible_agents] + [
            env.observation_space(a) for a in env.possible_agents
        ]
        boxes.append(env.state_space)
        assert all(type(space) is BoundedBox for space in boxes if isinstance(space, spaces.Box))
