"""The Spark job (simdedup.spark) on local[2] against the single-machine run, row for row."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pyspark = pytest.importorskip("pyspark")
pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")

from conftest import sentences  # noqa: E402
from simdedup import _core  # noqa: E402
from simdedup import spark as sd  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("simdedup-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        # Small Arrow batches: equal-bucket runs then span batches.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "300")
        .getOrCreate()
    )
    yield session
    session.stop()


def _write_parquet(path, rows):
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _local(cli, path, tmp_path, *extra):
    """The command line's kept ids and removed {id: (duplicate_of, score)} (Parquet: full
    precision scores)."""
    kept, removed = tmp_path / "cli_kept.parquet", tmp_path / "cli_removed.parquet"
    cli("dedup", str(path), "--columns", "text", "--id-column", "id", "-o", str(kept), "--removed", str(removed), *extra)
    k = pq.read_table(kept).column("id").to_pylist()
    r = pq.read_table(removed).to_pylist()
    return k, {x["id"]: (x["duplicate_of"], x["score"]) for x in r}


def _spark(df, path, threshold=0.5, **kw):
    # Parquet: the command line takes the row count from the footer, as Spark counts it.
    kept, removed = sd.dedup(df, ["text"], threshold, "id", split=True, **kw)
    k = [r["id"] for r in kept.collect()]
    # The command line writes a Parquet id as text; Spark keeps the id column's type.
    r = {x["id"]: (str(x["duplicate_of"]), x["score"]) for x in removed.collect()}
    return k, r


def _rows(texts):
    return [{"id": i, "text": t} for i, t in enumerate(texts)]


def test_text_equals_the_local_run(spark, cli, tmp_path):
    texts = sentences(1500, seed=11)
    texts += texts[:40]  # exact copies, some of removed rows
    texts += ["ok", "", "a b"]  # too short for a shingle: exact duplicates only
    path = _write_parquet(tmp_path / "d.parquet", _rows(texts))
    expected = _local(cli, path, tmp_path, "--threshold", "0.5")
    got = _spark(spark.read.parquet(str(path)), path)
    assert len(expected[1]) > 200
    assert got[0] == expected[0]
    assert got[1] == expected[1]  # ids, duplicate_of and scores, bit for bit


def test_several_columns_and_the_shell_entry(spark, cli, tmp_path):
    texts = sentences(600, seed=12)
    rows = [{"id": f"r{i}", "q": t, "c": " ".join(t.split()[::-2])} for i, t in enumerate(texts)]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = cli("dedup", str(path), "--columns", "q,c", "--id-column", "id", "--output", "remove", "-t", "0.4")
    expected = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines()}
    code = sd.main(
        [str(path), "--columns", "q,c", "--id-column", "id", "-t", "0.4",
         "-o", str(tmp_path / "kept.parquet"), "--removed", str(tmp_path / "removed.parquet")]
    )
    assert code == 0
    removed = spark.read.parquet(str(tmp_path / "removed.parquet")).collect()
    kept = spark.read.parquet(str(tmp_path / "kept.parquet")).collect()
    got = {r["id"]: [r["duplicate_of"], f"{r['score']:.4f}"] for r in removed}
    assert len(expected) > 20
    assert got == expected
    assert len(kept) + len(removed) == len(rows)
    assert set(kept[0].asDict()) == {"id", "q", "c"}  # every original field, nothing added


def test_partition_invariance(spark, tmp_path):
    texts = sentences(800, seed=13) + sentences(50, seed=13)
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows(texts)))
    size = os.path.getsize(path)
    results = []
    for parts in (1, 2, 7):
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(size // parts + 1))
        df = spark.read.json(str(path))
        if parts == 1:
            df = df.coalesce(1)
        assert df.rdd.getNumPartitions() == parts
        results.append(_spark(df, path))
    spark.conf.unset("spark.sql.files.maxPartitionBytes")
    results.append(_spark(spark.read.json(str(path)), path))  # a rerun
    assert len(results[0][1]) > 50
    assert all(r == results[0] for r in results)


def test_empty_partitions_and_no_duplicates(spark, cli, tmp_path):
    texts = [f"row {i} says {' '.join(str(i * k) for k in range(8))}" for i in range(300)]
    path = _write_parquet(tmp_path / "d.parquet", _rows(texts))
    df = spark.read.parquet(str(path))
    empty = spark.createDataFrame(spark.sparkContext.parallelize([], 3), df.schema)
    padded = empty.union(df).union(empty)
    assert padded.rdd.getNumPartitions() >= 7
    kept, removed = _spark(padded, path)
    assert removed == {} and kept == list(range(300))
    assert (kept, removed) == _local(cli, path, tmp_path)


def test_skewed_buckets(spark, cli, tmp_path):
    """10,000 identical rows (one exact group) and 2,500 near-copies of a boilerplate row
    (runs of 2,500 in most bands, longer than _core.SPLIT_RUN: their pairs are split over
    the tasks in blocks), with ordinary rows between."""
    base = "this page is part of the documentation of our product and is provided as is"
    texts = sentences(200, seed=14)
    texts += [base] * 10_000
    texts += [f"{base} see section {i}" for i in range(2_500)]
    texts += sentences(100, seed=15)
    path = _write_parquet(tmp_path / "d.parquet", _rows(texts))
    expected = _local(cli, path, tmp_path)
    stats = {}
    got = _spark(spark.read.parquet(str(path)), path, stats=stats)
    assert len(expected[1]) > 12_400
    assert got == expected
    # Block jobs ran: pairs came out of stage 3b.
    assert 2_500 > _core.SPLIT_RUN and stats["3b split buckets"][1] > 0, stats


def test_chains_need_several_rounds(spark, cli, tmp_path):
    """A chain of rows, each similar only to its neighbours, in a shuffled order: one
    component that large-star/small-star join in several rounds; greedy keeps every other."""
    words = [f"w{i}" for i in range(400)]
    chain = [" ".join(words[4 * i : 4 * i + 20]) for i in range(80)]
    order = np.random.default_rng(1).permutation(len(chain))
    texts = [chain[i] for i in order] + sentences(100, seed=16)
    path = _write_parquet(tmp_path / "d.parquet", _rows(texts))
    expected = _local(cli, path, tmp_path)
    assert _spark(spark.read.parquet(str(path)), path) == expected
    edges = spark.createDataFrame([(int(order[i]), int(order[i + 1])) for i in range(79)], "a long, b long")
    comps, rounds = sd.components(edges)
    assert rounds >= 2
    assert {r["comp"] for r in comps.collect()} == {int(order.min())}


def test_components_of_large_ids(spark):
    top = 1 << 62
    edges = spark.createDataFrame([(top + 5, top + 1), (top + 1, top + 9), (3, 4)], "a long, b long")
    comps, _ = sd.components(edges)
    got = {r["node"]: r["comp"] for r in comps.collect()}
    assert got == {top + 1: top + 1, top + 5: top + 1, top + 9: top + 1, 3: 3, 4: 3}


def test_copies_of_many_rows(spark, cli, tmp_path):
    """Exact copies of several rows, some copied again later: digests group across homes."""
    texts = [f"copy number {i} of a text that is long enough" for i in range(40)]
    path = _write_parquet(tmp_path / "d.parquet", _rows(texts + texts[5:8] * 2))
    expected = _local(cli, path, tmp_path)
    got = _spark(spark.read.parquet(str(path)), path)
    assert len(got[1]) >= 6
    assert got == expected


def test_bad_rows_are_named(spark, tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [{"id": 0, "text": "a b c d"}, {"id": 1, "text": "e f g h"}, {"id": 2, "text": "x y z"}, {"id": 3}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    df = spark.read.json(str(path))
    with pytest.raises(Exception, match="row 3: column 'text' is missing or not text"):
        sd.dedup(df, ["text"], 0.5, "id").collect()
    with pytest.raises(ValueError, match="no column 'body'"):
        sd.dedup(df, ["body"])
    with pytest.raises(ValueError, match="column 'id' holds bigint, not text"):
        sd.dedup(df, ["id"])
    assert sd.main([str(path), "--columns", "text"]) == 2


def test_blobs_reach_the_partition_they_name(spark):
    """The exchanges send a record to the partition its `part` value was chosen for: the
    values come from Spark's hash computed here, which is Spark's own."""
    from pyspark.sql import functions as F

    from simdedup import _spark_text

    probe = spark.range(-5000, 5000).union(spark.createDataFrame([(-(1 << 63),), ((1 << 63) - 1,)], "id long"))
    spark_hashes = {r[0]: r[1] for r in probe.select("id", F.expr("hash(id)")).collect()}
    assert all(_spark_text._spark_hash(v) == h for v, h in spark_hashes.items())
    for parts in (1, 4, 7, 64):
        values = _spark_text._partition_values(parts)
        rows = [(values[t], t) for t in range(parts) for _ in range(3)]
        df = spark.createDataFrame(rows, "part long, want long").repartition(parts, "part")
        got = df.select("want", F.spark_partition_id().alias("got")).collect()
        assert all(r["want"] == r["got"] for r in got)


RETRY_JOB = """
import json, sys
from pyspark.sql import SparkSession
from simdedup import spark as sd
session = (SparkSession.builder.master("local[2,4]").config("spark.ui.enabled", "false")
           .config("spark.sql.shuffle.partitions", "4").getOrCreate())
