"""Type stubs of the Rust extension (python/src/lib.rs). Every call releases the GIL while it
works; errors are ``ValueError`` (bad input, with the row or setting named) or ``OSError``.

Texts are a ``list[str]`` (copied) or a pyarrow string or large-string array (chunked or
not), read in place through the Arrow C data interface (a null is a ``ValueError`` naming
its row); with ``fields=True`` each text is a record whose columns are joined
by the ASCII record separator (``"\\x1e"``), compared by the smallest per-column Jaccard.
Vectors are 2-D float32 arrays, read without a copy when C-contiguous. Indexes in results
are ``int64`` arrays; -1 in ``duplicate_of`` marks a kept record.
"""

from typing import Any, Optional

import numpy as np
import numpy.typing as npt

__version__: str

class StaticModel:
    """A static-embedding model read from a local directory (Model2Vec: config.json,
    model.safetensors, tokenizer.json; or the sentence-transformers static layout). Its
    vectors equal model2vec's ``StaticModel.encode`` within 1e-5.

    >>> m = StaticModel("python/simdedup/models/potion-base-4m-int8")
    >>> m.encode(["hello world"]).shape
    (1, 128)
    """

    def __init__(self, path: str) -> None: ...
    @property
    def path(self) -> str:
        """The directory the model was read from."""
    @property
    def dim(self) -> int: ...
    def encode(self, texts: list[str], **kwargs: object) -> npt.NDArray[np.float32]:
        """One row per text (float32, shape (len(texts), dim)); the GIL is released."""

def dedup_texts(
    texts: list[str],
    threshold: float,
    fields: bool = False,
    shingles: str = "word:3",
    recall: float = 0.99,
    connected: bool = False,
) -> dict:
    """Self-deduplication by exact Jaccard of word shingles, candidates from MinHash bands
    shaped for ``recall`` at ``threshold``. Returns ``duplicate_of``, ``score``, ``exact``
    (per record), the verified pairs ``pair_a``, ``pair_b``, ``pair_score``, ``pair_exact``
    and ``candidates``.

    >>> _core.dedup_texts(["a b c d", "a b c d e"], 0.5)["duplicate_of"]
    array([-1,  0])
    """

def against_texts(
    queries: list[str],
    reference: list[str],
    threshold: float,
    fields: bool = False,
    shingles: str = "word:3",
    recall: float = 0.99,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(query, reference, score) for every query text with Jaccard >= ``threshold`` to a
    reference text, naming the most similar; sorted by query."""

def dedup_vectors(
    embeddings: npt.NDArray[np.float32],
    threshold: float,
    seed: Optional[int] = None,
    center: bool = True,
    recall: float = 0.99,
    bits: Optional[int] = None,
    connected: bool = False,
    all_pairs: bool = True,
) -> dict:
    """Self-deduplication of rows by exact cosine (keys as in :func:`dedup_texts`; with
    ``all_pairs=False`` only the pairs that decide: each removed row with the kept rows it
    reaches, which lets the search skip the pairs between removed rows).
    Candidates from hyperplane SimHash fingerprints: exact Hamming tables, or bit-sampling
    bands above 20,000 rows when the cost model prefers them. A NaN or infinite row is a
    ``ValueError`` naming it."""

def against_vectors(
    queries: npt.NDArray[np.float32],
    reference: npt.NDArray[np.float32],
    threshold: float,
    seed: Optional[int] = None,
    center: bool = True,
    recall: float = 0.99,
    bits: Optional[int] = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(query, reference, cosine) for every query row with cosine >= ``threshold`` to a
    reference row, naming the closest. Candidates as in :func:`dedup_vectors`, over both
    arrays (from 20,000 rows in all the band search across the two may run)."""

def text_densities(
    texts: list[str],
    k: int = 100,
    fields: bool = False,
    shingles: str = "word:3",
    count: Optional[int] = None,
    diversity: float = 0.5,
    limit: Optional[int] = None,
) -> tuple[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]], tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
    """((records, densities) densest first, (representatives, densities) in selection
    order). A density is the mean Jaccard to the ``k`` nearest texts; with ``count``,
    that many representatives are chosen among the ``limit`` densest by maximal marginal
    relevance."""

