"""``simdedup.dedup``: deduplication of a table's rows (pandas, polars, pyarrow or Hugging
Face ``datasets``), returning the same kind of table with ``duplicate_of`` and ``score``.

The text columns are read as Arrow arrays (in place where the table holds them as Arrow
strings: pyarrow, polars, ``datasets``, pandas' Arrow dtypes) and decided by the library as
``simdedup dedup DATA --columns ...`` decides (greedy keep-first in row order, exact copies
first), like :func:`simdedup.spark.dedup` for Spark.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from simdedup import FIELD_SEPARATOR, _core  # defined before simdedup imports this module


def dedup(
    table: Any,
    columns: Sequence[str],
    threshold: float | None = None,
    model: Any = None,
    id_column: str | None = None,
    *,
    shingles: str = "word:3",
    recall: float = 0.99,
    seed: int | None = None,
    center: bool = True,
    report: str | os.PathLike | None = None,
) -> Any:
    """Deduplicates the rows of ``table`` (a pandas or polars DataFrame, a pyarrow Table or
    a ``datasets.Dataset``) on the text ``columns``; returns the same kind of table with
    every original column (types kept) plus ``duplicate_of`` (the kept row's
    ``id_column`` value, else its row number from 0; null when the row is kept) and
    ``score`` (null when kept).

    Without ``model``: exact Jaccard of word 3-shingles at ``threshold`` (0.5 by default),
    the smallest over the columns. With ``model`` (the path of a static-embedding model, a
    :class:`simdedup.StaticModel` or any ``encode(list[str])``): cosine at ``threshold``
    (0.9 by default) of the columns' vectors, concatenated.

    ``report="run.html"`` also writes the run's self-contained HTML report (the command
    line's ``--report``: similarity histogram, removals at stricter thresholds, the pairs
    closest to the bar side by side, the largest clusters), written whole or not at all.

    >>> import pyarrow as pa
    >>> t = pa.table({"text": ["a b c d", "a b c d e", "x y z w"], "n": [1, 2, 3]})
    >>> out = dedup(t, columns=["text"])
    >>> out.column("duplicate_of").to_pylist(), out.column("n").to_pylist()
    ([None, 0, None], [1, 2, 3])
    """
    import pyarrow as pa

    started = time.perf_counter()
    if not columns:
        raise ValueError("columns must name the text columns to compare")
    if report is not None:
        report = check_report_path(report)
    kind, arrow = _as_arrow(table)
    missing = [c for c in list(columns) + ([id_column] if id_column else []) if c not in arrow.column_names]
    if missing:
        raise ValueError(f"no column {missing[0]!r} in the table (it has {arrow.column_names})")
    texts = [_strings(arrow.column(c), c) for c in columns]
    joined = _joined(texts)
    if model is None:
        t = 0.5 if threshold is None else float(threshold)
        out = _core.dedup_texts(joined, t, fields=len(texts) > 1, shingles=shingles, recall=recall)
    else:
        from simdedup import StaticModel, _as_vectors

        if isinstance(model, (str, os.PathLike)):
            model = StaticModel(os.fspath(model))
        parts = [np.asarray(model.encode(col.to_pylist())) for col in texts]
        vectors = _as_vectors(np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0])
        t = 0.9 if threshold is None else float(threshold)
        options = {"center": center} if seed is None else {"center": center, "seed": seed}
        # A report's histogram and threshold table need every pair, not only those that decide.
        out = _core.dedup_vectors(vectors, t, all_pairs=report is not None, **options)
        out["method"] = "random-hyperplane SimHash search, verified by exact cosine"
    if report is not None:
        write_run_report(
            report,
            out,
            title=f"simdedup.dedup({kind} table, columns={list(columns)})",
            similarity="Jaccard" if model is None else "cosine",
            threshold=t,
            text_of=lambda rows: joined.take(pa.array(rows, type=pa.int64())).to_pylist(),
            name_of=None if id_column is None else (
                lambda rows: arrow.column(id_column).take(pa.array(rows, type=pa.int64())).to_pylist()
            ),
            separator=FIELD_SEPARATOR if len(texts) > 1 else None,
            started=started,
        )
    dup = out["duplicate_of"]
    kept_mask = dup < 0
    score = pa.array(out["score"], mask=kept_mask, type=pa.float64())
    if id_column is None:
        duplicate_of = pa.array(dup, mask=kept_mask, type=pa.int64())
    else:
        ids = arrow.column(id_column).combine_chunks()
        duplicate_of = ids.take(pa.array(np.where(kept_mask, 0, dup), mask=kept_mask))
    return _with_columns(kind, table, duplicate_of, score)


def check_report_path(path: str | os.PathLike) -> str:
    """A report's path, checked before the run: its directory exists and is writable."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK):
        raise OSError(f"{path}: cannot write the report there (no writable directory {directory})")
    return path


