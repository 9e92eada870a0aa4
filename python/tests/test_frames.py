"""simdedup.dedup on pandas, polars, pyarrow and datasets (issue 29): the same kind of table
back, every column and its type kept, ``duplicate_of`` and ``score`` as the core decides."""

from __future__ import annotations

import numpy as np
import pytest

import simdedup
from conftest import ROOT, sentences
from simdedup import _core

pa = pytest.importorskip("pyarrow")
MODEL = ROOT / "python" / "simdedup" / "models" / "potion-base-4m-int8"


def arrow_table(n=300):
    texts = sentences(n, seed=41)
    return pa.table(
        {
            "id": pa.array([f"doc-{i}" for i in range(n)]),
            "text": pa.array(texts),
            "other": pa.array([t[::-1][:12] for t in texts], type=pa.large_string()),
            "n": pa.array(np.arange(n, dtype=np.int32)),
            "x": pa.array(np.linspace(0, 1, n), type=pa.float32()),
            "flag": pa.array([i % 3 == 0 for i in range(n)]),
        }
    )


def expected(table, threshold=0.5):
    out = _core.dedup_texts(table.column("text").to_pylist(), threshold)
    dup = out["duplicate_of"].tolist()
    return [d if d >= 0 else None for d in dup], [s if d >= 0 else None for d, s in zip(dup, out["score"].tolist())]


def test_pyarrow_round_trip():
    t = arrow_table()
    out = simdedup.dedup(t, columns=["text"])
    assert isinstance(out, pa.Table)
    assert out.schema.names == t.schema.names + ["duplicate_of", "score"]
    assert out.select(t.schema.names).equals(t)
    dup, score = expected(t)
    assert out.column("duplicate_of").to_pylist() == dup and out.column("score").to_pylist() == score
    assert sum(d is not None for d in dup) > 20
    named = simdedup.dedup(t, columns=["text"], id_column="id")
    assert named.column("duplicate_of").to_pylist() == [None if d is None else f"doc-{d}" for d in dup]


def test_pandas_round_trip():
    pd = pytest.importorskip("pandas")
    t = arrow_table()
    df = t.to_pandas()
    df.index = pd.RangeIndex(100, 100 + len(df))
    out = simdedup.dedup(df, columns=["text"])
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(df.columns) + ["duplicate_of", "score"]
    assert (out.dtypes[list(df.columns)] == df.dtypes).all() and out.index.equals(df.index)
    pd.testing.assert_frame_equal(out[list(df.columns)], df)
    dup, score = expected(t)
    assert str(out["duplicate_of"].dtype) == "Int64" and str(out["score"].dtype) == "Float64"
    assert [None if pd.isna(v) else int(v) for v in out["duplicate_of"]] == dup


def test_polars_round_trip():
    pl = pytest.importorskip("polars")
    t = arrow_table()
    df = pl.from_arrow(t)
    out = simdedup.dedup(df, columns=["text"])
    assert isinstance(out, pl.DataFrame)
    assert out.columns == df.columns + ["duplicate_of", "score"]
    assert out.select(df.columns).equals(df) and out.select(df.columns).schema == df.schema
    dup, score = expected(t)
    assert out["duplicate_of"].to_list() == dup and out["score"].to_list() == score


def test_datasets_round_trip():
    datasets = pytest.importorskip("datasets")
    t = arrow_table()
    ds = datasets.Dataset(t)
    out = simdedup.dedup(ds, columns=["text"])
    assert isinstance(out, datasets.Dataset)
    assert out.column_names == ds.column_names + ["duplicate_of", "score"]
    for name, feature in ds.features.items():
        assert out.features[name] == feature
    dup, _ = expected(t)
    assert out["duplicate_of"] == dup
    # A shuffled or filtered dataset is read in its own row order.
    sub = ds.select(range(299, -1, -1))
    assert simdedup.dedup(sub, columns=["text"])["duplicate_of"] == expected(t.take(list(range(299, -1, -1))))[0]


def test_several_columns_and_a_model():
    t = arrow_table()
    both = simdedup.dedup(t, columns=["text", "other"])
    joined = [a + "\x1e" + b for a, b in zip(t.column("text").to_pylist(), t.column("other").to_pylist())]
    want = _core.dedup_texts(joined, 0.5, fields=True)["duplicate_of"].tolist()
    assert both.column("duplicate_of").to_pylist() == [d if d >= 0 else None for d in want]
    semantic = simdedup.dedup(t, columns=["text"], model=str(MODEL))
    v = simdedup.StaticModel(str(MODEL)).encode(t.column("text").to_pylist())
    want = _core.dedup_vectors(v, 0.9, all_pairs=False)["duplicate_of"].tolist()
    assert semantic.column("duplicate_of").to_pylist() == [d if d >= 0 else None for d in want]


def test_bad_tables_are_named():
    t = arrow_table(20)
    with pytest.raises(ValueError, match="no column 'body'"):
        simdedup.dedup(t, columns=["body"])
    with pytest.raises(ValueError, match="column 'n' holds int32, not text"):
        simdedup.dedup(t, columns=["n"])
    with pytest.raises(TypeError, match="expected a pandas or polars DataFrame"):
        simdedup.dedup([{"text": "a"}], columns=["text"])
