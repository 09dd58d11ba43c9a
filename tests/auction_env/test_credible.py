"""Commitments, the broadcast log and audits (credible-auctions paper, Definition 4.1)."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import mechanisms
from auction_env.credible import (
    CommitmentError,
    RoundOpenings,
    Transcript,
    audit_round,
    check_own_commitments,
    commit,
    derive_seed,
    draw_audits,
    new_share,
    open_commitment,
    verify,
)
from auction_env.credible.commitments import Opening, canonical_bytes, decode
from auction_env.credible.log import LogError

PRIOR = mechanisms.make_prior(2, 2)


def test_commitment_round_trip_and_canonical_encoding() -> None:
    """Opening returns the committed array; equal values encode equally whatever the dtype."""
    bids = np.array([[0.25, 0.5], [0.0, 1.0]], dtype=np.float32)
    c, o = commit(bids)
    assert np.array_equal(open_commitment(c, o), bids.astype(np.float64))
    assert canonical_bytes(bids) == canonical_bytes(bids.astype(np.float64)) == canonical_bytes(bids.T.copy().T)
    assert canonical_bytes(np.array([-0.0])) == canonical_bytes(np.array([0.0]))
    assert decode(canonical_bytes(7)).shape == () and decode(canonical_bytes(7)) == 7.0
    assert decode(canonical_bytes(2**53 - 1)) == 2**53 - 1  # a noise seed, exact
    assert canonical_bytes(np.float32(0.5)) == b"\x00\x00\x00\x00" + bytes.fromhex("3fe0000000000000")
    with pytest.raises(CommitmentError, match="NaN"):
        commit([np.nan])


@pytest.mark.parametrize("value", [0, 7, -3, 2**53 + 1, 2**62 + 12345, 0.5, -0.0, 1e300, True, False])
def test_a_python_scalar_encodes_as_its_float64_array(value) -> None:
    """Python ints and floats take a path without NumPy: the same bytes as the 0-d float64 array
    (ints above 2**53 rounded alike, -0.0 as 0.0; bools through the array path)."""
    assert canonical_bytes(value) == canonical_bytes(np.asarray(value, dtype=np.float64))
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(CommitmentError, match="NaN"):
            canonical_bytes(bad)


def test_a_commitment_to_several_parts_opens_to_each() -> None:
    """``commit(bid, share)`` opens to both parts, read-only; each part's encoding is its own
    canonical bytes, whether the opening came from ``commit`` or was rebuilt from its bytes; a
    wrong number of parts, a truncated or extended payload are refused."""
    from auction_env.credible import open_parts
    from auction_env.credible.commitments import split_parts

    bid, share = np.array([0.25, 0.5], dtype=np.float32), np.array([1.0, 2.0, 3.0, 4.0])
    c, o = commit(bid, share)
    got = open_parts(c, o, 2)
    assert np.array_equal(got[0], bid) and np.array_equal(got[1], share) and not got[0].flags.writeable
    encodings = (canonical_bytes(bid), canonical_bytes(share))
    assert o.part_bytes() == Opening(o.salt, o.payload).part_bytes() == split_parts(o.payload) == encodings
    with pytest.raises(CommitmentError, match="2 parts, 3 expected"):
        open_parts(c, o, 3)
    with pytest.raises(CommitmentError, match="one array expected"):
        open_commitment(c, o)
    for payload in (o.payload[:-1], o.payload + b"\x00"):
        with pytest.raises(CommitmentError, match="malformed"):
            split_parts(payload)


def test_salts_are_fresh() -> None:
    """Every commitment draws a new 128-bit salt, so equal bids give different digests."""
    pairs = [commit([0.5]) for _ in range(5000)]
    assert len({o.salt for _, o in pairs}) == 5000 and len({c.digest for c, _ in pairs}) == 5000
    assert all(len(o.salt) == 16 for _, o in pairs)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_a_forked_child_draws_other_salts_than_its_parent() -> None:
    """Salts are read from the OS a block at a time; a child forked mid-block starts its own
    block, so parent and child (say, vector envs under multiprocessing) never share a salt."""
    import multiprocessing

    commit([0.0])  # the parent now holds the rest of a block
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=lambda: writer.send([commit([0.0])[1].salt for _ in range(100)]))
    child.start()
    theirs = reader.recv()
    child.join()
    ours = [commit([0.0])[1].salt for _ in range(100)]
    assert not set(theirs) & set(ours) and len(set(theirs)) == 100


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_a_fork_while_another_thread_draws_a_salt_leaves_the_child_working() -> None:
    """A child forked while another thread holds the salt pool's lock gets a lock of its own
    (the copied one would stay held forever)."""
    import multiprocessing
    import threading

    from auction_env.credible import commitments

    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with commitments._new_salt._lock:
            held.set()
            release.wait(5)

    threading.Thread(target=hold).start()
    held.wait(5)
    child = multiprocessing.get_context("fork").Process(target=lambda: commit([1.0]))
    child.start()  # forked with the lock held
    child.join(10)
    release.set()
    if child.exitcode is None:
        child.kill()
    assert child.exitcode == 0


def test_any_tampering_is_detected() -> None:
    """Changing any committed value (or the salt) is rejected in 100% of 2,000 random trials."""
    rng = np.random.default_rng(0)
    for _ in range(2000):
        value = rng.random((2, 3))
        c, o = commit(value)
        tampered = value.copy()
        i, j = rng.integers(2), rng.integers(3)
        tampered[i, j] = np.nextafter(tampered[i, j], 2.0) if rng.random() < 0.5 else rng.random()
        with pytest.raises(CommitmentError, match="does not match"):
            open_commitment(c, Opening(o.salt, canonical_bytes(tampered)))
        salt = bytearray(o.salt)
        salt[rng.integers(16)] ^= 1 << int(rng.integers(8))
        with pytest.raises(CommitmentError, match="does not match"):
            open_commitment(c, Opening(bytes(salt), o.payload))
    with pytest.raises(CommitmentError, match="salt must be 16 bytes"):
        open_commitment(c, Opening(b"short", o.payload))


@pytest.mark.parametrize(
    "name,params",
    [
        ("second_price", {}),
        ("myerson", {}),
        ("regretnet", {"checkpoint": "2x2", "noise_std": 0.5}),
        ("lottery_ama", {"menu_size": 16}),
        ("certnet", {"ir": "penalty"}),
    ],
)
def test_verify_accepts_honest_and_rejects_deviating_outcomes(name: str, params: dict) -> None:
    """Definition 4.1: the published mechanism's outcome verifies; any other outcome does not."""
    mech = mechanisms.make(name, context={"prior": PRIOR, "n_bidders": 2, "n_items": 2}, **params)
    bids = np.array([[0.9, 0.2], [0.6, 0.7]], dtype=np.float32)
    with torch.inference_mode():
        out = mech.run(torch.from_numpy(bids).unsqueeze(0), generator=torch.Generator().manual_seed(42))
    a, p = out.allocation[0].numpy(), out.payments[0].numpy()
    assert verify(mech, bids, a, p, noise_seed=42).ok
    assert verify(mech, bids, a, p + np.array([0.05, 0.0]), noise_seed=42).reason.startswith("announced payments")
    assert verify(mech, -bids, a, p, noise_seed=42).reason.startswith("the opened bids are not valid bids")
    shifted = a.copy()
    shifted[0, 0] = 1.0 - shifted[0, 0]
    assert verify(mech, bids, shifted, p, noise_seed=42).reason.startswith("announced allocation")