def vector_densities(
    embeddings: npt.NDArray[np.float32],
    k: int = 100,
    seed: Optional[int] = None,
    center: bool = True,
    count: Optional[int] = None,
    diversity: float = 0.5,
    limit: Optional[int] = None,
) -> tuple[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]], tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
    """As :func:`text_densities`, by cosine. Zero rows are not scored."""

def text_densities_against(
    queries: list[str],
    reference: list[str],
    k: int = 100,
    fields: bool = False,
    shingles: str = "word:3",
    count: Optional[int] = None,
    diversity: float = 0.5,
    limit: Optional[int] = None,
) -> tuple[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]], tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
    """As :func:`text_densities` for the queries, each scored by its nearest reference
    texts."""

def vector_densities_against(
    queries: npt.NDArray[np.float32],
    reference: npt.NDArray[np.float32],
    k: int = 100,
    seed: Optional[int] = None,
    center: bool = True,
    count: Optional[int] = None,
    diversity: float = 0.5,
    limit: Optional[int] = None,
) -> tuple[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]], tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
    """As :func:`vector_densities` for the query rows, each scored by its nearest reference
    rows."""

def rethreshold(
    n: int,
    pair_a: npt.NDArray[np.int64],
    pair_b: npt.NDArray[np.int64],
    pair_score: npt.NDArray[np.float64],
    pair_exact: npt.NDArray[np.bool_],
    threshold: float,
    connected: bool = False,
) -> dict:
    """The decisions at ``threshold`` from the verified pairs of a run over ``n`` records
    (keys as in :func:`dedup_texts`)."""

def target_threshold(
    n: int,
    pair_a: npt.NDArray[np.int64],
    pair_b: npt.NDArray[np.int64],
    pair_score: npt.NDArray[np.float64],
    pair_exact: npt.NDArray[np.bool_],
    floor: float,
    target: int,
    connected: bool = False,
) -> tuple[float, dict]:
    """``(threshold, decisions)``: the threshold (``floor`` or above; ``floor`` is that of the
    run the verified pairs come from) keeping the number of records closest to ``target``,
    by bisection over the pair scores with no search again (keys as in :func:`dedup_texts`)."""

def fingerprints(texts: list[str], bits: int = 64, shingles: str = "word:3") -> npt.NDArray[np.uint64]:
    """SimHash (CityHash) fingerprints of texts: one uint64 each at 64 bits; two (high word
    first) at 128 bits.

    >>> _core.fingerprints(["a b c d"]).dtype
    dtype('uint64')
    """

def band_keys(texts: list[str], rows: int, bands: int, shingles: str = "word:3") -> npt.NDArray[np.uint32]:
    """One-permutation MinHash band keys: ``bands`` uint32 keys per text, row after row."""

