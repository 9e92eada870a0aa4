#!/usr/bin/env python3
"""Writes a synthetic JSONL corpus with planted near-duplicates and their exact Jaccard.

The documents follow the distribution of scripts/make_files.py, generated with numpy so
that ten million documents take minutes:

  * the same vocabulary (50,000 made-up words from the same seeded generator), drawn with
    Zipf-like weights (the word of rank r with weight 1/r);
  * a fresh document has --min-words to --max-words words (30-90);
  * about 2% of documents are exact copies and 8% near copies of a recent earlier
    document (make_files.py keeps a window of 10,000 earlier documents with random
    replacement, so the age of the copied document is geometric with mean 10,000; it
    is drawn that way here, uniform over all earlier documents while fewer than 10,000
    exist). Copies are themselves copied, as there;
  * a near copy gets 1-4 edits at distinct positions of the copied text, each a
    replacement (50%), an insertion before the word (25%) or a deletion (25%, skipped
    when it would leave 5 words or fewer), new words drawn from the same Zipf weights.

Output: OUT (`{"id": i, "text": "w1 w2 ..."}` per line, ids 0..N-1, for
`simdedup dedup OUT --columns text`) and, beside it, OUT without `.jsonl` plus
`.truth.tsv`: one line `source_id<TAB>copy_id<TAB>jaccard` per planted copy, in copy_id
order. jaccard is the exact Jaccard similarity of the two documents' sets of word
3-shingles (6 decimals), as simdedup's default normalisation sees them: the words are
already lowercase ASCII separated by single spaces. A text with fewer than 3 words has no
shingles; two such texts count as 1.0 when equal, else 0.0 (only possible with a tiny
--min-words). The truth lists the planted (source, copy) edges only: two copies of one
document, or a copy of a copy and its grandparent, are often near-duplicates as well.

Both files are written under a temporary name and renamed when complete.

    python3 scripts/make_jsonl.py --docs 1000000 --out /tmp/n1m.jsonl
"""

import argparse
import os
import random
import sys
import time

import numpy as np

# The same words for the same seed as the file generator (this script's directory is on
# sys.path when it runs).
from make_files import vocabulary

VOCAB_SIZE = 50_000
WINDOW = 10_000        # make_files.py's window of earlier documents to copy from
EXACT_RATE = 0.02
NEAR_RATE = 0.08
CHUNK = 250_000        # documents generated (and held) at a time
MAX_AGE = CHUNK        # copy sources lie in this chunk or the previous one
WRITE_BATCH = 65_536   # documents turned into text at a time
MIN_DELETE = 5         # make_files.py deletes a word only from longer documents


class Words:
    """Draws word ids with Zipf-like weights and turns id arrays into text."""

    def __init__(self, vocab):
        cdf = np.cumsum(1.0 / np.arange(1, len(vocab) + 1))
        self.cdf = cdf / cdf[-1]
        width = max(map(len, vocab)) + 1
        # Each word followed by a space, padded with NUL bytes to a fixed width.
        self.table = np.zeros((len(vocab), width), dtype=np.uint8)
        for i, w in enumerate(vocab):
            self.table[i, :len(w) + 1] = np.frombuffer(w.encode("ascii") + b" ", np.uint8)
        self.nbytes = np.array([len(w) + 1 for w in vocab], dtype=np.int64)

    def draw(self, rng, n):
        ids = np.searchsorted(self.cdf, rng.random(n), side="right")
        return np.minimum(ids, len(self.cdf) - 1).astype(np.uint16)

    def texts(self, tokens, lengths):
        """The texts (bytes) of consecutive documents of at least one word each: tokens
        flat, lengths per document."""
        raw = self.table[tokens].ravel()
        buf = raw[raw != 0]
        ends = np.cumsum(self.nbytes[tokens])[starts_of(lengths) + lengths - 1]
        buf[ends - 1] = ord("\n")  # the separator after each document's last word
        return buf.tobytes().split(b"\n")[:-1]


