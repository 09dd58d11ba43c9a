"""A dishonest auctioneer against the protocol's log (issue 19): seed grinding, falsified
participation, reordered, dropped and inserted entries. Every attack is rejected with its
reason; honest rounds never are."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import auction_env
import mechanisms
from auction_env.credible import BroadcastLog, RoundOpenings, Transcript, audit_round, commit, derive_seed
from auction_env.credible.attacks import (
    falsify_participation,
    grind_seed,
    mechanism_outcome,
    rechain,
    submit_round,
    tamperings,
)

NAMES = ["bidder_0", "bidder_1"]
PRIOR = mechanisms.make_prior(2, 2)


def regretnet(noise: float):
    return mechanisms.make(
        "regretnet", context={"prior": PRIOR, "n_bidders": 2, "n_items": 2}, checkpoint="2x2", noise_std=noise
    )


def honest_round(transcript: Transcript, mech, t: int, bids: np.ndarray, present: np.ndarray):
    submit_round(transcript, t, bids, present)
    return mechanism_outcome(mech, bids, transcript.noise_seed(t), transcript.participation(t))


@pytest.mark.parametrize("noise", [0.2, 1.0])
def test_seed_grinding_after_the_bids_is_rejected(noise: float) -> None:
    """The auctioneer reruns the mechanism with 32 seeds per round and announces the most
    profitable draw: claiming the seed it used, or the derived one. Every such round is rejected."""
    mech, rng = regretnet(noise), np.random.default_rng(1)
    transcript, ground, gains = Transcript(NAMES, rng=rng), [], []
    for t in range(60):
        bids, present = rng.random((2, 2)), np.ones(2)
        honest = honest_round(transcript, mech, t, bids, present)
        seed, ground_outcome = grind_seed(mech, bids, present, tries=32, rng=rng)
        if ground_outcome[1].sum() > honest[1].sum():
            ground.append(t)
            gains.append(ground_outcome[1].sum() - honest[1].sum())
            transcript.announce(t, *ground_outcome, noise_seed=seed if t % 2 == 0 else None)  # used / derived
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
    transcript, present = Transcript(NAMES, rng=rng), np.ones(2)
    for t in range(20):
        bids = rng.random((2, 2))
        if t % 2 == 0:  # late share: the bids first, then the share that pays best
            transcript.openings[t] = RoundOpenings()
            for name, bid in zip(NAMES, bids):
                transcript.submit_bid(t, name, bid)
            bidder_shares = [transcript.openings[t].bidder_share(name) for name in NAMES]
            candidates = [(share, *commit(share)) for share in rng.integers(0, 2**32, size=(32, 4)).astype(float)]
            revenue = [
                mechanism_outcome(mech, bids, derive_seed(t, [share, *bidder_shares]), present)[1].sum()
                for share, _, _ in candidates
            ]
            _, c, o = candidates[int(np.argmax(revenue))]
            transcript.receipts["auctioneer"].append(transcript.log.publish(t, "auctioneer", "seed_share", c))
            transcript.openings[t].share = o
            transcript.announce(t, *mechanism_outcome(mech, bids, transcript.noise_seed(t), present))
        else:  # an honest commitment, opened with another share
            transcript.announce(t, *honest_round(transcript, mech, t, bids, present))
            transcript.openings[t].share = commit(rng.integers(0, 2**32, size=4).astype(float))[1]
    # the late shares break the protocol's order for everyone to see: the log is rejected
    assert all("committed after bidder_0's bid" in v.reason for v in transcript.audit(mech, [0, 1]))
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
    for t in range(400):
        bids = rng.random((2, 2))
        present = np.ones(2) if t % 4 else np.array([1.0, 0.0])  # every 4th round bidder_1 stays away
        submit_round(transcript, t, bids, present)
        if t % 4 and t % 7 == 0:  # bidder_1 withdraws its committed bid itself
            transcript.opt_out(t, "bidder_1")
            honoured += [t] if t % 3 else []
        present = transcript.participation(t)
        honest = mechanism_outcome(mech, bids, transcript.noise_seed(t), present)
        if not present.all() and t not in honoured:  # claim bidder_1 took part after all
            claim = np.ones(2)
            outcome = mechanism_outcome(mech, bids * present[:, None], transcript.noise_seed(t), claim)
            transcript.announce(t, *outcome, participation=claim)
            added.append(t)
        elif present.all() and (falsified := falsify_participation(transcript, mech, t, bids)) is not None:
            claim, seed, outcome = falsified
            transcript.announce(t, *outcome, participation=claim, noise_seed=seed)
            dropped.append(t)
        else:
            transcript.announce(t, *honest)
    assert len(dropped) >= 40 and len(added) >= 100 and len(honoured) >= 20
    results = transcript.audit(mech, list(range(400)))
    assert sorted(t for t, v in enumerate(results) if not v.ok) == sorted(dropped + added)
    for t in dropped:
        assert "committed a bid and did not opt out" in results[t].reason, results[t].reason
    for t in added:
        assert "present, but it committed no bid or opted out" in results[t].reason, results[t].reason


# -- the log: order and completeness ------------------------------------------------------


def test_reordered_dropped_and_inserted_entries_are_rejected() -> None:
    """On a 3-round log: reversing it or a round, swapping any two entries of different parties,
    dropping any entry or inserting one in any party's name anywhere, each with the chain left
    broken or rebuilt, is rejected in every audited round; the honest log passes."""
    mech, rng = regretnet(0.3), np.random.default_rng(0)
    honest = Transcript(NAMES, rng=rng)
    for t in range(3):
        bids = rng.random((2, 2))
        honest.announce(t, *honest_round(honest, mech, t, bids, np.ones(2)))
    entries, rounds = list(honest.log.entries), [0, 1, 2]
    assert len(entries) == 3 * 4 and all(v.ok for v in honest.audit(mech, rounds))
    attacks = tamperings(entries, NAMES)
    assert len(attacks) == 121  # 4 reversals, 12 drops, 60 insertions, 45 swaps
    reasons = {}
    for name, forged_entries in attacks.items():
        for rebuilt in (False, True):
            forged = copy.copy(honest)
            forged.log = rechain(forged_entries) if rebuilt else BroadcastLog(forged_entries)
            results = forged.audit(mech, rounds)
            assert not any(v.ok for v in results), (name, rebuilt)
            reasons[name, rebuilt] = results[0].reason
    # the reasons say what broke: the chain, the order, or a bidder's receipts
    assert "sequence number" in reasons["reversed", False]
    assert "belongs to round 1 but follows round 2" in reasons["reversed", True]
    assert "round 1: the auctioneer's seed share (entry 7) was committed after" in reasons["round 1 reversed", True]
    assert "missing from the log or was changed" in reasons["drop 1", True]
    assert "not published by it" in reasons["insert bidder_0 opt_out at 10", True]
    assert "has 2 seed_share entries" in reasons["insert auctioneer seed_share at 11", True]
    assert "committed no outcome" in reasons["drop 11", True]


def test_bidders_own_check_catches_a_forged_opt_out_that_the_round_audit_accepts() -> None:
    """An opt-out forged in a bidder's name, with a participation and seed consistent with it,
    passes the round's audit; the bidder's receipts reject the log."""
    mech, rng = regretnet(0.3), np.random.default_rng(4)
    transcript = Transcript(NAMES, rng=rng)
    bids = rng.random((2, 2))
    submit_round(transcript, 0, bids, np.ones(2))
    forged = transcript.log.publish(0, "bidder_1", "opt_out", commit([0.0])[0])  # not published by bidder_1
    claim = np.array([1.0, 0.0])
    transcript.announce(0, *mechanism_outcome(mech, bids, transcript.noise_seed(0), claim))
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
        submit_round(transcript, t, bids, present)
        if present[0] and rng.random() < 0.05:
            transcript.opt_out(t, "bidder_0")
        present = transcript.participation(t)
        transcript.announce(t, *mechanism_outcome(mech, bids, transcript.noise_seed(t), present))
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
        assert env.last_audit.audited_rounds == list(range(20))
    assert not any(caught)


def test_rewriting_the_last_rounds_outcome_is_caught_by_what_the_bidders_saw() -> None:
    """The last round's outcome comes after every bidder entry, so no bidder receipt covers it;
    the head each bidder saw when the round closed does: a deviation rewritten into an honest
    outcome afterwards (chain rebuilt) is rejected."""
    mech, rng = regretnet(0.3), np.random.default_rng(6)
    transcript = Transcript(NAMES, rng=rng)
    for t in range(2):
        honest = honest_round(transcript, mech, t, rng.random((2, 2)), np.ones(2))
        transcript.announce(t, honest[0], honest[1] + (0.1 if t == 1 else 0.0))  # deviates in the last round
    assert not transcript.audit(mech, [1])[0].ok
    entries, openings = list(transcript.log.entries), copy.deepcopy(transcript.openings)
    participation, seed, allocation, _ = openings[1].outcome.values()
    commitment, openings[1].outcome = commit(participation, seed, allocation, honest[1])  # honest payments
    entries[-1] = entries[-1]._replace(digest=commitment.digest)
    forged = copy.copy(transcript)
    forged.log, forged.openings = rechain(entries), openings
    assert audit_round(mech, forged.log, 1, openings[1], NAMES).ok  # the round alone now looks honest
    reason = forged.audit(mech, [0, 1])[0].reason
    assert "as it saw it when the round closed, was changed" in reason, reason


def test_malformed_logs_and_payloads_end_in_a_verdict() -> None:
    """Rounds that are negative, huge or not integers, a payload claiming 2**32 - 1 dimensions, a
    bidder's duplicated entry and an outcome of the wrong size: each is a rejection with a
    reason, never an exception."""
    from auction_env.credible import CommitmentError, check_log
    from auction_env.credible.commitments import decode

    mech, rng = regretnet(0.3), np.random.default_rng(0)
    honest = Transcript(NAMES, rng=rng)
    for t in range(2):
        honest.announce(t, *honest_round(honest, mech, t, rng.random((2, 2)), np.ones(2)))
    entries = list(honest.log.entries)
    for bad in (-1, 2**64, "1", 1.5):
        forged = copy.copy(honest)
        forged.log = BroadcastLog([entries[0]._replace(round=bad), *entries[1:]])
        assert "malformed" in forged.audit(mech, [0])[0].reason
    with pytest.raises(CommitmentError, match="malformed"):
        decode(b"\xff\xff\xff\xff" + b"\x00" * 8)
    with pytest.raises(CommitmentError, match="non-negative"):
        honest.log.publish(-1, "bidder_0", "bid", commit([0.0])[0])
    assert honest.audit(mech, [np.int64(0)])[0].ok
    # an absent bidder's opt-out, duplicated
    t = Transcript(NAMES, rng=np.random.default_rng(7))
    submit_round(t, 0, np.full((2, 2), 0.5), np.array([1.0, 0.0]))
    t.opt_out(0, "bidder_1")
    t.announce(0, np.zeros((2, 2)), np.zeros(2))
    twice = list(t.log.entries)
    twice.insert(3, twice[2])
    assert "bidder_1 has 2 opt_out entries" in check_log(rechain(twice), NAMES).reason
    # an outcome for 3 items in a 2-item auction
    t = Transcript(NAMES, rng=np.random.default_rng(8))
    submit_round(t, 0, np.full((2, 2), 0.5), np.ones(2))
    t.announce(0, np.zeros((2, 3)), np.zeros(2))
    assert "does not fit 2 bidders and 2 items" in t.audit(mech, [0])[0].reason
