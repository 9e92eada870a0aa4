"""simdedup: near-duplicate and semantic deduplication with SemHash's API, on a Rust core.

A SemHash user switches by changing one import::

    from simdedup import SimDedup

    texts = ["the cat sat on the mat", "the cat sat on the mat!", "a dog barked"]
    result = SimDedup.from_records(texts).self_deduplicate()
    print(result.selected)           # ['the cat sat on the mat', 'a dog barked']
    print(result.duplicate_ratio)    # 0.33...

Similarity depends on how the instance is made:

- ``from_records(records)``: semantic, as in SemHash. Texts are embedded by the bundled
  static-embedding model (potion-base-4m-int8, MIT, shipped in the package:
  :data:`DEFAULT_MODEL`) and compared by cosine, 0.9 by default.
- ``from_records(records, model="path/to/model")``: semantic, with the built-in
  static-embedding model reader (Model2Vec layout; vectors equal ``model2vec``'s).
- ``from_records(records, model=encoder)``: semantic. ``encoder.encode(list_of_str)``
  returns one vector per text (a ``model2vec.StaticModel`` or a sentence-transformers model
  works as in SemHash); records of several columns concatenate their columns' vectors.
  Vectors are compared by exact cosine; candidates come from random-hyperplane SimHash
  fingerprints (exact Hamming tables, or bit-sampling bands above 20,000 rows).
- ``from_records(records, similarity="lexical")``: lexical, as the ``simdedup`` command
  line compares. Texts are compared by the exact Jaccard similarity of their word
  3-shingles (after NFKC, lowercase, punctuation and whitespace normalisation), 0.5 by
  default; candidates come from a MinHash band search with 0.99 recall at the threshold.
  Records of several columns are similar when every column is (the smallest per-column
  Jaccard).
- ``from_embeddings(embeddings, records)``: semantic, on vectors you made. A C-contiguous
  float32 array is read without a copy.

Exact copies are grouped when an instance is made (``sd.index.items``, ``sd.index.vectors``)
and a zero vector is similar to nothing, as in SemHash 0.5.0. Beyond SemHash:
``sd.save(path)`` and ``SimDedup.load(path)``; ``self_deduplicate(target_size=N)``;
``result.duplicate_ids()`` (the duplicates of each kept record as arrays of indices);
``simdedup.dedup(table, columns=[...])`` for pandas, polars, pyarrow and ``datasets`` tables.

The work runs in Rust with the GIL released.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
from pathlib import Path
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

import numpy as np

from simdedup import _core

__all__ = [
    "SimDedup",
    "dedup",
    "Index",
    "DeduplicationResult",
    "DuplicateRecord",
    "FilterResult",
    "SelectedWithDuplicates",
    "Encoder",
    "StaticModel",
    "DEFAULT_MODEL",
    "DuplicateIds",
    "fingerprints",
    "band_keys",
    "pairs_within",
    "band_pairs",
    "jaccard_scores",
]

__version__ = _core.__version__

Record = TypeVar("Record", str, dict)

# A static-embedding model read from a local directory (Model2Vec layout), in Rust.
StaticModel = _core.StaticModel

# The model ``from_records`` embeds with when it is given none: potion-base-4m-int8 (MIT,
# The Minish Lab), shipped in the package (its LICENSE and SOURCE beside it).
DEFAULT_MODEL = Path(__file__).parent / "models" / "potion-base-4m-int8"
_default_model: StaticModel | None = None


def _the_default_model() -> StaticModel:
    """The bundled model, read once per process."""
    global _default_model
    if _default_model is None:
        _default_model = StaticModel(os.fspath(DEFAULT_MODEL))
    return _default_model

# The lower-level calls, for pipelines (see their docstrings in _core.pyi).
fingerprints = _core.fingerprints
band_keys = _core.band_keys
pairs_within = _core.pairs_within
band_pairs = _core.band_pairs
jaccard_scores = _core.jaccard_scores


class Encoder(Protocol):
    """SemHash's encoder protocol: anything with ``encode(list[str]) -> numpy array``."""

    def encode(self, inputs: Sequence[str], **kwargs: Any) -> np.ndarray: ...


@dataclass
class DuplicateRecord(Generic[Record]):
    """A record filtered as a duplicate of ``duplicate_of``, with their similarity ``score``.

    ``exact`` is true when the record is a copy of ``duplicate_of`` (in a lexical
    self-deduplication also when the two are identical after normalisation).
    """

    record: Record
    exact: bool
    duplicate_of: Record
    score: float


@dataclass
class SelectedWithDuplicates(Generic[Record]):
    """A kept record with the records removed as its duplicates, and their scores."""

    record: Record
    duplicates: list[tuple[Record, float]] = field(default_factory=list)


@dataclass
class DuplicateIds:
    """The duplicates of each kept record as record indices, in numpy arrays (no Python
    object per pair): the duplicates of ``kept[i]`` are ``duplicates[offsets[i]:offsets[i + 1]]``,
    in input order, with their ``scores``. ``duplicate_of`` has one entry per record
    deduplicated: the index of the record it was removed in favour of, or -1 when kept.

    From ``self_deduplicate``, indices are positions in the records the instance was made
    from, and ``kept`` lists every selected record. From ``deduplicate``, ``duplicates`` and
    ``duplicate_of``'s positions are in the new records and ``kept`` holds the fitted records
    (their positions in the fitted ones) that at least one new record duplicates.
    """

    kept: np.ndarray
    offsets: np.ndarray
    duplicates: np.ndarray
    scores: np.ndarray
    duplicate_of: np.ndarray

    def __len__(self) -> int:
        return len(self.kept)


def _duplicate_ids(duplicate_of: np.ndarray, score: np.ndarray, kept: np.ndarray) -> DuplicateIds:
    removed = np.flatnonzero(duplicate_of >= 0)
    owner = duplicate_of[removed]
    order = np.argsort(owner, kind="stable")
    removed, owner = removed[order], owner[order]
    offsets = np.zeros(len(kept) + 1, dtype=np.int64)
    offsets[1:] = np.searchsorted(owner, kept, side="right")
    return DuplicateIds(kept, offsets, removed, score[removed], duplicate_of)