def starts_of(lengths):
    """Offsets of consecutive segments of the given lengths."""
    starts = np.zeros(lengths.size, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return starts


def gather(pool, starts, lengths):
    """The concatenation of pool[starts[i] : starts[i] + lengths[i]], and its doc index."""
    lengths = lengths.astype(np.int64)
    total = int(lengths.sum())
    out_starts = starts_of(lengths)
    idx = np.repeat(starts - out_starts, lengths) + np.arange(total, dtype=np.int64)
    return pool[idx], np.repeat(np.arange(lengths.size), lengths)


def copy_with_edits(rng, words, src, src_doc, src_len, nedits):
    """Applies nedits[d] edits (at distinct positions) to each source document d.

    src: the sources' tokens, flat; src_doc: the document of each token; src_len: their
    lengths. Returns the copies' tokens, flat, and their lengths."""
    ndocs = src_len.size
    doc_start = starts_of(src_len)
    # The k smallest of one random key per token are the k edited positions of its doc.
    order = np.lexsort((rng.random(src.size), src_doc))
    rank = np.arange(src.size) - doc_start[src_doc[order]]
    pick = rank < nedits[src_doc[order]]
    chosen, chosen_rank = order[pick], rank[pick]
    op = rng.random(chosen.size)
    new = words.draw(rng, chosen.size)

    tokens = src.copy()
    replace = op < 0.5
    tokens[chosen[replace]] = new[replace]
    insert = (op >= 0.5) & (op < 0.75)
    delete = op >= 0.75
    # As in make_files.py, a deletion applies only to a document of more than MIN_DELETE
    # words (its length less the deletions drawn before it), so no document is empty.
    dels_before = np.zeros(chosen.size, dtype=np.int64)
    if delete.any():
        d_doc = src_doc[chosen[delete]]
        d_rank = chosen_rank[delete]
        # deletions of the same doc, in edit order: count the earlier ones
        o = np.lexsort((d_rank, d_doc))
        first = np.searchsorted(d_doc[o], d_doc[o])
        before = np.empty(o.size, dtype=np.int64)
        before[o] = np.arange(o.size) - first
        dels_before[delete] = before
    delete &= src_len[src_doc[chosen]] - dels_before > MIN_DELETE
    keep = np.ones(src.size, dtype=bool)
    keep[chosen[delete]] = False

    # Merge kept tokens and inserted words (each before the token it was drawn at).
    pos_keep = np.flatnonzero(keep)
    key = np.concatenate([2 * pos_keep + 1, 2 * chosen[insert]])
    merged = np.concatenate([tokens[pos_keep], new[insert]])[np.argsort(key, kind="stable")]
    lengths = (src_len
               - np.bincount(src_doc[chosen[delete]], minlength=ndocs)
               + np.bincount(src_doc[chosen[insert]], minlength=ndocs))
    return merged, lengths


def shingle_keys(tokens, doc):
    """Distinct (doc, word 3-shingle) keys as doc << 48 | w1 << 32 | w2 << 16 | w3.
    Word ids are < 2**16 and doc < 2**15, so keys are exact and fit in int64."""
    t = tokens.astype(np.int64)
    if t.size < 3:
        return np.zeros(0, np.int64)
    same = doc[:-2] == doc[2:]
    k = (doc[:-2].astype(np.int64) << 48) | (t[:-2] << 32) | (t[1:-1] << 16) | t[2:]
    return np.unique(k[same])


def jaccards(a_tok, a_len, b_tok, b_len):
    """Exact Jaccard of word 3-shingle sets of pairs (a[i], b[i]), flat token arrays."""
    n = a_len.size
    out = np.empty(n, dtype=np.float64)
    step = 1 << 15
    a_st, b_st = starts_of(a_len), starts_of(b_len)
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        a_s, a_l = a_st[lo:hi], a_len[lo:hi]
        b_s, b_l = b_st[lo:hi], b_len[lo:hi]
        at, ad = gather(a_tok, a_s, a_l)
        bt, bd = gather(b_tok, b_s, b_l)
        ka, kb = shingle_keys(at, ad), shingle_keys(bt, bd)
        size_a = np.bincount(ka >> 48, minlength=hi - lo)
        size_b = np.bincount(kb >> 48, minlength=hi - lo)
        common = np.bincount(np.intersect1d(ka, kb, assume_unique=True) >> 48,
                             minlength=hi - lo)
        union = size_a + size_b - common
        with np.errstate(invalid="ignore", divide="ignore"):
            j = common / union
        for i in np.flatnonzero(union == 0):  # both texts have < 3 words
            same = a_l[i] == b_l[i] and np.array_equal(
                a_tok[a_s[i]:a_s[i] + a_l[i]], b_tok[b_s[i]:b_s[i] + b_l[i]])
            j[i] = 1.0 if same else 0.0
        out[lo:hi] = j
    return out


def generate(args, out, truth):
    rng = np.random.default_rng(args.seed)
    words = Words(vocabulary(random.Random(args.seed), VOCAB_SIZE))
    # The previous chunk's documents, in id order: tokens, starts, lengths.
    prev_tok = np.zeros(0, np.uint16)
    prev_start = np.zeros(0, np.int64)
    prev_len = np.zeros(0, np.int64)
    planted = 0
    t0 = time.perf_counter()
    for base in range(0, args.docs, CHUNK):
        n = min(CHUNK, args.docs - base)
        ids = np.arange(base, base + n)
        r = rng.random(n)
        exact = (r < EXACT_RATE) & (ids > 0)
        near = (r >= EXACT_RATE) & (r < EXACT_RATE + NEAR_RATE) & (ids > 0)
        copy = exact | near
        # Source of each copy: geometric age (random-replacement window), uniform
        # over all earlier documents while the window is not yet full.
        age = np.minimum(rng.geometric(1.0 / WINDOW, n), MAX_AGE)
        uniform = (ids <= WINDOW) | (age > ids)
        age[uniform] = ids[uniform] - np.floor(rng.random(uniform.sum()) * ids[uniform])
        source = np.where(copy, ids - age, -1)
        nedits = np.where(near, rng.integers(1, 5, n), 0)

        # Pool: previous chunk, then this chunk's segments as they are made.
        prev_n = prev_len.size
        length = np.zeros(prev_n + n, np.int64)
        start = np.zeros(prev_n + n, np.int64)
        length[:prev_n], start[:prev_n] = prev_len, prev_start
        fresh = np.flatnonzero(~copy)
        flen = rng.integers(args.min_words, args.max_words + 1, fresh.size)
        length[prev_n + fresh] = flen
        start[prev_n + fresh] = prev_tok.size + starts_of(flen)
        pool = np.concatenate([prev_tok, words.draw(rng, int(flen.sum()))])

        def local(doc_id):  # pool index of a document id
            return doc_id - (base - prev_n)

        done = np.zeros(n, dtype=bool)
        done[fresh] = True
        pending = np.flatnonzero(copy)
        pair_src, pair_dst, pair_j = [], [], []
        while pending.size:
            src_ids = source[pending]
            ready = (src_ids < base) | done[np.maximum(src_ids - base, 0)]
            batch = pending[ready]
            pending = pending[~ready]
            s_loc = local(source[batch])
            src_tok, src_doc = gather(pool, start[s_loc], length[s_loc])
            new_tok, new_len = copy_with_edits(rng, words, src_tok, src_doc,
                                               length[s_loc], nedits[batch])
            length[prev_n + batch] = new_len
            start[prev_n + batch] = pool.size + starts_of(new_len)
            pool = np.concatenate([pool, new_tok])
            done[batch] = True
            pair_src.append(source[batch])
            pair_dst.append(batch + base)
            pair_j.append(jaccards(src_tok, length[s_loc], new_tok, new_len))

        # This chunk in id order; it becomes the previous chunk.
        cur = slice(prev_n, prev_n + n)
        prev_tok, _ = gather(pool, start[cur], length[cur])
        prev_len = length[cur].copy()
        prev_start = starts_of(prev_len)
        del pool

        for lo in range(0, n, WRITE_BATCH):
            hi = min(lo + WRITE_BATCH, n)
            texts = words.texts(prev_tok[prev_start[lo]:prev_start[lo] + prev_len[lo:hi].sum()],
                                prev_len[lo:hi])
            out.write(b"".join([b'{"id": %d, "text": "%b"}\n' % (base + lo + i, t)
                                for i, t in enumerate(texts)]))

        if pair_dst:
            src_all = np.concatenate(pair_src)
            dst_all = np.concatenate(pair_dst)
            j_all = np.concatenate(pair_j)
            o = np.argsort(dst_all)
            truth.write("".join(f"{s}\t{d}\t{j:.6f}\n" for s, d, j in
                                zip(src_all[o].tolist(), dst_all[o].tolist(),
                                    j_all[o].tolist())).encode())
            planted += o.size
        print(f"  {base + n} documents, {planted} planted copies, "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return planted


def truth_path(out):
    stem = out[:-len(".jsonl")] if out.endswith(".jsonl") else out
    return stem + ".truth.tsv"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, required=True)
    ap.add_argument("--out", required=True, help="the JSONL file to write")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--min-words", type=int, default=30)
    ap.add_argument("--max-words", type=int, default=90)
    args = ap.parse_args()
    if not 1 <= args.min_words <= args.max_words:
        ap.error("need 1 <= --min-words <= --max-words")

    paths = [args.out, truth_path(args.out)]
    tmps = [os.path.join(os.path.dirname(p) or ".", f".{os.path.basename(p)}.{os.getpid()}.tmp")
            for p in paths]
    t0 = time.perf_counter()
    try:
        with open(tmps[0], "wb") as out, open(tmps[1], "wb") as truth:
            planted = generate(args, out, truth)
        for tmp, path in zip(tmps, paths):
            os.replace(tmp, path)
    finally:
        for tmp in tmps:
            if os.path.exists(tmp):
                os.remove(tmp)
    print(f"wrote {args.docs} documents to {paths[0]} ({os.path.getsize(paths[0])} bytes) "
          f"and {planted} planted pairs to {paths[1]} in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
