"""Credible repeated auctions: commitments, a broadcast log and audits (credible-auctions paper)."""

from auction_env.credible.audit import Verification, audit_round, check_own_commitments, draw_audits, verify
from auction_env.credible.commitments import BroadcastLog, Commitment, CommitmentError, Opening, commit, open_commitment

__all__ = [
    "BroadcastLog",
    "Commitment",
    "CommitmentError",
    "Opening",
    "commit",
    "open_commitment",
    "Verification",
    "verify",
    "audit_round",
    "check_own_commitments",
    "draw_audits",
]
