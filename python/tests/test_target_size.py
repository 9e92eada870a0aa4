"""self_deduplicate(target_size=N) (issue 29): one search, the threshold keeping about N
records, against the rethreshold loop a SemHash user writes today."""

from __future__ import annotations

import pytest

from conftest import clustered_vectors, sentences
from simdedup import SimDedup


def rethreshold_loop(sd, target, low, steps=400):
    """The slow way: a run at the lowest threshold rethresholded at each of `steps`
    thresholds (for vectors each rethreshold searches again); the closest count found."""
    best = None
    for k in range(steps + 1):
        t = low + (1.0 - low) * k / steps
        r = sd.self_deduplicate(low)
        r.rethreshold(t)
        gap = abs(len(r.selected) - target)
        if best is None or gap < best[0]:
            best = (gap, t, len(r.selected))
    return best


def check(sd, target, low, steps, plain_run=True):
    r = sd.self_deduplicate(low, target_size=target)
    assert abs(len(r.selected) - target) <= 0.01 * target, (len(r.selected), r.threshold)
    # The decisions are those of the run at the lowest threshold rethresholded, and (the
    # exact vector search; the band search's recall depends on its threshold) of a plain
    # run at the threshold found.
    plain = sd.self_deduplicate(low)
    plain.rethreshold(r.threshold)
    if plain_run:
        assert plain.selected == sd.self_deduplicate(r.threshold).selected
    assert r.selected == plain.selected
    assert [(d.record, d.duplicate_of) for d in r.filtered] == [(d.record, d.duplicate_of) for d in plain.filtered]
    gap, t, kept = rethreshold_loop(sd, target, low, steps)
    assert abs(len(r.selected) - target) <= gap, f"the loop got closer: {kept} at {t}"
    return r


def test_vectors_to_a_target_size():
    v = clustered_vectors(3000, 32, 60, 0.35, seed=31)
    sd = SimDedup.from_embeddings(v, [f"r{i}" for i in range(len(v))])
    at_90 = len(sd.self_deduplicate(0.9).selected)
    r = check(sd, 2000, 0.7, 30)
    assert r.threshold < 0.9 or at_90 <= 2020
    # rethreshold still works on the result.
    r.rethreshold(min(r.threshold + 0.02, 1.0))
    assert len(r.selected) >= 1980


def test_texts_to_a_target_size():
    texts = sentences(1500, seed=32)
    sd = SimDedup.from_records(texts, similarity="lexical")
    check(sd, 1200, 0.3, 20, plain_run=False)


def test_target_size_out_of_reach_gives_the_nearest():
    texts = ["a b c d", "a b c d", "a b c d e", "x y z w"]
    sd = SimDedup.from_records(texts, similarity="lexical")
    # Exact copies are always removed: 3 is the most that can be kept.
    assert len(sd.self_deduplicate(target_size=4).selected) == 3
    assert sd.self_deduplicate(target_size=1).selected == ["a b c d", "x y z w"]
    with pytest.raises(ValueError, match="target_size"):
        sd.self_deduplicate(target_size=0)
