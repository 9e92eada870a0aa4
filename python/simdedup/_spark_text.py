"""The text path of ``simdedup.spark.dedup``: the stages of ``simdedup::jobs::partitioned``
wired over Spark. Spark moves a few large byte blobs per task between the stages
(DataFrames of ``part, key, tag, blob``, each record sent to the partition ``part`` names);
every decision is a ``_core.part_*`` call.

Rows are named by ``monotonically_increasing_id`` (partition << 33 | position: increasing
in input order); a *home* is a block of 16,384 of them (``row >> HOME_BITS``) whose texts
one blob holds, sent to the partition ``_core.home_part`` gives; its band entries go to
their bucket partitions from the sketch. The stages are one Spark query: each stage that
needs the sketch's blobs cogroups its exchange with the blobs addressed to them,
partitioned alike, and Spark reads that exchange's shuffle files again rather than
shuffling or computing it again. Each sketch
task also reports its input partition's row count and first bad row, so nothing scans
the rows before the sketch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
from pyspark import StorageLevel, TaskContext
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from simdedup import _core

ROW = "__simdedup_row"
POSITION_BITS = 33  # monotonically_increasing_id: partition << 33 | position
# Tags of the blobs: a home's band entries for one bucket partition, its texts, blobs
# addressed to a partition or a home, verified pairs; a sketch task's row count (key: its
# input partition) and first bad row (key: its ROW, blob: the message); a home's ids (JSON
# Lines with an id column); a text home's count of distinct candidate pairs (key: the
# home), for a report; a long bucket's block job (stage 3b); a digest partition's copy
# rows, sent to every bucket partition.
ENTRIES, TEXTS, ADDRESSED, VERIFIED, COUNT, BAD, IDS, CANDIDATES, BLOCK, COPY_ROWS = range(10)
# Rows a partition of the stages after the sketch holds, by default.
PARTITION_ROWS = 250_000
# Decisions per Arrow batch handed back to Spark.
DECISION_BATCH = 1 << 20
# Kept blobs stay on disk (the page cache), not on the JVM heap.
KEEP = StorageLevel.DISK_ONLY


def _fault(stage: str) -> None:
    """Fault injection for the retry test: with SIMDEDUP_SPARK_FAIL_FIRST=stage[,stage...]
    in the workers' environment, the first attempt of every task of those stages fails
    (Spark retries it, given spark.task.maxFailures > 1)."""
    if stage in os.environ.get("SIMDEDUP_SPARK_FAIL_FIRST", "").split(","):
        ctx = TaskContext.get()
        if ctx is not None and ctx.attemptNumber() == 0:
            raise RuntimeError(f"injected failure in stage {stage}")


class _Stats:
    """Per-stage wall time, records and bytes, when the caller asked for them (each stage
    is then materialised in turn)."""

    def __init__(self, stats: dict | None):
        self.stats = stats
        self.start = time.perf_counter()
        self.kept: list[DataFrame] = []

    def df(self, name: str, df: DataFrame) -> DataFrame:
        """``df`` of BLOBS, materialised (kept) when measuring."""
        if self.stats is None:
            return df
        df = df.persist(KEEP)
        self.kept.append(df)
        records, size = df.select(F.count("*"), F.sum(F.length("blob"))).first()
        self.stats[name] = (time.perf_counter() - self.start, records, size or 0)
        self.start = time.perf_counter()
        return df

    def unpersist(self) -> None:
        for df in self.kept:
            df.unpersist()

    def mark(self, name: str, rows=None):
        if self.stats is not None:
            self.stats[name] = (time.perf_counter() - self.start, rows, None)
            self.start = time.perf_counter()


BLOBS = "part long, key long, tag int, blob binary"


def _spark_hash(v: int) -> int:
    """Spark's ``hash`` of a long (Murmur3 x86 32-bit of its two 32-bit halves, seed 42), as
    a signed 32-bit int: what ``repartition(n, col)`` partitions a long column by."""
    m = 0xFFFFFFFF

    def mix(h: int, k: int) -> int:
        k = (k * 0xCC9E2D51) & m
        k = ((k << 15) | (k >> 17)) & m
        h ^= (k * 0x1B873593) & m
        h = ((h << 13) | (h >> 19)) & m
        return (h * 5 + 0xE6546B64) & m

    h = mix(mix(42, v & m), (v >> 32) & m) ^ 8
    h = ((h ^ (h >> 16)) * 0x85EBCA6B) & m
    h = ((h ^ (h >> 13)) * 0xC2B2AE35) & m
    h ^= h >> 16
    return h - (1 << 32) if h >> 31 else h


def _partition_values(parts: int) -> list[int]:
    """For each partition t of ``parts``, the least v >= 0 with pmod(hash(v), parts) == t:
    a column of such values sends each record to the partition chosen for it by
    ``repartition(parts, col)`` (Spark's hash partitioning of a long). Computed here, not
    by a Spark job."""
    found: dict[int, int] = {}
    v = 0
    while len(found) < parts:
        found.setdefault(_spark_hash(v) % parts, v)
        v += 1
    return [found[t] for t in range(parts)]


def _blobs(parts: list, routed, tag: int, slot=None) -> pa.RecordBatch:
    """``(key, blob)`` pairs as a record batch of BLOBS: each to the partition of its key
    (``slot(key)``, or the key itself: a partition number)."""
    keys = [k for k, _ in routed]
    where = [parts[slot(k) if slot else k] for k in keys]
    return pa.RecordBatch.from_arrays(
        [pa.array(where, pa.int64()), pa.array(keys, pa.int64()), pa.array([tag] * len(keys), pa.int32()),
         pa.array([b for _, b in routed], pa.binary())],
        names=["part", "key", "tag", "blob"],
    )


def _sketch(
    columns: Sequence[str], lines: bool, shape, parts: list, slot, shingles: str, bits: int, id_column, skip_bad: bool
):
    """Stage 1 over Arrow batches of (ROW, *columns), or with ``lines`` of (ROW, JSON line as
    binary): whole homes to ``part_sketch`` (``part_sketch_lines``); out, each home's band
    entries (to their bucket partitions) and texts (to the home's partition), with
    ``id_column`` (lines only) its ids too, the digest blobs (to their digest partition)
    and the task's COUNT blob and BAD blob, if a row is bad (then nothing more is
    sketched; with ``skip_bad``, a BAD blob for each bad row, the others sketched)."""
    rows, bands = shape
    bad = []

    def emit(table: pa.Table) -> Iterator[pa.RecordBatch]:
        ids = table.column(0).to_numpy().astype(np.int64)
        if lines:
            entries, texts, digests, names, errors = _core.part_sketch_lines(
                table.column(1), list(columns), ids, rows, bands, len(parts), shingles, bits, id_column, skip_bad
            )
        else:
            entries, texts, digests, names, errors = _core.part_sketch(
                [table.column(i + 1) for i in range(len(columns))],
                list(columns), ids, rows, bands, len(parts), shingles, bits, skip_bad,
            )
        if errors:
            found = [(int(ids[at]), message.encode()) for at, message in errors]
            yield _blobs(parts, found, BAD, lambda _: 0)
            if not skip_bad:
                bad.extend(found)
                return
        # One home blob per Arrow batch: the JVM holds one at a time.
        for entry in entries:
            yield _blobs(parts, [entry], ENTRIES)
        for text in texts:
            yield _blobs(parts, [text], TEXTS, slot)
        if names:
            yield _blobs(parts, names, IDS, slot)
        yield _blobs(parts, digests, ADDRESSED)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _fault("sketch")
        pending: list[pa.RecordBatch] = []
        count, partition = 0, None
        for batch in batches:
            if batch.num_rows == 0:
                continue
            if partition is None:
                partition = batch.column(0)[0].as_py() >> POSITION_BITS
            count += batch.num_rows
            if bad:
                continue
            pending.append(batch)
            first = pending[0].column(0)[0].as_py() >> _core.HOME_BITS
            last = batch.column(0)[batch.num_rows - 1].as_py() >> _core.HOME_BITS
            if last == first:
                continue
            # Every home before the last one is complete.
            table = pa.Table.from_batches(pending)
            ids = table.column(0).to_numpy()
            cut = int(np.searchsorted(ids >> _core.HOME_BITS, last))
            yield from emit(table.slice(0, cut))
            pending = table.slice(cut).to_batches()
        if pending and not bad:
            yield from emit(pa.Table.from_batches(pending))
        if count:
            yield _blobs(parts, [(partition, count.to_bytes(8, "little"))], COUNT, lambda _: 0)

    return run


def _offsets(reports: list, skip_bad: bool = False) -> tuple[dict, int]:
    """From the sketch's COUNT and BAD records (key, tag, blob): the first row number of
    each input partition and the row count; a bad row raises, the first in input order
    (unless ``skip_bad``: see :func:`_bad_rows`)."""
    counts = {key: int.from_bytes(blob, "little") for key, tag, blob in reports if tag == COUNT}
    offsets, total = {}, 0
    for pid in sorted(counts):
        offsets[pid] = total
        total += counts[pid]
    bad = _bad_rows(reports, offsets)
    if bad and not skip_bad:
        raise ValueError(bad[0][1])
    return offsets, total


def _bad_rows(reports: list, offsets: dict) -> list[tuple[int, str]]:
    """The BAD records as (row id, ``row N: message``), in input order."""
    bad = sorted((key, blob) for key, tag, blob in reports if tag == BAD)
    mask = (1 << POSITION_BITS) - 1
    return [(row, f"row {offsets[row >> POSITION_BITS] + (row & mask)}: {blob.decode()}") for row, blob in bad]


def _faulted(stage: str, fn):
    """``fn`` (over a cogroup's two tables) as a task of ``stage`` (see ``_fault``)."""

    def run(left: pa.Table, right: pa.Table) -> pa.Table:
        _fault(stage)
        return fn(left, right)

    return run


def _per_home(fn):
    """Over one cogroup of (home blobs, blobs addressed to homes): each home's blob and the
    blobs addressed to it, to ``fn(home_blob, addressed)``, homes in increasing order; the
    batches it returns make one table."""

    def run(homes: pa.Table, addressed: pa.Table) -> pa.Table:
        to: dict[int, list] = {}
        for key, tag, blob in zip(*(addressed.column(i).to_pylist() for i in (1, 2, 3))):
            if tag == ADDRESSED:
                to.setdefault(key, []).append(blob)
        found = sorted(zip(homes.column(1).to_pylist(), homes.column(3).to_pylist()))
        out = [b for key, blob in found for b in fn(blob, to.get(key, []))]
        return pa.Table.from_batches(out, schema=EMPTY.schema) if out else EMPTY

    return run


EMPTY = pa.Table.from_arrays(
    [pa.array([], pa.int64()), pa.array([], pa.int64()), pa.array([], pa.int32()), pa.array([], pa.binary())],
    names=["part", "key", "tag", "blob"],
)


def dedup_texts(
    numbered: DataFrame,
    columns: Sequence[str],
    threshold: float,
    shape,
    *,
    parts: int | None,
    shingles: str,
    bits: int,
    stats: dict | None,
    lines: str | None = None,
    id_column: str | None = None,
    rows: int,
    report: bool = False,
    skip_bad: bool = False,
) -> tuple[DataFrame, int, dict | None, list[str]]:
    """Stages 1-8 over ``numbered`` (ROW and the text ``columns``, or with ``lines`` the
    column of JSON Lines holding them), of about ``rows`` rows. Returns the decisions,
    computed and kept (a local checkpoint), and their count: (ROW, kept, kept_number,
    score), one row per removed row, kept_number the kept row's number from 0 in input
    order; with ``lines`` and ``id_column`` also ``duplicate_of``, the kept row's id as
    JSON text (stage 7); with ``report``, the run for a report (:func:`_run`), else None;
    and the messages of the rows skipped. A bad row raises ``ValueError``, the first in
    input order; with ``skip_bad``, each is left out and named (``row N: message``), and
    the decisions hold a record for it with ``error`` set (kept out of both outputs)."""
    spark = numbered.sparkSession
    st = _Stats(stats)
    # Tasks of about PARTITION_ROWS rows, at least two a core: each task of each stage pays
    # a fixed cost in Spark and Python, and a task's memory (its band entries, 16 bytes a
    # band, sorted in Rust) stays a few hundred MB. At 1M rows on 2 cores, 4 partitions
    # took 27.8 s, 8 took 28.3 s, 16 took 32.9 s.
    # A multiple of the cores, so that no task of a stage runs alone in a last wave (at 1M
    # rows on 2 cores, 5 partitions ran in three waves, 6 run in three of shorter tasks).
    cores = spark.sparkContext.defaultParallelism
    n = parts or cores * max(2, -(-rows // (PARTITION_ROWS * cores)))
    values = _partition_values(n)

    def slot(home: int) -> int:
        return _core.home_part(home, n)

    def exchange(df: DataFrame) -> DataFrame:
        return df.repartition(n, "part")

    # The stages are one Spark query, run by the checkpoint of the decisions: an exchange
    # that several stages read (the sketch's, the copies') is computed once and read from
    # its shuffle files, so nothing is kept apart and no stage waits for a job of its own.

    # 1. Sketch: each home's band entries (by bucket partition), its texts and its digest
    # blobs, sent to their partitions in one exchange; the stages below cogroup with it in
    # place. Each sketch task also reports its input partition's row count and first bad
    # row (for stage 6).
    given = [F.col(lines).cast("binary")] if lines else columns
    named = bool(lines and id_column)
    sketch = _sketch(columns, bool(lines), shape, values, slot, shingles, bits, id_column if named else None, skip_bad)
    kept = st.df("1 sketch", exchange(numbered.select(ROW, *given).mapInArrow(sketch, BLOBS)))
    entries, text_homes = _tagged(kept, f"= {ENTRIES}"), _tagged(kept, f"= {TEXTS}")

    def cogroup(stage, left: DataFrame, right: DataFrame, fn) -> DataFrame:
        """``right`` partitioned like ``left`` (by ``part``), cogrouped with it: ``fn(left
        table, right table)`` per partition."""
        return left.groupBy("part").cogroup(right.groupBy("part")).applyInArrow(_faulted(stage, fn), BLOBS)

    # 2. Exact duplicates: copies (copy, rep) by the copy's home, and their rows to every
    # bucket partition; the sketch's row counts pass through, to stage 6.
    copies = _tagged(kept, f"in ({ADDRESSED}, {COUNT}, {BAD})").mapInArrow(_exact(values, slot), BLOBS)
    copies = st.df("2 exact duplicates", exchange(copies))

    # 3. The pairs of each bucket (the copies left out), to the homes of both rows; 3b.
    # those of buckets too long for one task, in blocks spread over the partitions.
    def bucket_pairs(got: pa.Table, copy_rows: pa.Table) -> pa.Table:
        blobs = got.column(3).to_pylist()  # any order: the pairs are sorted in Rust
        if not blobs:
            return EMPTY
        addressed, blocks = _core.part_band_pairs(blobs, copy_rows.column(3).to_pylist(), n)
        return pa.Table.from_batches([_blobs(values, addressed, ADDRESSED, slot), _blobs(values, blocks, BLOCK)])

    pairs = st.df("3 candidate pairs", cogroup("pairs", entries, _tagged(copies, f"= {COPY_ROWS}"), bucket_pairs))
    # Each partition's pair blobs pass through; its block jobs become pairs (no union of
    # two exchanges: the plan stays a chain).
    pairs = st.df("3b split buckets", exchange(pairs).mapInArrow(_blocks(values, slot), BLOBS))

    # 4. Each pair once at each of its homes: verified there when both rows live in it,
    # else each side's text sent to the pair's meeting partition; 5. verified there (the
    # homes' verified pairs pass through, so the texts stage runs once).
    def texts(home, addressed):
        verified, sides, candidates = _core.part_texts(home, addressed, threshold, n, shingles)
        out = [_blobs(values, [(0, verified)], VERIFIED), _blobs(values, sides, ADDRESSED)]
        if report:
            out.append(_blobs(values, [(0, candidates.to_bytes(8, "little"))], CANDIDATES))
        return out

    sides = st.df("4 texts", cogroup("texts", text_homes, exchange(pairs), _per_home(texts)))
    met = st.df("5 meet and verify", exchange(sides).mapInArrow(_meet(values, threshold, shingles), BLOBS))

    # 6. Decisions over every verified pair and copy, in one task (Rust; 24 bytes a pair),
    # the removed rows numbered from the sketch's row counts.
    everything = met.unionByName(_tagged(copies, f"!= {COPY_ROWS}"))
    if report:
        # A report reads these blobs on the driver too: computed once, kept.
        everything = everything.localCheckpoint()
    # A shuffle to one task (not coalesce, which would run the stages above in one task).
    decisions = everything.repartition(1).mapInArrow(
        _decider(values, n, named, skip_bad), DECIDED + (", part long" if named else "")
    )
    if named:
        # 7. The kept rows' ids, at their homes: the input is not read again for them.
        decisions = (
            exchange(decisions).groupBy("part")
            .cogroup(_tagged(kept, f"= {IDS}").groupBy("part"))
            .applyInArrow(_names, DECIDED + ", duplicate_of string")
        )
    decisions = decisions.localCheckpoint()
    skipped: list[str] = []
    if skip_bad:
        # Each skipped row's message (the row numbered in input order), to the caller.
        found = decisions.where(F.col("error").isNotNull()).select(ROW, "error").collect()
        skipped = [r[1] for r in sorted(found)]
        removed = decisions.where(F.col("error").isNull()).count()
    else:
        removed, bad = decisions.select(F.count(F.lit(1)), F.max("error")).first()
        if bad is not None:
            raise ValueError(bad)
    st.unpersist()
    st.mark("6 decisions", removed)
    run = _run(everything, skip_bad) if report else None
    return decisions, removed, run, skipped


def _run(everything: DataFrame, skip_bad: bool = False) -> dict:
    """A run as ``_core.write_report`` takes it, from stage 6's blobs brought to the driver
    (24 bytes a verified pair, 16 a copy; then 17 bytes a row): the pairs and decisions in
    row numbers from 0, and the distinct candidates the texts stage counted."""
    table = everything.select("key", "tag", "blob").toArrow()
    ver, cop, reports, candidates = _stage7_inputs(zip(*(table.column(i).to_pylist() for i in range(3))))
    offsets, total = _offsets(reports, skip_bad)
    (pa_, pb, ps, pe), (rows, kept, score, exact) = _core.part_run(ver, cop)
    number = _numbering(offsets)
    duplicate_of = np.full(total, -1, np.int64)
    scores, exacts = np.ones(total), np.zeros(total, bool)
    at = number(rows)
    duplicate_of[at], scores[at], exacts[at] = number(kept), score, exact
    return {
        "pair_a": number(pa_), "pair_b": number(pb), "pair_score": ps, "pair_exact": pe,
        "duplicate_of": duplicate_of, "score": scores, "exact": exacts, "candidates": candidates,
        "offsets": offsets,
    }


def _numbering(offsets: dict):
    """Row ids (partition << 33 | position) to row numbers from 0, by the input
    partitions' first row numbers; and back (``.rows``)."""
    pids = np.array(sorted(offsets), np.int64)
    bases = np.array([offsets[k] for k in sorted(offsets)], np.int64)
    mask = (1 << POSITION_BITS) - 1

    def number(rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, np.int64)
        if not len(rows):
            return rows
        return bases[np.searchsorted(pids, rows >> POSITION_BITS)] + (rows & mask)

    def ids(numbers) -> list[int]:
        numbers = np.asarray(numbers, np.int64)
        at = np.searchsorted(bases, numbers, side="right") - 1
        return ((pids[at] << POSITION_BITS) | (numbers - bases[at])).tolist()

    number.rows = ids
    return number


def _tagged(df: DataFrame, test: str) -> DataFrame:
    """The records of ``df`` whose tag passes ``test`` (``"= 1"``), filtered after the
    exchange that made ``df``. The optimizer would push a plain filter below it, giving each
    reader of ``df`` an exchange, and a sketch, of its own; a predicate that waits on a
    nondeterministic expression (always true) stays where it is written."""
    return df.where(F.when(F.monotonically_increasing_id() >= 0, F.expr(f"tag {test}")))


DECISIONS = f"{ROW} long, kept long, kept_number long, score double"
DECIDED = DECISIONS + ", error string"


def _exact(parts: list, slot):
    """Stage 2 over one digest partition: its digest blobs' copies, to the copies' homes
    (for stage 6), and their rows to every bucket partition (stage 3 leaves them out); the
    COUNT and BAD records (all at partition 0) passed on."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _fault("exact")
        digests, reports = [], []
        for batch in batches:
            for key, tag, blob in zip(*(batch.column(i).to_pylist() for i in (1, 2, 3))):
                if tag == ADDRESSED:
                    digests.append(blob)
                else:
                    reports.append((tag, key, blob))
        copies = _core.part_exact(digests) if digests else []
        if copies:
            yield _blobs(parts, copies, ADDRESSED, slot)
            rows = _core.part_copy_rows([b for _, b in copies])
            yield _blobs(parts, [(p, rows) for p in range(len(parts))], COPY_ROWS)
        for tag, key, blob in reports:
            yield _blobs(parts, [(key, blob)], tag, lambda _: 0)

    return run


def _blocks(parts: list, slot):
    """Stage 3b over one partition of stage 3's blobs: the pair blobs passed on to their
    homes, the block jobs' pairs made (``part_block_pairs``) and sent to theirs."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _fault("blocks")
        jobs = []
        for batch in batches:
            tags = batch.column(2).to_numpy(zero_copy_only=False)
            if (tags == BLOCK).any():
                jobs += [b for b, t in zip(batch.column(3).to_pylist(), tags) if t == BLOCK]
                batch = batch.filter(pa.array(tags != BLOCK))
            if batch.num_rows:
                yield batch
        if jobs:
            yield _blobs(parts, _core.part_block_pairs(jobs), ADDRESSED, slot)

    return run


def _meet(parts: list, threshold: float, shingles: str):
    """Stage 5 over one meeting partition: the texts sent to it, verified in pairs; the
    verified blobs and candidate counts also sent (to partition 0) pass through to stage 6."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _fault("meet")
        sides, verified, counted = [], [], []
        for batch in batches:
            for key, tag, blob in zip(*(batch.column(i).to_pylist() for i in (1, 2, 3))):
                if tag == CANDIDATES:
                    counted.append((key, blob))
                else:
                    (sides if tag == ADDRESSED else verified).append(blob)
        if sides:
            verified.append(_core.part_meet(sides, threshold, shingles))
        if verified:
            yield _blobs(parts, [(0, b) for b in verified], VERIFIED, lambda _: 0)
        if counted:
            yield _blobs(parts, counted, CANDIDATES, lambda _: 0)

    return run


def _stage7_inputs(records) -> tuple[list, list, list, int]:
    """Stage 6's (key, tag, blob) records split: the verified blobs, the copies' blobs, the
    sketch's reports (COUNT, BAD) and the candidates the text homes counted."""
    ver, cop, reports, candidates = [], [], [], 0
    for key, tag, blob in records:
        if tag == VERIFIED:
            ver.append(blob)
        elif tag == ADDRESSED:
            cop.append(blob)
        elif tag == CANDIDATES:
            candidates += int.from_bytes(blob, "little")
        else:
            reports.append((key, tag, blob))
    return ver, cop, reports, candidates


def _decider(parts: list, n: int, named: bool, skip_bad: bool = False):
    """Stage 6 over every VERIFIED, ADDRESSED (copies), COUNT and BAD record: the removed
    rows (ROW, kept, kept_number, score, error null; with ``named`` the partition of the
    kept row's home too), kept_number the kept row's number from 0 in input order; or, if
    a row was bad, one record naming the first in input order (error: ``row N:
    message``)."""
    values = np.array(parts, np.int64)

    def batch(rows, kept_rows, numbers, score, error) -> pa.RecordBatch:
        columns = [pa.array(rows, pa.int64()), pa.array(kept_rows, pa.int64()), pa.array(numbers, pa.int64()),
                   pa.array(score, pa.float64()), pa.array(error, pa.string())]
        names = [ROW, "kept", "kept_number", "score", "error"]
        if named:
            homes = np.asarray(kept_rows, np.int64) >> _core.HOME_BITS
            columns.append(pa.array(values[_core.home_parts(homes, n)], pa.int64()))
            names.append("part")
        return pa.RecordBatch.from_arrays(columns, names=names)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _fault("decide")
        records = (r for b in batches for r in zip(*(b.column(i).to_pylist() for i in (1, 2, 3))))
        ver, cop, reports, _ = _stage7_inputs(records)
        try:
            offsets, _ = _offsets(reports, skip_bad)
        except ValueError as e:
            yield batch([-1], [0], [-1], [0.0], [str(e)])
            return
        rows, kept_rows, score = _core.part_decide(ver, cop)
        numbers = _numbering(offsets)(kept_rows)
        for s in range(0, len(rows), DECISION_BATCH):
            t = slice(s, s + DECISION_BATCH)
            yield batch(rows[t], kept_rows[t], numbers[t], score[t], [None] * len(rows[t]))
        # Skipped bad rows: a record each, the row as its own "kept" (no id found for it),
        # left out of both outputs.
        bad = _bad_rows(reports, offsets) if skip_bad else []
        if bad:
            ids = [row for row, _ in bad]
            yield batch(ids, ids, [-1] * len(bad), [float("nan")] * len(bad), [m for _, m in bad])

    return run


def _names(decided: pa.Table, homes: pa.Table) -> pa.Table:
    """Stage 7 over one cogroup of (decisions, id home blobs): each decision with its kept
    row's id (JSON text)."""
    _fault("names")
    blobs = homes.column(3).to_pylist()
    kept = decided.column("kept").to_numpy()
    names = _core.part_names(blobs, kept) if blobs and len(kept) else [None] * len(kept)
    return pa.Table.from_arrays(
        [decided.column(c) for c in (ROW, "kept", "kept_number", "score", "error")] + [pa.array(names, pa.string())],
        names=[ROW, "kept", "kept_number", "score", "error", "duplicate_of"],
    )


def attach_decisions(
    df: DataFrame,
    numbered: DataFrame,
    decisions: DataFrame,
    removed_rows: int,
    id_column: str | None,
    broadcast_rows: int,
    skipped: int = 0,
) -> DataFrame:
    """Every row of ``numbered`` with ``duplicate_of`` and ``score``, in input order: the
    ``removed_rows`` decisions joined in by broadcast when at most ``broadcast_rows`` (the big
    side then keeps its order), else by a shuffle and a sort. Skipped bad rows (decisions
    with ``error``) are left out."""
    decisions, numbered = _without_skipped(decisions, numbered, broadcast_rows, skipped)
    if removed_rows == 0 and not skipped:
        return numbered.select(*df.columns, F.lit(None).alias("duplicate_of"), F.lit(None).cast("double").alias("score"))
    small = removed_rows <= broadcast_rows and skipped <= broadcast_rows
    hint = F.broadcast if small else (lambda x: x)
    if id_column:
        wanted = decisions.select("kept").distinct()
        names = numbered.select(F.col(ROW).alias("kept"), F.col(id_column).alias("duplicate_of")).join(hint(wanted), "kept")
        # Computed once: each output written scans the rows once more, not twice.
        decisions = decisions.join(hint(names), "kept").localCheckpoint()
    else:
        decisions = decisions.withColumn("duplicate_of", F.col("kept_number"))
    out = numbered.join(hint(decisions.select(ROW, "duplicate_of", "score")), ROW, "left")
    if not small:
        out = out.orderBy(ROW)
    return out.select(*df.columns, "duplicate_of", "score")


def _without_skipped(decisions: DataFrame, numbered: DataFrame, broadcast_rows: int, skipped: int):
    """The decisions of removed rows and the rows without the ``skipped`` bad ones
    (decisions with ``error``)."""
    if not skipped:
        return decisions.drop("error"), numbered
    bad = decisions.where(F.col("error").isNotNull()).select(ROW)
    hint = F.broadcast if skipped <= broadcast_rows else (lambda x: x)
    return decisions.where(F.col("error").isNull()).drop("error"), numbered.join(hint(bad), ROW, "left_anti")


def _removed_lines(id_given: bool):
    """Over batches of (ROW, line as binary, duplicate_of, score): the removed rows' lines
    as the command line writes them (``duplicate_of`` as JSON text: the kept row's id, else
    its row number)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            dups = batch.column(2).to_pylist()
            if not id_given:
                dups = [str(d) for d in dups]
            score = batch.column(3).to_numpy(zero_copy_only=False).astype(np.float64)
            out = _core.jsonl_removed(batch.column(1), dups, score)
            yield pa.RecordBatch.from_arrays([batch.column(0), pa.array(out, pa.binary())], names=[ROW, "value"])

    return run


def _kept_ids(id_column: str):
    """Over batches of (ROW, line as binary): each row's ``id_column`` as JSON text."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            _, ids = _core.jsonl_fields(batch.column(1), [], id_column)
            yield pa.RecordBatch.from_arrays([batch.column(0), pa.array(ids, pa.string())], names=["kept", "duplicate_of"])

    return run


def attach_lines(
    numbered: DataFrame,
    decisions: DataFrame,
    removed_rows: int,
    line: str,
    id_column: str | None,
    broadcast_rows: int,
    skipped: int = 0,
):
    """The kept rows' lines and the removed rows' lines (with ``duplicate_of`` and
    ``score``), each a DataFrame of one string column ``value`` in input order, as the
    command line writes its two JSON Lines files. The ``removed_rows`` decisions, when at most
    ``broadcast_rows``, are broadcast (the rows keep their order), else joined by a shuffle
    and sorted back."""
    binary = F.col(line).cast("binary")
    decisions, numbered = _without_skipped(decisions, numbered, broadcast_rows, skipped)
    if removed_rows == 0 and not skipped:
        empty = numbered.where(F.lit(False)).select(F.col(line).alias("value"))
        return numbered.select(F.col(line).alias("value")), empty
    small = removed_rows <= broadcast_rows and skipped <= broadcast_rows
    hint = F.broadcast if small else (lambda x: x)
    if id_column and "duplicate_of" not in decisions.columns:  # else they came in stage 7
        wanted = decisions.select(F.col("kept").alias(ROW)).distinct()
        names = numbered.join(hint(wanted), ROW).select(ROW, binary).mapInArrow(
            _kept_ids(id_column), "kept long, duplicate_of string"
        )
        # Computed once: each output written scans the rows once more, not twice.
        decisions = decisions.join(hint(names), "kept").localCheckpoint()
    elif not id_column:
        decisions = decisions.withColumn("duplicate_of", F.col("kept_number"))
    decisions = decisions.select(ROW, "duplicate_of", "score")
    kept = numbered.join(hint(decisions.select(ROW)), ROW, "left_anti")
    removed = numbered.join(hint(decisions), ROW).select(ROW, binary, "duplicate_of", "score")
    removed = removed.mapInArrow(_removed_lines(bool(id_column)), f"{ROW} long, value binary")
    if not small:
        kept, removed = kept.orderBy(ROW), removed.orderBy(ROW)
    return kept.select(F.col(line).alias("value")), removed.select(F.col("value").cast("string"))
