"""Credible repeated auctions: commitments, a hash-chained broadcast log, seeds bound by
commit–reveal, and audits (credible-auctions paper, Algorithm 1; threat model in
``docs/credible-auctions.md``)."""

from auction_env.credible.audit import (
    RoundOpenings,
    Verification,
    audit_round,
    check_log,
    check_own_commitments,
    draw_audits,
    participation_from_log,
    verify,
)
from auction_env.credible.commitments import Commitment, CommitmentError, Opening, commit, open_commitment, open_parts
from auction_env.credible.log import BroadcastLog, LogEntry, LogError, Receipt
from auction_env.credible.seeds import derive_seed, new_share
from auction_env.credible.transcript import Transcript

__all__ = [
    "BroadcastLog",
    "LogEntry",
    "LogError",
    "Receipt",
    "Commitment",
    "CommitmentError",
    "Opening",
    "commit",
    "open_commitment",
    "open_parts",
    "derive_seed",
    "new_share",
    "RoundOpenings",
    "Verification",
    "verify",
    "participation_from_log",
    "audit_round",
    "check_log",
    "check_own_commitments",
    "draw_audits",
    "Transcript",
]
