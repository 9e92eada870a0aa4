"""The embedding stages of the Spark job (``simdedup.spark.dedup(df, embedding_column=...)``):
Spark carries one blob per Arrow batch of rows, never a record per band key or a row of
floats per stage. Each stage is one ``_core.vector_*`` call (``simdedup::jobs::
partitioned_vectors``); docs/spark.md (Embeddings) has the stage table. The decisions
(connected components, greedy keep-first) and the output are ``simdedup.spark``'s."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from simdedup import _core
from simdedup._spark_text import ROW, _fault, _partition_values

# Pairs handed over by one band-pairs batch (24 bytes each in the Arrow batch).
PIECE = 1 << 16
# Bits of a Spark row id (``monotonically_increasing_id``) below its input partition.
POSITION_BITS = 33
SKETCH = "first long, rows long, usable long, hi array<long>, lo array<long>, blob binary"


def row_offsets(numbered: DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Per input partition (``ROW >> 33``, in order) its first row number from 0: the
    partition ids and their offsets (one scan that reads no column), and the row count."""
    counts = sorted(numbered.groupBy(F.shiftright(ROW, POSITION_BITS).alias("pid")).count().collect())
    pids = np.array([p for p, _ in counts], np.int64)
    sizes = np.array([c for _, c in counts], np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return pids, offsets, int(sizes.sum())


def numbers(ids: np.ndarray, pids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Row numbers from 0 (input order) of Spark row ids ``ids``."""
    return offsets[np.searchsorted(pids, ids >> POSITION_BITS)] + (ids & ((1 << POSITION_BITS) - 1))


def ids_of(rows: np.ndarray, pids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Spark row ids of row numbers ``rows`` (the inverse of :func:`numbers`)."""
    at = np.searchsorted(offsets, rows, side="right") - 1
    return (pids[at] << POSITION_BITS) | (rows - offsets[at])


def _pack(rows, hi, lo, norms, values) -> bytes:
    """A sketch blob: the row count, then row numbers, digests (high, low), norms (f64)
    and the values (f32, row after row)."""
    parts = [np.array([len(rows)], np.int64), rows, hi, lo, norms.astype(np.float64), values.astype(np.float32)]
    return b"".join(np.ascontiguousarray(p).tobytes() for p in parts)


def unpack(blob: bytes, dim: int):
    """``(rows, hi, lo, norms, values)`` of a sketch blob (values shaped (n, dim))."""
    n = int(np.frombuffer(blob, np.int64, 1)[0])
    words = np.frombuffer(blob, np.int64, 4 * n, 8)
    rows, hi, lo = words[:n], words[n : 2 * n], words[2 * n : 3 * n]
    norms = words[3 * n :].view(np.float64)
    values = np.frombuffer(blob, np.float32, n * dim, 8 + 32 * n).reshape(n, dim)
    return rows, hi, lo, norms, values


def sketch(numbered: DataFrame, column: str, id_column: str | None, dim: int, pids, offsets) -> DataFrame:
    """Stage 1: per Arrow batch of rows one record: its first row number, row count, usable
    rows (norm > 0), the exact partial sum of its unit rows (``vector_unit_sum``) and the
    sketch blob (``vector_sketch``: a bad row is an error naming its row number), kept on
    disk (read by every later stage, the heap left to them)."""
    named = id_column is not None

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _fault("vsketch")
        for batch in batches:
            if batch.num_rows == 0:
                continue
            rows = numbers(batch.column(0).to_numpy(zero_copy_only=False).astype(np.int64), pids, offsets)
            lists = batch.column(1)
            # offsets index the (unsliced) child values, nulls included.
            starts = lists.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
            values = lists.values.to_numpy(zero_copy_only=False).astype(np.float64)
            valid = lists.is_valid().to_numpy(zero_copy_only=False)
            names = None
            if named:
                names = ["null" if x is None else str(x) for x in batch.column(2).to_pylist()]
            hi, lo, norms, out = _core.vector_sketch(values, starts, valid, rows, column, dim, names)
            shi, slo, usable = _core.vector_unit_sum(out, norms, dim)
            yield pa.RecordBatch.from_arrays(
                [pa.array([int(rows[0])]), pa.array([len(rows)]), pa.array([usable]),
                 pa.array([shi.tolist()], pa.list_(pa.int64())), pa.array([slo.tolist()], pa.list_(pa.int64())),
                 pa.array([_pack(rows, hi, lo, norms, out)], pa.binary())],
                names=["first", "rows", "usable", "hi", "lo", "blob"],
            )

    cols = [ROW, column] + ([F.col(id_column).cast("string")] if id_column else [])
    return numbered.select(*cols).mapInArrow(run, SKETCH).localCheckpoint(True, StorageLevel.DISK_ONLY)


def summary(sk: DataFrame, dim: int):
    """The sketch records without their blobs, by first row: ``(firsts, usable counts)``
    and the exact mean of the unit rows (``vector_unit_mean``)."""
    got = sorted(sk.select("first", "usable", "hi", "lo").collect())
    firsts = np.array([r["first"] for r in got], np.int64)
    usable = np.array([r["usable"] for r in got], np.int64)
    mean = _core.vector_unit_mean([x for r in got for x in r["hi"]], [x for r in got for x in r["lo"]],
                                  usable.tolist(), dim)
    return firsts, usable, mean


def norms_and_sample(sk: DataFrame, dim: int, mean: list[float], centred: bool, sample: dict[int, list[int]]):
    """Stage 1b, one pass: the centred norms of the usable rows (when ``centred``), and the
    rows at ranks ``sample[first]`` among the usable rows of the batch starting at row
    ``first``. Returns the norms (unsorted) and the sampled rows' values and norms in row
    order."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for first, blob in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
                rows, _, _, norms, values = unpack(blob, dim)
                r = np.empty(0)
                if centred:
                    r = _core.vector_centred_norms(values.reshape(-1), norms, mean)
                    r = r[~np.isnan(r)]
                ok = np.flatnonzero(norms > 0)
                picked = ok[sample.get(first, [])]
                yield pa.RecordBatch.from_arrays(
                    [pa.array([r.tobytes()], pa.binary()), pa.array([rows[picked].tobytes()], pa.binary()),
                     pa.array([values[picked].tobytes()], pa.binary()), pa.array([norms[picked].tobytes()], pa.binary())],
                    names=["r", "rows", "values", "norms"],
                )

    got = sk.select("first", "blob").mapInArrow(run, "r binary, rows binary, values binary, norms binary").collect()
    r = np.concatenate([np.frombuffer(g["r"], np.float64) for g in got] or [np.empty(0)])
    rows = np.concatenate([np.frombuffer(g["rows"], np.int64) for g in got] or [np.empty(0, np.int64)])
    values = np.concatenate([np.frombuffer(g["values"], np.float32) for g in got] or [np.empty(0, np.float32)])
    norms = np.concatenate([np.frombuffer(g["norms"], np.float64) for g in got] or [np.empty(0)])
    order = np.argsort(rows, kind="stable")
    return r, values.reshape(-1, dim)[order].reshape(-1), norms[order]


def sample_ranks(firsts: np.ndarray, usable: np.ndarray, positions) -> dict[int, list[int]]:
    """Where the usable rows at ``positions`` (in row order) lie: per batch (by its first
    row) their ranks among its usable rows."""
    starts = np.concatenate([[0], np.cumsum(usable)[:-1]])
    wanted: dict[int, list[int]] = {}
    for p in positions:
        # The last batch starting at or before p: it holds p (one without usable rows
        # starts where the next does, so it is never the last).
        i = int(np.searchsorted(starts, p, side="right")) - 1
        wanted.setdefault(int(firsts[i]), []).append(int(p - starts[i]))
    return wanted


def copies(sk: DataFrame, dim: int, parts: int) -> DataFrame:
    """Stage 2: every row's digest entry (digest, row), sent by digest to one of ``parts``
    tasks in one blob per batch and destination; every row but the first of a digest is a
    copy (``part_exact``, the text path's stage). Returns (row, rep)."""
    where = _partition_values(parts)

    def entries(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for blob in batch.column(0).to_pylist():
                rows, hi, lo, _, _ = unpack(blob, dim)
                dest = (lo.view(np.uint64) % np.uint64(parts)).astype(np.int64)
                packed = np.column_stack([hi, lo, rows])
                keys = np.unique(dest)
                yield pa.RecordBatch.from_arrays(
                    [pa.array([where[k] for k in keys], pa.int64()),
                     pa.array([packed[dest == k].tobytes() for k in keys], pa.binary())],
                    names=["part", "blob"],
                )

    def exact(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _fault("vexact")
        got = [b for batch in batches for b in batch.column(1).to_pylist()]
        if not got:
            return
        pairs = [np.frombuffer(blob, np.int64).reshape(-1, 2) for _, blob in _core.part_exact(got)]
        if pairs:
            found = np.concatenate(pairs)
            yield pa.RecordBatch.from_arrays([pa.array(found[:, 0]), pa.array(found[:, 1])], names=["row", "rep"])

    sent = sk.select("blob").mapInArrow(entries, "part long, blob binary")
    return sent.repartition(parts, "part").mapInArrow(exact, "row long, rep long")


def _representatives(blob: bytes, dim: int, copies: np.ndarray):
    """The rows of a sketch blob the search takes: norm > 0 and not an exact copy."""
    rows, _, _, norms, values = unpack(blob, dim)
    keep = (norms > 0) & ~np.isin(rows, copies, assume_unique=False)
    return rows[keep], values[keep].reshape(-1), norms[keep]


def band_candidates(sk: DataFrame, dim: int, copies, mean, seed: int, threshold: float, shape, groups: int) -> DataFrame:
    """Stage 3 (band search): each batch's representatives as one blob of fingerprints and
    centring terms (``vector_band_blob``), sent to each of ``groups`` tasks, each of which
    searches its share of the bands over all of them (``vector_band_group_pairs``)."""
    where = pa.array(_partition_values(groups), pa.int64())

    def blobs(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _fault("vblobs")
        for batch in batches:
            for blob in batch.column(0).to_pylist():
                rows, values, norms = _representatives(blob, dim, copies.value)
                if len(rows) == 0:
                    continue
                out = _core.vector_band_blob(rows, values, norms, mean, dim, seed)
                yield pa.RecordBatch.from_arrays(
                    [where, pa.array(np.arange(groups, dtype=np.int32)), pa.array([out] * groups, pa.binary())],
                    names=["part", "group", "blob"],
                )

    def pairs(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _fault("vbands")
        got, group = [], None
        for batch in batches:
            if batch.num_rows:
                group = batch.column(1)[0].as_py()
                got += batch.column(2).to_pylist()
        if group is None:
            return
        a, b, d = _core.vector_band_group_pairs(got, shape, seed, threshold, mean, group, groups)
        for s in range(0, len(a), PIECE):
            yield pa.RecordBatch.from_arrays(
                [pa.array(a[s : s + PIECE]), pa.array(b[s : s + PIECE]), pa.array(d[s : s + PIECE])],
                names=["a", "b", "distance"],
            )

    sent = sk.select("blob").mapInArrow(blobs, "part long, group int, blob binary")
    return sent.repartition(groups, "part").mapInArrow(pairs, "a long, b long, distance long")


def exact_candidates(sk: DataFrame, dim: int, copies, mean, seed: int, radius: int):
    """Stage 3 (exact search): every representative's 128-bit fingerprint collected and
    broadcast (24 bytes a row); each batch searched against all (``vector_pairs``).
    Returns the candidates and the broadcast (to release)."""
    spark = sk.sparkSession

    def fps(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for blob in batch.column(0).to_pylist():
                rows, values, norms = _representatives(blob, dim, copies.value)
                if len(rows):
                    hi, lo = _core.vector_fingerprints(values, norms, mean, dim, seed)
                    yield pa.RecordBatch.from_arrays([pa.array(rows), pa.array(hi), pa.array(lo)], names=["row", "fhi", "flo"])

    table = sk.select("blob").mapInArrow(fps, "row long, fhi long, flo long").localCheckpoint()
    got = table.orderBy("row").toArrow()
    reference = spark.sparkContext.broadcast(tuple(got.column(c).to_numpy().astype(np.int64) for c in ("row", "fhi", "flo")))

    def pairs(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        ref_ids, ref_hi, ref_lo = reference.value
        for batch in batches:
            col = lambda i: batch.column(i).to_numpy(zero_copy_only=False).astype(np.int64)  # noqa: E731
            a, b, d = _core.vector_pairs(col(0), col(1), col(2), ref_ids, ref_hi, ref_lo, radius)
            if len(a):
                yield pa.RecordBatch.from_arrays([pa.array(a), pa.array(b), pa.array(d)], names=["a", "b", "distance"])

    return table.mapInArrow(pairs, "a long, b long, distance long"), reference


def verify(sk: DataFrame, dim: int, candidates: DataFrame, threshold: float) -> DataFrame:
    """Stage 4: the vectors of the rows in candidate pairs (their numbers broadcast, 8
    bytes each), joined to both sides of each pair; its exact cosine
    (``vector_cosines``), kept at the bar: (a, b, score)."""
    spark = sk.sparkSession
    rows = candidates.select(F.col("a").alias("r")).union(candidates.select(F.col("b").alias("r"))).distinct()
    need = spark.sparkContext.broadcast(np.sort(np.array([r[0] for r in rows.collect()], np.int64)))

    def vectors(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for blob in batch.column(0).to_pylist():
                r, _, _, norms, values = unpack(blob, dim)
                keep = np.isin(r, need.value)
                if keep.any():
                    vecs = pa.array([v.tobytes() for v in values[keep]], pa.binary())
                    yield pa.RecordBatch.from_arrays([pa.array(r[keep]), vecs, pa.array(norms[keep])], names=["row", "vec", "norm"])

    vecs = sk.select("blob").mapInArrow(vectors, "row long, vec binary, norm double")
    side = lambda x: vecs.withColumnsRenamed({"row": x, "vec": "v" + x, "norm": "n" + x})  # noqa: E731

    def cosines(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _fault("vverify")
        for batch in batches:
            va = np.frombuffer(b"".join(batch.column(2).to_pylist()), np.float32)
            vb = np.frombuffer(b"".join(batch.column(4).to_pylist()), np.float32)
            norm = lambda i: batch.column(i).to_numpy(zero_copy_only=False)  # noqa: E731
            scores = _core.vector_cosines(va, norm(3), vb, norm(5), dim)
            yield pa.RecordBatch.from_arrays([batch.column(0), batch.column(1), pa.array(scores)], names=["a", "b", "score"])

    verified = (
        candidates.join(side("a"), "a")
        .join(side("b"), "b")
        .select("a", "b", "va", "na", "vb", "nb")
        .mapInArrow(cosines, "a long, b long, score double")
        .where(F.col("score") >= threshold)
        .localCheckpoint()
    )
    need.unpersist()
    return verified
