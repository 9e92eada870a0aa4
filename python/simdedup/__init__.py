"""simdedup: near-duplicate and semantic deduplication with SemHash's API, on a Rust core.

A SemHash user switches by changing one import::

    from simdedup import SimDedup

    texts = ["the cat sat on the mat", "the cat sat on the mat!", "a dog barked"]
    result = SimDedup.from_records(texts).self_deduplicate(threshold=0.5)
    print(result.selected)           # ['the cat sat on the mat', 'a dog barked']
    print(result.duplicate_ratio)    # 0.33...

Similarity depends on how the instance is made:

- ``from_records(records)`` with ``model=None``: lexical. Texts are compared by the exact
  Jaccard similarity of their word 3-shingles (after NFKC, lowercase, punctuation and
  whitespace normalisation), as the ``simdedup`` command line does; candidates come from a
  MinHash band search with 0.99 recall at the threshold. Records of several columns are
  similar when every column is (the smallest per-column Jaccard).
- ``from_records(records, model="path/to/model")``: semantic, with the built-in
  static-embedding model reader (Model2Vec layout; vectors equal ``model2vec``'s).
- ``from_records(records, model=encoder)``: semantic. ``encoder.encode(list_of_str)``
  returns one vector per text (a ``model2vec.StaticModel`` or a sentence-transformers model
  works as in SemHash); records of several columns concatenate their columns' vectors.
  Vectors are compared by exact cosine; candidates come from random-hyperplane SimHash
  fingerprints (exact Hamming tables, or bit-sampling bands above 20,000 rows).
- ``from_embeddings(embeddings, records)``: semantic, on vectors you made. A C-contiguous
  float32 array is read without a copy.

The work runs in Rust with the GIL released.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

import numpy as np

from simdedup import _core

__all__ = [
    "SimDedup",
    "DeduplicationResult",
    "DuplicateRecord",
    "FilterResult",
    "SelectedWithDuplicates",
    "Encoder",
    "StaticModel",
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

    ``exact`` is true when the two are identical (for lexical similarity: identical after
    normalisation).
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
class DeduplicationResult(Generic[Record]):
    """The outcome of a deduplication (SemHash's ``DeduplicationResult``).

    ``selected`` are the records kept, in input order; ``filtered`` the duplicates, each
    naming the kept record it duplicates (a record is only ever a duplicate of a *kept*
    record: no chains).

    >>> r = SimDedup.from_records(["a b c d", "a b c d e", "x y z w"]).self_deduplicate(0.5)
    >>> [d.record for d in r.filtered], round(r.duplicate_ratio, 3)
    (['a b c d e'], 0.333)
    """

    selected: list[Record] = field(default_factory=list)
    filtered: list[DuplicateRecord] = field(default_factory=list)
    threshold: float = 0.9
    columns: Sequence[str] | None = None
    # For rethreshold: the records and every verified pair of a self-deduplication, or
    # (vectors searched for the deciding pairs only) the search to run again.
    _records: list | None = field(default=None, repr=False, compare=False)
    _pairs: dict | None = field(default=None, repr=False, compare=False)
    _redo: Any = field(default=None, repr=False, compare=False)
    _selected_index: list[int] | None = field(default=None, repr=False, compare=False)
    _filtered_index: list[tuple[int, int]] | None = field(default=None, repr=False, compare=False)

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

        >>> r = SimDedup.from_records(["a b c d", "a b c d e"]).self_deduplicate(0.5)
        >>> r.get_least_similar_from_duplicates(1)
        [('a b c d e', 'a b c d', 0.6666666666666666)]
        """
        pairs = [(d.record, d.duplicate_of, d.score) for d in self.filtered]
        return sorted(pairs, key=lambda p: p[2])[:n]

    def rethreshold(self, threshold: float) -> None:
        """Applies a higher ``threshold`` in place: the decisions are made again (from the
        verified pairs; with a model or embeddings, by searching again at ``threshold``), so
        a record no longer filtered can keep later ones.

        >>> r = SimDedup.from_records(["a b c d", "a b c d e"]).self_deduplicate(0.5)
        >>> r.rethreshold(0.9); r.selected
        ['a b c d', 'a b c d e']
        """
        if threshold < self.threshold:
            raise ValueError(
                f"threshold {threshold} is below the result's {self.threshold}: pairs below it "
                "were never kept; deduplicate again"
            )
        self.__dict__.pop("_swd", None)
        if (self._pairs is not None or self._redo is not None) and self._records is not None:
            if self._redo is not None:
                out = self._redo(threshold)
            else:
                p = self._pairs
                out = _core.rethreshold(
                    len(self._records), p["pair_a"], p["pair_b"], p["pair_score"], p["pair_exact"], threshold
                )
            fresh = _from_assignment(self._records, out, threshold, self.columns)
            self.selected, self.filtered = fresh.selected, fresh.filtered
            self._selected_index, self._filtered_index = fresh._selected_index, fresh._filtered_index
        else:
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


def _from_assignment(records: list, out: dict, threshold: float, columns: Sequence[str] | None) -> DeduplicationResult:
    """A result from the core's per-record arrays."""
    dup = out["duplicate_of"].tolist()
    score = out["score"].tolist()
    exact = out["exact"].tolist()
    result = DeduplicationResult(threshold=threshold, columns=columns)
    result._selected_index, result._filtered_index = [], []
    for i, d in enumerate(dup):
        if d < 0:
            result.selected.append(records[i])
            result._selected_index.append(i)
        else:
            result.filtered.append(
                DuplicateRecord(record=records[i], exact=bool(exact[i]), duplicate_of=records[d], score=score[i])
            )
            result._filtered_index.append((i, d))
    return result


FIELD_SEPARATOR = "\x1e"


def _prepare(records: Sequence[Record], columns: Sequence[str] | None) -> tuple[list, list[str], bool]:
    """Records as given, the columns used, and whether they were strings (SemHash's rules)."""
    records = list(records)
    if not records:
        raise ValueError("records must not be empty")
    if all(isinstance(r, str) for r in records):
        if columns is not None and list(columns) != ["text"]:
            raise ValueError("records are strings: columns must be None")
        return records, ["text"], True
    if not all(isinstance(r, dict) for r in records):
        raise ValueError("records must be all strings or all dictionaries")
    if not columns:
        raise ValueError("columns must be given for dictionary records")
    _check_columns(records, columns)
    return records, list(columns), False


def _check_columns(records: list, columns: Sequence[str]) -> None:
    for i, r in enumerate(records):
        for c in columns:
            if c not in r:
                raise ValueError(f"record {i}: missing column {c!r}")
            if r[c] is None:
                raise ValueError(f"record {i}: column {c!r} is None")


def _column_texts(records: list, columns: Sequence[str], was_string: bool) -> list[list[str]]:
    if was_string:
        return [records]
    return [[str(r[c]) for r in records] for c in columns]


def _texts(records: list, columns: Sequence[str], was_string: bool) -> list[str]:
    """One text per record; several columns joined by the record separator."""
    if was_string:
        return records
    cols = _column_texts(records, columns, was_string)
    if len(cols) == 1:
        return cols[0]
    return [FIELD_SEPARATOR.join(c.replace(FIELD_SEPARATOR, " ") for c in row) for row in zip(*cols)]


def _embed(model: Encoder, records: list, columns: Sequence[str], was_string: bool) -> np.ndarray:
    """Each column encoded by ``model`` and the vectors concatenated (as SemHash does)."""
    parts = []
    for texts in _column_texts(records, columns, was_string):
        v = np.asarray(model.encode(texts))
        if v.ndim != 2 or v.shape[0] != len(texts):
            raise ValueError(f"the model returned shape {v.shape} for {len(texts)} texts")
        parts.append(v)
    return _as_vectors(np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0])


