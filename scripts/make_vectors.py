#!/usr/bin/env python3
"""Writes clustered float32 embeddings with planted near copies, for the vector benchmarks.

Each row is offset + centre + noise, scaled to unit length: a shared offset (norm --offset,
1.2: the anisotropy of real embeddings), one of --clusters random centres (norm 1) and
Gaussian noise (norm --noise, 0.8), the geometry of scripts/compare_semhash.py. Rows of one
cluster then have cosine about 0.79 (0.61 after centring on the mean), rows of different
clusters about 0.47 (0 after centring). Then --near of the rows (10%)
are replaced by copies of an earlier unplanted row at a cosine drawn uniformly from
[0.85, 0.99] (so some fall below the 0.9 bar), one in twenty by an exact copy.

    python3 scripts/make_vectors.py --rows 1000000 --dim 256 -o /work/corpora/vec/1m.npy

Deterministic (numpy PCG64, --seed). Also writes FILE.planted.tsv: row, base row, cosine.
"""
import argparse

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--clusters", type=int, default=2000)
    ap.add_argument("--near", type=float, default=0.10, help="fraction of planted copies")
    ap.add_argument("--offset", type=float, default=1.2, help="norm of the shared offset")
    ap.add_argument("--noise", type=float, default=0.8, help="norm of the noise")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("-o", "--out", required=True)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    n, dim = a.rows, a.dim
    offset = rng.standard_normal(dim).astype(np.float32)
    offset *= a.offset / np.linalg.norm(offset)
    centres = rng.standard_normal((a.clusters, dim)).astype(np.float32) / np.sqrt(dim)
    x = np.empty((n, dim), dtype=np.float32)
    chunk = 100_000
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        c = centres[rng.integers(0, a.clusters, e - s)]
        noise = rng.standard_normal((e - s, dim)).astype(np.float32) * (a.noise / np.sqrt(dim))
        block = offset + c + noise
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        x[s:e] = block

    planted = np.sort(rng.choice(np.arange(1, n), size=int(n * a.near), replace=False))
    is_planted = np.zeros(n, dtype=bool)
    is_planted[planted] = True
    bases = np.flatnonzero(~is_planted)
    # Each planted row copies a random unplanted row before it.
    below = np.searchsorted(bases, planted)  # unplanted rows with index < i
    base = bases[(rng.random(len(planted)) * below).astype(np.int64)]
    cos = rng.uniform(0.85, 0.99, len(planted))
    exact = np.arange(len(planted)) % 20 == 0
    cos[exact] = 1.0
    for s in range(0, len(planted), chunk):
        idx, b, c = planted[s : s + chunk], x[base[s : s + chunk]], cos[s : s + chunk, None]
        r = rng.standard_normal(b.shape).astype(np.float32)
        r -= (r * b).sum(axis=1, keepdims=True) * b
        r /= np.linalg.norm(r, axis=1, keepdims=True)
        x[idx] = (c * b + np.sqrt(1 - c * c) * r).astype(np.float32)
        x[idx[exact[s : s + chunk]]] = b[exact[s : s + chunk]]
    np.save(a.out, x)
    with open(a.out + ".planted.tsv", "w") as f:
        for i, j, c in zip(planted, base, cos):
            f.write(f"{i}\t{j}\t{c:.6f}\n")


if __name__ == "__main__":
    main()
