"""The deduplication of ``simdedup dedup DATASET --columns ...`` as a Spark job, with the same
decisions as the local run. Each stage is one ``simdedup._core`` call on an Arrow batch::

    import simdedup.spark
    out = simdedup.spark.dedup(df, columns=["text"], threshold=0.5, id_column="id")
    kept, removed = simdedup.spark.dedup(df, columns=["text"], split=True)
    out = simdedup.spark.dedup(df, embedding_column="emb", threshold=0.9, id_column="id")

or from a shell::

    python -m simdedup.spark in.jsonl --columns question,context --master 'local[2]' -o kept.parquet
    python -m simdedup.spark in.parquet --embedding-column emb -o kept.parquet --removed removed.parquet
    spark-submit "$(python -c 'import simdedup.spark as s; print(s.__file__)')" in.parquet --columns text -o kept.parquet

Text stages (docs/spark.md; the wiring is ``_spark_text``): Spark moves a few large byte
blobs per task, and each stage is one ``_core.part_*`` call of
``simdedup::jobs::partitioned``: sketch (each block of rows' band entries by bucket
partition, its texts, digest entries), exact duplicates by digest, candidate pairs of
each bucket (the copies left out), texts (pairs verified where both rows live, else both
texts sent to a meeting partition), meet, decisions (greedy keep-first in one task), ids,
then every row with ``duplicate_of`` and ``score``.

With ``embedding_column`` the stages are those of the local vector search, over one blob
per Arrow batch (``_spark_vectors``): sketch (checked vectors, digest of their float32
bytes, norms; kept on disk), centring (the exact mean of the unit rows, the low quantile of
the centred norms, bar and radius), the local cost model's choice of search (from 20,000
usable rows, on the same 1,000 sampled rows), exact duplicates, candidates (exact search:
128-bit fingerprints of the representatives, broadcast, every pair within the radius; band
search: each task runs the local band search over its share of the bands), verify (exact
cosine), then decisions over connected components and every row with its fate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.parse
import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
from pyspark import SparkConf, StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DoubleType, FloatType

from simdedup import FIELD_SEPARATOR, _core
from simdedup import _spark_text as _text
from simdedup import _spark_vectors as _vec
from simdedup.frames import check_report_path, write_run_report

__all__ = ["dedup", "dedup_lines", "read", "read_lines", "write", "components", "main"]

ROW = _text.ROW
# Removed rows up to which the decisions are broadcast to the rows (24 bytes each on the
# driver); above, they are joined by a shuffle and the rows sorted back into input order.
BROADCAST_ROWS = 1 << 21
# What `python -m simdedup.spark` sets on the session it builds, where the submitter did not:
# the stages' largest blobs are packed already (zstd texts, hashes; lz4 takes 6% off them),
# and the 10M-row run's tasks spent 29 s writing shuffle blocks uncompressed, 37 s with lz4.
SESSION_SETTINGS = {"spark.shuffle.compress": "false"}
# Rows per task of the vector stages' default partitions (a band task holds every
# representative's fingerprint, 88 bytes a row, whatever the partitions).
VECTOR_PARTITION_ROWS = 250_000
# Bytes of the vector band search's fingerprint (the local run's width).
FP_BYTES = _core.BAND_FINGERPRINT_BYTES


def _stage(stats: dict | None, name: str, df: DataFrame) -> DataFrame:
    """With ``stats``, materialises ``df`` (cached) and records its wall time and rows."""
    if stats is None:
        return df
    start = time.perf_counter()
    df = df.persist(StorageLevel.MEMORY_AND_DISK)
    rows = df.count()
    stats[name] = (time.perf_counter() - start, rows)
    return df


def _assign(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Stage 5 over one partition holding whole components: greedy keep-first."""
    batches = list(batches)
    if not batches:  # an empty partition (Spark may give it no batch at all)
        return
    table = pa.Table.from_batches(batches)
    if table.num_rows == 0:
        return
    col = lambda name: table.column(name).to_numpy()  # noqa: E731
    removed, kept, score = _core.assign_pairs(col("a"), col("b"), col("score"))
    yield pa.RecordBatch.from_arrays([pa.array(removed), pa.array(kept), pa.array(score)], names=["row", "kept", "score"])