def test_audit_round_end_to_end_and_bidders_verifier() -> None:
    """A logged honest round passes the audit; a swapped bid opening or a wrong share is caught."""
    mech = mechanisms.make(
        "regretnet", context={"prior": PRIOR, "n_bidders": 2, "n_items": 2}, checkpoint="2x2", noise_std=0.3
    )
    names = ["bidder_0", "bidder_1"]
    transcript = Transcript(names, rng=np.random.default_rng(0))
    transcript.open_round(0)
    bids = np.array([[0.3, 0.8], [0.6, 0.1]])
    for name, bid in zip(names, bids):
        transcript.submit_bid(0, name, bid)
    seed = transcript.noise_seed(0)
    with torch.inference_mode():
        out = mech.run(
            torch.tensor(bids, dtype=torch.float32).unsqueeze(0), generator=torch.Generator().manual_seed(seed)
        )
    transcript.announce(0, out.allocation[0].numpy(), out.payments[0].numpy())
    openings = transcript.openings[0]
    assert audit_round(mech, transcript.log, 0, openings, names).ok
    assert [v.ok for v in transcript.audit(mech, [0])] == [True]
    swapped = RoundOpenings(
        openings.share,
        {"bidder_0": openings.bids["bidder_1"], "bidder_1": openings.bids["bidder_0"]},
        openings.outcome,
    )
    assert "does not match" in audit_round(mech, transcript.log, 0, swapped, names).reason
    _, fake_share = commit(np.ones(4))
    forged = RoundOpenings(fake_share, openings.bids, openings.outcome)
    assert "does not match" in audit_round(mech, transcript.log, 0, forged, names).reason
    assert "missing opening" in audit_round(mech, transcript.log, 0, RoundOpenings(), names).reason
    for name in ["auctioneer", *names]:
        assert transcript.check_party(name).ok
    assert not check_own_commitments(transcript.log, "bidder_0", transcript.receipts["bidder_1"]).ok
    with pytest.raises(CommitmentError, match="already committed"):
        transcript.log.publish(0, "bidder_0", "bid", commit([0.0])[0])


