#!/usr/bin/env python3
"""Recall of `simdedup dedup --vectors Q --against R` against brute force, on a sample.

Draws --sample query rows, finds with numpy the closest reference row of each (every
reference row, in chunks), and checks that the queries whose closest reference row is at
cosine >= the threshold are the ones simdedup reported as leaks (and that every reported
leak of a sampled query names a reference row at or above the threshold).

    simdedup dedup --vectors Q.npy --against R.npy > leaks.tsv
    python3 scripts/leak_recall.py Q.npy R.npy leaks.tsv [--threshold 0.9] [--sample 2000]

Without --ids, simdedup names rows by their number, as read here. With --split N, Q is
made from the first N rows of the file given as Q and R from the rest (written to
Q.head.npy and Q.tail.npy, then nothing else is done): the benchmark's leakage set.
"""
import argparse
import math

import numpy as np


def split(path, n):
    x = np.load(path, mmap_mode="r")
    np.save(path + ".head.npy", np.asarray(x[:n]))
    np.save(path + ".tail.npy", np.asarray(x[n:]))


def unit(a):
    a = np.asarray(a, dtype=np.float32)
    norm = np.linalg.norm(a, axis=1)
    return a / np.where(norm > 0, norm, 1)[:, None]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("queries")
    ap.add_argument("reference", nargs="?")
    ap.add_argument("leaks", nargs="?", help="simdedup's output: query, reference, cosine")
    ap.add_argument("--threshold", type=float, default=0.9)
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--split", type=int, help="write the leakage benchmark's two files")
    a = ap.parse_args()
    if a.split is not None:
        split(a.queries, a.split)
        return
    q = np.load(a.queries, mmap_mode="r")
    r = np.load(a.reference, mmap_mode="r")
    rng = np.random.default_rng(a.seed)
    sample = np.sort(rng.choice(q.shape[0], size=min(a.sample, q.shape[0]), replace=False))
    s = unit(q[sample])
    best = np.full(len(sample), -2.0)
    chunk = 100_000
    for lo in range(0, r.shape[0], chunk):
        c = unit(r[lo : lo + chunk])
        cos = s @ c.T
        # float32 for speed, then the row's closest candidates again in float64.
        top = cos.max(axis=1)
        for i in np.flatnonzero(top >= a.threshold - 1e-4):
            for j in np.flatnonzero(cos[i] >= a.threshold - 1e-4):
                exact = float(np.dot(s[i].astype(np.float64), c[j].astype(np.float64)))
                best[i] = max(best[i], exact)
    truth = {int(sample[i]) for i in np.flatnonzero(best >= a.threshold)}
    in_sample = set(int(x) for x in sample)
    reported, wrong = set(), 0
    with open(a.leaks) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if not fields[0].isdigit():
                continue
            row, ref = int(fields[0]), int(fields[1])
            if row in in_sample:
                reported.add(row)
                exact = float(np.dot(unit(q[row : row + 1])[0].astype(np.float64),
                                     unit(r[ref : ref + 1])[0].astype(np.float64)))
                wrong += exact < a.threshold - 1e-9
    found = len(truth & reported)
    n = len(truth)
    rec = found / n if n else 1.0
    half = 1.96 * math.sqrt(rec * (1 - rec) / n) if n else 0.0
    print(f"sampled queries {len(sample)}, leaking {n}, reported {found} "
          f"(recall {rec:.4f} +- {half:.4f}), reported but not leaking {len(reported - truth)}, "
          f"below the threshold {wrong}")


if __name__ == "__main__":
    main()