def components(edges: DataFrame, max_rounds: int = 100) -> tuple[DataFrame, int]:
    """Connected components of the undirected ``edges`` (columns ``a``, ``b``): a DataFrame
    of (``node``, ``comp``), ``comp`` the smallest node of the component, for every node in
    an edge, and the number of rounds taken. Alternates large-star and small-star
    (Kiveris et al. 2014) until the edges form stars (each node but the root points at the
    root, the smallest), checkpointing each round so the plan stays short."""
    e = edges.select(F.least("a", "b").alias("lo"), F.greatest("a", "b").alias("hi")).where("lo != hi").distinct()
    rounds = 0
    while True:
        rounds += 1
        # Large-star: every neighbour larger than u points at the smallest of u's closed
        # neighbourhood.
        both = e.select(F.col("lo").alias("u"), F.col("hi").alias("v")).unionByName(
            e.select(F.col("hi").alias("u"), F.col("lo").alias("v"))
        )
        m = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
        large = both.join(m, "u").where("v > u").select(F.col("v").alias("hi"), F.col("m").alias("lo"))
        # Small-star: u and its smaller neighbours point at the smallest of them.
        m = large.groupBy("hi").agg(F.min("lo").alias("m"))
        joined = large.join(m, "hi")
        small = (
            joined.select(F.col("lo").alias("x"), "m")
            .unionByName(joined.select(F.col("hi").alias("x"), "m"))
            .where("x != m")
            .select(F.greatest("x", "m").alias("hi"), F.least("x", "m").alias("lo"))
            .distinct()
        )
        e = small.localCheckpoint()
        # Stars: every child has one parent, and no parent is a child.
        parents = e.select(F.col("lo").alias("hi")).distinct()
        children = e.select("hi").distinct().count()
        if (children == e.count() and parents.join(e, "hi").limit(1).count() == 0) or rounds >= max_rounds:
            break
    nodes = e.select(F.col("hi").alias("node"), F.col("lo").alias("comp")).unionByName(
        e.select(F.col("lo").alias("node"), F.col("lo").alias("comp"))
    )
    return nodes.distinct(), rounds


def dedup(
    df: DataFrame,
    columns: Sequence[str] | None = None,
    threshold: float | None = None,
    id_column: str | None = None,
    *,
    embedding_column: str | None = None,
    split: bool = False,
    recall: float = 0.99,
    shingles: str = "word:3",
    bits: int = 128,
    shape_rows: int | None = None,
    seed: int | None = None,
    center: bool = True,
    partitions: int | None = None,
    stats: dict | None = None,
    report: str | os.PathLike | None = None,
    skip_bad_rows: bool = False,
):
    """Deduplicates the rows of ``df`` on the text ``columns`` as ``simdedup dedup`` does:
    exact Jaccard of word 3-shingles (the smallest per column) at ``threshold`` (0.5 by
    default), greedy keep-first in the DataFrame's row order. Returns ``df`` with
    ``duplicate_of`` (the kept row's ``id_column`` value, else its row number from 0; null
    when kept) and ``score`` added, in input order; with ``split``, the kept rows (original
    columns) and the removed ones. The band shape is solved as the command line solves
    it, for ``shape_rows`` rows (default: the row count; the command line estimates it
    from the file's size) and the background of the first rows. ``bits`` is the command
    line's ``--bits`` (128 by default), which the band keys depend on (the shingle hashes
    are CityHash64 or CityHash128). With a ``stats`` dict, each stage is materialised in
    turn and its (seconds, rows) recorded under its name.

    With ``embedding_column`` (an array of floats per row) the rows are deduplicated by
    cosine at ``threshold`` (0.9 by default) as ``simdedup dedup DATA --columns ...
    --embedding-column COL`` does (``columns`` are then not needed); ``seed`` and
    ``center`` are the command line's ``--seed`` and ``--no-center``, ``recall`` its
    ``--recall`` (the band search's, for both).

    ``partitions`` sets the partitions of the stages (by default about 250,000 rows a
    partition, a multiple of the cores and at least twice them; the vector band search
    runs one task a core whatever it is).

    ``report="run.html"`` also writes the command line's HTML report of the run on the
    driver (a local path): the verified pairs come to the driver for it (24 bytes each, and
    17 bytes a row), and only the texts (of ``columns``; with ``embedding_column``, when
    given) and ids of the rows it shows are fetched.

    A row with a null text column stops the job with a ``ValueError`` naming it (the
    first in input order); with ``skip_bad_rows`` (text columns), as the command line's
    ``--skip-bad-rows``, each such row is left out of the result and named by a
    :class:`BadRowWarning` (``row N: message``), and the rest is decided as without it."""
    if embedding_column is not None:
        return _dedup_vectors(
            df,
            embedding_column,
            0.9 if threshold is None else threshold,
            id_column,
            split=split,
            recall=recall,
            seed=seed,
            center=center,
            partitions=partitions,
            stats=stats,
            report=None if report is None else check_report_path(report),
            columns=list(columns or []),
        )
    if not columns:
        raise ValueError("name the text columns (columns=[...]) or an embedding_column")
    threshold = 0.5 if threshold is None else threshold
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold {threshold} is not between 0 and 1")
    columns = list(columns)
    _check_columns(df, columns + ([id_column] if id_column else []))
    for c in columns:
        kind = df.schema[c].dataType.simpleString()
        if kind != "string":
            raise ValueError(f"column '{c}' holds {kind}, not text")
    start = time.perf_counter()
    if report is not None:
        report = check_report_path(report)
    # The row count: a scan that parses no field.
    n = shape_rows if shape_rows is not None else df.count()
    numbered = _numbered(df)
    # The shape from the background of the first rows, as the command line solves it
    # (a limit takes the first partitions' rows, in order).
    first = df.select(*columns).limit(_core.FIRST_ROWS).collect()
    first_columns = [[r[c] for r in first] for c in columns]
    shape = _core.band_shape(threshold, int(n), recall, first_columns, shingles)
    if stats is not None:
        stats[f"0 read, count, shape {shape[0]}x{shape[1]}"] = (time.perf_counter() - start, n, None)
    decisions, removed, run, skipped = _text.dedup_texts(
        numbered, columns, threshold, shape, rows=n, parts=partitions, shingles=shingles, bits=bits, stats=stats,
        report=report is not None, skip_bad=skip_bad_rows,
    )
    _warn_skipped(skipped)
    if report is not None:

        def fields(ids: list[int], wanted: list[str]) -> dict[int, list]:
            found = numbered.where(F.col(_text.ROW).isin(ids)).select(_text.ROW, *wanted).collect()
            return {r[0]: list(r[1:]) for r in found}

        _write_report(
            report, run, threshold, shape, f"simdedup.spark.dedup(columns={columns})", start,
            texts=lambda ids: {k: FIELD_SEPARATOR.join(v or "" for v in vs) for k, vs in fields(ids, columns).items()},
            names=None if id_column is None else (lambda ids: {k: vs[0] for k, vs in fields(ids, [id_column]).items()}),
            separator=FIELD_SEPARATOR if len(columns) > 1 else None,
        )
    out = _text.attach_decisions(df, numbered, decisions, removed, id_column, BROADCAST_ROWS, len(skipped))
    return _split(df, out) if split else out


