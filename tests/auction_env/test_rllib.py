"""RLlib on our PettingZoo environment: registration, policy mapping, one training iteration."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest

# RLlib is the optional [rllib] extra; `make test` installs it (dev extras), a bare install may not.
pytest.importorskip("ray.rllib")

from auction_env.integrations.rllib import bid_function, policy_mapping, ppo_config

pytestmark = pytest.mark.rllib


def test_policy_mapping_shares_or_separates():
    """Shared: every bidder maps to one policy; per-bidder: each to its own."""
    assert {policy_mapping(True)(a) for a in ("bidder_0", "bidder_1")} == {"shared"}
    assert [policy_mapping(False)(a) for a in ("bidder_0", "bidder_1")] == ["bidder_0", "bidder_1"]


def test_observer_role_is_refused():
    """RLlib training covers the bidders; an env with an observer fails with a clear message."""
    with pytest.raises(ValueError, match="observer"):
        ppo_config({"n_bidders": 2, "n_items": 1, "observer": {}})


def test_per_bidder_policies_train_one_iteration():
    """The algorithm builds on the registered env with one policy per bidder and trains an iteration."""
    import ray

    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=tempfile.mkdtemp(prefix="ray", dir="/tmp")
    )
    try:
        config = ppo_config(
            {"n_bidders": 2, "n_items": 2, "mechanism": "second_price", "rounds": 5},
            shared=False,
            env_runners=0,
            train_batch_size_per_learner=100,
            minibatch_size=50,
            num_epochs=1,
        )
        algo = config.build_algo()
        result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] >= 100
        bids = bid_function(algo, "bidder_1", np.array([[0.2, 0.7]]), n_items=2)
        assert bids.shape == (1, 2) and np.all((bids >= 0) & (bids <= 1))
        algo.stop()
    finally:
        ray.shutdown()