def _as_vectors(embeddings: Any) -> np.ndarray:
    v = np.ascontiguousarray(embeddings, dtype=np.float32)
    if v.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array, got shape {v.shape}")
    return v


class SimDedup(Generic[Record]):
    """Deduplication, outliers and representatives over records (SemHash's ``SemHash``).

    Make one with :meth:`from_records` or :meth:`from_embeddings`, then call the ``self_*``
    methods on those records, or the other methods on new records against them.

    >>> sd = SimDedup.from_records([{"q": "what is a cat", "a": "an animal"},
    ...                             {"q": "what is a cat?", "a": "an animal"}], columns=["q", "a"])
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
    ) -> None:
        self.records = records
        self.columns = columns
        self.model = model
        self._was_string = was_string
        self._embeddings = embeddings
        self._options = options
        self._texts = None if embeddings is not None else _texts(records, columns, was_string)

    @classmethod
    def from_records(
        cls,
        records: Sequence[Record],
        columns: Sequence[str] | None = None,
        model: Encoder | str | os.PathLike | None = None,
        **options: Any,
    ) -> SimDedup:
        """Records (strings, or dicts with ``columns``) to compare lexically (``model=None``)
        or by the vectors of ``model``: an encoder object, or the path of a local
        static-embedding model directory (read by :class:`StaticModel`, no Python model
        library needed).

        Options: ``shingles`` ("word:3", "char:5", ...) and ``recall`` (0.99) for lexical
        similarity; ``seed`` (the command line's) and ``center`` (True) for the hyperplanes of
        vectors.

        >>> SimDedup.from_records(["one two three", "one two three"]).self_deduplicate(0.9).exact_duplicate_ratio
        0.5
        """
        records, columns, was_string = _prepare(records, columns)
        if isinstance(model, (str, os.PathLike)):
            model = StaticModel(os.fspath(model))
        embeddings = None if model is None else _embed(model, records, columns, was_string)
        return cls(records, columns, was_string, model, embeddings, dict(options))

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
        C-contiguous float32 array is used without a copy. ``model`` embeds the records
        that the non-``self`` methods receive.

        >>> import numpy as np
        >>> v = np.array([[1, 0], [0.99, 0.01], [0, 1]], dtype=np.float32)
        >>> SimDedup.from_embeddings(v, ["a", "b", "c"]).self_deduplicate(0.9).selected
        ['a', 'c']
        """
        records, columns, was_string = _prepare(records, columns)
        vectors = _as_vectors(embeddings)
        if vectors.shape[0] != len(records):
            raise ValueError(
                f"number of embeddings ({vectors.shape[0]}) must match number of records ({len(records)})"
            )
        return cls(records, columns, was_string, model, vectors, dict(options))

    # -- helpers -------------------------------------------------------------------------

    @property
    def _lexical(self) -> bool:
        return self._embeddings is None

    def _text_options(self) -> dict[str, Any]:
        o = {"fields": len(self.columns) > 1}
        if "shingles" in self._options:
            o["shingles"] = self._options["shingles"]
        return o

    def _vector_options(self) -> dict[str, Any]:
        return {k: self._options[k] for k in ("seed", "center") if k in self._options}

    def _new_records(self, records: Sequence[Record]) -> list:
        records = list(records)
        if not records:
            raise ValueError("records must not be empty")
        if all(isinstance(r, str) for r in records):
            if not self._was_string:
                raise ValueError("records were not strings when fitted, but strings were passed")
        elif all(isinstance(r, dict) for r in records):
            if self._was_string:
                raise ValueError("records were strings when fitted, but dictionaries were passed")
            _check_columns(records, self.columns)
        else:
            raise ValueError("records must be all strings or all dictionaries")
        return records

    def _new_vectors(self, records: list, embeddings: Any | None) -> np.ndarray:
        if embeddings is not None:
            v = _as_vectors(embeddings)
            if v.shape[0] != len(records):
                raise ValueError(f"{v.shape[0]} embeddings for {len(records)} records")
            return v
        if self.model is None:
            raise ValueError("no model to embed the new records: pass embeddings=..., or a model")
        return _embed(self.model, records, self.columns, self._was_string)

    @staticmethod
    def _threshold(threshold: float | None, lexical: bool) -> float:
        return (0.5 if lexical else 0.9) if threshold is None else float(threshold)

    # -- deduplication -------------------------------------------------------------------

    def self_deduplicate(self, threshold: float | None = None) -> DeduplicationResult:
        """Removes near duplicates within the records, keeping the first of each (a record
        is removed when it is similar enough to a record already kept). ``threshold``
        defaults to 0.9 for cosine, 0.5 for Jaccard.

        >>> SimDedup.from_records(["a b c d", "a b c d e", "x y z w"]).self_deduplicate(0.5).selected
        ['a b c d', 'x y z w']
        """
        t = self._threshold(threshold, self._lexical)
        if self._lexical:
            out = _core.dedup_texts(self._texts, t, recall=self._options.get("recall", 0.99), **self._text_options())
            result = _from_assignment(self.records, out, t, self.columns)
            result._records, result._pairs = self.records, out
            return result
        # Only the pairs that decide (the search skips pairs between removed records);
        # rethreshold searches again.
        embeddings, options = self._embeddings, self._vector_options()

        def redo(threshold: float) -> dict:
            return _core.dedup_vectors(embeddings, threshold, all_pairs=False, **options)

        result = _from_assignment(self.records, redo(t), t, self.columns)
        result._records, result._redo = self.records, redo
        return result

    def deduplicate(
        self, records: Sequence[Record], threshold: float | None = None, embeddings: np.ndarray | None = None
    ) -> DeduplicationResult:
        """Removes the new ``records`` that duplicate a fitted record (e.g. a test set against
        its training set), each naming the most similar fitted record. With vectors, the
        new records are embedded by the model, or their ``embeddings`` are given.

        >>> sd = SimDedup.from_records(["the quick brown fox jumps"])
        >>> sd.deduplicate(["the quick brown fox jumps high", "an unrelated sentence here"], 0.5).selected
        ['an unrelated sentence here']
        """
        new = self._new_records(records)
        t = self._threshold(threshold, self._lexical)
        if self._lexical:
            texts = _texts(new, self.columns, self._was_string)
            q, r, s = _core.against_texts(
                texts, self._texts, t, recall=self._options.get("recall", 0.99), **self._text_options()
            )
            exact = [texts[a] == self._texts[b] for a, b in zip(q.tolist(), r.tolist())]
        else:
            vectors = self._new_vectors(new, embeddings)
            if vectors.shape[1] != self._embeddings.shape[1]:
                raise ValueError(
                    f"records have {vectors.shape[1]} dimensions, the fitted embeddings {self._embeddings.shape[1]}"
                )
            q, r, s = _core.against_vectors(vectors, self._embeddings, t, **self._vector_options())
            exact = [bool(np.array_equal(vectors[a], self._embeddings[b])) for a, b in zip(q.tolist(), r.tolist())]
        result = DeduplicationResult(threshold=t, columns=self.columns)
        hit = {a: (b, score, e) for a, b, score, e in zip(q.tolist(), r.tolist(), s.tolist(), exact)}
        for i, record in enumerate(new):
            if i in hit:
                b, score, e = hit[i]
                result.filtered.append(
                    DuplicateRecord(record=record, exact=e, duplicate_of=self.records[b], score=score)
                )
            else:
                result.selected.append(record)
        return result

    # -- outliers and representatives ----------------------------------------------------

    def _self_ranking(self, k: int, count: int | None = None, diversity: float = 0.5, limit: int | None = None):
        if self._lexical:
            return _core.text_densities(
                self._texts, k, count=count, diversity=diversity, limit=limit, **self._text_options()
            )
        return _core.vector_densities(
            self._embeddings, k, count=count, diversity=diversity, limit=limit, **self._vector_options()
        )

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
            texts = _texts(records, self.columns, self._was_string)
            return _core.text_densities_against(
                texts, self._texts, k, count=count, diversity=diversity, limit=limit, **self._text_options()
            )
        vectors = self._new_vectors(records, embeddings)
        return _core.vector_densities_against(
            vectors, self._embeddings, k, count=count, diversity=diversity, limit=limit, **self._vector_options()
        )

    @staticmethod
    def _split_outliers(records: list, ranking, outlier_percentage: float) -> FilterResult:
        if not 0.0 <= outlier_percentage <= 1.0:
            raise ValueError("outlier_percentage must be between 0 and 1")
        (order, scores), _ = ranking
        order, scores = order.tolist(), scores.tolist()
        inliers = len(order) - math.ceil(len(order) * outlier_percentage)
        return FilterResult(
            selected=[records[i] for i in order[:inliers]],
            filtered=[records[i] for i in order[inliers:]],
            scores_selected=scores[:inliers],
            scores_filtered=scores[inliers:],
        )

    def self_filter_outliers(self, outlier_percentage: float = 0.1, k: int = 100) -> FilterResult:
        """Splits off the ``outlier_percentage`` of records least similar to their ``k``
        nearest neighbours; ``selected`` (inliers) and ``filtered`` (outliers) are ordered
        by descending score.

        >>> texts = ["the cat sat on the mat"] * 3 + ["a completely different line of text"]
        >>> SimDedup.from_records(texts).self_filter_outliers(0.25).filtered
        ['a completely different line of text']
        """
        if not 0.0 <= outlier_percentage <= 1.0:
            raise ValueError("outlier_percentage must be between 0 and 1")
        return self._split_outliers(self.records, self._self_ranking(k), outlier_percentage)

    def filter_outliers(
        self,
        records: Sequence[Record],
        outlier_percentage: float = 0.1,
        k: int = 100,
        embeddings: np.ndarray | None = None,
    ) -> FilterResult:
        """Splits off the ``outlier_percentage`` of the new ``records`` least similar to
        their nearest fitted records.

        >>> sd = SimDedup.from_records(["the cat sat on the mat", "the cat sat on a mat"])
        >>> sd.filter_outliers(["the cat sat on the mat", "zebras run fast"], 0.5).filtered
        ['zebras run fast']
        """
        if not 0.0 <= outlier_percentage <= 1.0:
            raise ValueError("outlier_percentage must be between 0 and 1")
        new = self._new_records(records)
        return self._split_outliers(new, self._ranking(new, embeddings, k), outlier_percentage)

    @staticmethod
    def _representatives(records: list, ranking, limit: int | None, selection_size: int) -> FilterResult:
        (order, scores), (chosen, chosen_scores) = ranking
        order, scores, chosen = order.tolist(), scores.tolist(), chosen.tolist()
        n = len(order)
        limit = _auto_limit(n, selection_size) if limit is None else min(limit, n)
        taken = set(chosen)
        rest = [(i, s) for i, s in zip(order[:limit], scores[:limit]) if i not in taken]
        return FilterResult(
            selected=[records[i] for i in chosen],
            filtered=[records[i] for i, _ in rest],
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
        """``selection_size`` records that are typical (dense) and diverse: the
        ``candidate_limit`` densest are candidates, chosen by maximal marginal relevance with
        weight ``diversity`` on dissimilarity to those already chosen.

        >>> texts = ["the cat sat on the mat", "the cat sat on a mat", "dogs bark at night"]
        >>> SimDedup.from_records(texts).self_find_representative(2).selected[0]
        'the cat sat on the mat'
        """
        limit = None if candidate_limit == "auto" else int(candidate_limit)
        ranking = self._self_ranking(k, count=selection_size, diversity=diversity, limit=limit)
        return self._representatives(self.records, ranking, limit, selection_size)

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

        >>> sd = SimDedup.from_records(["the cat sat on the mat", "the cat sat on a mat"])
        >>> sd.find_representative(["the cat sat on the mat", "zebras run fast"], 1).selected
        ['the cat sat on the mat']
        """
        new = self._new_records(records)
        limit = None if candidate_limit == "auto" else int(candidate_limit)
        ranking = self._ranking(new, embeddings, k, count=selection_size, diversity=diversity, limit=limit)
        return self._representatives(new, ranking, limit, selection_size)


def _auto_limit(total: int, selection_size: int) -> int:
    """SemHash's automatic candidate limit: 10% of the records, at least the selection size
    and 100, at most 1000 and the record count."""
    return min(max(total // 10, selection_size, 100), 1000, total)


