"""A dishonest auctioneer against the protocol's log (issue 19): seed grinding, falsified
participation, reordered, dropped and inserted entries. Every attack is rejected with its
reason; honest rounds never are."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch

import auction_env
import mechanisms
from auction_env.credible import BroadcastLog, LogEntry, RoundOpenings, Transcript, audit_round, commit, derive_seed
from auction_env.credible.log import GENESIS, entry_hash

NAMES = ["bidder_0", "bidder_1"]
PRIOR = mechanisms.make_prior(2, 2)


def regretnet(noise: float):
    return mechanisms.make(
        "regretnet", context={"prior": PRIOR, "n_bidders": 2, "n_items": 2}, checkpoint="2x2", noise_std=noise
    )


def run(mech, bids: np.ndarray, seed: int, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mechanism on ``bids`` with absent bidders zeroed and masked, as ``verify`` reruns it."""
    b = torch.as_tensor(bids * present[:, None], dtype=torch.float32).unsqueeze(0)
    with torch.inference_mode():
        out = mech.run(b, generator=torch.Generator().manual_seed(int(seed)))
    return out.allocation[0].numpy() * present[:, None], out.payments[0].numpy() * present


def open_and_bid(transcript: Transcript, t: int, bids: np.ndarray, present: np.ndarray) -> None:
    transcript.open_round(t)
    for name, bid, p in zip(NAMES, bids, present):
        if p:
            transcript.submit_bid(t, name, bid)


def honest_transcript(mech, rounds: int, seed: int = 0) -> Transcript:
    rng = np.random.default_rng(seed)
    transcript = Transcript(NAMES, rng=rng)
    for t in range(rounds):
        present = np.ones(2)
        bids = rng.random((2, 2))
        open_and_bid(transcript, t, bids, present)
        transcript.announce(t, *run(mech, bids, transcript.noise_seed(t), present))
    return transcript


def rejected(transcript: Transcript, mech, rounds: list[int]) -> list[str]:
    """The reasons of the rounds the audit rejects."""
    return [v.reason for v in transcript.audit(mech, rounds) if not v.ok]


@pytest.mark.parametrize("noise", [0.2, 1.0])
def test_seed_grinding_after_the_bids_is_rejected(noise: float) -> None:
    """The auctioneer reruns the mechanism with 32 seeds per round and announces the most
    profitable draw: claiming the seed it used, or the derived one. Every such round is rejected."""
    mech, rng = regretnet(noise), np.random.default_rng(1)
    transcript, ground, gains = Transcript(NAMES, rng=rng), [], []
    for t in range(60):
        bids, present = rng.random((2, 2)), np.ones(2)
        open_and_bid(transcript, t, bids, present)
        honest = run(mech, bids, transcript.noise_seed(t), present)
        seeds = rng.integers(0, 2**53, size=32)
        outcomes = [run(mech, bids, s, present) for s in seeds]
        best = int(np.argmax([p.sum() for _, p in outcomes]))
        if outcomes[best][1].sum() > honest[1].sum():
            ground.append(t)
            gains.append(outcomes[best][1].sum() - honest[1].sum())
            claimed = int(seeds[best]) if t % 2 == 0 else None  # the seed it used, or the derived one
            transcript.announce(t, *outcomes[best], noise_seed=claimed)
        else:
            transcript.announce(t, *honest)
    results = transcript.audit(mech, list(range(60)))
    assert len(ground) >= 50 and np.mean(gains) > 0.005  # the attack pays when unchecked
    assert [t for t, v in enumerate(results) if not v.ok] == ground
    for t in ground:
        want = "noise seed is not the one derived" if t % 2 == 0 else "differ"
        assert want in results[t].reason, results[t].reason


