"""SimDedup.save and SimDedup.load (issue 29): the loaded instance decides as the saved one,
without its records or model passed again; damaged, truncated and newer files are refused."""

from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import ROOT, clustered_vectors, sentences
from simdedup import SimDedup

MODEL = ROOT / "python" / "simdedup" / "models" / "potion-base-4m-int8"


def decisions(result):
    return (
        list(result.selected),
        [(d.record, d.exact, d.duplicate_of, round(float(d.score), 6)) for d in result.filtered],
    )


def round_trip(sd, tmp_path, **load):
    path = tmp_path / "saved.simdedup"
    sd.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["saved.simdedup"], "no temporary file is left"
    return SimDedup.load(path, **load)


def test_lexical_round_trip(tmp_path):
    texts = sentences(400, seed=21)
    train, new = texts[:300] + texts[:20], texts[300:] + texts[5:10]
    sd = SimDedup.from_records(train, shingles="word:2", similarity="lexical")
    loaded = round_trip(sd, tmp_path)
    assert loaded.records == sd.records and loaded.index.items == sd.index.items
    assert decisions(loaded.deduplicate(new, 0.5)) == decisions(sd.deduplicate(new, 0.5))
    assert decisions(loaded.self_deduplicate(0.5)) == decisions(sd.self_deduplicate(0.5))


def test_dictionary_records_round_trip(tmp_path):
    rows = [{"q": t, "a": t[::-1][:15], "id": i, "tags": ["x", i]} for i, t in enumerate(sentences(200, seed=22))]
    rows += [dict(rows[3], id=999)]
    sd = SimDedup.from_records(rows, columns=["q", "a"], similarity="lexical")
    loaded = round_trip(sd, tmp_path)
    assert loaded.index.items == sd.index.items
    new = [dict(r, id=-1) for r in rows[:30]] + [{"q": "something new entirely", "a": "x y", "id": 0, "tags": []}]
    assert decisions(loaded.deduplicate(new, 0.5)) == decisions(sd.deduplicate(new, 0.5))


def test_model_round_trip_without_the_model(tmp_path):
    texts = ["The lighthouse keeper lit the lamp.", "Bread at dawn.", "", "The lighthouse keeper lit the lamp."]
    new = ["The lighthouse keeper lit the lamp!", "Bread at dawn.", " ", "A ship in the night."]
    sd = SimDedup.from_records(texts, model=str(MODEL))
    loaded = round_trip(sd, tmp_path)
    assert np.array_equal(loaded.index.vectors, sd.index.vectors)
    assert decisions(loaded.deduplicate(new)) == decisions(sd.deduplicate(new))
    assert loaded.filter_outliers(new, 0.25).filtered == sd.filter_outliers(new, 0.25).filtered
    # Saved again from the loaded instance (its model's directory is gone by now).
    again = round_trip(loaded, tmp_path)
    assert decisions(again.deduplicate(new)) == decisions(sd.deduplicate(new))


def test_model2vec_model_is_stored(tmp_path):
    model2vec = pytest.importorskip("model2vec")
    texts = sentences(100, seed=23)
    sd = SimDedup.from_records(texts, model=model2vec.StaticModel.from_pretrained(str(MODEL)))
    loaded = round_trip(sd, tmp_path)
    new = sentences(150, seed=23)[90:]
    assert decisions(loaded.deduplicate(new, 0.9))[0] == decisions(sd.deduplicate(new, 0.9))[0]


def test_embeddings_round_trip(tmp_path):
    v = clustered_vectors(3000, 24, 30, 0.3, seed=24)
    records = [f"r{i}" for i in range(2000)]
    sd = SimDedup.from_embeddings(v[:2000], records, seed=7)
    loaded = round_trip(sd, tmp_path)
    new = [f"n{i}" for i in range(1000)]
    assert decisions(loaded.deduplicate(new, 0.85, embeddings=v[2000:])) == decisions(
        sd.deduplicate(new, 0.85, embeddings=v[2000:])
    )
    assert decisions(loaded.self_deduplicate(0.9)) == decisions(sd.self_deduplicate(0.9))
    with pytest.raises(ValueError, match="no model"):
        loaded.deduplicate(["x"])


def test_an_encoder_that_cannot_be_stored_is_asked_for(tmp_path):
    class Letters:
        def encode(self, inputs, **kwargs):
            return np.array([[t.count(c) for c in "abcdefgh"] for t in inputs], dtype=np.float32) + 0.1

    sd = SimDedup.from_records(["abc", "bcd", "ggh"], model=Letters())
    loaded = round_trip(sd, tmp_path)
    with pytest.raises(ValueError, match="saved without its model .*Letters.*pass model="):
        loaded.deduplicate(["abd"])
    given = SimDedup.load(tmp_path / "saved.simdedup", model=Letters())
    assert decisions(given.deduplicate(["abd", "hhh"], 0.8)) == decisions(sd.deduplicate(["abd", "hhh"], 0.8))


def test_damaged_files_are_refused(tmp_path):
    path = tmp_path / "saved.simdedup"
    SimDedup.from_records(sentences(50, seed=25), similarity="lexical").save(path)
    good = path.read_bytes()
    cases = {
        "truncated": good[: len(good) - 100],
        "checksum": good[:200] + bytes([good[200] ^ 1]) + good[201:],
        "newer": good[:8] + (99).to_bytes(4, "little") + good[12:],
        "not a saved simdedup file": b"PK\x03\x04" + good[4:],
    }
    for what, data in cases.items():
        bad = tmp_path / f"{what}.simdedup"
        bad.write_bytes(data)
        with pytest.raises(ValueError, match=what) as e:
            SimDedup.load(bad)
        assert str(bad) in str(e.value)
    with pytest.raises(OSError):
        SimDedup.load(tmp_path / "missing.simdedup")


def test_save_replaces_whole_or_not_at_all(tmp_path):
    path = tmp_path / "saved.simdedup"
    SimDedup.from_records(["one two three"], similarity="lexical").save(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="record 1 cannot be saved"):
        SimDedup.from_records([{"t": "a"}, {"t": "b", "x": object()}], columns=["t"], similarity="lexical").save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["saved.simdedup"]
    SimDedup.from_records(["four five six"], similarity="lexical").save(path)
    assert SimDedup.load(path).records == ["four five six"]
