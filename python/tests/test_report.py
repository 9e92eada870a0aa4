"""``report=``: the run's HTML report from Python is the command line's page on the same
rows (issue 32), apart from the title and the run-time line."""

from __future__ import annotations

import json
import re

import pyarrow as pa
import pytest

import simdedup
from conftest import sentences


def comparable(page: str) -> str:
    """The page without what names the front end (its title) and the run-time line."""
    page = re.sub(r"<title>.*?</title>", "", page)
    page = re.sub(r"<p class=\"sub\"><code>[^<]*</code>", "", page, count=1)
    return "\n".join(line for line in page.splitlines() if 'data-volatile="run-time"' not in line)


def rows(n: int) -> list[dict]:
    texts = sentences(n, seed=7)
    # Near copies at several distances from their originals, an exact copy, hostile text.
    out = [{"id": f"r{i}", "text": t} for i, t in enumerate(texts)]
    for k in range(0, n, 9):
        words = texts[k].split()
        words[k % len(words)] = "changed"
        out.append({"id": f"n{k}", "text": " ".join(words)})
    out.append({"id": "copy", "text": texts[3]})
    out.append({"id": "hostile", "text": texts[5] + " <script>alert(1)</script> </textarea>"})
    return out


def test_the_report_is_the_command_lines(tmp_path, cli):
    data = rows(400)
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in data))
    cli("dedup", str(path), "--columns", "text", "--report", str(tmp_path / "cli.html"))
    table = pa.table({"id": [r["id"] for r in data], "text": [r["text"] for r in data]})
    out = simdedup.dedup(table, columns=["text"], report=tmp_path / "py.html")
    ours, theirs = (tmp_path / "py.html").read_text(), (tmp_path / "cli.html").read_text()
    assert "simdedup.dedup(arrow table" in ours
    assert comparable(ours) == comparable(theirs)
    # The page counts what the call returned.
    removed = len(out) - out.column("duplicate_of").null_count
    assert removed > 10 and f'data-bar="0.5" data-removed="{removed}"' in ours
    assert "<script" not in ours  # escaping itself: tests/report.rs
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", ours)


def test_a_report_names_rows_by_id_and_shows_vectors_runs(tmp_path):
    data = rows(200)
    table = pa.table({"id": [r["id"] for r in data], "text": [r["text"] for r in data]})
    simdedup.dedup(table, columns=["text"], id_column="id", report=tmp_path / "ids.html", threshold=0.5)
    page = (tmp_path / "ids.html").read_text()
    assert re.search(r">n\d+<", page), "rows are named by their ids"
    simdedup.dedup(table, columns=["text"], model=simdedup.DEFAULT_MODEL, report=tmp_path / "cos.html")
    page = (tmp_path / "cos.html").read_text()
    assert "cosine" in page and 'data-bar="0.9"' in page


def test_an_unwritable_report_fails_before_the_run(tmp_path):
    table = pa.table({"text": ["a b c d", "a b c d e"]})
    with pytest.raises(OSError, match="cannot write the report"):
        simdedup.dedup(table, columns=["text"], report=tmp_path / "no" / "such" / "dir.html")
    assert not (tmp_path / "no").exists()


def test_simdedup_reports_over_the_records(tmp_path, cli):
    """``self_deduplicate(report=)``: over the records, copies grouped before the search
    counted as the command line counts them, so the page is the command line's on the
    same rows (lexical, Parquet: the row count is exact); with vectors, the page's
    removals are the result's."""
    import pyarrow.parquet as pq

    from simdedup import SimDedup

    data = rows(300)
    texts = [r["text"] for r in data]
    texts += [texts[10], texts[11].upper() + "!", texts[10]]  # copies: raw, normalised, raw
    pq.write_table(pa.table({"text": texts}), tmp_path / "rows.parquet")
    cli("dedup", str(tmp_path / "rows.parquet"), "--columns", "text", "--report", str(tmp_path / "cli.html"))
    result = SimDedup.from_records(texts, similarity="lexical").self_deduplicate(report=tmp_path / "sd.html")
    ours = (tmp_path / "sd.html").read_text()
    assert comparable(ours) == comparable((tmp_path / "cli.html").read_text())
    assert f'data-bar="0.5" data-removed="{len(result.filtered)}"' in ours
    semantic = SimDedup.from_records(texts).self_deduplicate(report=tmp_path / "cos.html")
    page = (tmp_path / "cos.html").read_text()
    assert f'data-bar="0.9" data-removed="{len(semantic.filtered)}"' in page