@dataclass
class DeduplicationResult(Generic[Record]):
    """The outcome of a deduplication (SemHash's ``DeduplicationResult``).

    ``selected`` are the records kept, in input order; ``filtered`` the duplicates, each
    naming the kept record it duplicates (a record is only ever a duplicate of a *kept*
    record: no chains).

    >>> r = SimDedup.from_records(["a b c d", "a b c d e", "x y z w"], similarity="lexical").self_deduplicate(0.5)
    >>> [d.record for d in r.filtered], round(r.duplicate_ratio, 3)
    (['a b c d e'], 0.333)
    """

    selected: list[Record] = field(default_factory=list)
    filtered: list[DuplicateRecord] = field(default_factory=list)
    threshold: float = 0.9
    columns: Sequence[str] | None = None
    # For rethreshold: the decisions again at a higher threshold (from the verified pairs
    # of a lexical run, or by searching the vectors again).
    _redo: Any = field(default=None, repr=False, compare=False)
    _selected_index: list[int] | None = field(default=None, repr=False, compare=False)
    _filtered_index: list[tuple[int, int]] | None = field(default=None, repr=False, compare=False)
    # Per record deduplicated: the index it was removed in favour of (-1: kept), its score,
    # and whether the indices name the same records (self) or fitted ones (against).
    _duplicate_of: np.ndarray | None = field(default=None, repr=False, compare=False)
    _scores: np.ndarray | None = field(default=None, repr=False, compare=False)
    _against: bool = field(default=False, repr=False, compare=False)

    def duplicate_ids(self) -> DuplicateIds:
        """The duplicates of each kept record as arrays of record indices (SemHash issue
        63, without a Python object per pair): see :class:`DuplicateIds`.

        >>> r = SimDedup.from_records(["a b c d", "x y z w", "a b c d e", "a b c d"], similarity="lexical").self_deduplicate(0.5)
        >>> ids = r.duplicate_ids()
        >>> ids.kept.tolist(), ids.offsets.tolist(), ids.duplicates.tolist(), ids.duplicate_of.tolist()
        ([0, 1], [0, 2, 2], [2, 3], [-1, -1, 0, 0])
        """
        if self._duplicate_of is None:
            raise ValueError("this result has no record indices (it was built by hand)")
        if self._against:
            kept = np.unique(self._duplicate_of[self._duplicate_of >= 0])
        else:
            kept = np.flatnonzero(self._duplicate_of < 0)
        return _duplicate_ids(self._duplicate_of, self._scores, kept)

    @property
    def duplicate_ratio(self) -> float:
        """The share of records filtered."""
        denom = len(self.selected) + len(self.filtered)
        return 1.0 - len(self.selected) / denom if denom else 0.0

    @property
    def exact_duplicate_ratio(self) -> float:
        """The share of records filtered as exact duplicates."""
        denom = len(self.selected) + len(self.filtered)
        return sum(d.exact for d in self.filtered) / denom if denom else 0.0

    def get_least_similar_from_duplicates(self, n: int = 1) -> list[tuple[Record, Record, float]]:
        """The ``n`` duplicate pairs with the lowest scores, as (record, duplicate_of, score).

        >>> r = SimDedup.from_records(["a b c d", "a b c d e"], similarity="lexical").self_deduplicate(0.5)
        >>> r.get_least_similar_from_duplicates(1)
        [('a b c d e', 'a b c d', 0.6666666666666666)]
        """
        pairs = [(d.record, d.duplicate_of, d.score) for d in self.filtered]
        return sorted(pairs, key=lambda p: p[2])[:n]

    def rethreshold(self, threshold: float) -> None:
        """Applies a higher ``threshold`` in place: the decisions are made again (from the
        verified pairs; with a model or embeddings, by searching again at ``threshold``), so
        a record no longer filtered can keep later ones.

        >>> r = SimDedup.from_records(["a b c d", "a b c d e"], similarity="lexical").self_deduplicate(0.5)
        >>> r.rethreshold(0.9); r.selected
        ['a b c d', 'a b c d e']
        """
        if threshold < self.threshold:
            raise ValueError(
                f"threshold {threshold} is below the result's {self.threshold}: pairs below it "
                "were never kept; deduplicate again"
            )
        if self._redo is not None:
            fresh = self._redo(threshold)
            self.selected, self.filtered = fresh.selected, fresh.filtered
            self._selected_index, self._filtered_index = fresh._selected_index, fresh._filtered_index
            self._duplicate_of, self._scores = fresh._duplicate_of, fresh._scores
        else:
            if self._duplicate_of is not None:
                self._duplicate_of = np.where(self._scores >= threshold, self._duplicate_of, -1)
            kept = [d for d in self.filtered if d.score >= threshold]
            self.selected.extend(d.record for d in self.filtered if d.score < threshold)
            self.filtered = kept
            self._selected_index = self._filtered_index = None
        self.threshold = threshold

    @property
    def selected_with_duplicates(self) -> list[SelectedWithDuplicates[Record]]:
        """Every kept record with the duplicates removed in its favour and their scores."""
        if self._selected_index is not None and self._filtered_index is not None:
            buckets: dict[int, list] = {}
            for d, (_, kept) in zip(self.filtered, self._filtered_index):
                buckets.setdefault(kept, []).append((d.record, d.score))
            return [
                SelectedWithDuplicates(record=r, duplicates=buckets.get(i, []))
                for r, i in zip(self.selected, self._selected_index)
            ]
        by_key: dict[Any, list] = {}
        for d in self.filtered:
            by_key.setdefault(_key(d.duplicate_of), []).append((d.record, d.score))
        return [SelectedWithDuplicates(record=r, duplicates=by_key.get(_key(r), [])) for r in self.selected]


def _key(record: Any) -> Any:
    return tuple(sorted((k, str(v)) for k, v in record.items())) if isinstance(record, dict) else record


@dataclass
class FilterResult(Generic[Record]):
    """The outcome of outlier filtering or representative selection (SemHash's
    ``FilterResult``): ``selected`` and ``filtered`` records with their scores (mean
    similarity to the nearest neighbours)."""

    selected: list[Record]
    filtered: list[Record]
    scores_selected: list[float] = field(default_factory=list)
    scores_filtered: list[float] = field(default_factory=list)

    @property
    def filter_ratio(self) -> float:
        """The share of records filtered."""
        denom = len(self.selected) + len(self.filtered)
        return len(self.filtered) / denom if denom else 0.0

    @property
    def selected_ratio(self) -> float:
        """The share of records selected."""
        return 1.0 - self.filter_ratio


FIELD_SEPARATOR = "\x1e"


# -- records: SemHash's rules and messages ------------------------------------------------