def test_derived_seed_is_exact_and_depends_on_every_share() -> None:
    """The seed fits float64 exactly (it is committed as one) and changes with any share or the round."""
    shares = [new_share(np.random.default_rng(i)) for i in range(3)]
    seed = derive_seed(4, shares)
    assert float(seed) == seed and 0 <= seed < 2**53
    assert derive_seed(4, shares) == seed and derive_seed(5, shares) != seed
    assert derive_seed(4, shares[:2]) != seed and derive_seed(4, shares[::-1]) != seed
    assert len({tuple(new_share()) for _ in range(100)}) == 100


def test_audit_probability_is_w_over_t() -> None:
    """Each round is audited with probability audits / rounds."""
    rng = np.random.default_rng(1)
    hits = np.zeros(10)
    for _ in range(20_000):
        hits[draw_audits(10, 3, rng)] += 1
    assert np.allclose(hits / 20_000, 0.3, atol=0.015)
    with pytest.raises(ValueError, match="audits"):
        draw_audits(3, 4, rng)


def test_sealing_a_round_in_one_call_is_the_three_steps() -> None:
    """``seal_round`` publishes what ``open_round``, ``submit_bid`` for each present bidder and
    ``noise_seed`` do, in the same order, with the same shares and seed; the share source's
    encodings are ``canonical_bytes`` of the shares it would give."""
    from auction_env.credible.seeds import ShareSource

    names, bids = ["bidder_0", "bidder_1", "bidder_2"], np.array([[0.3, 0.8], [0.6, 0.1], [0.2, 0.2]])
    stepwise, fused = (Transcript(names, rng=np.random.default_rng(5)) for _ in range(2))
    mech = mechanisms.make("second_price")
    for t, present in enumerate(([1, 1, 1], [1, 0, 1], [0, 0, 0])):
        stepwise.open_round(t)
        for name, bid, here in zip(names, bids, present):
            if here:
                stepwise.submit_bid(t, name, bid)
        want = stepwise.noise_seed(t)
        assert fused.seal_round(t, {n: b for n, b, here in zip(names, bids, present) if here}) == want
        mask = np.array(present, dtype=np.float32)
        allocation, payments, _ = mech.run_numpy(
            (bids * mask[:, None])[None].astype(np.float32),
            generator=torch.Generator().manual_seed(want),
            present=mask[None] > 0,
        )
        for transcript in (stepwise, fused):
            transcript.announce(t, allocation[0], payments[0])
    a, b = stepwise.log.entries, fused.log.entries
    assert [(e.round, e.party, e.kind) for e in a] == [(e.round, e.party, e.kind) for e in b]
    for t in range(3):
        assert stepwise.openings[t].share.part_bytes() == fused.openings[t].share.part_bytes()
        assert stepwise.openings[t].bids.keys() == fused.openings[t].bids.keys()
    assert all(v.ok for v in fused.audit(mech, [0, 1, 2])) and all(v.ok for v in stepwise.audit(mech, [0, 1, 2]))
    plain, encoding = ShareSource(np.random.default_rng(9), block=3), ShareSource(np.random.default_rng(9), block=3)
    assert all(encoding.encoded() == canonical_bytes(plain()) for _ in range(8))  # across blocks


