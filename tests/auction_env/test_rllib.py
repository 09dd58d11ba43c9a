"""RLlib on our PettingZoo environment: registration, policy mapping, one training iteration."""

from __future__ import annotations

import numpy as np
import pytest

# RLlib is the optional [rllib] extra; `make test` installs it (dev extras), a bare install may not.
pytest.importorskip("ray.rllib")

from auction_env.integrations.rllib import bid_function, local_ray, policy_mapping, ppo_config

pytestmark = pytest.mark.rllib


def test_policy_mapping_shares_or_separates():
    """Shared: every bidder maps to one policy; per-bidder: each to its own; other roles to their own."""
    assert {policy_mapping(True)(a) for a in ("bidder_0", "bidder_1")} == {"shared"}
    assert [policy_mapping(False)(a) for a in ("bidder_0", "bidder_1")] == ["bidder_0", "bidder_1"]
    assert [policy_mapping(True)(a) for a in ("observer", "auctioneer")] == ["observer", "auctioneer"]


def test_unknown_env_is_refused():
    with pytest.raises(ValueError, match="Unknown environment .poker_v0."):
        ppo_config({"n_bidders": 2}, env="poker_v0")


@pytest.mark.parametrize(
    "env,env_config,roles",
    [
        ("sealed_bid_v0", {"observer": {"bidder": None}}, ["bidder_0", "bidder_1", "observer"]),
        ("credible_v0", {}, ["bidder_0", "bidder_1", "auctioneer"]),
    ],
)
def test_per_agent_policies_train_one_iteration(env: str, env_config: dict, roles: list[str]):
    """The algorithm builds on the registered env with one policy per agent, the observer or the
    auctioneer included, and trains an iteration."""
    with local_ray(num_cpus=2):
        config = ppo_config(
            {"n_bidders": 2, "n_items": 2, "mechanism": "second_price", "rounds": 5, **env_config},
            env=env,
            shared=False,
            env_runners=0,
            train_batch_size_per_learner=100,
            minibatch_size=50,
            num_epochs=1,
        )
        algo = config.build_algo()
        result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] >= 100
        assert sorted(algo.config.policies) == sorted(roles)
        bids = bid_function(algo, "bidder_1", np.array([[0.2, 0.7]]), n_items=2)
        assert bids.shape == (1, 2) and np.all((bids >= 0) & (bids <= 1))
        algo.stop()
