"""The built-in static-embedding model from Python: model2vec's vectors, SemHash's decisions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from simdedup import SimDedup, StaticModel

MODEL = ROOT / "python" / "simdedup" / "models" / "potion-base-4m-int8"
LICENSES = Path("/usr/share/common-licenses")


def license_sentences(limit: int = 3000) -> list[str]:
    """Sentences of the licence texts Debian ships: real prose, with many near copies across
    the GPL family."""
    out: list[str] = []
    for name in ["GPL-3", "GPL-2", "LGPL-2.1", "LGPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3", "Artistic"]:
        path = LICENSES / name
        if path.exists():
            text = " ".join(path.read_text(errors="replace").split())
            out.extend(s.strip() for s in text.split(". ") if len(s.split()) >= 4)
    if len(out) < 500:
        pytest.skip("the Debian licence texts are not on this machine")
    return out[:limit]


def test_vectors_equal_model2vec():
    model2vec = pytest.importorskip("model2vec")
    texts = license_sentences(1000) + ["", "Café crème", "zzqxj unknownword"]
    ours = StaticModel(str(MODEL)).encode(texts)
    theirs = model2vec.StaticModel.from_pretrained(str(MODEL)).encode(texts)
    assert ours.shape == theirs.shape
    assert float(np.abs(ours - theirs.astype(np.float32)).max()) < 1e-5


def test_model_path_in_from_records():
    texts = ["The lighthouse keeper lit the lamp.", "The lighthouse keeper lit the lamp!", "Bread at dawn."]
    r = SimDedup.from_records(texts, model=str(MODEL)).self_deduplicate(0.9)
    assert [d.record for d in r.filtered] == [texts[1]]
    assert r.filtered[0].duplicate_of == texts[0]


def test_decisions_agree_with_semhash(tmp_path, cli):
    semhash = pytest.importorskip("semhash")
    model2vec = pytest.importorskip("model2vec")
    texts = license_sentences(3000)
    names = [f"{i:05}.txt" for i in range(len(texts))]
    for name, text in zip(names, texts):
        (tmp_path / name).write_text(text)
    out = cli("dedup", "--model", str(MODEL), str(tmp_path), "--output", "remove")
    ours = {Path(line.split("\t")[0]).name for line in out.splitlines()}
    model = model2vec.StaticModel.from_pretrained(str(MODEL))
    records = [{"id": n, "text": t} for n, t in zip(names, texts)]
    # The exact backend: SemHash's default (USearch) is approximate and its removed set
    # varies from run to run (121 to 126 rows here, against our 128).
    result = semhash.SemHash.from_records(records, columns=["text"], model=model, ann_backend="basic").self_deduplicate(
        0.9
    )
    theirs = {d.record["id"] for d in result.filtered}
    union = ours | theirs
    assert len(union) > 50, "licence sentences hold near copies"
    differ = len(ours ^ theirs) / len(union)
    assert differ <= 0.01, f"removed sets differ in {differ:.4f} of their union ({len(ours)} vs {len(theirs)})"
