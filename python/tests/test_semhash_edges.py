"""SemHash 0.5.0's behaviour at the edges (issue 29): each test runs SemHash itself on the
same inputs and compares. Zero vectors, exact copies in outlier filtering, record types and
SemHash's error messages, exact copies grouped at construction."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT
from simdedup import SimDedup

try:
    import model2vec
    import semhash
except ImportError as e:  # pragma: no cover - CI installs both (.ci/run)
    pytest.skip(f"SemHash 0.5.0 and model2vec are needed to compare with: {e}", allow_module_level=True)

MODEL = ROOT / "python" / "simdedup" / "models" / "potion-base-4m-int8"


@pytest.fixture(scope="module")
def m2v():
    return model2vec.StaticModel.from_pretrained(str(MODEL))


def theirs(records, m2v, **kw):
    # The exact backend: SemHash's default (USearch) is approximate.
    return semhash.SemHash.from_records(records, model=m2v, ann_backend="basic", **kw)


def ours(records, **kw):
    return SimDedup.from_records(records, model=str(MODEL), **kw)


def decisions(result):
    """A deduplication result as plain values (scores to 5 places: the models agree to 1e-5)."""
    return (
        list(result.selected),
        [(d.record, d.exact, d.duplicate_of, round(float(d.score), 4)) for d in result.filtered],
    )


def test_zero_vectors_are_never_near_duplicates(m2v):
    for records in (["", " ", "hello world"], ["", " ", "", "hello world", "  "]):
        assert decisions(ours(records).self_deduplicate()) == decisions(theirs(records, m2v).self_deduplicate())
    # The case, spelled out: all three kept.
    assert ours(["", " ", "hello world"]).self_deduplicate().selected == ["", " ", "hello world"]


def test_zero_vectors_are_never_near_duplicates_of_a_reference(m2v):
    fitted, new = ["hello world", "", "a cat"], ["", " ", "hello world", "x", "\t", "a cat!"]
    assert decisions(ours(fitted).deduplicate(new)) == decisions(theirs(fitted, m2v).deduplicate(new))
    assert " " in ours(fitted).deduplicate(new).selected


def test_zero_embeddings_are_never_near_duplicates(m2v):
    v = np.array([[0, 0, 0], [1, 2, 3], [0, 0, 0], [1, 2, 3.01]], dtype=np.float32)
    records = ["zero a", "one", "zero b", "one again"]
    mine = SimDedup.from_embeddings(v, records).self_deduplicate(0.9)
    semhash_result = semhash.SemHash.from_embeddings(v, records, model=m2v, ann_backend="basic").self_deduplicate(0.9)
    assert decisions(mine) == decisions(semhash_result)
    assert mine.selected == ["zero a", "one", "zero b"]


def test_exact_copies_rank_with_the_record_they_copy_in_outliers(m2v):
    fruits = ["apple", "banana", "cherry", "grape", "mango", "orange", "pear", "plum", "peach", "kiwi", "lemon", "car"]
    records = fruits + ["car", "car"]
    mine = ours(records).self_filter_outliers(outlier_percentage=0.25)
    semhash_result = theirs(records, m2v).self_filter_outliers(outlier_percentage=0.25)
    assert mine.filtered == semhash_result.filtered
    assert mine.selected == semhash_result.selected
    assert np.allclose(mine.scores_filtered, semhash_result.scores_filtered, atol=1e-4)
    assert mine.filtered.count("car") == 3


def test_string_fitted_instance_takes_text_dictionaries(m2v):
    new = [{"text": 1}, {"text": 4}, {"text": "2", "other": None}]
    mine, semhash_result = ours(["1", "2", "3"]).deduplicate(new), theirs(["1", "2", "3"], m2v).deduplicate(new)
    assert decisions(mine) == decisions(semhash_result)
    assert mine.selected == ["4"]
    # Lexical similarity takes them the same way.
    lexical = SimDedup.from_records(["1", "2", "3"], similarity="lexical").deduplicate([{"text": 1}, {"text": 4}])
    assert lexical.selected == ["4"] and [d.record for d in lexical.filtered] == ["1"]


def error(call):
    with pytest.raises(ValueError) as e:
        call()
    return str(e.value)


@pytest.mark.parametrize(
    "new",
    [
        [{"text": None}],
        [{"txt": "a"}],
        [],
        ["a", {"text": "b"}],
        [{"text": "b"}, "a"],
        [{"text": "b"}, 3],
    ],
)
def test_new_records_are_refused_with_semhash_messages(m2v, new):
    message = error(lambda: ours(["a", "b"]).deduplicate(new))
    assert message == error(lambda: theirs(["a", "b"], m2v).deduplicate(new))
    assert any(
        s in message
        for s in ("has None value", "Missing column 'text'", "records must not be empty", "Records must be all")
    )


def test_strings_for_a_dictionary_instance_are_refused_with_semhash_message(m2v):
    rows = [{"q": "a"}, {"q": "b"}]
    message = error(lambda: ours(rows, columns=["q"]).deduplicate(["a"]))
    assert message == error(lambda: theirs(rows, m2v, columns=["q"]).deduplicate(["a"]))
    assert "Records were not originally strings" in message
    for call in ("filter_outliers", "find_representative"):
        assert error(lambda: getattr(ours(rows, columns=["q"]), call)(["a"])) == message


@pytest.mark.parametrize(
    "records, columns",
    [
        ([], None),
        ([{"a": "x"}], None),
        (["x", {"a": "y"}], None),
        ([{"a": "x"}, "y"], ["a"]),
        ([{"a": None}], ["a"]),
        ([{"a": "x"}, {"b": "y"}], ["a"]),
    ],
)
def test_records_are_refused_at_construction_with_semhash_messages(m2v, records, columns):
    assert error(lambda: ours(records, columns=columns)) == error(lambda: theirs(records, m2v, columns=columns))


def test_exact_copies_are_grouped_at_construction(m2v):
    texts = ["a cat", "a dog", "a cat", "the sun", "a dog", "a cat"]
    mine, semhash_instance = ours(texts), theirs(texts, m2v)
    assert mine.index.items == semhash_instance.index.items
    assert mine.index.vectors.shape == semhash_instance.index.vectors.shape == (3, 128)
    assert np.allclose(mine.index.vectors, semhash_instance.index.vectors, atol=1e-5)
    assert decisions(mine.self_deduplicate(0.9)) == decisions(semhash_instance.self_deduplicate(0.9))
    # Dictionaries: grouped by the columns only, every record kept in its bucket.
    rows = [{"q": "x", "id": 1}, {"q": "y", "id": 2}, {"q": "x", "id": 3}, {"q": 1, "id": 4}, {"q": "1", "id": 5}]
    mine, semhash_instance = ours(rows, columns=["q"]), theirs(rows, m2v, columns=["q"])
    assert mine.index.items == semhash_instance.index.items
    assert decisions(mine.self_deduplicate(0.9)) == decisions(semhash_instance.self_deduplicate(0.9))
    # With embeddings made elsewhere: the first row of each group is kept.
    v = np.random.default_rng(3).normal(size=(6, 8)).astype(np.float32)
    mine = SimDedup.from_embeddings(v, texts)
    semhash_instance = semhash.SemHash.from_embeddings(v, texts, model=m2v, ann_backend="basic")
    assert mine.index.items == semhash_instance.index.items
    assert np.array_equal(mine.index.vectors, semhash_instance.index.vectors)
    # Lexical similarity groups the same way; it has no vectors.
    lexical = SimDedup.from_records(texts, similarity="lexical")
    assert lexical.index.items == semhash_instance.index.items and lexical.index.vectors is None


def test_copies_of_a_removed_record_are_not_exact(m2v):
    texts = ["The lighthouse keeper lit the lamp.", "The lighthouse keeper lit the lamp!", "Bread at dawn."] * 2
    mine, semhash_result = ours(texts).self_deduplicate(0.9), theirs(texts, m2v).self_deduplicate(0.9)
    assert decisions(mine) == decisions(semhash_result)
    assert [d.exact for d in mine.filtered] == [True, False, False, True]


def test_the_default_is_semantic_with_the_bundled_model(m2v):
    """``from_records`` with no model embeds with the shipped model at cosine 0.9, as
    SemHash embeds with its default model; lexical similarity is asked for by name."""
    import simdedup

    texts = [
        "The lighthouse keeper lit the lamp at dusk.",
        "Lamp the lit keeper lighthouse the dusk at.",  # the same words: one vector, no shingle
        "Bread was baked at dawn in the village.",
        "The lighthouse keeper lit the lamp at dusk!",
        "A storm came in from the west.",
        "Bread was baked at dawn in the village.",
    ]
    assert simdedup.DEFAULT_MODEL.is_dir() and (simdedup.DEFAULT_MODEL / "LICENSE").is_file()
    default = SimDedup.from_records(texts)
    assert default.model is not None and default.index.vectors is not None
    result = default.self_deduplicate()
    assert result.threshold == 0.9
    assert decisions(result) == decisions(theirs(texts, m2v).self_deduplicate())
    assert decisions(result) == decisions(ours(texts).self_deduplicate())
    # New records are embedded by the same model, with no model passed again.
    new = ["The lighthouse keeper lit the lamp at dusk!!", "Something else entirely."]
    assert decisions(default.deduplicate(new)) == decisions(theirs(texts, m2v).deduplicate(new))
    # Word overlap is a choice with its name, and its options need it.
    lexical = SimDedup.from_records(texts, similarity="lexical").self_deduplicate()
    assert lexical.threshold == 0.5 and texts[1] in lexical.selected and texts[1] not in result.selected
    with pytest.raises(ValueError, match="similarity='lexical'"):
        SimDedup.from_records(texts, shingles="word:2")
    with pytest.raises(ValueError, match="takes no model"):
        SimDedup.from_records(texts, model=str(MODEL), similarity="lexical")
    with pytest.raises(ValueError, match="'semantic' or 'lexical'"):
        SimDedup.from_records(texts, similarity="jaccard")
