"""SB3 model files are untrusted: loading one never unpickles, so a crafted zip runs no code."""

from __future__ import annotations

import base64
import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import mechanisms
from agents.bidders.sb3 import SB3Policy

PRIOR = mechanisms.make_prior(2, 1)


class _Payload:
    """Unpickling this creates a folder: a visible side effect standing in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A small PPO bidder saved by SB3 itself."""
    from stable_baselines3 import PPO

    from auction_env.rl import SingleLearnerEnv

    env = SingleLearnerEnv(n_bidders=2, n_items=1, mechanism="first_price")
    path = tmp_path_factory.mktemp("sb3") / "model.zip"
    PPO("MlpPolicy", env, seed=0, n_steps=8, batch_size=8, device="cpu").save(path)
    return path


def _rewrite(src: Path, dst: Path, **entries: bytes) -> Path:
    """A copy of the zip ``src`` with some entries replaced."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for name in old.namelist():
            new.writestr(name, entries.get(name.replace(".", "_"), old.read(name)))
    return dst


def _serialized(obj: object) -> dict[str, str]:
    return {":type:": "<class 'object'>", ":serialized:": base64.b64encode(pickle.dumps(obj)).decode()}


def test_a_saved_model_plays_as_sb3_would(saved: Path) -> None:
    """The safe loader rebuilds the policy SB3 saved: the same actions on the same observations."""
    from stable_baselines3 import PPO

    obs = np.random.default_rng(0).random((16, 3)).astype(np.float32)
    want = PPO.load(saved, device="cpu").predict(obs, deterministic=True)[0]
    policy = SB3Policy(str(saved), PRIOR, bidder=0, n_items=1)
    assert np.allclose(policy._model.predict(obs, deterministic=True)[0], want)
    bids = policy.act(torch.from_numpy(obs))
    assert bids.shape == (16, 1) and bool((bids >= 0).all()) and bool((bids <= 1).all())


def test_a_pickled_payload_in_data_never_runs(saved: Path, tmp_path: Path) -> None:
    """A cloudpickle payload in the `data` entry runs under SB3's own load, never under ours."""
    from stable_baselines3 import PPO

    data = json.loads(zipfile.ZipFile(saved).read("data"))
    marker = tmp_path / "pwned"
    data["observation_space"] = _serialized(_Payload(marker))
    crafted = _rewrite(saved, tmp_path / "crafted.zip", data=json.dumps(data).encode())
    policy = SB3Policy(str(crafted), PRIOR, bidder=0, n_items=1)  # the pickled entry is never read
    assert not marker.exists() and policy.act(torch.rand(4, 3)).shape == (4, 1)
    with pytest.raises(Exception):
        PPO.load(crafted, device="cpu")  # SB3 unpickles it: the payload ran (and returned no space)
    assert marker.exists(), "the payload is real: SB3's loader executed it"


def test_a_pickled_payload_as_weights_is_refused(saved: Path, tmp_path: Path) -> None:
    """policy.pth holding a pickle payload is refused with one line; nothing runs."""
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    torch.save({"weights": _Payload(marker)}, buffer)
    crafted = _rewrite(saved, tmp_path / "crafted.zip", policy_pth=buffer.getvalue())
    with pytest.raises(ValueError, match="policy.pth is not a plain state dict") as err:
        SB3Policy(str(crafted), PRIOR, bidder=0, n_items=1)
    assert "\n" not in str(err.value) and not marker.exists()


def test_policy_kwargs_that_need_unpickling_are_refused(saved: Path, tmp_path: Path) -> None:
    """A policy_kwargs entry that could only be restored by unpickling (a custom class) is refused."""
    data = json.loads(zipfile.ZipFile(saved).read("data"))
    marker = tmp_path / "pwned"
    data["policy_kwargs"] = {"features_extractor_class": _serialized(_Payload(marker))}
    crafted = _rewrite(saved, tmp_path / "crafted.zip", data=json.dumps(data).encode())
    with pytest.raises(ValueError, match="can only be restored by unpickling"):
        SB3Policy(str(crafted), PRIOR, bidder=0, n_items=1)
    assert not marker.exists()


@pytest.mark.parametrize(
    "content, message",
    [(b"not a zip", "not a readable stable-baselines3 zip"), (None, "no SB3 model")],
)
def test_bad_files_fail_in_one_line(tmp_path: Path, content: bytes | None, message: str) -> None:
    """A missing or non-zip file is one ValueError line."""
    path = tmp_path / "model.zip"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as err:
        SB3Policy(str(path), PRIOR, bidder=0, n_items=1)
    assert "\n" not in str(err.value)


def test_weights_for_another_setting_are_refused(saved: Path) -> None:
    """A 1-item bidder's model in a 3-item seat fails with one line naming the mismatch."""
    with pytest.raises(ValueError, match="do not fit"):
        SB3Policy(str(saved), mechanisms.make_prior(2, 3), bidder=0, n_items=3)
