"""Gymnasium ids for the single-agent views: ``gymnasium.make("auction_env/SingleLearner-v0", ...)``.

Registered when ``auction_env`` is imported after ``gymnasium`` (as SB3, RL Zoo configs and
most scripts do), or on demand with :func:`register_gymnasium`. Importing ``auction_env``
alone does not import Gymnasium (it would cost a quarter of a second to every command).
"""

from __future__ import annotations

__all__ = ["GYMNASIUM_IDS", "register_gymnasium"]

GYMNASIUM_IDS = {
    "auction_env/SingleLearner-v0": "auction_env.rl.single_learner:SingleLearnerEnv",
    "auction_env/Auctioneer-v0": "auction_env.rl.auctioneer:AuctioneerLearnerEnv",
}


def register_gymnasium() -> list[str]:
    """Register the ids (idempotent) and return them.

    ``auction_env/SingleLearner-v0`` takes :class:`~auction_env.rl.SingleLearnerEnv`'s arguments
    (``scenario``, ``learner``, ``opponents`` and ``env`` keys such as ``mechanism``);
    ``auction_env/Auctioneer-v0`` those of :class:`~auction_env.rl.AuctioneerLearnerEnv`
    (``credible``, ``bidders`` ...).
    """
    import gymnasium

    for env_id, entry_point in GYMNASIUM_IDS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point)
    return list(GYMNASIUM_IDS)
