"""bounded_box: Gymnasium's Box, exactly, with a direct sample (the same numbers from the same generator)."""

from __future__ import annotations

import copy
import pickle
import platform

import numpy as np
import pytest
from gymnasium import spaces

from auction_env.envs import credible, sealed_bid
from auction_env.envs.boxes import _DirectSample, bounded_box
from auction_env.rl.auctioneer import AuctioneerLearnerEnv
from auction_env.rl.shared import UnitActionWrapper
from auction_env.rl.single_learner import SingleLearnerEnv

# NumPy draws low + range * U in C; where its compiler fuses that multiply-add (not on x86-64)
# the last bit may differ from the same sum computed in NumPy arrays.
ULP = 0 if platform.machine().lower() in ("x86_64", "amd64") else 1


def _fast(space: spaces.Space) -> bool:
    return type(space) is spaces.Box and isinstance(space.__dict__.get("sample"), _DirectSample)


@pytest.mark.parametrize(
    "low, high, shape",
    [
        (0.0, np.array([1.0, 0.5], np.float32), None),
        (np.zeros((3, 4), np.float32), np.full((3, 4), 2.5, np.float32), None),
        (-1.0, 1.0, (5,)),
        (np.array([0.25, -3.0], np.float32), np.array([0.5, 7.0], np.float32), None),
        (np.array([0.5, 0.0], np.float32), np.array([0.5, 1.0], np.float32), None),  # a zero-width side
        (0.0, 1.0, ()),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sample_is_gymnasiums(low, high, shape, dtype) -> None:
    reference, box = spaces.Box(low, high, shape, dtype=dtype), bounded_box(low, high, shape, dtype=dtype)
    assert _fast(box) and type(box) is spaces.Box  # exactly Gymnasium's class (RLlib's SAC looks it up by type)
    reference.seed(7)
    box.seed(7)
    for _ in range(200):
        want, got = reference.sample(), box.sample()
        assert type(got) is type(want) and got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_max_ulp(got, want, maxulp=ULP)
        assert box.contains(got)
    assert box.np_random.random() == reference.np_random.random()  # the generators moved alike
    assert box == reference and reference == box


def test_copies_sample_from_their_own_generator() -> None:
    box = bounded_box(0.0, np.array([1.0, 2.0], np.float32))
    box.seed(3)
    for twin in (copy.deepcopy(box), pickle.loads(pickle.dumps(box))):
        assert _fast(twin) and twin.sample.box is twin and twin == box
        twin.seed(11)
        reference = spaces.Box(0.0, np.array([1.0, 2.0], np.float32))
        reference.seed(11)
        np.testing.assert_array_max_ulp(twin.sample(), reference.sample(), maxulp=ULP)


def test_refuses_what_it_cannot_sample_directly() -> None:
    with pytest.raises(ValueError, match="finite bounds"):
        bounded_box(0.0, np.inf, (2,))
    with pytest.raises(ValueError, match="float dtype"):
        bounded_box(0, 5, (2,), dtype=np.int64)
    with pytest.raises(Exception, match="mask"):
        bounded_box(0.0, 1.0, (2,)).sample(mask=np.ones(2))
    huge = bounded_box(-1e308, 1e308, (2,), dtype=np.float64)  # the range overflows: Gymnasium's sample stays
    assert not _fast(huge)
    with pytest.raises(OverflowError):
        huge.sample()


def test_every_box_of_the_envs_samples_directly() -> None:
    """Every Box of the environments and of the RL views is one (PettingZoo's harness and the RL
    libraries' random-action loops sample them every step)."""
    boxes = []
    for env in (
        sealed_bid.parallel_env(mechanism="second_price", observer={}),
        credible.parallel_env(mechanism="second_price"),
    ):
        boxes += [env.action_space(a) for a in env.possible_agents] + [
            env.observation_space(a) for a in env.possible_agents
        ]
        boxes.append(env.state_space)
    unit = UnitActionWrapper(sealed_bid.parallel_env(mechanism="second_price"))
    boxes += [unit.action_space(a) for a in unit.possible_agents]
    for view in (SingleLearnerEnv(), AuctioneerLearnerEnv()):
        boxes += [view.action_space, view.observation_space]
    assert all(_fast(space) for space in boxes if isinstance(space, spaces.Box))
    assert sum(isinstance(space, spaces.Box) for space in boxes) >= 12
