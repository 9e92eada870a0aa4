#!/usr/bin/env python3
"""Recall of `simdedup dedup --vectors --output pairs` against brute force, on a sample.

Draws --sample rows, finds with numpy every pair (sample row, any row) at cosine >= the
threshold (all rows, in chunks), and checks which of them simdedup reported; also that
every reported pair touching a sample row really is at or above the threshold.

    simdedup dedup --vectors X.npy --output pairs > pairs.tsv
    python3 scripts/vector_recall.py X.npy pairs.tsv [--threshold 0.9] [--sample 2000]

Prints the recall with a 95% interval and the missed pairs' cosines.
"""
import argparse
import math

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("vectors")
    ap.add_argument("pairs", help="simdedup's --output pairs (row ids)")
    ap.add_argument("--threshold", type=float, default=0.9)
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    x = np.load(a.vectors, mmap_mode="r")
    n = x.shape[0]
    rng = np.random.default_rng(a.seed)
    sample = np.sort(rng.choice(n, size=min(a.sample, n), replace=False))
    in_sample = np.zeros(n, dtype=bool)
    in_sample[sample] = True
    s = np.asarray(x[sample], dtype=np.float32)
    s_norm = np.linalg.norm(s, axis=1)
    s = s / np.where(s_norm > 0, s_norm, 1)[:, None]
    truth = {}
    chunk = 100_000
    for lo in range(0, n, chunk):
        c = np.asarray(x[lo : lo + chunk], dtype=np.float32)
        c_norm = np.linalg.norm(c, axis=1)
        c = c / np.where(c_norm > 0, c_norm, 1)[:, None]
        # float32 product for speed, then the close ones again in float64.
        cos = s @ c.T
        i, j = np.nonzero(cos >= a.threshold - 1e-4)
        for si, cj in zip(i, j):
            r, o = int(sample[si]), lo + int(cj)
            if r == o:
                continue
            exact = float(np.dot(s[si].astype(np.float64), c[cj].astype(np.float64)))
            if exact >= a.threshold:
                truth[(min(r, o), max(r, o))] = exact
    reported = set()
    wrong = 0
    with open(a.pairs) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            p, q = int(fields[0]), int(fields[1])
            if in_sample[p] or in_sample[q]:
                key = (min(p, q), max(p, q))
                reported.add(key)
                if key not in truth:
                    wrong += 1
    found = sum(1 for k in truth if k in reported)
    total = len(truth)
    recall = found / total if total else 1.0
    half = 1.96 * math.sqrt(max(recall * (1 - recall), 1e-12) / max(total, 1))
    print(f"sample {len(sample)} rows, {total} pairs at cosine >= {a.threshold} (brute force)")
    print(f"recall {recall:.4f} +- {half:.4f} ({found} found, {total - found} missed)")
    print(f"reported pairs touching the sample that brute force does not have: {wrong}")
    missed = sorted(v for k, v in truth.items() if k not in reported)
    if missed:
        print("missed cosines:", " ".join(f"{c:.4f}" for c in missed[:40]))


if __name__ == "__main__":
    main()