def _validate_columns(records: Sequence[dict], columns: Sequence[str]) -> None:
    """Every record has a value that is not None in every column (SemHash's messages)."""
    for record in records:
        for column in columns:
            if record.get(column) is None:
                if column not in record:
                    raise ValueError(f"Missing column '{column}' in record {record}")
                raise ValueError(f"Column '{column}' has None value in record {record}")


def _prepare(records: Sequence[Record], columns: Sequence[str] | None) -> tuple[list, list[str], bool]:
    """Records as given, the columns used, and whether they were strings (SemHash's
    ``prepare_records``: the first record decides; strings get the column ``text``)."""
    records = list(records)
    if not records:
        raise ValueError("records must not be empty")
    if columns is None and isinstance(records[0], dict):
        raise ValueError("Columns must be specified when passing dictionaries.")
    if isinstance(records[0], str):
        if not all(isinstance(r, str) for r in records):
            raise ValueError("All records must be strings when the first record is a string.")
        return records, ["text"], True
    if not all(isinstance(r, dict) for r in records):
        raise ValueError("All records must be dicts when the first record is a dict.")
    _validate_columns(records, columns)
    return records, list(columns), False


def _coerce(value: Any) -> Any:
    """A value as an encoder receives it: primitives as strings, other objects (images,
    arrays) unchanged, as SemHash passes them."""
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    return value


def _hashable(value: Any) -> Any:
    """A value as the exact-copy key holds it (SemHash's ``make_hashable(coerce_value(v))``):
    ``1`` and ``"1"`` are the same record."""
    value = _coerce(value)
    if isinstance(value, (str, bytes, type(None))):
        return value
    if hasattr(value, "tobytes"):
        return hashlib.md5(value.tobytes()).hexdigest()
    try:
        hash(value)
        return value
    except TypeError:
        return str(value)


def _keys(records: list, columns: Sequence[str]) -> list:
    """The exact-copy key of each record (a string record is its own key)."""
    if len(columns) == 1:
        c = columns[0]
        return [r if isinstance(r, str) else _hashable(r[c]) for r in records]
    return [tuple(_hashable(r[c]) for c in columns) for r in records]


def _column_values(records: list, columns: Sequence[str]) -> list[list]:
    """Each column's values (a string record is its own ``text`` value)."""
    if records and isinstance(records[0], str):
        return [records]
    return [[r[c] for r in records] for c in columns]


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _texts(records: list, columns: Sequence[str]) -> list[str]:
    """One text per record; several columns joined by the record separator."""
    cols = [[_as_text(v) for v in col] for col in _column_values(records, columns)]
    if len(cols) == 1:
        return cols[0]
    return [FIELD_SEPARATOR.join(c.replace(FIELD_SEPARATOR, " ") for c in row) for row in zip(*cols)]


def _embed(model: Encoder, records: list, columns: Sequence[str]) -> np.ndarray:
    """Each column encoded by ``model`` and the vectors concatenated (as SemHash does)."""
    parts = []
    for values in _column_values(records, columns):
        values = [_as_text(v) for v in values] if isinstance(model, StaticModel) else [_coerce(v) for v in values]
        v = np.asarray(model.encode(values))
        if v.ndim != 2 or v.shape[0] != len(values):
            raise ValueError(f"the model returned shape {v.shape} for {len(values)} texts")
        parts.append(v)
    return _as_vectors(np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0])


def _as_vectors(embeddings: Any) -> np.ndarray:
    v = np.ascontiguousarray(embeddings, dtype=np.float32)
    if v.ndim != 2:
        raise ValueError(f"embeddings must be a 2D array, got shape {v.shape}")
    return v


def _nonzero_rows(v: np.ndarray) -> np.ndarray | None:
    """The rows that are not the zero vector, or None when all are (the common case)."""
    nonzero = np.any(v != 0, axis=1)
    return None if nonzero.all() else np.flatnonzero(nonzero)


def _check_finite(v: np.ndarray, rows: np.ndarray) -> None:
    """A NaN or infinite value named by the row the user gave (``rows`` maps back)."""
    bad = ~np.isfinite(v).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "NaN" if np.isnan(v[i]).any() else "infinite value"
        raise ValueError(f"embeddings, row {int(rows[i])}: {what} ({int(bad.sum())} non-finite row(s) in all)")


class Index:
    """SemHash's ``index``: exact copies grouped when the instance is made.

    ``items`` holds, per distinct record in first-occurrence order, the bucket of its
    copies as dictionaries (a string record as ``{"text": record}``, as SemHash holds it);
    ``vectors`` one row per bucket (``None`` for lexical similarity, which has no vectors).

    >>> sd = SimDedup.from_records(["a b c", "x y z", "a b c"], similarity="lexical")
    >>> sd.index.items
    [[{'text': 'a b c'}, {'text': 'a b c'}], [{'text': 'x y z'}]]
    """

    def __init__(self, owner: SimDedup) -> None:
        self._owner = owner
        self._items: list | None = None

    @property
    def items(self) -> list[list[dict]]:
        if self._items is None:
            o = self._owner
            as_dict = (lambda r: {"text": r}) if o._was_string else (lambda r: r)
            self._items = [[as_dict(o.records[i]) for i in bucket] for bucket in o._buckets()]
        return self._items

    @property
    def vectors(self) -> np.ndarray | None:
        return self._owner._embeddings

    def __len__(self) -> int:
        return len(self._owner._firsts)


