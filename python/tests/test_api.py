"""SemHash's surface: result objects, the encoder protocol, the lower-level calls, errors."""

from __future__ import annotations

import numpy as np
import pytest

import simdedup
from conftest import clustered_vectors, sentences
from simdedup import DeduplicationResult, FilterResult, SimDedup


class LetterCounts:
    """A stub encoder: a text's vector counts its letters. Records what it was asked."""

    def __init__(self):
        self.calls: list[list[str]] = []

    def encode(self, inputs, **kwargs):
        self.calls.append(list(inputs))
        out = np.zeros((len(inputs), 26), dtype=np.float32)
        for i, text in enumerate(inputs):
            for c in text.lower():
                if "a" <= c <= "z":
                    out[i, ord(c) - 97] += 1
        return out


def test_self_deduplicate_strings():
    texts = ["the cat sat on the mat today", "the cat sat on the mat today!", "dogs bark", "The cat sat on the mat today"]
    r = SimDedup.from_records(texts, similarity="lexical").self_deduplicate(0.5)
    assert isinstance(r, DeduplicationResult)
    assert r.selected == ["the cat sat on the mat today", "dogs bark"]
    assert [d.record for d in r.filtered] == [texts[1], texts[3]]
    assert all(d.duplicate_of == texts[0] for d in r.filtered)
    # Identical after normalisation: exact, score 1.
    assert all(d.exact and d.score == 1.0 for d in r.filtered)
    assert r.duplicate_ratio == pytest.approx(0.5)
    assert r.exact_duplicate_ratio == pytest.approx(0.5)


def test_dict_records_need_every_column_similar():
    rows = [
        {"q": "what is the capital of france", "a": "paris is the capital"},
        {"q": "what is the capital of france", "a": "paris is the capital city"},
        {"q": "which city rules over spain", "a": "paris is the capital"},
    ]
    r = SimDedup.from_records(rows, columns=["q", "a"], similarity="lexical").self_deduplicate(0.5)
    assert r.selected == [rows[0], rows[2]]
    assert r.filtered[0].record == rows[1] and r.filtered[0].duplicate_of == rows[0]


def test_rethreshold_reruns_the_selection():
    texts = sentences(500, seed=4)
    r = SimDedup.from_records(texts, similarity="lexical").self_deduplicate(0.5)
    high = SimDedup.from_records(texts, similarity="lexical").self_deduplicate(0.7)
    r.rethreshold(0.7)
    assert r.selected == high.selected
    assert [(d.record, d.duplicate_of) for d in r.filtered] == [(d.record, d.duplicate_of) for d in high.filtered]
    with pytest.raises(ValueError, match="below"):
        r.rethreshold(0.6)


def test_least_similar_and_selected_with_duplicates():
    texts = sentences(300, seed=5)
    r = SimDedup.from_records(texts, similarity="lexical").self_deduplicate(0.5)
    least = r.get_least_similar_from_duplicates(3)
    assert [s for _, _, s in least] == sorted(d.score for d in r.filtered)[:3]
    swd = r.selected_with_duplicates
    assert [s.record for s in swd] == r.selected
    assert sum(len(s.duplicates) for s in swd) == len(r.filtered)


def test_deduplicate_against_fitted_records():
    train = ["the quick brown fox jumps over the lazy dog", "a stitch in time saves nine"]
    test = ["the quick brown fox jumps over the lazy dog!", "completely new words here now", "a stitch in time saves nine"]
    r = SimDedup.from_records(train, similarity="lexical").deduplicate(test, 0.5)
    assert r.selected == ["completely new words here now"]
    # Exact copies first, then near duplicates (SemHash's order).
    assert [(d.record, d.duplicate_of, d.exact) for d in r.filtered] == [
        (test[2], train[1], True),
        (test[0], train[0], False),
    ]


def test_encoder_protocol():
    model = LetterCounts()
    texts = ["abc abc", "abc abcd", "xyz", "zzz yyy"]
    sd = SimDedup.from_records(texts, model=model)
    assert model.calls == [texts]
    r = sd.self_deduplicate(0.95)
    assert "abc abcd" in [d.record for d in r.filtered]
    r = sd.deduplicate(["cab cab"], 0.99)
    assert model.calls[-1] == ["cab cab"]
    assert r.filtered[0].duplicate_of == "abc abc"


def test_encoder_columns_are_concatenated():
    model = LetterCounts()
    rows = [{"a": "aaa", "b": "bbb"}, {"a": "aaa", "b": "zzz"}]
    sd = SimDedup.from_records(rows, columns=["a", "b"], model=model)
    assert model.calls == [["aaa", "aaa"], ["bbb", "zzz"]]
    # The first half of both vectors is equal, the second orthogonal: cosine 0.5.
    assert not sd.self_deduplicate(0.6).filtered
    assert len(sd.self_deduplicate(0.5).filtered) == 1