def test_the_log_checks_received_entries_and_trusts_only_what_it_chained() -> None:
    """A log's own ``publish`` chains onto a verified prefix (nothing left to check); a log built
    from received entries checks them all, and publishing onto such a log does not vouch for them.
    Each entry's commitment is its digest; a repeated (round, party, kind) is refused."""
    from auction_env.credible import BroadcastLog, LogError

    log = BroadcastLog()
    for t in range(3):
        log.publish(t, "auctioneer", "seed_share", commit([float(t)])[0])
    log.verify_chain()
    entries = list(log.entries)
    assert entries[1].commitment.digest == entries[1].digest and entries[1].receipt == (1, entries[1].hash)
    BroadcastLog(entries).verify_chain()  # an honest copy
    forged = BroadcastLog([entries[0], entries[1]._replace(digest=commit([9.0])[0].digest), entries[2]])
    forged.publish(3, "auctioneer", "seed_share", commit([3.0])[0])
    with pytest.raises(LogError, match="entry 1 has a wrong hash"):
        forged.verify_chain()
    twice = BroadcastLog([*entries, entries[2]._replace(seq=3)])
    with pytest.raises(LogError, match="2 seed_share entries in round 2"):
        twice.find(2, "auctioneer", "seed_share")
    assert twice.find(1, "auctioneer", "seed_share") == entries[1]


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        st.sampled_from([np.float16, np.float32, np.float64, np.bool_, np.int64]),
        array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    )
)
def test_canonical_bytes_is_the_big_endian_float64_encoding(value: np.ndarray) -> None:
    """Whatever the dtype and layout: ``ndim``, shape, then the values as big-endian float64
    (``-0.0`` as ``0.0``), or a refusal of NaN and infinities."""
    wide = np.asarray(value, dtype=np.float64)
    if not np.isfinite(wide).all():
        with pytest.raises(CommitmentError):
            canonical_bytes(value)
        return
    want = struct.pack(f">I{wide.ndim}Q", wide.ndim, *wide.shape) + np.asarray(wide + 0.0).astype(">f8").tobytes()
    assert canonical_bytes(value) == canonical_bytes(np.array(value, order="F")) == want


def test_episode_record_keeps_the_protocol_order_and_replays_the_transcript_seeds() -> None:
    """Rounds are sealed then announced, in order; the record's seeds are those a Transcript drawing
    the same shares derives, and absent bidders' bids are not kept."""
    from auction_env.credible.record import EpisodeRecord

    record = EpisodeRecord(["b0", "b1"], 3, 2, rng=np.random.default_rng(7))
    eager = Transcript(["b0", "b1"], rng=np.random.default_rng(7))
    with pytest.raises(LogError, match="announced"):
        record.announce(0, np.zeros((2, 2)), np.zeros(2))
    bids = np.array([[0.5, 0.25], [0.75, 0.125]], dtype=np.float32)
    seed = record.seal(0, bids, np.array([True, False]))
    assert seed == eager.seal_round(0, {"b0": bids[0]})
    assert record.bids[0, 1].tolist() == [0.0, 0.0] and record.participation[0].tolist() == [1.0, 0.0]
    with pytest.raises(LogError, match="sealed"):
        record.seal(1, bids, np.ones(2, dtype=bool))
    record.announce(0, np.zeros((2, 2)), np.zeros(2))
    assert record.seal(1, bids, np.ones(2, dtype=bool)) == eager.seal_round(1, {"b0": bids[0], "b1": bids[1]})
    assert not record.verify(None, 1).ok  # not announced yet: no verdict but a failure