class SimDedup(Generic[Record]):
    """Deduplication, outliers and representatives over records (SemHash's ``SemHash``).

    Make one with :meth:`from_records` or :meth:`from_embeddings`, then call the ``self_*``
    methods on those records, or the other methods on new records against them. Exact
    copies are grouped when the instance is made (:attr:`index`): only one record of each
    group is embedded and searched, and a zero vector (the embedding of an empty text) is
    similar to nothing, as in SemHash.

    >>> sd = SimDedup.from_records([{"q": "what is a cat", "a": "an animal"},
    ...                             {"q": "what is a cat?", "a": "an animal"}], columns=["q", "a"],
    ...                            similarity="lexical")
    >>> len(sd.self_deduplicate(0.8).filtered)
    1
    """

    def __init__(
        self,
        records: list,
        columns: list[str],
        was_string: bool,
        model: Encoder | None,
        embeddings: np.ndarray | None,
        options: dict[str, Any],
        groups: tuple[dict, list[int], list[int]] | None = None,
    ) -> None:
        self.records = records
        self.columns = columns
        self.model = model
        self._was_string = was_string
        self._options = options
        self._key_group, self._group_of, self._firsts = groups or _group(_keys(records, columns))
        distinct = [records[i] for i in self._firsts]
        # Distinct rows only: the record's own array when it has no exact copies.
        self._embeddings = embeddings
        self._texts = None if embeddings is not None else _texts(distinct, columns)
        self._searched_rows: Any = False  # not computed yet
        # A model read from a saved file: its files, to save it again.
        self._loaded_model_files: tuple[Any, list] | None = None
        self.index = Index(self)

    @classmethod
    def from_records(
        cls,
        records: Sequence[Record],
        columns: Sequence[str] | None = None,
        model: Encoder | str | os.PathLike | None = None,
        similarity: Literal["semantic", "lexical"] = "semantic",
        **options: Any,
    ) -> SimDedup:
        """Records (strings, or dicts with ``columns``) to compare by the vectors of ``model``
        (cosine, 0.9 by default): an encoder object, the path of a local static-embedding
        model directory (read by :class:`StaticModel`, no Python model library needed), or
        ``None`` for the bundled :data:`DEFAULT_MODEL`, as SemHash embeds with its default
        model. Exact copies are embedded once. ``similarity="lexical"`` compares the texts'
        words instead (Jaccard of word 3-shingles, 0.5 by default, as the command line does),
        with no model.

        Options: ``seed`` (the command line's) and ``center`` (True) for the hyperplanes of
        vectors; ``shingles`` ("word:3", "char:5", ...) and ``recall`` (0.99) for lexical
        similarity.

        >>> SimDedup.from_records(["one two three", "one two three"]).self_deduplicate().exact_duplicate_ratio
        0.5
        >>> SimDedup.from_records(["a b c d", "a b c d e"], similarity="lexical").self_deduplicate().selected
        ['a b c d']
        """
        if similarity not in ("semantic", "lexical"):
            raise ValueError(f"similarity must be 'semantic' or 'lexical', got {similarity!r}")
        lexical_only = sorted(k for k in ("shingles", "recall") if k in options)
        if similarity == "lexical" and model is not None:
            raise ValueError("similarity='lexical' compares words and takes no model; drop model=, or the similarity")
        if similarity == "semantic" and lexical_only:
            raise ValueError(
                f"{', '.join(lexical_only)} {'is an option' if len(lexical_only) == 1 else 'are options'} "
                "of lexical similarity: pass similarity='lexical'"
            )
        records, columns, was_string = _prepare(records, columns)
        if similarity == "semantic":
            if model is None:
                model = _the_default_model()
            elif isinstance(model, (str, os.PathLike)):
                model = StaticModel(os.fspath(model))
        groups = _group(_keys(records, columns))
        embeddings = None
        if model is not None:
            embeddings = _embed(model, [records[i] for i in groups[2]], columns)
        return cls(records, columns, was_string, model, embeddings, dict(options), groups)

    @classmethod
    def from_embeddings(
        cls,
        embeddings: np.ndarray,
        records: Sequence[Record],
        model: Encoder | None = None,
        columns: Sequence[str] | None = None,
        **options: Any,
    ) -> SimDedup:
        """Records with vectors made elsewhere, one row per record, compared by cosine. A
        C-contiguous float32 array is used without a copy (when no record is an exact copy
        of another: only the first row of each group of copies is kept, as in SemHash).
        ``model`` embeds the records that the non-``self`` methods receive.

        >>> import numpy as np
        >>> v = np.array([[1, 0], [0.99, 0.01], [0, 1]], dtype=np.float32)
        >>> SimDedup.from_embeddings(v, ["a", "b", "c"]).self_deduplicate(0.9).selected
        ['a', 'c']
        """
        if len(records) == 0:
            raise ValueError("records must not be empty")
        vectors = _as_vectors(embeddings)
        if vectors.shape[0] != len(records):
            raise ValueError(
                f"Number of embeddings ({vectors.shape[0]}) must match number of records ({len(records)})"
            )
        records, columns, was_string = _prepare(records, columns)
        groups = _group(_keys(records, columns))
        if len(groups[2]) < len(records):
            vectors = np.ascontiguousarray(vectors[groups[2]])
        return cls(records, columns, was_string, model, vectors, dict(options), groups)

    # -- save and load -------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Saves the instance to ``path``: its settings, records, groups of exact copies,
        vectors and model (a :class:`StaticModel` or a ``model2vec.StaticModel``, stored
        as the model's files; another encoder is not stored, pass it to :meth:`load`), in
        one versioned, CRC-32-checksummed file that is written to a temporary file and
        renamed over ``path``, so ``path`` holds the old file or the new one, never part.
        Records must be JSON values (strings, numbers, lists, dictionaries).

        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "train.simdedup")
        >>> SimDedup.from_records(["the quick brown fox jumps"], similarity="lexical").save(path)
        >>> SimDedup.load(path).deduplicate(["the quick brown fox jumps high"], 0.5).selected
        []
        """
        try:
            records = json.dumps(self.records, ensure_ascii=False).encode()
        except (TypeError, ValueError) as e:
            bad = next((i for i, r in enumerate(self.records) if not _json_ok(r)), None)
            raise ValueError(f"record {bad} cannot be saved: {e} (records are saved as JSON)") from None
        meta: dict[str, Any] = {
            "format": SAVED_FORMAT,
            "version": SAVED_VERSION,
            "columns": self.columns,
            "was_string": self._was_string,
            "options": self._options,
            "records": len(self.records),
            "vectors": None if self._embeddings is None else list(self._embeddings.shape),
        }
        sections = [("records", records), ("groups", np.asarray(self._group_of, dtype="<i8").tobytes())]
        if self._embeddings is not None:
            sections.append(("vectors", np.ascontiguousarray(self._embeddings, dtype="<f4").tobytes()))
        loaded = self._loaded_model_files
        files = loaded[1] if loaded is not None and loaded[0] is self.model else _model_files(self.model)
        kind = self.model.kind if isinstance(self.model, _Missing) else type(self.model).__name__
        meta["model"] = None if self.model is None else {"stored": files is not None, "type": kind}
        for name, data in files or []:
            sections.append(("model/" + name, data))
        sections.insert(0, ("meta", json.dumps(meta).encode()))
        _core.save_bundle(os.fspath(path), sections)

    @classmethod
    def load(cls, path: str | os.PathLike, model: Encoder | None = None) -> SimDedup:
        """An instance saved by :meth:`save`; its ``deduplicate`` and the other methods give
        what the saved one gave, without the records or the model passed again (``model``
        replaces a stored model, or gives one that could not be stored). A file that is not
        a saved instance, is truncated or damaged (its checksum) or comes from a newer
        simdedup is a ``ValueError`` saying so.
        """
        sections = dict(_core.load_bundle(os.fspath(path)))
        try:
            meta = json.loads(sections["meta"])
            fmt, version = meta["format"], meta["version"]
        except (KeyError, ValueError, TypeError):
            raise ValueError(f"{os.fspath(path)}: not a saved SimDedup (no settings section)") from None
        if fmt != SAVED_FORMAT:
            raise ValueError(f"{os.fspath(path)}: not a saved SimDedup (it holds {fmt!r})")
        if version > SAVED_VERSION:
            raise ValueError(
                f"{os.fspath(path)}: saved by a newer simdedup (version {version}, this one reads up to "
                f"{SAVED_VERSION}); use a newer simdedup"
            )
        records = json.loads(sections["records"])
        group_of = np.frombuffer(sections["groups"], dtype="<i8").tolist()
        if len(records) != meta["records"] or len(group_of) != len(records):
            raise ValueError(f"{os.fspath(path)}: corrupt saved SimDedup: {len(records)} records, {len(group_of)} groups")
        firsts, key_group = [], {}
        keys = _keys(records, meta["columns"])
        for i, g in enumerate(group_of):
            if g == len(firsts):
                firsts.append(i)
                key_group[keys[i]] = g
        embeddings = None
        if meta["vectors"] is not None:
            rows, dim = meta["vectors"]
            embeddings = np.frombuffer(sections["vectors"], dtype="<f4").reshape(rows, dim)
        files = None
        if model is None and meta["model"] is not None and meta["model"]["stored"]:
            files = [(k[len("model/") :], v) for k, v in sections.items() if k.startswith("model/")]
            model = _stored_model(files)
        elif model is None and meta["model"] is not None:
            model = _Missing(meta["model"]["type"])
        sd = cls(
            records, meta["columns"], meta["was_string"], model, embeddings, meta["options"], (key_group, group_of, firsts)
        )
        if files is not None:
            sd._loaded_model_files = (model, files)
        return sd

    # -- helpers -------------------------------------------------------------------------

    @property
    def _lexical(self) -> bool:
        return self._embeddings is None

    def _buckets(self) -> list[list[int]]:
        """The record indices of each group of exact copies, in first-occurrence order."""
        if len(self._firsts) == len(self.records):
            return [[i] for i in range(len(self.records))]
        buckets: list[list[int]] = [[] for _ in self._firsts]
        for i, g in enumerate(self._group_of):
            buckets[g].append(i)
        return buckets

    def _searched(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The distinct vectors that are searched (not zero) and their groups (None: all)."""
        if self._searched_rows is False:
            rows = _nonzero_rows(self._embeddings)
            if rows is None and len(self._firsts) == len(self.records):
                self._searched_rows, self._searched_vectors = None, self._embeddings
            else:
                vectors = self._embeddings if rows is None else np.ascontiguousarray(self._embeddings[rows])
                first = np.asarray(self._firsts)
                _check_finite(vectors, first if rows is None else first[rows])
                self._searched_rows, self._searched_vectors = rows, vectors
        return self._searched_vectors, self._searched_rows

    def _text_options(self) -> dict[str, Any]:
        o = {"fields": len(self.columns) > 1}
        if "shingles" in self._options:
            o["shingles"] = self._options["shingles"]
        return o

    def _vector_options(self) -> dict[str, Any]:
        return {k: self._options[k] for k in ("seed", "center") if k in self._options}

    def _new_records(self, records: Sequence[Record]) -> list:
        """New records checked as SemHash checks them: a string-fitted instance takes dicts
        with the ``text`` column too."""
        records = list(records)
        if not records:
            raise ValueError("records must not be empty")
        if isinstance(records[0], str):
            if not self._was_string:
                raise ValueError("Records were not originally strings, but you passed strings.")
            if not all(isinstance(r, str) for r in records):
                raise ValueError("Records must be all strings.")
            return records
        if not all(isinstance(r, dict) for r in records):
            raise ValueError("Records must be all dictionaries.")
        _validate_columns(records, self.columns)
        return records

    def _output(self, record: Any) -> Any:
        """A new record as results hold it: strings for a string-fitted instance."""
        if self._was_string and not isinstance(record, str):
            return _as_text(record["text"])
        return record

    def _new_vectors(self, records: list, embeddings: Any | None) -> np.ndarray:
        if embeddings is not None:
            v = _as_vectors(embeddings)
            if v.shape[0] != len(records):
                raise ValueError(f"{v.shape[0]} embeddings for {len(records)} records")
            return v
        if self.model is None:
            raise ValueError("no model to embed the new records: pass embeddings=..., or a model")
        return _embed(self.model, records, self.columns)

    @staticmethod
    def _threshold(threshold: float | None, lexical: bool) -> float:
        return (0.5 if lexical else 0.9) if threshold is None else float(threshold)

    def _result(self, canon: np.ndarray, score: np.ndarray, exact: np.ndarray | None, t: float) -> DeduplicationResult:
        """A self-deduplication result from each group's kept group (itself when kept), as
        SemHash builds it: a kept group's first record is selected and its copies filtered
        as exact; every record of a removed group names the kept group's first record."""
        records, firsts = self.records, self._firsts
        result = DeduplicationResult(threshold=t, columns=self.columns)
        result._selected_index, result._filtered_index = [], []
        group_of = np.asarray(self._group_of, dtype=np.int64)
        owner = canon[group_of]
        result._duplicate_of = np.asarray(firsts, dtype=np.int64)[owner]
        result._duplicate_of[result._duplicate_of == np.arange(len(records))] = -1
        result._scores = np.where(owner == group_of, 1.0, score[group_of])
        canon, score = canon.tolist(), score.tolist()
        exact = exact.tolist() if exact is not None else None
        for g, bucket in enumerate(self._buckets()):
            c = canon[g]
            if c == g:
                first = bucket[0]
                result.selected.append(records[first])
                result._selected_index.append(first)
                for i in bucket[1:]:
                    result.filtered.append(DuplicateRecord(records[i], True, records[first], 1.0))
                    result._filtered_index.append((i, first))
            else:
                kept, e = firsts[c], bool(exact[g]) if exact is not None else False
                for i in bucket:
                    result.filtered.append(DuplicateRecord(records[i], e, records[kept], score[g]))
                    result._filtered_index.append((i, kept))
        return result

    # -- deduplication -------------------------------------------------------------------

    def _self_decisions(self, t: float, all_pairs: bool = False) -> tuple[dict, np.ndarray | None]:
        """The core's decisions over the searched rows, and the groups of those rows."""
        if self._lexical:
            return _core.dedup_texts(self._texts, t, recall=self._options.get("recall", 0.99), **self._text_options()), None
        vectors, rows = self._searched()
        return _core.dedup_vectors(vectors, t, all_pairs=all_pairs, **self._vector_options()), rows

    def _groups_result(self, out: dict, rows: np.ndarray | None, t: float) -> DeduplicationResult:
        n = len(self._firsts)
        canon, score = np.arange(n), np.ones(n)
        dup, s = out["duplicate_of"], out["score"]
        removed = dup >= 0
        at = np.arange(len(dup)) if rows is None else rows
        canon[at[removed]] = at[dup[removed]]
        score[at[removed]] = s[removed]
        exact = out["exact"] if self._lexical else None
        return self._result(canon, score, exact, t)

    def self_deduplicate(
        self,
        threshold: float | None = None,
        target_size: int | None = None,
        report: str | os.PathLike | None = None,
    ) -> DeduplicationResult:
        """Removes near duplicates within the records, keeping the first of each (a record
        is removed when it is similar enough to a record already kept). ``threshold``
        defaults to 0.9 for cosine, 0.5 for Jaccard.

        With ``target_size``, the threshold is the one at which the number of records kept
        is closest to ``target_size`` (``result.threshold`` says which): one search at the
        lowest threshold considered (``threshold``, by default 0.7 for cosine and 0.3 for
        Jaccard) finds every pair above it, and a bisection over their scores decides again
        from those pairs in memory, with no search again. When even the lowest threshold
        keeps more records, or no threshold keeps as many (exact copies are always removed),
        the result is the nearest one can get.

        >>> SimDedup.from_records(["a b c d", "a b c d e", "x y z w"], similarity="lexical").self_deduplicate(0.5).selected
        ['a b c d', 'x y z w']
        >>> r = SimDedup.from_records(["a b c d", "a b c d e", "a b c d e f", "x y z w"], similarity="lexical").self_deduplicate(target_size=3)
        >>> r.selected, round(r.threshold, 3)
        (['a b c d', 'a b c d e f', 'x y z w'], 0.667)

        ``report="run.html"`` also writes the run's self-contained HTML report (the command
        line's ``--report``), over the records: exact copies, grouped before the search,
        count as pairs at 1 and a near pair between two groups for each of their members.
        """
        started = time.perf_counter()
        if report is not None:
            report = frames.check_report_path(report)
        if target_size is not None:
            result = self._to_target_size(int(target_size), threshold)
            if report is not None:
                self._report(report, *self._self_decisions(result.threshold, all_pairs=True), result, started)
            return result
        t = self._threshold(threshold, self._lexical)
        if self._lexical:
            out, rows = self._self_decisions(t)
            result = self._lexical_result(out, t)
        else:
            # Only the pairs that decide (the search skips pairs between removed records),
            # unless a report needs every pair; rethreshold searches again.
            out, rows = self._self_decisions(t, all_pairs=report is not None)
            result = self._groups_result(out, rows, t)
            result._redo = self._vector_redo
        if report is not None:
            self._report(report, out, rows, result, started)
        return result

    def _report(self, path: str, out: dict, rows: np.ndarray | None, result: DeduplicationResult, started: float) -> None:
        """The report of a self-deduplication over the records: the core's group-level
        pairs expanded over the groups' members (``_core.expand_copies``, as the command
        line lists them), the result's decisions."""
        buckets = self._buckets()
        at = np.arange(len(out["duplicate_of"])) if rows is None else rows
        first = np.asarray(self._firsts, np.int64)
        copy_rows = np.array([i for bucket in buckets for i in bucket[1:]], np.int64)
        copy_reps = np.array([bucket[0] for bucket in buckets for _ in bucket[1:]], np.int64)
        near = (first[at[out["pair_a"]]], first[at[out["pair_b"]]], out["pair_score"], out["pair_exact"])
        pair_a, pair_b, pair_score, pair_exact = _core.expand_copies(near, (copy_rows, copy_reps))
        n = len(self.records)
        exact_of = np.zeros(n, bool)
        for d, (i, _) in zip(result.filtered, result._filtered_index or []):
            exact_of[i] = d.exact
        run = {
            "pair_a": pair_a,
            "pair_b": pair_b,
            "pair_score": pair_score,
            "pair_exact": pair_exact,
            "duplicate_of": result._duplicate_of,
            "score": result._scores,
            "exact": exact_of,
            "candidates": out.get("candidates", 0),
            "method": out.get("method") or "random-hyperplane SimHash search, verified by exact cosine",
            "shape": out.get("shape"),
        }
        texts = _texts(self.records, self.columns)
        frames.write_run_report(
            path,
            run,
            title="SimDedup.self_deduplicate()",
            similarity="Jaccard" if self._lexical else "cosine",
            threshold=result.threshold,
            text_of=lambda wanted: [texts[i] for i in wanted],
            separator=FIELD_SEPARATOR if len(self.columns) > 1 else None,
            started=started,
        )

    def _vector_redo(self, threshold: float) -> DeduplicationResult:
        return self._groups_result(*self._self_decisions(threshold), threshold)

    def _lexical_result(self, out: dict, t: float, decided: dict | None = None) -> DeduplicationResult:
        """A lexical result whose rethreshold decides again from the verified pairs."""
        n = len(self._firsts)

        def redo(threshold: float) -> DeduplicationResult:
            again = _core.rethreshold(n, out["pair_a"], out["pair_b"], out["pair_score"], out["pair_exact"], threshold)
            return self._groups_result(again, None, threshold)

        result = self._groups_result(out if decided is None else decided, None, t)
        result._redo = redo
        return result

    def _to_target_size(self, target: int, floor: float | None) -> DeduplicationResult:
        if target < 1:
            raise ValueError(f"target_size must be at least 1, got {target}")
        floor = (0.3 if self._lexical else 0.7) if floor is None else float(floor)
        out, rows = self._self_decisions(floor, all_pairs=True)
        searched = len(out["duplicate_of"])
        # Groups left out of the search (zero vectors) are always kept.
        aim = max(target - (len(self._firsts) - searched), 0)
        t, decided = _core.target_threshold(
            searched, out["pair_a"], out["pair_b"], out["pair_score"], out["pair_exact"], floor, aim
        )
        if self._lexical:
            return self._lexical_result(out, t, decided)
        result = self._groups_result(decided, rows, t)
        result._redo = self._vector_redo
        return result

    def deduplicate(
        self, records: Sequence[Record], threshold: float | None = None, embeddings: np.ndarray | None = None
    ) -> DeduplicationResult:
        """Removes the new ``records`` that duplicate a fitted record (e.g. a test set against
        its training set), each naming the most similar fitted record. Exact copies of a
        fitted record come first in ``filtered`` (as in SemHash), then the near duplicates.
        With vectors, the new records are embedded by the model, or their ``embeddings``
        are given. A string-fitted instance takes dictionaries with a ``text`` column too,
        their values turned into strings.

        >>> sd = SimDedup.from_records(["the quick brown fox jumps"], similarity="lexical")
        >>> sd.deduplicate(["the quick brown fox jumps high", "an unrelated sentence here"], 0.5).selected
        ['an unrelated sentence here']
        >>> SimDedup.from_records(["1", "2", "3"], similarity="lexical").deduplicate([{"text": 1}, {"text": 4}]).selected
        ['4']
        """
        new = self._new_records(records)
        t = self._threshold(threshold, self._lexical)
        result = DeduplicationResult(threshold=t, columns=self.columns, _against=True)
        result._duplicate_of = np.full(len(new), -1, dtype=np.int64)
        result._scores = np.zeros(len(new))
        rest = []
        for i, key in enumerate(_keys(new, self.columns)):
            g = self._key_group.get(key)
            if g is None:
                rest.append(i)
            else:
                kept = self.records[self._firsts[g]]
                result.filtered.append(DuplicateRecord(self._output(new[i]), True, kept, 1.0))
                result._duplicate_of[i], result._scores[i] = self._firsts[g], 1.0
        hit: dict[int, tuple[int, float]] = {}
        if rest:
            others = [new[i] for i in rest]
            if self._lexical:
                texts = _texts(others, self.columns)
                q, r, s = _core.against_texts(
                    texts, self._texts, t, recall=self._options.get("recall", 0.99), **self._text_options()
                )
                at = None
            else:
                vectors = self._new_vectors(others if embeddings is None else new, embeddings)
                if embeddings is not None and len(rest) < len(new):
                    vectors = np.ascontiguousarray(vectors[rest])
                if vectors.shape[1] != self._embeddings.shape[1]:
                    raise ValueError(
                        f"records have {vectors.shape[1]} dimensions, the fitted embeddings {self._embeddings.shape[1]}"
                    )
                reference, at = self._searched()
                queries = _nonzero_rows(vectors)
                if queries is None:
                    q, r, s = _core.against_vectors(vectors, reference, t, **self._vector_options())
                elif len(queries):
                    q, r, s = _core.against_vectors(np.ascontiguousarray(vectors[queries]), reference, t, **self._vector_options())
                    q = queries[q]
                else:
                    q = r = s = np.zeros(0, dtype=np.int64)
            r = r if at is None else at[r]
            hit = {a: (b, score) for a, b, score in zip(q.tolist(), r.tolist(), s.tolist())}
        for k, i in enumerate(rest):
            if k in hit:
                g, score = hit[k]
                result.filtered.append(
                    DuplicateRecord(self._output(new[i]), False, self.records[self._firsts[g]], score)
                )
                result._duplicate_of[i], result._scores[i] = self._firsts[g], score
            else:
                result.selected.append(self._output(new[i]))
        return result

    # -- outliers and representatives ----------------------------------------------------

    def _self_ranking(self, k: int, count: int | None = None, diversity: float = 0.5, limit: int | None = None):
        """The core's ranking of the distinct records, in group indices."""
        if self._lexical:
            return _core.text_densities(
                self._texts, k, count=count, diversity=diversity, limit=limit, **self._text_options()
            )
        vectors, rows = self._searched()
        (order, scores), (chosen, chosen_scores) = _core.vector_densities(
            vectors, k, count=count, diversity=diversity, limit=limit, **self._vector_options()
        )
        if rows is not None:
            order, chosen = rows[order], rows[chosen]
        return (order, scores), (chosen, chosen_scores)

    def _ranking(
        self,
        records: list,
        embeddings: Any | None,
        k: int,
        count: int | None = None,
        diversity: float = 0.5,
        limit: int | None = None,
    ):
        if self._lexical:
            texts = _texts(records, self.columns)
            return _core.text_densities_against(
                texts, self._texts, k, count=count, diversity=diversity, limit=limit, **self._text_options()
            )
        vectors = self._new_vectors(records, embeddings)
        reference, _ = self._searched()
        return _core.vector_densities_against(
            vectors, reference, k, count=count, diversity=diversity, limit=limit, **self._vector_options()
        )

    @staticmethod
    def _complete(n: int, order: list[int], scores: list[float]) -> tuple[list[int], list[float]]:
        """Every one of ``n`` records ranked: those the core did not score (zero vectors,
        texts too short to shingle) last, with score 0, in input order."""
        if len(order) < n:
            seen = set(order)
            missing = [i for i in range(n) if i not in seen]
            order, scores = order + missing, scores + [0.0] * len(missing)
        return order, scores

    def _split_outliers(self, records: list, order: list[int], scores: list[float], outlier_percentage: float) -> FilterResult:
        inliers = len(order) - math.ceil(len(order) * outlier_percentage)
        out = self._output
        return FilterResult(
            selected=[out(records[i]) for i in order[:inliers]],
            filtered=[out(records[i]) for i in order[inliers:]],
            scores_selected=scores[:inliers],
            scores_filtered=scores[inliers:],
        )

    def self_filter_outliers(self, outlier_percentage: float = 0.1, k: int = 100) -> FilterResult:
        """Splits off the ``outlier_percentage`` of records least similar to their ``k``
        nearest neighbours; ``selected`` (inliers) and ``filtered`` (outliers) are ordered
        by descending score. Exact copies are ranked with the record they copy (they are
        not each other's neighbours), as in SemHash.

        >>> texts = ["the cat sat on the mat"] * 3 + ["a completely different line of text"]
        >>> SimDedup.from_records(texts, similarity="lexical").self_filter_outliers(0.25).filtered
        ['a completely different line of text']
        """
        if not 0.0 <= outlier_percentage <= 1.0:
            raise ValueError("outlier_percentage must be between 0 and 1")
        (order, scores), _ = self._self_ranking(k)
        order, scores = self._complete(len(self._firsts), order.tolist(), scores.tolist())
        buckets = self._buckets()
        ranked = [(i, s) for g, s in zip(order, scores) for i in buckets[g]]
        return self._split_outliers(
            self.records, [i for i, _ in ranked], [s for _, s in ranked], outlier_percentage
        )

    def filter_outliers(
        self,
        records: Sequence[Record],
        outlier_percentage: float = 0.1,
        k: int = 100,
        embeddings: np.ndarray | None = None,
    ) -> FilterResult:
        """Splits off the ``outlier_percentage`` of the new ``records`` least similar to
        their nearest fitted records.

        >>> sd = SimDedup.from_records(["the cat sat on the mat", "the cat sat on a mat"], similarity="lexical")
        >>> sd.filter_outliers(["the cat sat on the mat", "zebras run fast"], 0.5).filtered
        ['zebras run fast']
        """
        if not 0.0 <= outlier_percentage <= 1.0:
            raise ValueError("outlier_percentage must be between 0 and 1")
        new = self._new_records(records)
        (order, scores), _ = self._ranking(new, embeddings, k)
        order, scores = self._complete(len(new), order.tolist(), scores.tolist())
        return self._split_outliers(new, order, scores, outlier_percentage)

    def _representatives(self, records: list, ranking, limit: int | None, selection_size: int) -> FilterResult:
        (order, scores), (chosen, chosen_scores) = ranking
        order, scores = self._complete(len(records), order.tolist(), scores.tolist())
        chosen = chosen.tolist()
        n = len(order)
        limit = _auto_limit(n, selection_size) if limit is None else min(limit, n)
        taken = set(chosen)
        rest = [(i, s) for i, s in zip(order[:limit], scores[:limit]) if i not in taken]
        out = self._output
        return FilterResult(
            selected=[out(records[i]) for i in chosen],
            filtered=[out(records[i]) for i, _ in rest],
            scores_selected=chosen_scores.tolist(),
            scores_filtered=[s for _, s in rest],
        )

    def self_find_representative(
        self,
        selection_size: int = 10,
        candidate_limit: int | Literal["auto"] = "auto",
        diversity: float = 0.5,
        k: int = 100,
    ) -> FilterResult:
        """``selection_size`` distinct records that are typical (dense) and diverse: the
        ``candidate_limit`` densest are candidates, chosen by maximal marginal relevance with
        weight ``diversity`` on dissimilarity to those already chosen.

        >>> texts = ["the cat sat on the mat", "the cat sat on a mat", "dogs bark at night"]
        >>> SimDedup.from_records(texts, similarity="lexical").self_find_representative(2).selected[0]
        'the cat sat on the mat'
        """
        limit = None if candidate_limit == "auto" else int(candidate_limit)
        ranking = self._self_ranking(k, count=selection_size, diversity=diversity, limit=limit)
        distinct = [self.records[i] for i in self._firsts]
        return self._representatives(distinct, ranking, limit, selection_size)

    def find_representative(
        self,
        records: Sequence[Record],
        selection_size: int = 10,
        candidate_limit: int | Literal["auto"] = "auto",
        diversity: float = 0.5,
        k: int = 100,
        embeddings: np.ndarray | None = None,
    ) -> FilterResult:
        """Representatives among the new ``records``, ranked by their similarity to the
        fitted records.

        >>> sd = SimDedup.from_records(["the cat sat on the mat", "the cat sat on a mat"], similarity="lexical")
        >>> sd.find_representative(["the cat sat on the mat", "zebras run fast"], 1).selected
        ['the cat sat on the mat']
        """
        new = self._new_records(records)
        limit = None if candidate_limit == "auto" else int(candidate_limit)
        ranking = self._ranking(new, embeddings, k, count=selection_size, diversity=diversity, limit=limit)
        return self._representatives(new, ranking, limit, selection_size)