def test_embeddings_are_used_without_copy_and_deduplicated():
    v = clustered_vectors(2000, 16, 10, 0.3, seed=6)
    sd = SimDedup.from_embeddings(v, list(range(len(v))) and [str(i) for i in range(len(v))])
    assert sd._embeddings is v
    r = sd.self_deduplicate(0.9)
    assert r.filtered
    for d in r.filtered[:50]:
        a, b = v[int(d.record)], v[int(d.duplicate_of)]
        cos = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
        assert cos >= 0.9 - 1e-6 and abs(cos - d.score) < 1e-5


def test_outliers_and_representatives():
    texts = ["the cat sat on the mat"] * 5 + ["the cat sat on a mat"] * 3 + ["zebras run very fast"]
    sd = SimDedup.from_records(texts, similarity="lexical")
    out = sd.self_filter_outliers(0.1)
    assert isinstance(out, FilterResult)
    assert out.filtered == ["zebras run very fast"]
    assert out.scores_selected == sorted(out.scores_selected, reverse=True)
    assert out.filter_ratio == pytest.approx(1 / 9)
    rep = sd.self_find_representative(2, diversity=0.9)
    assert len(rep.selected) == 2
    assert rep.selected[0] == "the cat sat on the mat"
    assert "the cat sat on a mat" in rep.selected or "zebras run very fast" in rep.selected
    new = sd.filter_outliers(["the cat sat on the mat", "quantum chromodynamics lectures"], 0.5)
    assert new.filtered == ["quantum chromodynamics lectures"]
    found = sd.find_representative(["the cat sat on the mat", "quantum chromodynamics lectures"], 1)
    assert found.selected == ["the cat sat on the mat"]


def test_lower_level_calls_agree_with_each_other():
    texts = sentences(300, seed=9)
    fps = simdedup.fingerprints(texts, bits=64)
    assert fps.dtype == np.uint64 and fps.shape == (300,)
    a, b, d = simdedup.pairs_within(fps, 8)
    for x, y, dist in zip(a.tolist(), b.tolist(), d.tolist()):
        assert x < y and bin(int(fps[x]) ^ int(fps[y])).count("1") == dist <= 8
    keys = simdedup.band_keys(texts, rows=2, bands=20)
    assert keys.shape == (300 * 20,)
    a, b = simdedup.band_pairs(keys, 20)
    k = keys.reshape(300, 20)
    for x, y in zip(a.tolist(), b.tolist()):
        assert (k[x] == k[y]).any()
    scores = simdedup.jaccard_scores(texts, a, b)
    # Every pair the full job reports at 0.5 is among the band pairs with that score.
    r = SimDedup.from_records(texts, similarity="lexical").self_deduplicate(0.5)
    got = dict(zip(zip(a.tolist(), b.tolist()), scores.tolist()))
    for i, kept in r._filtered_index:
        pair = (kept, i)
        if pair in got:
            assert abs(got[pair] - r.filtered[r._filtered_index.index((i, kept))].score) < 1e-9


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="empty"):
        SimDedup.from_records([])
    # SemHash's messages (test_semhash_edges.py compares them with SemHash's own).
    with pytest.raises(ValueError, match="Columns must be specified"):
        SimDedup.from_records([{"a": "x"}])
    with pytest.raises(ValueError, match="Missing column 'a' in record"):
        SimDedup.from_records([{"a": "x"}, {"b": "y"}], columns=["a"])
    with pytest.raises(ValueError, match="All records must be strings when the first record is a string"):
        SimDedup.from_records(["x", {"a": "y"}])
    v = np.ones((3, 4), dtype=np.float32)
    v[1, 2] = np.nan
    with pytest.raises(ValueError, match="embeddings, row 1: .*NaN"):
        SimDedup.from_embeddings(v, ["a", "b", "c"]).self_deduplicate()
    with pytest.raises(ValueError, match="must match"):
        SimDedup.from_embeddings(np.ones((2, 4), dtype=np.float32), ["a"])
    with pytest.raises(ValueError, match="2D array"):
        SimDedup.from_embeddings(np.ones(4, dtype=np.float32), ["a"] * 4)
    with pytest.raises(ValueError, match="shingles"):
        simdedup.fingerprints(["a"], shingles="nonsense")
    with pytest.raises(ValueError, match="between 0 and 1"):
        SimDedup.from_records(["a b c"]).self_deduplicate(1.5)
    with pytest.raises(ValueError, match="no model"):
        SimDedup.from_embeddings(np.ones((1, 2), dtype=np.float32), ["a"]).deduplicate(["b"])
    with pytest.raises(ValueError, match="Records were not originally strings"):
        SimDedup.from_records([{"text": "a b c"}], columns=["text"]).deduplicate(["a"])
    # NaN named by the row given, also when copies and zero rows are left out of the search.
    v = np.array([[1, 0], [1, 0], [0, 0], [np.nan, 1]], dtype=np.float32)
    with pytest.raises(ValueError, match="embeddings, row 3: NaN"):
        SimDedup.from_embeddings(v, ["a", "a", "b", "c"]).self_deduplicate()