def test_grinding_the_auctioneers_own_share_is_rejected() -> None:
    """The auctioneer commits its share only after the bids (choosing among 32 the share whose
    derived seed pays most), or opens its share commitment with another share: both rejected."""
    mech, rng = regretnet(1.0), np.random.default_rng(2)
    transcript = Transcript(NAMES, rng=rng)
    for t in range(20):
        bids, present = rng.random((2, 2)), np.ones(2)
        if t % 2 == 0:  # late share: bids first, then the share that pays best
            transcript.openings[t] = RoundOpenings()
            for name, bid in zip(NAMES, bids):
                transcript.submit_bid(t, name, bid)
            bidder_shares = [transcript.openings[t].shares[name] for name in NAMES]
            candidates = [commit(rng.integers(0, 2**32, size=4).astype(float)) for _ in range(32)]
            revenue = [run(mech, bids, derive_seed(t, [o, *bidder_shares]), present)[1].sum() for _, o in candidates]
            c, o = candidates[int(np.argmax(revenue))]
            transcript.receipts["auctioneer"].append(transcript.log.publish(t, "auctioneer", "seed_share", c))
            transcript.openings[t].shares["auctioneer"] = o
            transcript.announce(t, *run(mech, bids, transcript.noise_seed(t), present))
        else:  # honest commitment, opened with another share
            open_and_bid(transcript, t, bids, present)
            _, other = commit(rng.integers(0, 2**32, size=4).astype(float))
            transcript.openings[t].shares["auctioneer"] = other
            transcript.announce(t, *run(mech, bids, transcript.noise_seed(t), present))
    # the late shares break the protocol's order for everyone to see: the log is rejected
    assert all("committed after bidder_0's bid" in r for r in rejected(transcript, mech, [0, 1]))
    for t in range(20):  # round by round, without the log-wide checks
        reason = audit_round(mech, transcript.log, t, transcript.openings[t], NAMES, check_chain=False).reason
        assert ("committed after" if t % 2 == 0 else "does not match the commitment") in reason, reason


def test_falsified_participation_is_rejected() -> None:
    """Over 400 random profiles the auctioneer marks absent the present bidder whose removal
    raises revenue most (with an outcome and seed consistent with that claim), marks an absent
    bidder present, or ignores a bidder's opt-out. Every such round is rejected; an opt-out
    honoured is not."""
    mech, rng = regretnet(0.0), np.random.default_rng(3)
    transcript, dropped, added, honoured = Transcript(NAMES, rng=rng), [], [], []
    shares = lambda t, claim: [  # noqa: E731 - the shares a claim of participation would hash
        transcript.openings[t].shares["auctioneer"],
        *[transcript.openings[t].shares[n] for n, p in zip(NAMES, claim) if p],
    ]
    for t in range(400):
        bids = rng.random((2, 2))
        present = np.ones(2) if t % 4 else np.array([1.0, 0.0])  # every 4th round bidder_1 stays away
        open_and_bid(transcript, t, bids, present)
        if t % 4 and t % 7 == 0:  # bidder_1 withdraws its committed bid itself
            transcript.opt_out(t, "bidder_1")
            present = np.array([1.0, 0.0])
            if t % 3:
                honoured.append(t)
        honest = run(mech, bids, transcript.noise_seed(t), present)
        if not present.all() and t not in honoured:  # claim bidder_1 took part after all
            claim = np.ones(2)
            seed = derive_seed(t, shares(t, present))
            transcript.announce(
                t, *run(mech, bids * present[:, None], seed, claim), participation=claim, noise_seed=seed
            )
            added.append(t)
            continue
        best = None
        for claim in [np.array([0.0, 1.0]), np.array([1.0, 0.0])] if present.all() else []:
            seed = derive_seed(t, shares(t, claim))
            outcome = run(mech, bids, seed, claim)
            if outcome[1].sum() > max(honest[1].sum() + 1e-9, best[1][1].sum() if best else 0.0):
                best = (claim, outcome, seed)
        if best is None:
            transcript.announce(t, *honest)
            continue
        claim, outcome, seed = best
        dropped.append(t)
        transcript.announce(t, *outcome, participation=claim, noise_seed=seed)
    assert len(dropped) >= 40 and len(added) >= 100 and len(honoured) >= 20
    results = transcript.audit(mech, list(range(400)))
    assert sorted(t for t, v in enumerate(results) if not v.ok) == sorted(dropped + added)
    for t in dropped:
        assert "committed a bid and did not opt out" in results[t].reason, results[t].reason
    for t in added:
        assert "present, but it committed no bid or opted out" in results[t].reason, results[t].reason


# -- the log: order and completeness ------------------------------------------------------


def rechained(entries: list[LogEntry]) -> BroadcastLog:
    """What an auctioneer that rewrites the log would publish: the same entries renumbered and
    re-hashed into a valid chain."""
    out, prev = [], GENESIS
    for seq, e in enumerate(entries):
        h = entry_hash(prev, seq, e.round, e.party, e.kind, e.commitment.digest)
        out.append(dataclasses.replace(e, seq=seq, prev=prev, hash=h))
        prev = h
    return BroadcastLog(out)


def tampered(transcript: Transcript, entries: list[LogEntry], rechain: bool) -> Transcript:
    forged = copy.copy(transcript)
    forged.log = rechained(entries) if rechain else BroadcastLog(entries)
    return forged


