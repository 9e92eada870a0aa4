#!/usr/bin/env python3
"""A real corpus full of boilerplate, with planted near-variant and exact paragraphs.

Documents: the Debian package documentation of this machine (copyright files, changelogs
and NEWS decompressed, text and HTML docs under /usr/share/doc) and C headers from
/usr/include (licence-laden source headers), each copied byte for byte, numbered in a
random order. Then `--plants` paragraphs of 20-80 words are drawn from the corpus and a
variant of each is inserted at a paragraph boundary of a later document (later in file-name
order, so the variant is the occurrence `--keep first` removes):

  exact   the paragraph's bytes unchanged
  date    a number or year changed (or a date-like token)
  name    a capitalised word replaced by a name
  edit1, edit2, edit3   one to three words replaced by words of the corpus

The truth file `truth.tsv` says where each variant went (file, byte offset, length), where
it came from, its kind and the exact Jaccard similarity of the two word 3-shingle sets after
simdedup's normalisation (NFKC, lowercase, punctuation to spaces, whitespace collapsed).

    python3 scripts/make_unit_corpus.py --out /tmp/units-corpus --plants 2000
"""

import argparse
import gzip
import os
import random
import re
import unicodedata

NAMES = ["Alice", "Bernard", "Chandra", "Dmitri", "Eleanor", "Farid", "Greta", "Hiroshi",
         "Ingrid", "Jamal", "Katarina", "Lorenzo", "Mei", "Nadia", "Oskar", "Priya"]

WORD = re.compile(r"\w+")


