#!/usr/bin/env python3
"""Our reconstruction of the seed script dedup.py, used as an oracle for --compat dedup-py.

Written from the seed document's description and checked against every number it prints
(testdata/seed/seed-*.txt): character bigrams of the text as Python reads it, CityHash of
each bigram (the PyPI `cityhash` package), counter i driven by hash bit i, counter i becomes
fingerprint bit bits-1-i, ties give 0; passes: stable sort, compare neighbours, rotate
right by one bit, `bits` passes; a pair when distance/bits < ratio, longer document first.

usage: dedup_py.py [-b BITS] [-r RATIO] [--fingerprints] < list-of-paths
prints `path_a<TAB>path_b` pairs (sorted), or with --fingerprints `#bits=N` and
`path<TAB>hex` lines.
"""
import argparse
import sys

import cityhash


def fingerprint(text, bits, h):
    counters = [0] * bits
    for i in range(len(text) - 1):
        v = h(text[i:i + 2])
        for b in range(bits):
            counters[b] += 1 if (v >> b) & 1 else -1
    s = "".join("1" if c > 0 else "0" for c in counters)
    return int(s, 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-b", "--bits", type=int, default=32, choices=[32, 64, 128])
    ap.add_argument("-r", "--ratio", type=float, default=0.25)
    ap.add_argument("--fingerprints", action="store_true")
    args = ap.parse_args()
    bits = args.bits
    h = {32: cityhash.CityHash32, 64: cityhash.CityHash64, 128: cityhash.CityHash128}[bits]
    paths = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    texts = {}
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            texts[p] = f.read()
    fps = [(fingerprint(texts[p], bits, h), p) for p in paths]
    if args.fingerprints:
        print(f"#bits={bits}")
        for f, p in fps:
            print(f"{p}\t{f:0{bits // 4}x}")
        return
    mask = (1 << bits) - 1
    found = set()
    for _ in range(bits):
        fps.sort(key=lambda x: x[0])
        for (a, pa), (b, pb) in zip(fps, fps[1:]):
            if bin(a ^ b).count("1") / bits < args.ratio:
                x, y = sorted([pa, pb], key=lambda q: (-len(texts[q]), q))
                found.add((x, y))
        fps = [(((f >> 1) | ((f & 1) << (bits - 1))) & mask, p) for f, p in fps]
    for x, y in sorted(found):
        print(f"{x}\t{y}")


if __name__ == "__main__":
    main()
