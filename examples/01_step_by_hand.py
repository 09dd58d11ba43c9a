"""The PettingZoo loop by hand, with the shipped RegretNet 2x2 as the auction.

bidder_0 bids truthfully, bidder_1 shades its bids to 80% of its values; every round prints
the ``ansi`` table (values, bids, allocation, payment, utility), then the totals.

    .venv/bin/python examples/01_step_by_hand.py
"""

from __future__ import annotations

import auction_env


def main(rounds: int = 5, seed: int = 0, shading: float = 0.8) -> dict[str, float]:
    env = auction_env.parallel_env(
        n_bidders=2,
        n_items=2,
        mechanism={"name": "regretnet", "params": {"checkpoint": "2x2"}},
        rounds=rounds,
        render_mode="ansi",
    )
    observations, infos = env.reset(seed=seed)
    totals = dict.fromkeys(env.agents, 0.0)
    while env.agents:
        # An observation is [values..., participating, round fraction]; the action is the bid.
        actions = {
            "bidder_0": observations["bidder_0"][:-2],
            "bidder_1": shading * observations["bidder_1"][:-2],
        }
        observations, rewards, terminations, truncations, infos = env.step(actions)
        print(env.render())
        for agent, reward in rewards.items():
            totals[agent] += reward
    print("total utility:", {a: round(u, 4) for a, u in totals.items()})
    print("last public outcome:", env.last_outcome)
    return totals


if __name__ == "__main__":
    main()