def normalize(text):
    """simdedup's default normalisation (close enough for the truth's similarity)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(c if c.isalnum() or c.isspace() else " " for c in text)
    return " ".join(text.split())


def shingles(text, n=3):
    w = normalize(text).split()
    return {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}


def jaccard(a, b):
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def sources(limit_bytes, max_file):
    """Paths and bytes of the real documents, up to `limit_bytes` in all."""
    found = []
    for root, _, files in os.walk("/usr/share/doc"):
        for f in sorted(files):
            found.append(os.path.join(root, f))
    for root, _, files in os.walk("/usr/include"):
        for f in sorted(files):
            if f.endswith(".h"):
                found.append(os.path.join(root, f))
    found.sort()
    random.shuffle(found)
    total = 0
    for p in found:
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        try:
            if p.endswith(".gz"):
                with gzip.open(p, "rb") as fh:
                    data = fh.read(max_file)
            elif p.endswith((".txt", ".html", ".htm", ".h", "copyright", "README", "NEWS",
                             "changelog", "TODO", "AUTHORS")) or "." not in os.path.basename(p):
                with open(p, "rb") as fh:
                    data = fh.read(max_file)
            else:
                continue
        except (OSError, EOFError):
            continue
        if not data or b"\0" in data:
            continue
        yield p, data
        total += len(data)
        if total >= limit_bytes:
            return


def paragraphs(data):
    """(start, end) of the paragraphs of `data` (text between blank lines), and the offsets
    where a paragraph may be inserted (after a blank line)."""
    paras, cuts = [], []
    start = None
    pos = 0
    for line in data.splitlines(keepends=True):
        blank = line.strip() == b""
        if blank:
            if start is not None:
                paras.append((start, pos))
                start = None
            if line.endswith(b"\n"):
                cuts.append(pos + len(line))
        elif start is None:
            start = pos
        pos += len(line)
    if start is not None:
        paras.append((start, pos))
    return paras, cuts


def variant(text, kind, vocab, rng):
    """`text` with the edit of `kind`; None when the kind does not apply."""
    words = list(WORD.finditer(text))
    if kind == "exact":
        return text
    if kind == "date":
        nums = [m for m in words if m.group().isdigit()]
        if not nums:
            return None
        m = rng.choice(nums)
        old = m.group()
        new = str(int(old) + rng.randint(1, 9)).zfill(len(old))
        return text[:m.start()] + new + text[m.end():]
    if kind == "name":
        caps = [m for m in words[1:] if m.group()[:1].isupper() and m.group().isalpha()]
        if not caps:
            return None
        m = rng.choice(caps)
        return text[:m.start()] + rng.choice(NAMES) + text[m.end():]
    k = int(kind[-1])
    picks = sorted(rng.sample(range(len(words)), k), reverse=True)
    for i in picks:
        m = words[i]
        text = text[:m.start()] + rng.choice(vocab) + text[m.end():]
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--plants", type=int, default=2000)
    ap.add_argument("--megabytes", type=float, default=40)
    ap.add_argument("--max-file", type=int, default=256 * 1024)
    ap.add_argument("--seed", type=int, default=31)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    random.seed(args.seed)
    docs = list(sources(int(args.megabytes * 1e6), args.max_file))
    n = len(docs)
    width = len(str(n))
    # Candidate source paragraphs: 20-80 words of prose.
    pool = []
    vocab = []
    for d, (_, data) in enumerate(docs):
        paras, _ = paragraphs(data)
        for s, e in paras:
            text = data[s:e].decode("utf-8", "replace")
            w = normalize(text).split()
            if len(vocab) < 50000:
                vocab.extend(x for x in w[:20] if x.isalpha())
            if 20 <= len(w) <= 80 and d < n - 1:
                pool.append((d, s, e))
    kinds = ["exact", "date", "name", "edit1", "edit2", "edit3"]
    inserts = {}  # target doc -> list of (cut offset, bytes, truth fields)
    plants = 0
    while plants < args.plants:
        d, s, e = rng.choice(pool)
        text = docs[d][1][s:e].decode("utf-8", "replace")
        kind = kinds[plants % len(kinds)]
        v = variant(text, kind, vocab, rng)
        if v is None:
            continue
        target = rng.randrange(d + 1, n)
        _, cuts = paragraphs(docs[target][1])
        cut = rng.choice(cuts) if cuts else len(docs[target][1])
        body = v.rstrip("\r\n").encode("utf-8") + b"\n\n"
        inserts.setdefault(target, []).append((cut, body, (d, s, e, kind, jaccard(text, v))))
        plants += 1
    os.makedirs(os.path.join(args.out, "docs"), exist_ok=True)
    name = lambda i: os.path.join("docs", f"{i:0{width}d}.txt")
    # Where each original byte of a document lands once the plants are in.
    rows = []
    moved = {}
    for i, (_, data) in enumerate(docs):
        ins = sorted(inserts.get(i, []), key=lambda x: x[0])
        out, at, shift, starts = bytearray(), 0, [], []
        for cut, body, truth in ins:
            if cut == len(data) and data and not data.endswith(b"\n\n"):
                body = (b"\n\n" if not data.endswith(b"\n") else b"\n") + body
                lead = len(body) - len(v_strip(body))
            else:
                lead = 0
            out += data[at:cut]
            starts.append((len(out) + lead, len(body) - lead, truth))
            out += body
            # Original bytes from `cut` on now sit this much later.
            shift.append((cut, len(out) - cut))
            at = cut
        out += data[at:]
        moved[i] = shift
        with open(os.path.join(args.out, name(i)), "wb") as fh:
            fh.write(out)
        for start, length, truth in starts:
            rows.append((i, start, length, truth))

    def new_offset(doc, off):
        # A source offset after the plants inserted before it.
        delta = 0
        for cut, d in moved[doc]:
            if cut <= off:
                delta = d
            else:
                break
        return off + delta

    with open(os.path.join(args.out, "truth.tsv"), "w") as fh:
        fh.write("path\tstart\tlength\tsource_path\tsource_start\tsource_length\tkind\tjaccard\n")
        for i, start, length, (d, s, e, kind, j) in sorted(rows):
            fh.write(f"./{name(i)}\t{start}\t{length}\t./{name(d)}\t{new_offset(d, s)}\t{e - s}"
                     f"\t{kind}\t{j:.4f}\n")
    with open(os.path.join(args.out, "sources.tsv"), "w") as fh:
        for i, (p, data) in enumerate(docs):
            fh.write(f"./{name(i)}\t{p}\t{len(data)}\n")
    total = sum(len(d) for _, d in docs)
    print(f"{n} documents, {total / 1e6:.1f} MB, {plants} plants -> {args.out}")


def v_strip(body):
    return body.lstrip(b"\n")


if __name__ == "__main__":
    main()
