#!/usr/bin/env python3
"""Writes a JSONL dataset of real short prose with near and exact copies, for measuring on
real text rather than synthetic words.

The pieces are the King James Bible's verses (Debian's bible-kjv: `echo gen1:1-rev22:21 |
bible -f -l 100000 > kjv.txt`; the text is in the public domain) and the quotations of
Debian's fortune packages (`fortunes`, `fortunes-min`: the files under
/usr/share/games/fortunes, quotations separated by `%` lines). A row is a window of 1 to 4
consecutive pieces of one source (so rows share whole verses and phrasing, as real
collections do); 10% of rows are near copies of an earlier row (1-3 word edits) and 2%
exact copies.

    python3 scripts/make_prose.py --docs 300000 --kjv kjv.txt --fortunes /usr/share/games/fortunes \\
        --out /work/corpora/prose/p300k.jsonl

The file is written under a temporary name and renamed when complete.

With `--files`, `--out` is a directory instead: one file per row (`DIR/0000/0000000.txt`,
1,000 files a directory), and `DIR.truth.tsv` lists every planted copy as
`source_path<TAB>copy_path<TAB>jaccard` (word 3-shingle sets after lowercasing and
punctuation to spaces: close to simdedup's normalisation on this ASCII text) for
scripts/planted_recall.py:

    python3 scripts/make_prose.py --docs 100000 --kjv kjv.txt --fortunes /usr/share/games/fortunes \\
        --files --out /tmp/prose100k
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
from pathlib import Path


def pieces(kjv: Path | None, fortunes: Path | None) -> list[list[str]]:
    sources = []
    if kjv:
        verses = []
        for line in kjv.read_text(errors="replace").splitlines():
            m = re.match(r"^\S+\d+:\d+ (.*)$", line)
            if m and (not verses or verses[-1] != m.group(1)):
                verses.append(m.group(1))
        sources.append(verses)
    if fortunes:
        quotes = []
        for f in sorted(fortunes.iterdir()):
            if f.suffix or not f.is_file() or "art" in f.name:  # ASCII art is not prose
                continue
            for q in f.read_text(errors="replace").split("\n%\n"):
                q = " ".join(q.split())
                if len(q.split()) >= 3:
                    quotes.append(q)
        sources.append(quotes)
    return [s for s in sources if s]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--docs", type=int, required=True)
    p.add_argument("--kjv", type=Path)
    p.add_argument("--fortunes", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--files", action="store_true", help="write a file tree and a truth file")
    p.add_argument(
        "--mix",
        action="store_true",
        help="a fresh row joins two windows of 1-2 pieces from random places (fewer chance "
        "copies, many rows sharing one piece)",
    )
    args = p.parse_args()
    sources = pieces(args.kjv, args.fortunes)
    if not sources:
        raise SystemExit("no text: give --kjv and/or --fortunes")
    rng = random.Random(args.seed)
    vocabulary = [w for s in sources for piece in s[:2000] for w in piece.split()]
    rows: list[str] = []
    planted: list[tuple[int, int]] = []
    for i in range(args.docs):
        r = rng.random()
        if rows and r < 0.02:
            s = rng.randrange(max(0, len(rows) - 10_000), len(rows))
            text = rows[s]
            planted.append((s, i))
        elif rows and r < 0.12:
            s = rng.randrange(max(0, len(rows) - 10_000), len(rows))
            words = rows[s].split()
            for _ in range(rng.randint(1, 3)):
                k = rng.randrange(len(words))
                words[k] = rng.choice(vocabulary)
            text = " ".join(words)
            planted.append((s, i))
        elif args.mix:
            parts = []
            for _ in range(2):
                source = sources[rng.randrange(len(sources))]
                start = rng.randrange(len(source))
                parts.append(" ".join(source[start : start + rng.randint(1, 2)]))
            text = " ".join(parts)
        else:
            source = sources[rng.randrange(len(sources))]
            start = rng.randrange(len(source))
            text = " ".join(source[start : start + rng.randint(1, 4)])
        rows.append(text)
    if args.files:
        write_tree(args.out, rows, planted)
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    with open(tmp, "w") as out:
        for i, text in enumerate(rows):
            out.write(json.dumps({"id": i, "text": text}) + "\n")
    os.replace(tmp, args.out)
    print(f"wrote {args.docs} rows to {args.out} ({args.out.stat().st_size} bytes)")


def shingles(text: str) -> set[tuple[str, ...]]:
    """Word 3-shingles after lowercasing and punctuation to spaces (a whole short text is one
    shingle)."""
    words = re.sub(r"[^\w]+", " ", text.lower()).split()
    if len(words) < 3:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def write_tree(out: Path, rows: list[str], planted: list[tuple[int, int]]) -> None:
    """One file per row under `out` (1,000 a directory) and `out`.truth.tsv."""
    def path(i: int) -> str:
        return str(out / f"{i // 1000:04d}" / f"{i:07d}.txt")

    for i, text in enumerate(rows):
        if i % 1000 == 0:
            (out / f"{i // 1000:04d}").mkdir(parents=True, exist_ok=True)
        with open(path(i), "w") as f:
            f.write(text + "\n")
    truth = out.with_name(out.name + ".truth.tsv")
    with open(truth, "w") as f:
        for s, c in planted:
            a, b = shingles(rows[s]), shingles(rows[c])
            j = len(a & b) / len(a | b) if a | b else 1.0
            f.write(f"{path(s)}\t{path(c)}\t{j:.6f}\n")
    print(f"wrote {len(rows)} files under {out}, {len(planted)} planted pairs in {truth}")


if __name__ == "__main__":
    main()
