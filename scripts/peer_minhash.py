#!/usr/bin/env python3
"""Near-duplicate pairs of a file corpus with a Python MinHash-LSH peer (rensa or datasketch).

What it measures: the wall time and peak memory that a MinHash-LSH library needs to find
the pairs of files whose word 3-shingle sets have Jaccard similarity >= --threshold, run
the way simdedup runs, so the numbers can be set side by side:

  * input: a file with one path per line, or (--jsonl FILE) the rows of a JSONL file,
    one JSON object per line, whose --text-field (default "text") is the document and
    whose --id-field (default "id") names it in the output;
  * streaming: files (rows) are read ONE at a time and only the LSH index is kept (no
    texts, no shingle sets, no sketches; for JSONL, the byte offset and id of each row).
    Each new sketch first queries the index, then is inserted; this yields exactly the
    candidate pairs of "insert all, then query all";
  * the same features as simdedup's default (`nfkc,lowercase,punctuation,whitespace`,
    `word:3`): the text is read as UTF-8 (errors replaced), NFKC-normalised, lowercased,
    every character that is neither alphanumeric nor whitespace becomes a space, and
    whitespace is collapsed; the shingles are the distinct "w1 w2 w3" strings. A text
    with 1 or 2 words has a single shingle (its words), so it pairs only with texts that
    normalise to the same words (simdedup compares such texts as exact duplicates only);
    an empty text has none and is left out (counted as "empty");
  * exact verification: the files (JSONL rows, by byte offset) of the candidate pairs are
    read again and their shingle
    sets compared exactly (as sorted arrays of 64-bit hashes of the shingles, like
    simdedup: exact up to hash collisions), in batches that hold at most --batch-docs
    documents' sets at a time.

Peers and their parameters (num_perm 128 by default):
  rensa       RMinHash(num_perm, seed 42) and RMinHashLSH(threshold, num_perm, bands);
              rensa needs num_perm divisible by the band count, so the default is 32
              bands of 4 rows (S-curve midpoint (1/32)^(1/4) = 0.42) - the nearest split
              of 128 to datasketch's choice;
  datasketch  MinHash(num_perm) (affine32 scheme, sha1_hash32; the permutations are
              built once and shared, the speed-up its docs give) and MinHashLSH(threshold,
              num_perm), whose own optimiser picks the bands (25 bands of 5 rows at 0.5);
              --bands overrides it.

Output (--out): `path_a<TAB>path_b<TAB>jaccard` (4 decimals, like simdedup), path_a <
path_b, lines sorted; with --no-verify the raw LSH candidates as `path_a<TAB>path_b`.
In paths, tab, newline, carriage return and backslash are written \\t, \\n, \\r, \\\\.
With --jsonl: `id_a<TAB>id_b<TAB>jaccard`, row a before row b in the file, lines in row
order (a number id as written, a string id escaped like a path, any other id as JSON). A
row that is not a JSON object, or lacks the text field (a string) or the id field, is
named on stderr (`FILE, line N: ...`) and counted as unreadable; blank lines are skipped.
On stderr: counts, the wall time of each phase and the peak RSS so far
(resource.getrusage), and a last `summary` line of key=value fields. Phases: setup
(imports, reading the list or indexing the JSONL lines), sketch (the streaming pass, split into read+shingle, minhash
and lsh time), verify, write.

    python3 scripts/peer_minhash.py --tool rensa --out pairs.tsv files.list
    python3 scripts/peer_minhash.py --tool datasketch --no-verify --out cands.tsv files.list
    python3 scripts/peer_minhash.py --tool rensa --out pairs.tsv --jsonl corpus.jsonl

Needs numpy and the peer's package (eval/requirements.txt pins rensa and datasketch).
"""

import argparse
import json
import re
import resource
import sys
import time
import unicodedata
from array import array

import numpy as np

SHINGLE_WORDS = 3
# A word is a maximal run of alphanumeric characters (str.isalnum): after punctuation
# became spaces and whitespace was collapsed, exactly the space-separated tokens. (Rust's
# char::is_alphanumeric also counts the few combining marks with the Other_Alphabetic
# property, e.g. Indic vowel signs, which str.isalnum does not: such words split here.)
_WORD = re.compile(r"[^\W_]+")


