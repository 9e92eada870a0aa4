#!/usr/bin/env python3
"""Compares `simdedup dedup --vectors` with SemHash's self_deduplicate on the same vectors.

Generates N x D float32 vectors (anisotropic: a shared offset; clustered; with planted
near-duplicates at cosines spread over 0.85-0.995 around the 0.9 threshold), runs SemHash
(`SemHash.from_embeddings`, exact Backend.BASIC and the default USearch backend, offline)
and simdedup, and reports the agreement of the removed sets and the wall times.

    pip install semhash numpy
    cargo build --release
    python3 scripts/compare_semhash.py [--rows 100000] [--dim 256] [--skip-basic]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def make_vectors(n, dim, seed=7):
    rng = np.random.default_rng(seed)
    offset = rng.standard_normal(dim).astype(np.float32)
    offset *= 1.2 / np.linalg.norm(offset)
    n_centres = max(1, n // 50)
    centres = rng.standard_normal((n_centres, dim)).astype(np.float32) / np.sqrt(dim)
    x = offset + centres[rng.integers(0, n_centres, n)]
    x += rng.standard_normal((n, dim)).astype(np.float32) * (0.8 / np.sqrt(dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    # Plant near-duplicates: 15% of the rows become copies of an earlier row at a chosen
    # cosine, and 1% exact copies.
    planted = rng.choice(np.arange(1, n), size=n // 100 * 16, replace=False)
    for k, i in enumerate(planted):
        j = rng.integers(0, i)
        base = x[j]
        if k % 16 == 0:
            x[i] = base
            continue
        c = rng.uniform(0.85, 0.995)
        r = rng.standard_normal(dim).astype(np.float32)
        r -= r.dot(base) * base
        r /= np.linalg.norm(r)
        x[i] = c * base + np.sqrt(1 - c * c) * r
    return np.ascontiguousarray(x, dtype=np.float32)


def semhash_removed(x, backend):
    from semhash import SemHash
    from vicinity import Backend

    records = [str(i) for i in range(len(x))]
    t0 = time.perf_counter()
    sh = SemHash.from_embeddings(x, records, model=None, ann_backend=getattr(Backend, backend))
    result = sh.self_deduplicate(threshold=0.9)
    elapsed = time.perf_counter() - t0
    removed = {int(d.record) for d in result.filtered}
    return removed, elapsed


def simdedup_removed(binary, path, extra):
    t0 = time.perf_counter()
    out = subprocess.run(
        [binary, "dedup", "--vectors", path, "--output", "remove", "-q", *extra],
        check=False, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - t0
    if out.returncode not in (0,):
        sys.exit(f"simdedup failed ({out.returncode}): {out.stderr}")
    removed = {int(line.split("\t")[0]) for line in out.stdout.splitlines()}
    return removed, elapsed


def agreement(a, b, n):
    return 1.0 - len(a ^ b) / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--binary", default="target/release/simdedup")
    ap.add_argument("--skip-basic", action="store_true", help="skip the exact SemHash backend")
    ap.add_argument("--bits", default="128")
    args = ap.parse_args()

    x = make_vectors(args.rows, args.dim)
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "vectors.npy")
    np.save(path, x)
    n = len(x)
    print(f"{n} x {args.dim} float32, load {os.getloadavg()[0]:.2f}, {os.cpu_count()} cpus")

    ours, t_ours = simdedup_removed(args.binary, path, ["--bits", args.bits])
    print(f"simdedup ({args.bits} bits): {len(ours)} removed in {t_ours:.2f} s")
    results = {}
    for backend in (["USEARCH"] if args.skip_basic else ["BASIC", "USEARCH"]):
        removed, t = semhash_removed(x, backend)
        results[backend] = (removed, t)
        print(
            f"SemHash {backend}: {len(removed)} removed in {t:.2f} s; agreement with simdedup "
            f"{100 * agreement(ours, removed, n):.3f}% of records; speed-up {t / t_ours:.1f}x"
        )
    if "BASIC" in results and "USEARCH" in results:
        a = agreement(results["BASIC"][0], results["USEARCH"][0], n)
        print(f"SemHash BASIC vs USEARCH agreement: {100 * a:.3f}%")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