def write_run_report(
    path: str,
    out: dict,
    *,
    title: str,
    similarity: str,
    threshold: float,
    text_of,
    name_of=None,
    separator: str | None = None,
    started: float | None = None,
    skipped: list | None = None,
) -> None:
    """The report of a run (the dict of ``_core.dedup_texts`` or ``dedup_vectors``): the
    texts (``text_of(rows)``; None: a run without texts) and names (``name_of(rows)``, else row numbers) of only the
    records the page shows are fetched (``_core.report_records``)."""
    text_rows, name_rows = _core.report_records(out, threshold)
    texts = None
    if text_of is not None:
        texts = dict(zip(text_rows.tolist(), (_as_display(t) for t in text_of(text_rows.tolist()))))
    names = None
    if name_of is not None:
        names = dict(zip(name_rows.tolist(), (_as_display(n) for n in name_of(name_rows.tolist()))))
    _core.write_report(
        path,
        out,
        title=title,
        similarity=similarity,
        threshold=threshold,
        method=out.get("method") or "",
        texts=texts,
        names=names,
        separator=separator,
        shape=out.get("shape"),
        skipped=skipped,
        elapsed=0.0 if started is None else time.perf_counter() - started,
    )


def _as_display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def _as_arrow(table: Any) -> tuple[str, Any]:
    """The table's kind and its columns as a pyarrow Table (no copy where it is Arrow)."""
    import pyarrow as pa

    if isinstance(table, pa.Table):
        return "arrow", table
    module = type(table).__module__
    if module.startswith("polars"):
        return "polars", table.to_arrow()
    if module.startswith("pandas"):
        return "pandas", pa.Table.from_pandas(table, preserve_index=False)
    if module.startswith("datasets"):
        if getattr(table, "_indices", None) is not None:
            table = table.flatten_indices()
        return "datasets", table.data.table
    raise TypeError(
        f"expected a pandas or polars DataFrame, a pyarrow Table or a datasets.Dataset, not {type(table).__name__}"
    )


def _strings(column: Any, name: str) -> Any:
    """A text column as an Arrow string or large-string array (cast from string views)."""
    import pyarrow as pa

    if column.type in (pa.string(), pa.large_string()):
        return column
    if pa.types.is_string_view(column.type) or pa.types.is_dictionary(column.type):
        return column.cast(pa.large_string())
    raise ValueError(f"column {name!r} holds {column.type}, not text")


def _joined(columns: list) -> Any:
    """One text per row; several columns joined by the record separator."""
    if len(columns) == 1:
        return columns[0]
    import pyarrow as pa
    import pyarrow.compute as pc

    cleaned = [pc.replace_substring(c.cast(pa.large_string()), FIELD_SEPARATOR, " ") for c in columns]
    return pc.binary_join_element_wise(*cleaned, pa.scalar(FIELD_SEPARATOR, pa.large_string()))


def _with_columns(kind: str, table: Any, duplicate_of: Any, score: Any) -> Any:
    if kind == "arrow":
        return table.append_column("duplicate_of", duplicate_of).append_column("score", score)
    if kind == "polars":
        import polars as pl

        return table.with_columns(pl.from_arrow(duplicate_of).alias("duplicate_of"), pl.from_arrow(score).alias("score"))
    if kind == "pandas":
        import pandas as pd

        out = table.copy(deep=False)
        for name, values in (("duplicate_of", duplicate_of), ("score", score)):
            out[name] = pd.Series(values.to_pandas(types_mapper=_nullable).array, index=table.index)
        return out
    # datasets.Dataset
    return table.add_column("duplicate_of", duplicate_of.to_pylist()).add_column("score", score.to_pylist())


def _nullable(arrow_type: Any) -> Any:
    """pandas' nullable dtypes for the added columns (null where the row is kept)."""
    import pandas as pd
    import pyarrow as pa

    return {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype()}.get(arrow_type)