def read_lines(spark: SparkSession, path: str) -> DataFrame:
    """A JSON Lines file (optionally gzip) or directory of them as its lines, unparsed: a
    DataFrame of one string column ``value``, each line without its ``\\n`` (a ``\\r``
    kept), for :func:`dedup_lines`."""
    return spark.read.option("lineSep", "\n").text(path)


def dedup_lines(
    lines: DataFrame,
    columns: Sequence[str],
    threshold: float | None = None,
    id_column: str | None = None,
    *,
    recall: float = 0.99,
    shingles: str = "word:3",
    bits: int = 128,
    shape_rows: int | None = None,
    partitions: int | None = None,
    stats: dict | None = None,
    report: str | os.PathLike | None = None,
    skip_bad_rows: bool = False,
) -> tuple[DataFrame, DataFrame]:
    """:func:`dedup` of JSON Lines left as text (``lines``: one string column, a JSON object
    a line, as :func:`read_lines` gives them): the rows' fields are read by the command
    line's own reader in the sketch, so Spark neither infers a schema nor parses JSON.
    Returns the kept lines and the removed lines (with ``duplicate_of`` and ``score``
    added), each one string column ``value`` in input order: written with
    ``.write.text``, the part files hold, in order, the bytes of ``simdedup dedup``'s two
    files. The band shape is the command line's, for the rows it estimates from the input
    files' size and the first rows (``shape_rows`` overrides it). Blank lines are not rows;
    a bad line raises ``ValueError``, named by its row number. ``report`` and
    ``skip_bad_rows`` are :func:`dedup`'s (a skipped line is in neither output)."""
    threshold = 0.5 if threshold is None else threshold
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold {threshold} is not between 0 and 1")
    if not columns:
        raise ValueError("name the text columns (columns=[...])")
    columns = list(columns)
    if len(lines.columns) != 1 or lines.schema[0].dataType.simpleString() != "string":
        raise ValueError("dedup_lines takes a DataFrame of one string column (spark.read.text)")
    line = lines.columns[0]
    start = time.perf_counter()
    if report is not None:
        report = check_report_path(report)
    # Blank lines are not rows (as the command line reads the file).
    rows = lines.where(~F.col(line).rlike("^[ \\t\\n\\f\\r]*$"))
    numbered = _numbered(rows)
    # The shape from the first rows and the input's size, as the command line estimates
    # the row count and solves it (a limit takes the first partitions' rows, in order).
    first = _local_head(lines)
    if first is None:
        first = rows.select(F.col(line).cast("binary")).limit(_core.FIRST_ROWS).toArrow().column(0)
    n = shape_rows if shape_rows is not None else _estimate_rows(lines, rows, first)
    texts, _ = _core.jsonl_fields(first, columns, skip_bad=skip_bad_rows)
    shape = _core.band_shape(threshold, int(n), recall, None, shingles, texts)
    if stats is not None:
        stats[f"0 first rows, shape {shape[0]}x{shape[1]}"] = (time.perf_counter() - start, n, None)
    decisions, removed, run, skipped = _text.dedup_texts(
        numbered, columns, threshold, shape, rows=n, parts=partitions, shingles=shingles, bits=bits, stats=stats,
        lines=line, id_column=id_column, report=report is not None, skip_bad=skip_bad_rows,
    )
    _warn_skipped(skipped)
    if report is not None:

        def fields(ids: list[int]) -> dict[int, tuple]:
            found = numbered.where(F.col(_text.ROW).isin(ids)).select(_text.ROW, F.col(line).cast("binary")).toArrow()
            texts, names = _core.jsonl_fields(found.column(1), columns, id_column)
            return dict(zip(found.column(0).to_pylist(), zip(texts, names)))

        _write_report(
            report, run, threshold, shape, f"simdedup.spark.dedup_lines(columns={columns})", start,
            texts=lambda ids: {k: t for k, (t, _) in fields(ids).items()},
            names=None if id_column is None else (lambda ids: {k: _id_text(i) for k, (_, i) in fields(ids).items()}),
            separator=FIELD_SEPARATOR if len(columns) > 1 else None,
        )
    return _text.attach_lines(numbered, decisions, removed, line, id_column, BROADCAST_ROWS, len(skipped))


