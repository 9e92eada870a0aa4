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
    args = p.parse_args()
    sources = pieces(args.kjv, args.fortunes)
    if not sources:
        raise SystemExit("no text: give --kjv and/or --fortunes")
    rng = random.Random(args.seed)
    vocabulary = [w for s in sources for piece in s[:2000] for w in piece.split()]
    rows: list[str] = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    with open(tmp, "w") as out:
        for i in range(args.docs):
            r = rng.random()
            if rows and r < 0.02:
                text = rows[rng.randrange(max(0, len(rows) - 10_000), len(rows))]
            elif rows and r < 0.12:
                words = rows[rng.randrange(max(0, len(rows) - 10_000), len(rows))].split()
                for _ in range(rng.randint(1, 3)):
                    k = rng.randrange(len(words))
                    words[k] = rng.choice(vocabulary)
                text = " ".join(words)
            else:
                source = sources[rng.randrange(len(sources))]
                start = rng.randrange(len(source))
                text = " ".join(source[start : start + rng.randint(1, 4)])
            rows.append(text)
            out.write(json.dumps({"id": i, "text": text}) + "\n")
    os.replace(tmp, args.out)
    print(f"wrote {args.docs} rows to {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