def read_text(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def words(text):
    """The words of `text` under simdedup's default normalisation. As there, a character is
    classed (word or separator) before it is lowercased, and lowercasing is per character
    (no final-sigma rule), so "İstanbul" stays one word."""
    if text.isascii():
        return _WORD.findall(text.lower())
    text = unicodedata.normalize("NFKC", text)
    return [w.lower() if w.isascii() else "".join(map(str.lower, w))
            for w in _WORD.findall(text)]


def shingle_set(text):
    """The distinct word 3-shingles of `text`, each "w1 w2 w3"."""
    w = words(text)
    if len(w) < SHINGLE_WORDS:
        return {" ".join(w)} if w else set()
    return {" ".join(w[i:i + SHINGLE_WORDS]) for i in range(len(w) - SHINGLE_WORDS + 1)}


def hashed_set(shingles):
    """The shingle set as a sorted array of distinct 64-bit hashes."""
    h = np.fromiter(map(hash, shingles), dtype=np.int64, count=len(shingles))
    return np.unique(h)


def jaccard(a, b):
    """|A & B| / |A | B| of two sorted arrays of distinct values."""
    common = np.intersect1d(a, b, assume_unique=True).size
    union = a.size + b.size - common
    return common / union if union else 1.0


# ---------------------------------------------------------------- peers
class RensaIndex:
    def __init__(self, num_perm, threshold, bands):
        from rensa import RMinHash, RMinHashLSH
        bands = bands or 32
        if num_perm % bands:
            sys.exit(f"rensa needs num_perm ({num_perm}) divisible by --bands ({bands})")
        self._minhash = RMinHash
        self.num_perm = num_perm
        self.lsh = RMinHashLSH(threshold, num_perm, bands)
        self.params = f"rensa RMinHashLSH num_perm={num_perm} bands={bands} " \
                      f"rows={num_perm // bands} seed=42"

    def sketch(self, shingles):
        m = self._minhash(self.num_perm, 42)
        m.update(list(shingles))
        return m

    def query_insert(self, key, sketch):
        found = self.lsh.query(sketch)
        self.lsh.insert(key, sketch)
        return found


class DatasketchIndex:
    def __init__(self, num_perm, threshold, bands):
        from datasketch import MinHash, MinHashLSH
        self._minhash = MinHash
        self.num_perm = num_perm
        self.permutations = MinHash(num_perm=num_perm).permutations
        if bands:
            if not 1 <= bands <= num_perm:
                sys.exit(f"--bands ({bands}) must be between 1 and num_perm ({num_perm})")
            self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm,
                                  params=(bands, num_perm // bands))
        else:
            self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.params = f"datasketch MinHashLSH num_perm={num_perm} bands={self.lsh.b} " \
                      f"rows={self.lsh.r} scheme=affine32"

    def sketch(self, shingles):
        m = self._minhash(num_perm=self.num_perm, permutations=self.permutations,
                          scheme="affine32")
        m.update_batch([s.encode("utf-8") for s in shingles])
        return m

    def query_insert(self, key, sketch):
        found = self.lsh.query(sketch)
        self.lsh.insert(key, sketch, check_duplication=False)
        return found


PEERS = {"rensa": RensaIndex, "datasketch": DatasketchIndex}


# ---------------------------------------------------------------- inputs
class FileList:
    """Documents that are files, named by a list of paths."""
    unit = "files"

    def __init__(self, list_path):
        with open(list_path, encoding="utf-8", errors="surrogateescape") as f:
            self.paths = [line.rstrip("\n") for line in f if line.strip()]

    def __len__(self):
        return len(self.paths)

    def scan(self):
        """(key, text) of every document in order; text None if it cannot be read."""
        for key, path in enumerate(self.paths):
            try:
                yield key, read_text(path)
            except OSError as e:
                print(f"cannot read {path}: {e}", file=sys.stderr)
                yield key, None

    def reread(self, keys):
        """(key, text) of the given documents, for verification; text None on failure."""
        for key in keys:
            try:
                yield key, read_text(self.paths[key])
            except OSError as e:
                print(f"cannot read {self.paths[key]} again: {e}", file=sys.stderr)
                yield key, None

    def rows(self, pairs):
        """Output rows of (a, b, jaccard) pairs: names escaped, a < b, sorted."""
        rows = ((self.paths[a], self.paths[b], j) for a, b, j in pairs)
        rows = sorted((a, b, j) if a < b else (b, a, j) for a, b, j in rows)
        return [(escape(a), escape(b), j) for a, b, j in rows]


class JsonlRows:
    """Documents that are the rows of a JSONL file; only each row's byte offset, line
    number and id are kept, and a row is read again by its offset to verify it."""
    unit = "rows"

    def __init__(self, path, text_field, id_field):
        self.path, self.text_field, self.id_field = path, text_field, id_field
        self.offsets = array("q")
        self.lines = array("q")
        offset = 0
        with open(path, "rb") as f:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    self.offsets.append(offset)
                    self.lines.append(lineno)
                offset += len(line)
        self.ids = [None] * len(self.offsets)

    def __len__(self):
        return len(self.offsets)

    def parse(self, line):
        """The row's (id, text); ValueError with a message if it is not usable."""
        try:
            row = json.loads(line)
        except UnicodeDecodeError:
            row = json.loads(line.decode("utf-8", errors="replace"))
        if not isinstance(row, dict):
            raise ValueError("not a JSON object")
        text = row.get(self.text_field)
        if not isinstance(text, str):
            raise ValueError(f"no string field {self.text_field!r}")
        if self.id_field not in row:
            raise ValueError(f"no field {self.id_field!r}")
        return row[self.id_field], text

    def scan(self):
        with open(self.path, "rb") as f:
            for key, offset in enumerate(self.offsets):
                f.seek(offset)
                try:
                    self.ids[key], text = self.parse(f.readline())
                except ValueError as e:
                    print(f"{self.path}, line {self.lines[key]}: {e}", file=sys.stderr)
                    text = None
                yield key, text

    def reread(self, keys):
        with open(self.path, "rb") as f:
            for key in keys:
                f.seek(self.offsets[key])
                try:
                    row_id, text = self.parse(f.readline())
                    if row_id != self.ids[key]:
                        raise ValueError("changed since it was sketched")
                except (ValueError, OSError) as e:
                    print(f"{self.path}, line {self.lines[key]}: cannot read it again: {e}",
                          file=sys.stderr)
                    text = None
                yield key, text

    def name(self, key):
        row_id = self.ids[key]
        if isinstance(row_id, str):
            return escape(row_id)
        if isinstance(row_id, int) and not isinstance(row_id, bool):
            return str(row_id)
        return json.dumps(row_id, ensure_ascii=False)

    def rows(self, pairs):
        """Output rows of (a, b, jaccard) pairs: row a before row b, in row order."""
        return [(self.name(a), self.name(b), j) for a, b, j in sorted(pairs)]


# ---------------------------------------------------------------- run
class Clock:
    """Wall time of each phase, with the peak RSS reached by its end, on stderr."""

    def __init__(self):
        self.start = self.mark = time.perf_counter()
        self.phases = {}

    def phase(self, name, detail=""):
        now = time.perf_counter()
        self.phases[name] = now - self.mark
        self.mark = now
        extra = f"  ({detail})" if detail else ""
        print(f"phase {name:<8} {self.phases[name]:9.2f} s   peak RSS {peak_rss_mib():8.1f} MiB"
              f"{extra}", file=sys.stderr)

    def total(self):
        return time.perf_counter() - self.start


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def escape(path):
    return (path.replace("\\", "\\\\").replace("\t", "\\t")
            .replace("\n", "\\n").replace("\r", "\\r"))


def sketch_all(corpus, index, progress):
    """One pass over the documents: sketch each, query the index, insert it. Returns the
    candidate pairs (as a * n + b, a < b), counts and a timing breakdown."""
    n = len(corpus)
    candidates = set()
    empty = unreadable = 0
    t_read = t_sketch = t_lsh = 0.0
    t0 = time.perf_counter()
    for key, text in corpus.scan():
        if text is None:
            unreadable += 1
            t0 = time.perf_counter()
            continue
        shingles = shingle_set(text)
        t1 = time.perf_counter()
        if not shingles:
            empty += 1
            t_read += t1 - t0
            t0 = time.perf_counter()
            continue
        sketch = index.sketch(shingles)
        t2 = time.perf_counter()
        for other in index.query_insert(key, sketch):
            candidates.add(other * n + key)
        t3 = time.perf_counter()
        t_read += t1 - t0
        t_sketch += t2 - t1
        t_lsh += t3 - t2
        if progress and (key + 1) % progress == 0:
            print(f"  {key + 1} {corpus.unit}, {len(candidates)} candidates, "
                  f"peak RSS {peak_rss_mib():.1f} MiB", file=sys.stderr)
        t0 = time.perf_counter()
    times = f"read+shingle {t_read:.2f} s, minhash {t_sketch:.2f} s, lsh {t_lsh:.2f} s"
    return candidates, empty, unreadable, times


def verify(corpus, candidates, threshold, batch_docs):
    """Exact Jaccard of every candidate (sorted codes a * n + b); keeps those >= threshold.
    Each batch of consecutive candidates touches at most batch_docs documents, whose
    shingle sets are built once for the batch and then dropped."""
    n = len(corpus)
    kept = []
    failed = set()
    start = 0
    while start < len(candidates):
        docs = set()
        end = start
        while end < len(candidates):
            a, b = divmod(candidates[end], n)
            new = (a not in docs) + (b not in docs)
            if docs and len(docs) + new > batch_docs:
                break
            docs.update((a, b))
            end += 1
        sets = {}
        for d, text in corpus.reread(sorted(docs - failed)):
            if text is None:
                failed.add(d)
            else:
                sets[d] = hashed_set(shingle_set(text))
        for code in candidates[start:end]:
            a, b = divmod(code, n)
            if a in sets and b in sets:
                j = jaccard(sets[a], sets[b])
                if j >= threshold:
                    kept.append((a, b, j))
        start = end
    return kept


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("list", nargs="?", help="file with one path per line")
    ap.add_argument("--jsonl", metavar="FILE",
                    help="read the documents from the rows of a JSONL file instead")
    ap.add_argument("--text-field", default="text", help="JSONL field of the text")
    ap.add_argument("--id-field", default="id", help="JSONL field that names a row")
    ap.add_argument("--tool", required=True, choices=sorted(PEERS))
    ap.add_argument("--out", required=True, help="TSV of pairs to write")
    ap.add_argument("--threshold", type=float, default=0.5,
                    help="Jaccard bar for reported pairs and the LSH (default 0.5)")
    ap.add_argument("--lsh-threshold", type=float,
                    help="LSH threshold if different from --threshold")
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--bands", type=int,
                    help="LSH bands (rensa default 32; datasketch default: its optimiser)")
    ap.add_argument("--no-verify", action="store_true",
                    help="write the raw LSH candidate pairs, without exact Jaccard")
    ap.add_argument("--batch-docs", type=int, default=1 << 16,
                    help="most documents' shingle sets held at once when verifying "
                         "(default 65536, as simdedup)")
    ap.add_argument("--progress", type=int, default=0, metavar="N",
                    help="report on stderr every N files (rows)")
    args = ap.parse_args()
    if (args.list is None) == (args.jsonl is None):
        ap.error("give either a file list or --jsonl FILE")
    lsh_threshold = args.lsh_threshold if args.lsh_threshold is not None else args.threshold

    clock = Clock()
    if args.jsonl is not None:
        corpus = JsonlRows(args.jsonl, args.text_field, args.id_field)
        what = f"{len(corpus)} JSONL rows"
    else:
        corpus = FileList(args.list)
        what = f"{len(corpus)} paths"
    index = PEERS[args.tool](args.num_perm, lsh_threshold, args.bands)
    clock.phase("setup", f"{what}; {index.params}")

    candidates, empty, unreadable, times = sketch_all(corpus, index, args.progress)
    del index  # the LSH index is not needed any more
    candidates = sorted(candidates)
    clock.phase("sketch", f"{len(candidates)} candidates, {empty} empty, "
                          f"{unreadable} unreadable; {times}")

    n = len(corpus)
    if args.no_verify:
        kept = [(c // n, c % n, None) for c in candidates]
    else:
        kept = verify(corpus, candidates, args.threshold, args.batch_docs)
        clock.phase("verify", f"{len(kept)} pairs with J >= {args.threshold}")
    pairs = len(kept)
    del candidates

    rows = corpus.rows(kept)
    del kept
    with open(args.out, "w", encoding="utf-8", errors="surrogateescape") as out:
        for a, b, j in rows:
            tail = "" if j is None else f"\t{j:.4f}"
            out.write(f"{a}\t{b}{tail}\n")
    clock.phase("write", args.out)

    kind = "candidates" if args.no_verify else "pairs"
    print(f"summary tool={args.tool} {corpus.unit}={n} empty={empty} unreadable={unreadable} "
          f"{kind}={pairs} wall_s={clock.total():.2f} "
          + " ".join(f"{k}_s={v:.2f}" for k, v in clock.phases.items())
          + f" peak_rss_mib={peak_rss_mib():.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