kept, removed = sd.dedup(session.read.parquet(sys.argv[1]), ["text"], 0.5, "id", split=True)
lines = sd.dedup_lines(sd.read_lines(session, sys.argv[2]), ["text"], 0.5, "id")
print(json.dumps([[r["id"] for r in kept.collect()],
                  [[r["id"], str(r["duplicate_of"]), r["score"]] for r in removed.collect()],
                  [[r[0] for r in part.collect()] for part in lines]]))
"""


def test_retried_tasks_give_the_same_output(spark, tmp_path):
    """Every task of every stage fails on its first attempt (local[2,4] retries it): the
    result is the clean run's, row for row."""
    texts = sentences(900, seed=21) + sentences(80, seed=21)
    path = _write_parquet(tmp_path / "d.parquet", _rows(texts))
    clean = _spark(spark.read.parquet(str(path)), path)
    # JSON Lines with an id column: the ids travel from the sketch (stage 8, "names").
    jsonl = _lines_file(tmp_path, texts)
    clean_lines = [[r[0] for r in part.collect()] for part in sd.dedup_lines(sd.read_lines(spark, str(jsonl)), ["text"], 0.5, "id")]
    script = tmp_path / "job.py"
    script.write_text(RETRY_JOB)
    stages = "sketch,exact,pairs,blocks,texts,meet,decide,names"
    env = dict(os.environ, SIMDEDUP_SPARK_FAIL_FIRST=stages, PYSPARK_PYTHON=sys.executable)
    done = subprocess.run([sys.executable, str(script), str(path), str(jsonl)], env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "injected failure in stage names" in done.stderr
    assert done.stderr.count("injected failure in stage") >= 8
    kept, removed, lines = json.loads(done.stdout.splitlines()[-1])
    assert len(clean[1]) > 50
    assert kept == clean[0]
    assert {r[0]: (r[1], r[2]) for r in removed} == clean[1]
    assert len(clean_lines[1]) > 50 and '"duplicate_of":"r' in clean_lines[1][0]
    assert lines == clean_lines


RETRY_VECTOR_JOB = """
import json, sys
from pyspark.sql import SparkSession
from simdedup import spark as sd
session = (SparkSession.builder.master("local[2,4]").config("spark.ui.enabled", "false")
           .config("spark.sql.execution.arrow.maxRecordsPerBatch", "2000").getOrCreate())
kept, removed = sd.dedup(session.read.parquet(sys.argv[1]), embedding_column="emb", id_column="id", split=True)
print(json.dumps([[r["id"] for r in kept.collect()],
                  [[r["id"], r["duplicate_of"], r["score"]] for r in removed.collect()]]))
"""


def test_retried_vector_tasks_give_the_same_output(spark, tmp_path):
    """The embedding form with the band search: every task of its stages fails on its
    first attempt (local[2,4] retries it), and the result is the clean run's."""
    from conftest import clustered_vectors

    v = clustered_vectors(21000, 32, clusters=4000, noise=0.3, seed=32)
    v = np.concatenate([v, v[:15]])
    path = tmp_path / "v.parquet"
    pq.write_table(_vector_table(v), path)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "2000")
    try:
        stats = {}
        clean = _spark_vectors(spark.read.parquet(str(path)), stats=stats)
    finally:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "300")
    assert any("bands" in k for k in stats), stats
    script = tmp_path / "job.py"
    script.write_text(RETRY_VECTOR_JOB)
    stages = "vsketch,vexact,vblobs,vbands,vverify"
    env = dict(os.environ, SIMDEDUP_SPARK_FAIL_FIRST=stages, PYSPARK_PYTHON=sys.executable)
    done = subprocess.run([sys.executable, str(script), str(path)], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    for stage in stages.split(","):
        assert f"injected failure in stage {stage}" in done.stderr, stage
    kept, removed = json.loads(done.stdout.splitlines()[-1])
    assert len(clean[1]) > 1000
    assert kept == clean[0]
    assert {r[0]: (str(r[1]), r[2]) for r in removed} == clean[1]


def test_stage_records_stay_few(spark, tmp_path):
    """The stages move blobs, not rows: a few records per home and partition."""
    texts = sentences(3000, seed=22) + sentences(300, seed=22)
    path = _write_parquet(tmp_path / "d.parquet", _rows(texts))
    stats = {}
    sd.dedup(spark.read.parquet(str(path)), ["text"], 0.5, "id", partitions=4, stats=stats).collect()
    records = {name.split(" ")[0]: rows for name, (_, rows, _) in stats.items()}
    # One home (fewer than 16,384 rows): its band entries for each partition, its text
    # blob, a digest blob per partition and the input partition's row count; from each
    # digest partition, its copies and their rows for each partition (stage 2 passes the
    # row count on as well); at most one blob per partition from the candidates.
    assert records["1"] <= 4 + 1 + 4 + 1
    assert records["2"] <= 4 * (1 + 4) + 1
    assert all(records[s] <= 4 for s in ("3", "3b"))
    assert records["6"] > 100  # decisions are rows again



# JSON Lines left as text: `dedup_lines(read_lines(...))` against `simdedup dedup` of the
# same file, byte for byte.


def _part_bytes(directory):
    """The bytes of a Spark text output directory: its part files in name order."""
    return b"".join(p.read_bytes() for p in sorted(directory.glob("part-*")))


def _lines_file(tmp_path, texts):
    """JSON Lines with a CRLF line, blank lines, non-ASCII text, fields in varied order
    and no final newline."""
    out = []
    for i, t in enumerate(texts):
        row = {"id": f"r{i}", "text": t, "n": i} if i % 3 else {"n": i, "text": t, "id": f"r{i}"}
        out.append(json.dumps(row, ensure_ascii=i % 5 != 0))
        if i == 7:
            out[-1] += "\r"
        if i % 97 == 0:
            out.append("")
            out.append("  \t")
    path = tmp_path / "d.jsonl"
    path.write_bytes("\n".join(out).encode())
    return path


@pytest.mark.parametrize("id_column", [None, "id"])
def test_lines_are_the_local_runs_bytes(spark, cli, tmp_path, id_column):
    texts = sentences(900, seed=31) + sentences(60, seed=31)
    texts[5] = "déjà vu, naïve café: " + texts[5]
    path = _lines_file(tmp_path, texts)
    given = ["--id-column", id_column] if id_column else []
    cli("dedup", str(path), "--columns", "text", *given, "-o", str(tmp_path / "k.jsonl"), "--removed", str(tmp_path / "r.jsonl"))
    want = (tmp_path / "k.jsonl").read_bytes(), (tmp_path / "r.jsonl").read_bytes()
    assert want[1].count(b"\n") > 50
    size = os.path.getsize(path)
    for parts in (1, 3):
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(size // parts + 1))
        lines = sd.read_lines(spark, str(path))
        assert lines.rdd.getNumPartitions() == parts
        kept, removed = sd.dedup_lines(lines, ["text"], 0.5, id_column)
        sd.write_lines(kept, str(tmp_path / f"kept{parts}"))
        sd.write_lines(removed, str(tmp_path / f"removed{parts}"))
        assert _part_bytes(tmp_path / f"kept{parts}") == want[0]
        assert _part_bytes(tmp_path / f"removed{parts}") == want[1]
    spark.conf.unset("spark.sql.files.maxPartitionBytes")


def _comparable(page: str) -> str:
    """A report without its title, the command that made it and the run-time line."""
    import re

    page = re.sub(r"<title>.*?</title>", "", page)
    page = re.sub(r"<p class=\"sub\"><code>[^<]*</code>", "", page, count=1)
    return "\n".join(line for line in page.splitlines() if 'data-volatile="run-time"' not in line)


@pytest.mark.parametrize("id_column", [None, "id"])
def test_the_report_is_the_local_runs(spark, cli, tmp_path, id_column):
    """report=: the page of the Spark job is the command line's page on the same file,
    whatever the partitions, for JSON Lines left as text and for a DataFrame."""
    texts = sentences(900, seed=37) + sentences(60, seed=37)
    texts[7] = texts[7] + " <script>alert(1)</script>"
    path = _lines_file(tmp_path, texts)
    given = ["--id-column", id_column] if id_column else []
    cli("dedup", str(path), "--columns", "text", *given, "--report", str(tmp_path / "cli.html"))
    want = _comparable((tmp_path / "cli.html").read_text())
    assert "candidates" in want and 'data-removed="0"' not in want
    size = os.path.getsize(path)
    for parts in (1, 3):
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(size // parts + 1))
        page = tmp_path / f"lines{parts}.html"
        kept, removed = sd.dedup_lines(sd.read_lines(spark, str(path)), ["text"], 0.5, id_column, report=page)
        assert _comparable(page.read_text()) == want, f"{parts} partitions"
        if id_column is None:
            page = tmp_path / f"frame{parts}.html"
            sd.dedup(spark.read.json(str(path)), ["text"], 0.5, partitions=parts + 1, report=page)
            assert _comparable(page.read_text()) == want, f"DataFrame, {parts} partitions"
    spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert "<script>" not in page.read_text()


def test_first_rows_read_here_are_sparks(spark, tmp_path):
    """The first rows read from the file's head in the driver are the rows Spark's first
    partition starts with: blank lines out, CR kept, invalid UTF-8 kept as it is, a last
    line without its newline, and more lines than the first rows."""
    from pyspark.sql import functions as F

    from simdedup import _core

    head = b'{"text": "caf\xc3\xa9"}\r\n \t\n\n{"text": "bad \xff byte"}\n'
    body = b"".join(b'{"text": "row %d"}\n' % i for i in range(_core.FIRST_ROWS + 10))
    for name, data in (("few.jsonl", head + b'{"text": "last"}'), ("many.jsonl", head + body)):
        path = tmp_path / name
        path.write_bytes(data)
        lines = sd.read_lines(spark, str(path))
        rows = lines.where(~F.col("value").rlike("^[ \\t\\n\\f\\r]*$"))
        want = rows.select(F.col("value").cast("binary")).limit(_core.FIRST_ROWS).toArrow().column(0)
        got = sd._local_head(lines)
        assert got is not None and got.to_pylist() == want.to_pylist()
        assert sd._local_head(lines.where("value != ''")) is None


def test_lines_through_the_shell_entry(spark, cli, tmp_path):
    texts = sentences(500, seed=32) + sentences(40, seed=32)
    path = _lines_file(tmp_path, texts)
    cli("dedup", str(path), "--columns", "text", "--id-column", "id", "-t", "0.4", "-o", str(tmp_path / "k.jsonl"),
        "--removed", str(tmp_path / "r.jsonl"))
    code = sd.main([str(path), "--columns", "text", "--id-column", "id", "-t", "0.4",
                    "-o", str(tmp_path / "kept.jsonl.gz"), "--removed", str(tmp_path / "removed.jsonl")])
    assert code == 0
    import gzip

    kept = b"".join(gzip.decompress(p.read_bytes()) for p in sorted((tmp_path / "kept.jsonl.gz").glob("part-*")))
    assert kept == (tmp_path / "k.jsonl").read_bytes()
    assert _part_bytes(tmp_path / "removed.jsonl") == (tmp_path / "r.jsonl").read_bytes()


def test_bad_lines_are_named(spark, tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a b c d"}\n\n{"text": "e f g h"}\n{"id": 3}\n{"text": "x y z"}\n')
    lines = sd.read_lines(spark, str(path))
    # Row numbers count the rows from 0, blank lines not being rows.
    with pytest.raises(Exception, match="row 2: no column 'text'"):
        sd.dedup_lines(lines, ["text"], 0.5)[1].collect()
    path.write_text('{"text": "a b c d"}\n{"text": "e f g h"\n')
    with pytest.raises(Exception, match="row 1: "):
        sd.dedup_lines(sd.read_lines(spark, str(path)), ["text"], 0.5)[1].collect()
    with pytest.raises(ValueError, match="one string column"):
        sd.dedup_lines(spark.read.json(str(tmp_path / "d.jsonl")), ["text"])
    assert sd.main([str(path), "--columns", "text", "-o", str(tmp_path / "out.jsonl")]) == 2
    assert not (tmp_path / "out.jsonl").exists()
    # Past the first rows (read for the shape), in four partitions, two of them with a bad
    # row: the sketch reports them, the first in input order is named.
    good = "".join(json.dumps({"text": f"row {i} of the file"}) + "\n" for i in range(5000))
    path.write_text(good + '{"id": 1}\n' + good + '{"text": 5}\n')
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(os.path.getsize(path) // 4 + 1))
    try:
        lines = sd.read_lines(spark, str(path))
        assert lines.rdd.getNumPartitions() == 4
        with pytest.raises(ValueError, match="^row 5000: no column 'text'"):
            sd.dedup_lines(lines, ["text"], 0.5)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")

@pytest.mark.parametrize("id_column", [None, "id"])
def test_skipped_bad_rows_are_the_local_runs(spark, cli, tmp_path, id_column):
    """skip_bad_rows: each bad row is named and left out of both outputs, the rest decided
    as the command line's --skip-bad-rows decides it, byte for byte (JSON Lines), in 1 and
    3 partitions; the shell entry names them on stderr and exits 2."""
    texts = sentences(900, seed=41) + sentences(60, seed=41)
    path = _lines_file(tmp_path, texts)
    lines = path.read_text().split("\n")
    # Bad rows: one early (in the first rows read for the shape), others later, one a
    # near copy's original (its copies are then decided against the rest).
    for at, bad in ((3, '{"id": "b3"}'), (400, '{"text": 7, "id": "b400"}'), (901, "not json")):
        lines[at] = bad
    path.write_text("\n".join(lines))
    given = ["--id-column", id_column] if id_column else []
    out = tmp_path / "k.jsonl", tmp_path / "r.jsonl"
    from conftest import _binary

    run = subprocess.run(
        [str(_binary()), "dedup", str(path), "--columns", "text", *given, "--skip-bad-rows",
         "-o", str(out[0]), "--removed", str(out[1])], capture_output=True, text=True,
    )
    assert run.returncode == 2 and "3 skipped" in run.stderr, run.stderr
    want = out[0].read_bytes(), out[1].read_bytes()
    size = os.path.getsize(path)
    for parts in (1, 3):
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(size // parts + 1))
        with pytest.warns(sd.BadRowWarning) as caught:
            kept, removed = sd.dedup_lines(sd.read_lines(spark, str(path)), ["text"], 0.5, id_column, skip_bad_rows=True)
        assert len(caught) == 3 and all(str(w.message).startswith("row ") for w in caught)
        sd.write_lines(kept, str(tmp_path / f"kept{parts}"))
        sd.write_lines(removed, str(tmp_path / f"removed{parts}"))
        assert _part_bytes(tmp_path / f"kept{parts}") == want[0], f"{parts} partitions"
        assert _part_bytes(tmp_path / f"removed{parts}") == want[1], f"{parts} partitions"
    spark.conf.unset("spark.sql.files.maxPartitionBytes")
    code = sd.main([str(path), "--columns", "text", "--skip-bad-rows", "-o", str(tmp_path / "m.jsonl")])
    assert code == 2 and _part_bytes(tmp_path / "m.jsonl") == want[0]


def test_skipped_null_rows_of_a_dataframe(spark, cli, tmp_path):
    """skip_bad_rows on a DataFrame: rows with a null text column are left out of the
    result; the others' decisions are the command line's on the same Parquet file."""
    rows = _rows(sentences(600, seed=43) + sentences(40, seed=43))
    for at in (0, 5, 333):
        rows[at]["text"] = None
    path = _write_parquet(tmp_path / "d.parquet", rows)
    from conftest import _binary

    def skipping(*args):  # the command line exits 2 when it skips rows
        done = subprocess.run([str(_binary()), *args], capture_output=True, text=True)
        assert done.returncode == 2 and "3 skipped" in done.stderr, done.stderr

    expected = _local(skipping, path, tmp_path, "--skip-bad-rows")
    with pytest.warns(sd.BadRowWarning, match="column 'text' is missing or not text"):
        got = _spark(spark.read.parquet(str(path)), path, skip_bad_rows=True)
    assert len(expected[0]) + len(expected[1]) == len(rows) - 3
    assert got == expected
    with pytest.raises(ValueError, match="row 0: column 'text'"):
        sd.dedup(spark.read.parquet(str(path)), ["text"], 0.5)


# Embeddings: `dedup(df, embedding_column=...)` against `simdedup dedup DATA --columns text
# --embedding-column emb` (the exact search below 20,000 rows).


def _vector_table(vectors, ids=None):
    """id, text, emb (list<float32>) per row."""
    n, dim = vectors.shape
    offsets = pa.array(np.arange(0, n * dim + 1, dim, dtype=np.int32))
    emb = pa.ListArray.from_arrays(offsets, pa.array(np.ascontiguousarray(vectors, np.float32).ravel()))
    ids = list(range(n)) if ids is None else ids
    return pa.table({"id": ids, "text": [f"row {i}" for i in range(n)], "emb": emb})


def _local_vectors(cli, path, tmp_path):
    """The command line's kept ids and removed {id: (duplicate_of, score)}; outputs in the
    input's format (JSON numbers and Parquet doubles keep every bit)."""
    if str(path).endswith(".parquet"):
        return _local(cli, path, tmp_path, "--embedding-column", "emb")
    kept, removed = tmp_path / "cli_kept.jsonl", tmp_path / "cli_removed.jsonl"
    cli("dedup", str(path), "--columns", "text", "--embedding-column", "emb", "--id-column", "id",
        "-o", str(kept), "--removed", str(removed))
    rows = lambda p: [json.loads(line) for line in p.read_text().splitlines()]  # noqa: E731
    # JSON outputs carry the score to 4 decimals.
    return [r["id"] for r in rows(kept)], {r["id"]: (str(r["duplicate_of"]), r["score"]) for r in rows(removed)}


def _spark_vectors(df, **kw):
    """As _local_vectors, from one collect of the job's output."""
    out = sd.dedup(df, embedding_column="emb", id_column="id", **kw).collect()
    kept = [r["id"] for r in out if r["duplicate_of"] is None]
    return kept, {r["id"]: (str(r["duplicate_of"]), r["score"]) for r in out if r["duplicate_of"] is not None}


def _clustered(n, dim, seed):
    from conftest import clustered_vectors

    v = clustered_vectors(n, dim, clusters=40, noise=1.0, seed=seed)
    rng = np.random.default_rng(seed)
    copies = rng.integers(0, n, size=30)
    zero = np.zeros((2, dim), np.float32)
    return np.concatenate([v, v[copies], zero, v[copies[:5]]])


def test_vectors_equal_the_local_run(spark, cli, tmp_path):
    v = _clustered(2000, 48, seed=21)
    path = tmp_path / "v.parquet"
    pq.write_table(_vector_table(v), path)
    expected = _local_vectors(cli, path, tmp_path)
    got = _spark_vectors(spark.read.parquet(str(path)))
    scores = [s for _, s in expected[1].values()]
    assert len(expected[1]) > 200 and min(scores) < 0.95 and 1.0 in scores
    assert got[0] == expected[0]
    assert got[1] == expected[1]  # ids, duplicate_of and cosines, bit for bit


def test_vector_report_is_the_local_runs(spark, cli, tmp_path):
    """report= with embedding_column: the command line's page on the same rows (texts of
    ``columns`` shown), also with more stage partitions than components (empty ones)."""
    v = _clustered(2000, 48, seed=23)
    path = tmp_path / "v.parquet"
    pq.write_table(_vector_table(v), path)
    cli("dedup", str(path), "--columns", "text", "--embedding-column", "emb", "--report", str(tmp_path / "cli.html"))
    want = _comparable((tmp_path / "cli.html").read_text())
    assert "row 1" in want and "cosine" in want
    for parts in (4, 64):
        page = tmp_path / f"spark{parts}.html"
        sd.dedup(spark.read.parquet(str(path)), ["text"], embedding_column="emb", partitions=parts, report=page)
        assert _comparable(page.read_text()) == want, f"{parts} partitions"


def test_vector_partition_invariance(spark, cli, tmp_path):
    """float64 arrays (JSON) in 1, 2 and 7 partitions and a rerun: the centring mean is an
    exact sum and the band-free search covers every pair within the radius, so the
    partitioning changes nothing; exact copies and zero vectors included."""
    v = _clustered(600, 32, seed=22)
    path = tmp_path / "v.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": "t", "emb": [float(x) for x in row]}) + "\n" for i, row in enumerate(v)))
    size = os.path.getsize(path)
    results = []
    for parts in (1, 2, 7):
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(size // parts + 1))
        df = spark.read.json(str(path))
        if parts == 1:
            df = df.coalesce(1)
        assert df.rdd.getNumPartitions() == parts
        results.append(_spark_vectors(df, partitions=2))
    spark.conf.unset("spark.sql.files.maxPartitionBytes")
    results.append(_spark_vectors(spark.read.json(str(path)), partitions=2))  # a rerun
    assert len(results[0][1]) > 50
    assert all(r == results[0] for r in results)
    kept, removed = _local_vectors(cli, path, tmp_path)
    assert results[0][0] == kept
    assert {k: (d, round(s, 4)) for k, (d, s) in results[0][1].items()} == removed


def test_vectors_without_duplicates_and_bad_rows(spark, cli, tmp_path):
    v = np.random.default_rng(23).normal(size=(300, 32)).astype(np.float32)
    path = tmp_path / "v.parquet"
    pq.write_table(_vector_table(v), path)
    expected = _local_vectors(cli, path, tmp_path)
    assert expected == (list(range(300)), {})
    code = sd.main([str(path), "--embedding-column", "emb", "--id-column", "id", "-o", str(tmp_path / "kept.parquet")])
    assert code == 0
    assert sorted(r["id"] for r in spark.read.parquet(str(tmp_path / "kept.parquet")).collect()) == expected[0]

    bad = v[:6].copy()
    bad[3, 5] = np.nan
    pq.write_table(_vector_table(bad, ids=[f"r{i}" for i in range(6)]), tmp_path / "nan.parquet")
    df = spark.read.parquet(str(tmp_path / "nan.parquet"))
    with pytest.raises(Exception, match=r"row 3 \(id r3\): column 'emb': the embedding holds NaN"):
        sd.dedup(df, embedding_column="emb", id_column="id").collect()
    rows = [{"id": 0, "emb": [1.0, 2.0, 3.0]}, {"id": 1, "emb": [1.0, 2.0]}, {"id": 2, "emb": None}]
    short = spark.createDataFrame(rows[:2], "id long, emb array<double>")
    with pytest.raises(Exception, match="row 1: column 'emb': the embedding has 2 values, the first row's has 3"):
        sd.dedup(short, embedding_column="emb").collect()
    null = spark.createDataFrame([rows[0], rows[2]], "id long, emb array<double>")
    with pytest.raises(Exception, match=r"row 1 \(id 2\): column 'emb' is null"):
        sd.dedup(null, embedding_column="emb", id_column="id").collect()
    with pytest.raises(ValueError, match="column 'id' holds bigint, not a list of floats"):
        sd.dedup(null, embedding_column="id")
    assert sd.main([str(tmp_path / "nan.parquet"), "--embedding-column", "emb"]) == 2


def test_vectors_with_the_band_search_equal_the_local_run(spark, cli, tmp_path):
    """Above 20,000 usable rows in tight clusters the local cost model picks the band search;
    the job reproduces its choice (the same sampled background, shape and band seed) and its
    band candidates, so the results agree bit for bit. Zero rows (not usable: they shift the
    sampled positions) and exact copies included."""
    from conftest import _binary, clustered_vectors

    v = clustered_vectors(22000, 32, clusters=4000, noise=0.3, seed=31)
    rng = np.random.default_rng(31)
    zero = np.zeros((1, 32), np.float32)
    v = np.concatenate([zero, v[:7000], zero, zero, v[7000:], v[rng.integers(0, 22000, size=20)]])
    path = tmp_path / "v.parquet"
    pq.write_table(_vector_table(v), path)
    done = subprocess.run(
        [str(_binary()), "dedup", str(path), "--columns", "text", "--embedding-column", "emb", "--id-column", "id",
         "-o", str(tmp_path / "k.parquet"), "--removed", str(tmp_path / "r.parquet")],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "band search" in done.stderr
    expected = pq.read_table(tmp_path / "k.parquet").column("id").to_pylist(), {
        x["id"]: (x["duplicate_of"], x["score"]) for x in pq.read_table(tmp_path / "r.parquet").to_pylist()
    }
    stats = {}
    # Larger Arrow batches than the other tests' (1.5 million band entries), still split
    # within partitions, so runs of equal buckets span batches.
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "2000")
    try:
        got = _spark_vectors(spark.read.parquet(str(path)), stats=stats)
    finally:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "300")
    assert any("bands" in k for k in stats), stats
    scores = [s for _, s in expected[1].values()]
    assert len(expected[1]) > 10000 and min(scores) < 0.92 and 1.0 in scores
    assert got[0] == expected[0]
    assert got[1] == expected[1]  # ids, duplicate_of and cosines, bit for bit