def test_reordered_dropped_and_inserted_entries_are_rejected() -> None:
    """On a 3-round log: reversing it, swapping any two entries of different parties, dropping
    any entry or inserting one anywhere, each with the chain left broken or rebuilt, is rejected
    in every audited round; the honest log passes."""
    mech = regretnet(0.3)
    honest = honest_transcript(mech, 3)
    entries, rounds = list(honest.log.entries), [0, 1, 2]
    assert len(entries) == 3 * 9 and all(v.ok for v in honest.audit(mech, rounds))
    attacks: dict[str, list[LogEntry]] = {
        "reversed": entries[::-1],
        "round 1 reversed": entries[:9] + entries[17:8:-1] + entries[18:],
    }
    for i in range(len(entries)):
        attacks[f"drop {i}"] = entries[:i] + entries[i + 1 :]
        for kind, party in [("opt_out", "bidder_0"), ("seed_share", "auctioneer"), ("bid", "bidder_1")]:
            extra = dataclasses.replace(entries[i], party=party, kind=kind, commitment=commit([1.0])[0])
            attacks[f"insert {party} {kind} at {i}"] = entries[:i] + [extra] + entries[i:]
        for j in range(i + 1, len(entries)):
            if entries[i].party != entries[j].party:
                swapped = list(entries)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                attacks[f"swap {i} {j}"] = swapped
    reasons = {}
    for name, forged_entries in attacks.items():
        for rechain in (False, True):
            results = tampered(honest, forged_entries, rechain).audit(mech, rounds)
            assert not any(v.ok for v in results), (name, rechain)
            reasons[name, rechain] = results[0].reason
    # the reasons say what broke: the chain, the order, or a bidder's receipts
    assert "sequence number" in reasons["reversed", False]
    assert "belongs to round 1 but follows round 2" in reasons["reversed", True]
    assert "round 1: the auctioneer's seed share (entry 17) was committed after" in reasons["round 1 reversed", True]
    assert "missing from the log or was changed" in reasons["drop 1", True]
    assert "not published by it" in reasons["insert bidder_0 opt_out at 23", True]
    assert "has 2 seed_share entries" in reasons["insert auctioneer seed_share at 26", True]
    assert "committed no payments" in reasons["drop 26", True]


def test_bidders_own_check_catches_a_rewritten_log_that_audits_alone_accept() -> None:
    """An opt-out forged in a bidder's name, with a participation and seed consistent with it,
    passes the round's audit; the bidder's receipts reject the log."""
    mech, rng = regretnet(0.3), np.random.default_rng(4)
    transcript = Transcript(NAMES, rng=rng)
    bids = rng.random((2, 2))
    open_and_bid(transcript, 0, bids, np.ones(2))
    forged = transcript.log.publish(0, "bidder_1", "opt_out", commit([0.0])[0])  # not published by bidder_1
    claim = np.array([1.0, 0.0])
    transcript.announce(0, *run(mech, bids, transcript.noise_seed(0), claim))
    assert audit_round(mech, transcript.log, 0, transcript.openings[0], NAMES).ok
    reason = transcript.audit(mech, [0])[0].reason
    assert f"entries [{forged.seq}] in its name were not published by it" in reason


# -- no false positives ---------------------------------------------------------------------


def test_honest_rounds_are_never_rejected() -> None:
    """1,000 honest rounds with output noise, random participation and opt-outs: every audit passes."""
    mech, rng = regretnet(0.5), np.random.default_rng(5)
    transcript = Transcript(NAMES, rng=rng)
    for t in range(1000):
        bids, present = rng.random((2, 2)), (rng.random(2) < 0.7).astype(float)
        open_and_bid(transcript, t, bids, present)
        if present[0] and rng.random() < 0.05:
            transcript.opt_out(t, "bidder_0")
        present = transcript.participation(t)
        transcript.announce(t, *run(mech, bids, transcript.noise_seed(t), present))
    results = transcript.audit(mech, list(range(1000)))
    assert [v.reason for v in results if not v.ok] == []


def test_honest_auctioneer_in_credible_v0_is_never_caught() -> None:
    """``credible_v0``: 50 episodes of 20 rounds (1,000 rounds), every round audited, truthful
    bidders and an honest auctioneer under noise and random participation: never caught."""
    env = auction_env.make(
        "credible_v0",
        rounds=20,
        mechanism={"name": "regretnet", "params": {"checkpoint": "2x2", "noise_std": 0.5}},
        participation={"model": "independent", "p": 0.7},
        credible={"penalty": 10.0, "audits": 20},
    )
    caught = []
    for episode in range(50):
        obs, _ = env.reset(seed=episode)
        while env.agents:
            actions = {a: o[:-2] for a, o in obs.items() if a != "auctioneer"}
            obs, _, _, _, infos = env.step({**actions, "auctioneer": 0})
        caught.append(infos["auctioneer"]["caught"])
        assert infos["auctioneer"]["audited_rounds"] == list(range(20))
    assert not any(caught)
