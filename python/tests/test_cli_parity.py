"""The Python package gives the command line's results on the same inputs."""

from __future__ import annotations

import numpy as np

from conftest import clustered_vectors, sentences
from simdedup import SimDedup


def _cli_removed(out: str) -> dict[str, tuple[str, float]]:
    removed = {}
    for line in out.splitlines():
        record, kept, score = line.split("\t")
        removed[record] = (kept, float(score))
    return removed


def test_text_files_equal_the_cli(tmp_path, cli):
    texts = sentences(400, seed=1)
    names = [f"{i:04}.txt" for i in range(len(texts))]
    for name, text in zip(names, texts):
        (tmp_path / name).write_text(text)
    expected = _cli_removed(cli("dedup", "--threshold", "0.5", str(tmp_path)))
    result = SimDedup.from_records(texts, similarity="lexical").self_deduplicate(0.5)
    assert len(expected) > 20, "the data should hold duplicates"
    # By index. The CLI lists removed records in input order; the package in SemHash's
    # order (exact copies grouped with the record they copy).
    filtered_idx = [i for i, _ in result._filtered_index]
    kept_idx = [k for _, k in result._filtered_index]
    assert sorted(str(tmp_path / names[i]) for i in filtered_idx) == sorted(expected)
    for i, k, d in zip(filtered_idx, kept_idx, result.filtered):
        kept, score = expected[str(tmp_path / names[i])]
        assert kept == str(tmp_path / names[k])
        assert abs(d.score - score) < 5e-5


def test_vectors_equal_the_cli(tmp_path, cli):
    v = clustered_vectors(3000, 32, 40, 0.3, seed=2)
    np.save(tmp_path / "v.npy", v)
    for threshold in ("0.8", "0.9"):
        expected = _cli_removed(cli("dedup", "--vectors", str(tmp_path / "v.npy"), "--threshold", threshold))
        result = SimDedup.from_embeddings(v, [str(i) for i in range(len(v))]).self_deduplicate(float(threshold))
        got = {d.record: (d.duplicate_of, d.score) for d in result.filtered}
        assert len(expected) > 50
        assert list(got) == list(expected)
        for r, (kept, score) in expected.items():
            assert got[r][0] == kept
            assert abs(got[r][1] - score) < 5e-5


def test_dataset_rows_equal_the_cli(tmp_path, cli):
    import json

    texts = sentences(300, seed=3)
    rows = [{"q": t, "a": t[::-1][:20]} for t in texts]
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    # The dataset command solves its band shape from the file size, the package from the
    # row count: the Hamming search (-k) makes both exhaustive, so the decisions must agree.
    expected = _cli_removed(
        cli("dedup", str(path), "--columns", "q,a", "--threshold", "0.5", "--method", "brute", "-k", "128")
    )
    result = SimDedup.from_records(rows, columns=["q", "a"], similarity="lexical").self_deduplicate(0.5)
    got = {str(i): (str(k), d.score) for (i, k), d in zip(result._filtered_index, result.filtered)}
    assert len(expected) > 10
    assert set(got) == set(expected)
    for r, (kept, score) in expected.items():
        assert got[r][0] == kept
        assert abs(got[r][1] - score) < 5e-5