class BadRowWarning(UserWarning):
    """A row left out by ``skip_bad_rows``; the message names it (``row N: ...``)."""


def _warn_skipped(messages: list[str]) -> None:
    for message in messages:
        warnings.warn(BadRowWarning(message), stacklevel=3)


def _id_text(value: str | None) -> str:
    """An id as the command line names a row by it: a JSON string's text, else the JSON."""
    if value is None:
        return ""
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed if isinstance(parsed, str) else value


def _write_report(path, run, threshold, shape, title, started, *, texts, names, separator) -> None:
    """The report of a text run (``run``: :func:`_text._run`'s), with the texts and names
    of the rows it shows fetched from the job's rows (``texts(ids)``, ``names(ids)``: row
    id to value)."""
    number = _text._numbering(run.pop("offsets"))
    rows, bands = shape  # (rows, bands), as _core.band_shape gives it
    run["method"] = f"from {bands} bands of {rows} (recall {1 - (1 - threshold**rows) ** bands:.3f} at J {threshold})"
    run["shape"] = (bands, rows)

    def by_number(fetch):
        def get(numbers: list[int]) -> list:
            ids = number.rows(numbers)
            found = fetch(ids) if ids else {}
            return [found.get(i) for i in ids]

        return get

    write_run_report(
        path, run, title=title, similarity="Jaccard", threshold=threshold,
        text_of=by_number(texts), name_of=None if names is None else by_number(names),
        separator=separator, started=started,
    )


# Blank lines, as ``dedup_lines`` leaves them out.
BLANK = re.compile(rb"[ \t\n\f\r]*")


def _local_head(lines: DataFrame) -> pa.Array | None:
    """The first ``FIRST_ROWS`` rows of ``lines`` (non-blank lines, each without its ``\\n``)
    read here from the head of its file, without a Spark job, when ``lines`` is one
    uncompressed local file read whole (as :func:`read_lines` gives it): the rows the
    job's first partition starts with, and the command line's first rows. Else None."""
    names = lines.inputFiles()
    if len(names) != 1 or names[0].lower().endswith(".gz"):
        return None
    url = urllib.parse.urlparse(names[0])
    if url.scheme != "file" or lines._jdf.queryExecution().analyzed().getClass().getSimpleName() != "LogicalRelation":
        return None
    out: list[bytes] = []
    rest = b""
    with open(urllib.parse.unquote(url.path), "rb") as f:
        while len(out) < _core.FIRST_ROWS:
            chunk = f.read(1 << 20)
            if not chunk:
                out.append(rest)
                break
            *done, rest = (rest + chunk).split(b"\n")
            out.extend(done)
    out = [x for x in out if not BLANK.fullmatch(x)]
    return pa.array(out[: _core.FIRST_ROWS], pa.binary())


# Bytes read from the end of a file to tell whether its last row ends with a newline.
TAIL_BYTES = 1 << 16