def test_arrow_string_arrays_are_read_in_place():
    pa = pytest.importorskip("pyarrow")
    texts = sentences(300, seed=11)
    from simdedup import _core

    listed = _core.dedup_texts(texts, 0.5)
    for array in (pa.array(texts), pa.array(texts, type=pa.large_string()), pa.chunked_array([texts[:100], texts[100:]])):
        got = _core.dedup_texts(array, 0.5)
        assert got["duplicate_of"].tolist() == listed["duplicate_of"].tolist()
        assert got["pair_score"].tolist() == listed["pair_score"].tolist()
    assert simdedup.fingerprints(pa.array(texts)).tolist() == simdedup.fingerprints(texts).tolist()
    with pytest.raises(ValueError, match="texts, row 1: null"):
        _core.dedup_texts(pa.array(["a b c", None]), 0.5)
    with pytest.raises(ValueError, match="not of strings"):
        _core.dedup_texts(pa.array([1, 2]), 0.5)


def test_deciding_pairs_give_the_decisions_of_all_pairs():
    # Tight clusters above the band search's 20,000 rows: the keep-first search runs when
    # only the deciding pairs are asked for, and decides as the full band search.
    v = clustered_vectors(24_000, 32, 400, 0.35, seed=8)
    every = simdedup._core.dedup_vectors(v, 0.9)
    deciding = simdedup._core.dedup_vectors(v, 0.9, all_pairs=False)
    assert np.array_equal(every["duplicate_of"], deciding["duplicate_of"])
    assert np.array_equal(every["score"], deciding["score"])
    removed = int((deciding["duplicate_of"] >= 0).sum())
    assert 5_000 < removed < 23_000, removed
    assert deciding["candidates"] < every["candidates"]
    assert len(deciding["pair_a"]) < len(every["pair_a"])
    # rethreshold searches again: the same as deduplicating at the higher threshold.
    records = [f"row {i}" for i in range(len(v))]
    r = SimDedup.from_embeddings(v, records).self_deduplicate(0.9)
    r.rethreshold(0.95)
    high = SimDedup.from_embeddings(v, records).self_deduplicate(0.95)
    assert r.selected == high.selected
    assert [(d.record, d.duplicate_of, d.score) for d in r.filtered] == [
        (d.record, d.duplicate_of, d.score) for d in high.filtered
    ]


def test_duplicate_ids_are_selected_with_duplicates_as_indices():
    """``duplicate_ids()`` holds what ``selected_with_duplicates`` holds, as record
    indices, for self-deduplication (lexical and vectors), after a rethreshold, and
    against fitted records."""
    import numpy as np

    words = ["a b c d e", "p q r s t", "a b c d e f", "a b c d e", "p q r s t u", "z y x w v", "a b c d e f g"]
    texts = [{"text": t} for t in words]  # distinct objects, even the copies

    def as_ids(result, records):
        index = {id(r): i for i, r in enumerate(records)}
        return [
            (index[id(s.record)], sorted((index[id(d)], round(score, 9)) for d, score in s.duplicates))
            for s in result.selected_with_duplicates
        ]

    def from_arrays(ids):
        return [
            (k, [(d, round(float(sc), 9)) for d, sc in zip(ids.duplicates[a:b].tolist(), ids.scores[a:b])])
            for k, a, b in zip(ids.kept.tolist(), ids.offsets[:-1], ids.offsets[1:])
        ]

    for sd in (
        SimDedup.from_records(texts, columns=["text"], similarity="lexical"),
        SimDedup.from_embeddings(np.random.default_rng(5).normal(size=(len(texts), 16)).astype(np.float32) * 0.01
                                 + np.eye(16, dtype=np.float32)[[0, 1, 0, 0, 1, 2, 0]], texts, columns=["text"]),
    ):
        r = sd.self_deduplicate(0.5)
        ids = r.duplicate_ids()
        assert from_arrays(ids) == as_ids(r, texts)
        assert ids.duplicate_of.shape == (len(texts),) and (ids.duplicate_of[ids.kept] == -1).all()
        assert ids.duplicates.dtype == np.int64 and len(ids) == len(r.selected)
        r.rethreshold(0.8)
        assert from_arrays(r.duplicate_ids()) == as_ids(r, texts)
    fitted = SimDedup.from_records(["a b c d e", "p q r s t"], similarity="lexical")
    r = fitted.deduplicate(["p q r s t", "nothing like it", "a b c d e f", "a b c d e"], 0.5)
    ids = r.duplicate_ids()
    assert ids.duplicate_of.tolist() == [1, -1, 0, 0]
    assert ids.kept.tolist() == [0, 1] and ids.offsets.tolist() == [0, 2, 3] and ids.duplicates.tolist() == [2, 3, 0]
    assert ids.scores[ids.duplicates == 3].tolist() == [1.0]
    r.rethreshold(0.9)
    assert r.duplicate_ids().duplicate_of.tolist() == [1, -1, -1, 0]
