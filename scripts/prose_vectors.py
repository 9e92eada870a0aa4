#!/usr/bin/env python3
"""Writes real sentence vectors: the texts of a JSONL file (scripts/make_prose.py's verses
and quotations) embedded by the package's bundled static model (simdedup.DEFAULT_MODEL,
potion-base-4m-int8: 128 dimensions, float32), as one .npy file, for
`scripts/python_speed.py vectors --npy FILE`.

    python3 scripts/make_prose.py --docs 62000 --kjv kjv.txt --fortunes /usr/share/games/fortunes \\
        --out /work/corpora/prose/p62k.jsonl
    python3 scripts/prose_vectors.py /work/corpora/prose/p62k.jsonl /work/corpora/prose/p62k.npy

The file is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

import simdedup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("jsonl")
    ap.add_argument("out")
    ap.add_argument("--column", default="text")
    a = ap.parse_args()
    with open(a.jsonl, encoding="utf-8") as f:
        texts = [json.loads(line)[a.column] for line in f if line.strip()]
    vectors = np.ascontiguousarray(simdedup.StaticModel(os.fspath(simdedup.DEFAULT_MODEL)).encode(texts), dtype=np.float32)
    tmp = a.out + ".tmp.npy"
    np.save(tmp, vectors)
    os.replace(tmp, a.out)
    print(f"{a.out}: {vectors.shape[0]} x {vectors.shape[1]} float32")


if __name__ == "__main__":
    main()