def _estimate_rows(lines: DataFrame, rows: DataFrame, first) -> int:
    """The rows the command line estimates the files of ``lines`` hold, from their sizes
    (Hadoop's file system) and the ``first`` rows (``_core.estimate_rows``); without files,
    the count of ``rows``."""
    names = lines.inputFiles()
    if not names:
        return rows.count()
    gateway = lines.sparkSession.sparkContext._gateway
    conf = lines.sparkSession._jsc.hadoopConfiguration()
    files, tail = [], None
    for name in names:
        path = gateway.jvm.org.apache.hadoop.fs.Path(name)
        fs = path.getFileSystem(conf)
        size = fs.getFileStatus(path).getLen()
        files.append((size, name.lower().endswith(".gz")))
        if len(names) == 1 and len(first) < _core.FIRST_ROWS and not files[-1][1] and size:
            # Every row is among the first: whether the last has its newline counts.
            k = min(size, TAIL_BYTES)
            buf = gateway.new_array(gateway.jvm.byte, k)
            stream = fs.open(path)
            try:
                stream.readFully(size - k, buf)
            finally:
                stream.close()
            tail = bytes(gateway.jvm.java.util.Arrays.copyOf(buf, k))
    return _core.estimate_rows(files, first, tail)


def _numbered(df: DataFrame) -> DataFrame:
    """``df`` with ROW, its ``monotonically_increasing_id``. The rows are read more than once
    (sketch, output); a plan without a shuffle (files read, narrow steps) gives every row
    the same id each time, any other is kept (on disk, the heap stays for the stages) as the
    sketch first reads it, so that its ids are computed once."""
    numbered = df.withColumn(ROW, F.monotonically_increasing_id())
    if "Exchange" in df._jdf.queryExecution().executedPlan().toString():
        numbered = numbered.persist(StorageLevel.DISK_ONLY)
    return numbered


def _check_columns(df: DataFrame, names: Sequence[str]) -> None:
    for c in names:
        if c not in df.columns:
            raise ValueError(f"no column '{c}' (the columns are {', '.join(df.columns)})")


