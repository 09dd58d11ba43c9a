"""TorchRL PPO bidders learn to shade in a first-price auction (IPPO or MAPPO, parameter sharing).

Two bidders, one item, U[0,1] values, 10 independent rounds per episode (gamma = 0). The env is
``sealed_bid_v0`` through TorchRL's own ``PettingZooWrapper`` (``auction_env.integrations.torchrl.wrap``
groups the bidders into one ``bidder`` group). One policy network is shared by both bidders
(a ``MultiAgentMLP`` with shared parameters, a ``TanhNormal`` bid in [0, 1]); the critic sees
each bidder's own observation (IPPO) or both (MAPPO, ``--mappo``). In the symmetric Bayes-Nash
equilibrium each bids v/2: after every iteration the script fits bid = slope x value + intercept
to the policy's deterministic bids and reports it.

    .venv/bin/python examples/06_torchrl_first_price.py             # under 3 minutes on a 2-core CPU
    .venv/bin/python examples/06_torchrl_first_price.py --mappo --iterations 60
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def main(
    iterations: int = 32,
    frames: int = 800,
    epochs: int = 10,
    minibatch: int = 200,
    lr: float = 3e-3,
    mappo: bool = False,
    seed: int = 0,
    out: str | None = None,
) -> dict:
    import torch
    from tensordict import TensorDict
    from tensordict.nn import NormalParamExtractor, TensorDictModule
    from torch import nn
    from torchrl.collectors import Collector
    from torchrl.envs.utils import ExplorationType, set_exploration_type
    from torchrl.modules import MultiAgentMLP, ProbabilisticActor, TanhNormal
    from torchrl.objectives import ClipPPOLoss, ValueEstimators

    import auction_env
    from auction_env.integrations.torchrl import wrap
    from mechanisms.common.io import rows_to_csv, write_text_atomic

    warnings.filterwarnings("ignore", message="PettingZoo in TorchRL is tested")  # TorchRL pins an older PettingZoo

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    env = wrap(auction_env.parallel_env(n_bidders=2, n_items=1, mechanism="first_price", rounds=10), seed=seed)
    group, n = "bidder", len(env.group_map["bidder"])
    obs_dim = env.observation_spec[group, "observation"].shape[-1]
    action_spec = env.full_action_spec[group, "action"]

    # The policy: one MLP shared by the bidders, each seeing its own observation.
    policy_net = nn.Sequential(
        MultiAgentMLP(obs_dim, 2, n_agents=n, centralised=False, share_params=True, depth=2, num_cells=64),
        NormalParamExtractor(),
    )
    policy = ProbabilisticActor(
        TensorDictModule(policy_net, in_keys=[(group, "observation")], out_keys=[(group, "loc"), (group, "scale")]),
        spec=action_spec,
        in_keys=[(group, "loc"), (group, "scale")],
        out_keys=[(group, "action")],
        distribution_class=TanhNormal,
        distribution_kwargs={"low": action_spec.space.low, "high": action_spec.space.high},
        return_log_prob=True,
        log_prob_key=(group, "sample_log_prob"),
    )
    # The critic: each bidder's value from its own observation (IPPO) or from all of them (MAPPO).
    critic = TensorDictModule(
        MultiAgentMLP(obs_dim, 1, n_agents=n, centralised=mappo, share_params=True, depth=2, num_cells=64),
        in_keys=[(group, "observation")],
        out_keys=[(group, "state_value")],
    )
    collector = Collector(
        env, policy, frames_per_batch=frames, total_frames=frames * iterations, auto_register_policy_transforms=False
    )
    loss = ClipPPOLoss(
        actor_network=policy,
        critic_network=critic,
        clip_epsilon=0.2,
        entropy_coeff=1e-3,
        normalize_advantage=True,
        normalize_advantage_exclude_dims=(-2,),  # each bidder's advantages on their own
    )
    loss.set_keys(
        reward=(group, "reward"),
        action=(group, "action"),
        sample_log_prob=(group, "sample_log_prob"),
        value=(group, "state_value"),
        done=(group, "done"),
        terminated=(group, "terminated"),
    )
    loss.make_value_estimator(ValueEstimators.GAE, gamma=0.0, lmbda=1.0)  # rounds are independent
    optimizer = torch.optim.Adam(loss.parameters(), lr=lr)

    values = torch.linspace(0.05, 0.95, 19)
    grid = torch.stack([values, torch.ones(19), torch.zeros(19)], dim=-1)  # [value, present, round 0]
    probe = TensorDict({group: TensorDict({"observation": grid[:, None, :].expand(19, n, obs_dim)}, [19, n])}, [19])

    history, start = [], time.perf_counter()
    for i, batch in enumerate(collector):
        with torch.no_grad():
            loss.value_estimator(
                batch, params=loss.critic_network_params, target_params=loss.target_critic_network_params
            )
        flat = batch.reshape(-1)
        for _ in range(epochs):
            for idx in torch.randperm(flat.numel()).split(minibatch):
                terms = loss(flat[idx])
                total = terms["loss_objective"] + terms["loss_critic"] + terms["loss_entropy"]
                optimizer.zero_grad()
                total.backward()
                nn.utils.clip_grad_norm_(loss.parameters(), 1.0)
                optimizer.step()
        with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
            bids = policy(probe.clone())[group, "action"][:, 0, 0].numpy()
        slope, intercept = np.polyfit(values.numpy(), bids, 1)
        reward = float(batch["next", group, "reward"].mean())
        history.append(
            {
                "iteration": i + 1,
                "seconds": time.perf_counter() - start,
                "slope": float(slope),
                "intercept": float(intercept),
                "reward": reward,
            }
        )
        print(
            f"iteration {i + 1:>3}  {history[-1]['seconds']:6.1f} s  reward {reward:.4f}  "
            f"bid = {slope:.3f} x value {intercept:+.3f}",
            flush=True,
        )
    collector.shutdown()
    if out is not None:
        write_text_atomic(f"{out}/history.csv", rows_to_csv(history))
    last = history[-1]
    print(
        f"{'MAPPO' if mappo else 'IPPO'} after {len(history)} iterations ({last['seconds']:.0f} s): "
        f"bid = {last['slope']:.3f} x value {last['intercept']:+.3f}   (equilibrium: 0.5 x value)"
    )
    return {"history": history, "slope": last["slope"], "intercept": last["intercept"], "seconds": last["seconds"]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=32)
    parser.add_argument("--mappo", action="store_true", help="a centralised critic (MAPPO); default IPPO")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/example_06", help="folder for history.csv (default runs/example_06)")
    args = parser.parse_args()
    main(iterations=args.iterations, mappo=args.mappo, seed=args.seed, out=args.out)