def pairs_within(
    fingerprints: npt.NDArray[np.uint64], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(a, b, distance) for every pair of 64-bit fingerprints within Hamming distance ``k``,
    ``a < b``, sorted."""

def band_pairs(keys: npt.NDArray[np.uint32], bands: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(a, b) for every pair that agrees on at least one band key, once, ``a < b``, sorted."""

def jaccard_scores(
    texts: list[str],
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    fields: bool = False,
    shingles: str = "word:3",
) -> npt.NDArray[np.float64]:
    """Exact Jaccard similarity of texts ``a[i]`` and ``b[i]``."""

# The stages of the Spark job (python/src/spark.rs, python/simdedup/spark.py).

FIRST_ROWS: int

def band_shape(
    threshold: float,
    n: int,
    recall: float = 0.99,
    first: Optional[list[list[Optional[str]]]] = None,
    shingles: str = "word:3",
) -> tuple[int, int]:
    """``(rows, bands)`` of the band search over ``n`` records: from the background of the
    dataset's first rows ``first`` (each text column's values; up to ``FIRST_ROWS`` are
    used), as the command line solves it for a dataset, or with the assumed background."""

def estimate_rows(files: list[tuple[int, bool]], first: Any, tail: Optional[bytes] = None) -> int:
    """The rows the command line estimates JSON Lines files hold, from each file's ``(size,
    gzip)`` and the first up to ``FIRST_ROWS`` non-blank lines (a pyarrow binary array,
    without their ``\\n``); ``tail``, the file's last bytes, when those are all its rows."""

# The stages of the Spark job's text path (simdedup::jobs::partitioned): blobs in, blobs
# out as (key, bytes): a home, a partition or a meeting partition.
HOME_BITS: int

Blobs = list[tuple[int, bytes]]

def part_sketch(
    columns: list[Any],
    names: list[str],
    row_ids: npt.NDArray[np.int64],
    rows: int,
    bands: int,
    parts: int,
    shingles: str = "word:3",
    bits: int = 128,
    skip_bad: bool = False,
) -> tuple[Blobs, Blobs, Blobs, Blobs, list[tuple[int, str]]]:
    """Band entry blobs (by bucket partition), text home and digest blobs of rows
    ``row_ids`` of pyarrow text columns (no id blobs), and the bad rows' (index, message):
    when a row is bad, no blobs and the first bad row; with ``skip_bad``, the other rows'
    blobs and every bad row."""

def part_sketch_lines(
    lines: Any,
    columns: list[str],
    row_ids: npt.NDArray[np.int64],
    rows: int,
    bands: int,
    parts: int,
    shingles: str = "word:3",
    bits: int = 128,
    id_column: Optional[str] = None,
    skip_bad: bool = False,
) -> tuple[Blobs, Blobs, Blobs, Blobs, list[tuple[int, str]]]:
    """As ``part_sketch``, the text ``columns`` read from JSON Lines (a pyarrow binary
    array); with ``id_column``, its values' id home blobs."""

def home_part(home: int, parts: int) -> int:
    """The partition of ``parts`` that keeps ``home`` (of ids partition << 33 | position)."""

def part_exact(blobs: list[bytes]) -> list[tuple[int, bytes]]:
    """Exact copies (copy, rep) of one digest partition, by home."""

def part_copy_rows(copies: list[bytes]) -> bytes:
    """The rows of ``part_exact``'s copy blobs as one blob, for every bucket partition."""

# Entries of one bucket above which its pairs are split over the tasks (part_block_pairs).
SPLIT_RUN: int

def part_band_pairs(
    blobs: list[bytes], copies: list[bytes], parts: int, split: int = ...
) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """The pairs of one bucket partition's entry blobs, the exact copies (``part_copy_rows``
    blobs) left out, to the homes of both rows; and the block jobs of its buckets of more
    than ``split`` entries, by partition."""

def part_block_pairs(blobs: list[bytes]) -> list[tuple[int, bytes]]:
    """The pairs of one partition's block jobs, to the homes of both rows."""

def part_texts(
    home: bytes, pairs: list[bytes], threshold: float, parts: int, shingles: str = "word:3"
) -> tuple[bytes, list[tuple[int, bytes]], int]:
    """One text home's pairs: verified within the home, else sides by meeting partition;
    and the distinct candidate pairs counted at this home (summed over the homes: each once)."""

def part_run(
    verified: list[bytes], copies: list[bytes]
) -> tuple[
    tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
]:
    """For a report, from stage 7's blobs: the run's pairs as the local run lists them (a, b,
    score, exact: groups of copies and near pairs expanded over them) and the decisions
    (row, kept, score, exact), in row ids."""

def expand_copies(
    near: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], copies: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pairs a report lists for a run whose exact copies were grouped before the search:
    ``near`` (a, b, score, exact) between representatives expanded over the groups of
    ``copies`` (copy, representative), and every pair inside a group at 1; sorted."""

def report_records(run: dict, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """The records whose texts, then whose names, a report of ``run`` (the dict of
    ``dedup_texts`` or ``dedup_vectors``) shows."""

def write_report(
    path: str,
    run: dict,
    *,
    title: str,
    similarity: str,
    threshold: float,
    method: str,
    texts: Optional[dict[int, str]] = None,
    names: Optional[dict[int, str]] = None,
    separator: Optional[str] = None,
    shape: Optional[tuple[int, int]] = None,
    skipped: Optional[list[tuple[str, int]]] = None,
    elapsed: float = 0.0,
) -> None:
    """Writes the command line's HTML report of ``run`` to ``path`` (atomically): ``texts``
    and ``names`` of the records it shows (others are row numbers), ``shape`` the band
    search's (bands, rows) for the candidate curve."""

def part_meet(blobs: list[bytes], threshold: float, shingles: str = "word:3") -> bytes:
    """Both sides of each pair of one meeting partition, verified."""

def part_decide(
    verified: list[bytes], copies: list[bytes]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Every removed row, the kept row it duplicates and the score."""

def assign_pairs(
    a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], score: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Greedy keep-first over the pairs of whole components, rows in id order: removed id,
    kept id, score."""

# The embedding stages of simdedup.spark (vectors flattened row after row, dim per row).
DEFAULT_SEED: int
# Bytes of a fingerprint of the vector band search.
BAND_FINGERPRINT_BYTES: int

def vector_band_blob(
    rows: npt.NDArray[np.int64],
    values: npt.NDArray[np.float32],
    norms: npt.NDArray[np.float64],
    mean: Optional[list[float]],
    dim: int,
    seed: int,
) -> bytes:
    """One batch of representatives (norm > 0) for the band stage: ids, 512-bit
    fingerprints, centring terms and 8-bit codes, in one blob."""

def vector_band_group_pairs(
    blobs: list[bytes],
    shape: tuple[int, int, int, float],
    seed: int,
    threshold: float,
    mean: Optional[list[float]],
    group: int,
    groups: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(a, b, distance) of the band search over every blob, in task ``group``'s share of
    the bands: the local search's candidates whose first agreeing band is there."""

def vector_sketch(
    values: npt.NDArray[np.float64],
    offsets: npt.NDArray[np.int64],
    valid: npt.NDArray[np.bool_],
    row_ids: npt.NDArray[np.int64],
    column: str,
    dim: int,
    names: Optional[list[str]] = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float32]]:
    """Checks rows (a null, another length than ``dim`` or a non-finite value is an error
    naming the row); per row the digest of its float32 bytes (high, low), its norm, and the
    values as float32."""

def vector_unit_sum(
    values: npt.NDArray[np.float32], norms: npt.NDArray[np.float64], dim: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """The exact fixed-point sum of the unit rows of norm > 0 (high, low words) and their count."""

def vector_unit_mean(hi: list[int], lo: list[int], counts: list[int], dim: int) -> list[float]:
    """The mean of the unit rows from partial sums, merged exactly and rounded once."""

def vector_centred_norms(
    values: npt.NDArray[np.float32], norms: npt.NDArray[np.float64], mean: list[float]
) -> npt.NDArray[np.float64]:
    """|x/|x| - mean| per row (NaN for rows of norm 0)."""

def vector_low_index(usable: int) -> tuple[int, int]:
    """Position of the low quantile in the sorted centred norms; the row count from which
    the command line may choose the band search."""

def vector_plan(threshold: float, low: Optional[float], dim: int, center: bool = True) -> tuple[float, float, int]:
    """``(bar, low_norm, radius)`` of the exact search over 128-bit fingerprints."""

def vector_fingerprints(
    values: npt.NDArray[np.float32],
    norms: npt.NDArray[np.float64],
    mean: Optional[list[float]],
    dim: int,
    seed: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """128-bit hyperplane fingerprints (high, low words) of rows of norm > 0."""

def vector_pairs(
    ids: npt.NDArray[np.int64],
    hi: npt.NDArray[np.int64],
    lo: npt.NDArray[np.int64],
    ref_ids: npt.NDArray[np.int64],
    ref_hi: npt.NDArray[np.int64],
    ref_lo: npt.NDArray[np.int64],
    radius: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Pairs ``(a, b, distance)``, ``a < b``, of a query and a reference row within ``radius``."""

def vector_cosines(
    a: npt.NDArray[np.float32],
    na: npt.NDArray[np.float64],
    b: npt.NDArray[np.float32],
    nb: npt.NDArray[np.float64],
    dim: int,
) -> npt.NDArray[np.float64]:
    """The exact cosine of each pair of rows."""

# Saved instances (simdedup::bundle): named byte sections in one checksummed file.

def save_bundle(path: str, sections: list[tuple[str, bytes]]) -> None:
    """Writes the sections to ``path`` atomically (a temporary file renamed over it)."""

def load_bundle(path: str) -> list[tuple[str, bytes]]:
    """The sections of ``path`` in written order; a ``ValueError`` names a file that is not
    a saved file, truncated, corrupt (CRC-32) or of a newer format version."""