# The saved file (SimDedup.save): sections of a simdedup::bundle file.
SAVED_FORMAT = "simdedup.SimDedup"
SAVED_VERSION = 1


def _json_ok(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False


def _model_files(model: Any) -> list[tuple[str, bytes]] | None:
    """The files of a static-embedding model, to store with an instance; None for another
    encoder (which cannot be stored)."""
    if isinstance(model, StaticModel):
        return _directory_files(Path(model.path))
    if type(model).__module__.startswith("model2vec") and hasattr(model, "save_pretrained"):
        with tempfile.TemporaryDirectory() as tmp:
            model.save_pretrained(tmp)
            return _directory_files(Path(tmp))
    return None


def _directory_files(root: Path) -> list[tuple[str, bytes]]:
    return [(p.relative_to(root).as_posix(), p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()]


def _stored_model(files: list[tuple[str, bytes]]) -> StaticModel:
    """A model from its stored files (read whole into memory, the files then removed)."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files:
            target = Path(tmp, name)
            if ".." in Path(name).parts or Path(name).is_absolute():
                raise ValueError(f"corrupt saved SimDedup: model file name {name!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return StaticModel(tmp)


class _Missing:
    """The place of an encoder that could not be saved: using it says what to do."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def encode(self, inputs: Any, **kwargs: Any) -> np.ndarray:
        raise ValueError(
            f"the instance was saved without its model (a {self.kind} cannot be stored): "
            "pass model=... to SimDedup.load, or embeddings=..."
        )


def _group(keys: list) -> tuple[dict, list[int], list[int]]:
    """Groups of equal keys in first-occurrence order: key to group, each record's group,
    each group's first record."""
    key_group: dict = {}
    group_of: list[int] = []
    firsts: list[int] = []
    for i, key in enumerate(keys):
        g = key_group.setdefault(key, len(firsts))
        if g == len(firsts):
            firsts.append(i)
        group_of.append(g)
    return key_group, group_of, firsts


from simdedup import frames  # noqa: E402  (uses the helpers above)
from simdedup.frames import dedup  # noqa: E402


def _auto_limit(total: int, selection_size: int) -> int:
    """SemHash's automatic candidate limit: 10% of the records, at least the selection size
    and 100, at most 1000 and the record count."""
    return min(max(total // 10, selection_size, 100), 1000, total)