def _dedup_vectors(
    df: DataFrame,
    column: str,
    threshold: float,
    id_column: str | None,
    *,
    split: bool,
    recall: float,
    seed: int | None,
    center: bool,
    partitions: int | None,
    stats: dict | None,
    report: str | None = None,
    columns: Sequence[str] = (),
):
    """``dedup(df, embedding_column=...)``: the local run's ``ops::semantic::dedup_vectors``
    with the search its cost model chooses, exact or bands (docs/spark.md: embeddings)."""
    started = time.perf_counter()
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold {threshold} is not a cosine between -1 and 1")
    _check_columns(df, [column] + ([id_column] if id_column else []))
    kind = df.schema[column].dataType
    if not isinstance(kind, ArrayType) or not isinstance(kind.elementType, (FloatType, DoubleType)):
        raise ValueError(f"column '{column}' holds {kind.simpleString()}, not a list of floats")
    seed = _core.DEFAULT_SEED if seed is None else int(seed)
    spark = df.sparkSession
    cores = spark.sparkContext.defaultParallelism
    numbered = _numbered(df)
    start = time.perf_counter()
    pids, offsets, n = _vec.row_offsets(numbered)
    parts = partitions or cores * max(2, -(-n // (VECTOR_PARTITION_ROWS * cores)))
    if n == 0:
        out = numbered.select(*df.columns, F.lit(None).alias("duplicate_of"), F.lit(None).cast("double").alias("score"))
        return _split(df, out) if split else out
    # Every vector must have the first row's length, as the command line reads them.
    first = numbered.select(F.size(column)).limit(1).collect()
    dim = first[0][0]
    if dim == 0:
        raise ValueError(f"row 0: column '{column}': the embedding is empty")
    if dim is None or dim < 0:
        dim = 1  # a null first vector: the sketch names row 0
    if stats is not None:
        stats["0 row numbers"] = (time.perf_counter() - start, n)

    # 1. Sketch: checked rows, digest of the float32 bytes, norm, the vector as float32,
    # one blob per batch, kept on disk; the exact partial sums of the unit rows beside.
    start = time.perf_counter()
    sk = _vec.sketch(numbered, column, id_column, dim, pids, offsets)
    firsts, usable_counts, mean = _vec.summary(sk, dim)
    usable = int(usable_counts.sum())
    if stats is not None:
        stats["1 sketch"] = (time.perf_counter() - start, n)
    # Centring: the low quantile of the centred norms, the bar and the radius, as the local
    # run computes them; from band_rows usable rows the local cost model may pick the band
    # search, from a background of sampled rows (collected in the same pass).
    start = time.perf_counter()
    index, band_rows = _core.vector_low_index(usable)
    positions = _core.vector_sample_positions(usable) if usable >= band_rows else []
    sample = _vec.sample_ranks(firsts, usable_counts, positions)
    low, shape = None, None
    if (center and usable) or positions:
        norms, values, sample_norms = _vec.norms_and_sample(sk, dim, mean, center, sample)
        if center and usable:
            low = float(np.partition(norms, index)[index])
    bar, low_norm, radius = _core.vector_plan(threshold, low, dim, center)
    if positions:
        shape = _core.vector_search_plan(
            usable, values, sample_norms, dim, threshold, bar, low_norm, mean if center else None, recall
        )
    if stats is not None:
        plan = f"bands {shape[0]}x{shape[1]}, radius {shape[2]} of {8 * FP_BYTES} bits" if shape else f"radius {radius}"
        stats[f"1b centring (bar {bar:.4f}, {plan})"] = (time.perf_counter() - start, usable)
    # 2. Exact duplicates: the first row of each digest represents it.
    start = time.perf_counter()
    copies = _vec.copies(sk, dim, parts).localCheckpoint()
    copy_rows = spark.sparkContext.broadcast(np.sort(np.array([r[0] for r in copies.select("row").collect()], np.int64)))
    if stats is not None:
        stats["2 exact duplicates"] = (time.perf_counter() - start, len(copy_rows.value))
    reference = None
    centre = mean if center else None
    if shape is not None:
        # 3. Candidates (band search): each task searches its share of the bands over
        # every representative's fingerprint, which travels to it in one blob per batch.
        # One band range a core: every task gets every fingerprint, so more tasks would
        # only send more (1M rows: 30.6 s with 2 tasks, 35.4 s with 4).
        candidates = _vec.band_candidates(sk, dim, copy_rows, centre, seed, threshold, shape, cores)
    else:
        candidates, reference = _vec.exact_candidates(sk, dim, copy_rows, centre, seed, radius)
    candidates = candidates.localCheckpoint()
    counted = candidates.count()
    if stats is not None:
        stats["3 candidates"] = (time.perf_counter() - start, counted)
    # 4. Verify: the exact cosine of both rows' vectors, at the bar.
    start = time.perf_counter()
    verified = _vec.verify(sk, dim, candidates, threshold)
    if stats is not None:
        stats["4 verify"] = (time.perf_counter() - start, verified.count())
    decisions = _vector_decisions(verified, copies, parts, stats)
    removed = decisions.count()
    if report is not None:
        if shape is not None:
            method = (
                f"bit-sampling bands: {8 * FP_BYTES} bits, {shape[0]} bands of {shape[1]} bits, "
                f"within Hamming distance {shape[2]} (centred cosine bar {bar:.4f})"
            )
        else:
            method = f"exact Hamming search: 128 bits, within distance {radius} (centred cosine bar {bar:.4f})"
        run = _vector_run(verified, copies, decisions, n, counted, method)

        def fields(rows: list[int], wanted: list[str]) -> dict[int, list]:
            ids = _vec.ids_of(np.array(rows, np.int64), pids, offsets).tolist()
            number = dict(zip(ids, rows))
            found = numbered.where(F.col(ROW).isin(ids)).select(ROW, *wanted).collect()
            return {number[r[0]]: list(r[1:]) for r in found}

        def rows_of(fetch):
            return lambda wanted: [fetch(list(wanted)).get(i) for i in wanted]

        write_run_report(
            report, run, title=f"simdedup.spark.dedup(embedding_column={column!r})", similarity="cosine",
            threshold=threshold,
            text_of=rows_of(lambda ids: {k: FIELD_SEPARATOR.join(v or "" for v in vs) for k, vs in fields(ids, list(columns)).items()})
            if columns else None,
            name_of=None if id_column is None else rows_of(lambda ids: {k: vs[0] for k, vs in fields(ids, [id_column]).items()}),
            separator=FIELD_SEPARATOR if len(columns) > 1 else None, started=started,
        )
    # The decisions as the text path gives them: Spark row ids, and the kept row's number.
    def as_ids(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            row, kept = (batch.column(i).to_numpy(zero_copy_only=False).astype(np.int64) for i in (0, 1))
            yield pa.RecordBatch.from_arrays(
                [pa.array(_vec.ids_of(row, pids, offsets)), pa.array(_vec.ids_of(kept, pids, offsets)), pa.array(kept),
                 batch.column(2)],
                names=[ROW, "kept", "kept_number", "score"],
            )

    by_id = decisions.select(ROW, "kept", "score").mapInArrow(
        as_ids, f"{ROW} long, kept long, kept_number long, score double"
    ).localCheckpoint()
    out = _text.attach_decisions(df, numbered, by_id, removed, id_column, BROADCAST_ROWS)
    copy_rows.unpersist()
    sk.unpersist()
    if reference is not None:
        reference.unpersist()
    return _split(df, out) if split else out


def _vector_run(verified: DataFrame, copies: DataFrame, decisions: DataFrame, n: int, candidates, method: str) -> dict:
    """A vector run as ``_core.write_report`` takes it, on the driver: the verified pairs of
    representatives expanded over their groups of exact copies (``_core.expand_copies``, as
    the local run lists them), and every row's decision."""
    def columns(df: DataFrame, names: list[str]) -> list[list]:
        rows = df.select(*names).collect()  # (toArrow refuses an empty result)
        return [[r[i] for r in rows] for i in range(len(names))]

    copy_rows, copy_reps = columns(copies, ["row", "rep"])
    copy_of = dict(zip(copy_rows, copy_reps))
    a, b, s = columns(verified, ["a", "b", "score"])
    near = (np.array(a, np.int64), np.array(b, np.int64), np.array(s, np.float64), np.zeros(len(a), bool))
    pair_a, pair_b, pair_score, pair_exact = _core.expand_copies(
        near, (np.array(copy_rows, np.int64), np.array(copy_reps, np.int64))
    )
    duplicate_of = np.full(n, -1, np.int64)
    scores, exact = np.ones(n), np.zeros(n, bool)
    for row, kept, score in zip(*columns(decisions, [ROW, "kept", "score"])):
        duplicate_of[row], scores[row], exact[row] = kept, score, copy_of.get(row) == kept
    return {
        "pair_a": pair_a, "pair_b": pair_b, "pair_score": pair_score, "pair_exact": pair_exact,
        "duplicate_of": duplicate_of, "score": scores, "exact": exact,
        "candidates": candidates or 0, "method": method,
    }


def _vector_decisions(verified: DataFrame, copies: DataFrame, parts: int, stats) -> DataFrame:
    """Stage 5 (vectors): greedy keep-first per connected component of the ``verified``
    pairs (a, b, score) of representatives, exact ``copies`` (row, rep) following their
    representative. Returns (ROW, kept, score) per removed row, in row numbers."""
    start = time.perf_counter()
    comps, rounds = components(verified.select("a", "b"))
    by_comp = verified.join(comps.withColumnsRenamed({"node": "a"}), "a")
    fates = (
        by_comp.repartition(parts, "comp")
        .select("a", "b", "score")
        .mapInArrow(_assign, "row long, kept long, score double")
        .localCheckpoint()
    )
    if stats is not None:
        stats[f"5 decisions ({rounds} component rounds)"] = (time.perf_counter() - start, fates.count())
    # Exact copies follow their representative: of it when kept, else of whom it duplicates.
    rep_fate = fates.withColumnsRenamed({"row": "rep", "kept": "rep_kept", "score": "rep_score"})
    copy_fates = copies.join(rep_fate, "rep", "left").select(
        "row",
        F.coalesce("rep_kept", "rep").alias("kept"),
        F.coalesce("rep_score", F.lit(1.0)).alias("score"),
    )
    return fates.unionByName(copy_fates).withColumnRenamed("row", ROW).localCheckpoint()


def _split(df: DataFrame, out: DataFrame) -> tuple[DataFrame, DataFrame]:
    return out.where("duplicate_of IS NULL").select(*df.columns), out.where("duplicate_of IS NOT NULL")


def _format(path: str, given: str | None) -> str:
    name = path.lower().rstrip("/")
    for ext, kind in (
        (".jsonl.gz", "jsonl"),
        (".ndjson.gz", "jsonl"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "jsonl"),
        (".csv", "csv"),
        (".tsv", "tsv"),
        (".parquet", "parquet"),
    ):
        if given is None and name.endswith(ext):
            return kind
    if given in ("jsonl", "csv", "tsv", "parquet"):
        return given
    raise ValueError(f"{path}: unknown dataset format (name it: jsonl, csv, tsv or parquet)")


def read(spark: SparkSession, path: str, fmt: str | None = None) -> DataFrame:
    """A dataset file (or directory of part files) as a DataFrame: JSON Lines (optionally
    gzip), CSV or TSV with a header (RFC 4180 quoting, newlines inside quotes), Parquet."""
    kind = _format(path, fmt)
    if kind == "jsonl":
        return spark.read.option("mode", "FAILFAST").json(path)
    if kind in ("csv", "tsv"):
        return spark.read.csv(
            path, header=True, multiLine=True, escape='"', sep="," if kind == "csv" else "\t", mode="FAILFAST"
        )
    return spark.read.parquet(path)


def write(df: DataFrame, path: str, fmt: str | None = None) -> None:
    """Writes ``df`` as a directory of part files in the format ``path`` names."""
    kind = _format(path, fmt)
    writer = df.write.mode("overwrite")
    if kind == "jsonl":
        writer.json(path)
    elif kind in ("csv", "tsv"):
        writer.csv(path, header=True, escape='"', sep="," if kind == "csv" else "\t")
    else:
        writer.parquet(path)


def write_lines(lines: DataFrame, path: str) -> None:
    """Writes :func:`dedup_lines`' output as a directory of part files (gzip when ``path``
    ends in ``.gz``); their bytes, in name order, are the command line's file."""
    writer = lines.write.mode("overwrite").option("lineSep", "\n")
    if path.lower().rstrip("/").endswith(".gz"):
        writer = writer.option("compression", "gzip")
    writer.text(path)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m simdedup.spark IN --columns ... -o KEPT --removed REMOVED``."""
    p = argparse.ArgumentParser(prog="simdedup.spark", description=__doc__.split("\n\n")[0])
    p.add_argument("input", help="dataset: .jsonl, .jsonl.gz, .csv, .tsv, .parquet (file or directory)")
    p.add_argument("--columns", help="text columns, comma-separated")
    p.add_argument("--embedding-column", help="deduplicate by this column's vectors (cosine)")
    p.add_argument("--threshold", "-t", type=float, help="Jaccard bar [0.5], cosine with vectors [0.9]")
    p.add_argument("--id-column", help="column naming rows in duplicate_of [row number]")
    p.add_argument("--format", help="input format when the name does not tell it")
    p.add_argument("-o", "--output", help="kept rows (directory of part files)")
    p.add_argument("--removed", help="removed rows with duplicate_of and score")
    p.add_argument("--report", help="also write the run's HTML report here (a local path)")
    p.add_argument(
        "--skip-bad-rows", action="store_true",
        help="leave out rows that lack a text column (each named on stderr; exit status 2), as the command line does",
    )
    p.add_argument("--master", help="Spark master when not run by spark-submit (e.g. local[2])")
    args = p.parse_args(argv)
    # Spark starts its Python workers with PYSPARK_PYTHON, else `python3` from PATH, which
    # need not have simdedup: run them with this interpreter unless told otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("simdedup")
    if args.master:
        builder = builder.master(args.master)
    given = SparkConf()  # spark-submit's settings
    for key, value in SESSION_SETTINGS.items():
        if not given.contains(key):
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    skipped: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as skipped:
            warnings.simplefilter("always", BadRowWarning)
            return _run_main(spark, args, skipped)
    finally:
        for w in skipped:
            if not issubclass(w.category, BadRowWarning):
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _run_main(spark: SparkSession, args, skipped: list) -> int:
    """``main`` in its session: the outputs written, skipped rows named on stderr."""
    try:
        if not args.columns and not args.embedding_column:
            raise ValueError("name the text columns (--columns) or an --embedding-column")
        columns = [c for c in (args.columns or "").split(",") if c]
        # JSON Lines to JSON Lines: the lines stay text (no schema inferred, nothing parsed
        # by Spark), and the outputs are the command line's bytes.
        as_lines = (
            _format(args.input, args.format) == "jsonl"
            and not args.embedding_column
            and all(_format(o, None) == "jsonl" for o in (args.output, args.removed) if o)
        )
        if as_lines:
            kept, removed = dedup_lines(
                read_lines(spark, args.input), columns, args.threshold, args.id_column, report=args.report,
                skip_bad_rows=args.skip_bad_rows,
            )
            save = write_lines
        else:
            kept, removed = dedup(
                read(spark, args.input, args.format),
                columns,
                args.threshold,
                args.id_column,
                embedding_column=args.embedding_column,
                split=True,
                report=args.report,
                skip_bad_rows=args.skip_bad_rows,
            )
            save = write
        if args.output:
            save(kept, args.output)
        if args.removed:
            save(removed, args.removed)
        if not args.output and not args.removed:
            print(f"{removed.count()} rows removed", file=sys.stderr)
        bad = [w for w in skipped if issubclass(w.category, BadRowWarning)]
        for w in bad:
            print(f"simdedup.spark: {w.message}, row skipped", file=sys.stderr)
        if bad:
            return 2
    except ValueError as e:
        print(f"simdedup.spark: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a worker's error (a bad row) arrives wrapped by Spark
        lines = [x for x in str(e).splitlines() if "Error:" in x]
        print(f"simdedup.spark: {lines[-1] if lines else e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
