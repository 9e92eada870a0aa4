#!/usr/bin/env python3
"""Writes a synthetic corpus of many small text files, for memory and scale runs.

Documents are 30-90 words drawn from a Zipf-like vocabulary of made-up words. About 8% of
documents are near-copies of an earlier one (a few words replaced, inserted or dropped) and
2% exact copies, so every stage of a run (exact groups, search, verification) has work.
Files go 1000 to a directory: OUT/d00000/f00000000.txt ...

    python3 scripts/make_files.py --docs 1000000 --out /tmp/files1m
"""

import argparse
import os
import random


def vocabulary(rng, size):
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))))
    return sorted(words)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--min-words", type=int, default=30)
    ap.add_argument("--max-words", type=int, default=90)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    vocab = vocabulary(rng, 50_000)
    cum = []
    total = 0.0
    for rank in range(1, len(vocab) + 1):
        total += 1.0 / rank
        cum.append(total)

    recent = []  # a window of earlier documents to copy from
    for i in range(args.docs):
        r = rng.random()
        if recent and r < 0.02:
            words = list(rng.choice(recent))
        elif recent and r < 0.10:
            words = list(rng.choice(recent))
            for _ in range(rng.randint(1, 4)):
                pos = rng.randrange(len(words))
                op = rng.random()
                if op < 0.5:
                    words[pos] = rng.choices(vocab, cum_weights=cum)[0]
                elif op < 0.75:
                    words.insert(pos, rng.choices(vocab, cum_weights=cum)[0])
                elif len(words) > 5:
                    del words[pos]
        else:
            n = rng.randint(args.min_words, args.max_words)
            words = rng.choices(vocab, cum_weights=cum, k=n)
        if len(recent) < 10_000:
            recent.append(words)
        else:
            recent[rng.randrange(len(recent))] = words
        d = os.path.join(args.out, f"d{i // 1000:05d}")
        if i % 1000 == 0:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:08d}.txt"), "w") as f:
            f.write(" ".join(words))
            f.write("\n")


if __name__ == "__main__":
    main()
