#!/usr/bin/env python3
"""Reconstruction of simdedup's seed script, adapted to a corpus directory.

Fingerprint: SimHash over the CityHash of every character bigram of the raw
text (no normalisation), BITS bits (default 32, as the seed).  Search: for each of the
BITS rotations of the fingerprints, sort them and compare only neighbours in
sorted order; a pair is reported when Hamming distance / BITS < RATIO (0.25).

Usage: seed_baseline.py CORPUSDIR [--bits 32] [--ratio 0.25]
Prints path_a<TAB>path_b<TAB>distance_ratio, paths relative to CORPUSDIR.
"""
import argparse
import os
import sys

import cityhash
import numpy as np


def list_files(corpus):
    out = []
    for root, _, files in os.walk(corpus):
        for f in files:
            out.append(os.path.relpath(os.path.join(root, f), corpus))
    return sorted(out)


def fingerprint(text, bits):
    if len(text) < 2:
        return 0
    if bits == 128:
        hs = [cityhash.CityHash128(text[i:i + 2]) for i in range(len(text) - 1)]
        lo = np.array([h & 0xFFFFFFFFFFFFFFFF for h in hs], dtype=np.uint64)
        hi = np.array([h >> 64 for h in hs], dtype=np.uint64)
        words = [lo, hi]
    else:
        f = cityhash.CityHash64 if bits == 64 else cityhash.CityHash32
        words = [np.array([f(text[i:i + 2]) for i in range(len(text) - 1)], dtype=np.uint64)]
    votes = []
    for w in words:  # bit b of word -> position b (little end first)
        bitsarr = np.unpackbits(w.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
        votes.append(bitsarr.sum(axis=0, dtype=np.int64) * 2 - len(w))
    v = np.concatenate(votes)[:bits]
    # the seed builds the string MSB-first from bit 0, i.e. bit b -> position bits-1-b
    fp = 0
    for b in range(bits):
        if v[b] > 0:
            fp |= 1 << (bits - 1 - b)
    return fp


def seed_pairs(corpus, paths, bits=128, ratio=0.25, texts=None):
    fps = []
    for i, p in enumerate(paths):
        t = texts[i] if texts is not None else open(os.path.join(corpus, p), encoding="utf-8",
                                                    errors="replace").read()
        fps.append((fingerprint(t, bits), i))
    mask = (1 << bits) - 1
    found = {}
    for _ in range(bits):
        fps.sort(key=lambda x: x[0])
        for (a, pa), (b, pb) in zip(fps, fps[1:]):
            d = bin(a ^ b).count("1")
            if d / bits < ratio:
                key = (min(pa, pb), max(pa, pb))
                if key not in found:
                    found[key] = d / bits
        fps = [(((f >> 1) | ((f & 1) << (bits - 1))) & mask, p) for f, p in fps]
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--bits", type=int, default=32, choices=(32, 64, 128))
    ap.add_argument("--ratio", type=float, default=0.25)
    a = ap.parse_args()
    paths = list_files(a.corpus)
    found = seed_pairs(a.corpus, paths, a.bits, a.ratio)
    w = sys.stdout.write
    for (i, j), r in sorted(found.items()):
        w(f"{paths[i]}\t{paths[j]}\t{r:.4f}\n")


if __name__ == "__main__":
    main()
