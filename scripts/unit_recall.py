#!/usr/bin/env python3
"""Recall of the planted paragraphs of scripts/make_unit_corpus.py, and a check of every
removal, from the spans `simdedup --unit paragraph` printed.

    python3 scripts/make_unit_corpus.py --out /tmp/units-corpus --plants 2000
    (cd /tmp/units-corpus && simdedup --unit paragraph -q docs > spans.tsv)
    python3 scripts/unit_recall.py --corpus /tmp/units-corpus --spans /tmp/units-corpus/spans.tsv

A plant is found when a removed span starts at its offset. Every removal's two spans are
read back and their Jaccard similarity recomputed here (the truth's normalisation; it
differs from simdedup's in rare Unicode cases), so a removal below the bar would show.
"""

import argparse
import collections
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from make_unit_corpus import jaccard  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--spans", required=True)
    ap.add_argument("--bar", type=float, default=0.5)
    ap.add_argument("--pairs", help="the output of --output pairs: also count the plants "
                    "verified in a pair with their source (or a copy of its text)")
    args = ap.parse_args()
    os.chdir(args.corpus)
    truth = list(csv.DictReader(open("truth.tsv"), delimiter="\t"))
    spans = [line.rstrip("\n").split("\t") for line in open(args.spans)]
    bare = lambda p: p[2:] if p.startswith("./") else p
    removed = {(bare(s[0]), int(s[1])) for s in spans}
    by_kind = collections.defaultdict(lambda: [0, 0])
    at_bar = [0, 0]
    below = [0, 0]
    for t in truth:
        found = (bare(t["path"]), int(t["start"])) in removed
        if float(t["jaccard"]) >= args.bar:
            at_bar[0] += found
            at_bar[1] += 1
            by_kind[t["kind"]][0] += found
            by_kind[t["kind"]][1] += 1
        else:
            below[0] += found
            below[1] += 1
    print(f"planted at J >= {args.bar}: {at_bar[0]} / {at_bar[1]} found, "
          f"recall {at_bar[0] / max(at_bar[1], 1):.4f}")
    for k in sorted(by_kind):
        f, n = by_kind[k]
        print(f"  {k:6} {f:5} / {n:5}  {f / n:.4f}")
    print(f"planted below the bar: {below[0]} / {below[1]} removed (as copies of some unit)")
    cache = {}

    def text(path, start, end):
        if path not in cache:
            cache[path] = open(path, "rb").read()
        return cache[path][start:end].decode("utf-8", "replace")


    if args.pairs:
        from make_unit_corpus import normalize
        pairs = collections.defaultdict(list)
        for line in open(args.pairs):
            p = line.rstrip("\n").split("\t")
            pairs[(bare(p[0]), int(p[1]))].append((p[3], int(p[4]), int(p[5])))
            pairs[(bare(p[3]), int(p[4]))].append((p[0], int(p[1]), int(p[2])))
        hit, n = 0, 0
        for t in truth:
            if float(t["jaccard"]) < args.bar or t["kind"] == "exact":
                continue
            n += 1
            s0 = int(t["source_start"])
            src = normalize(text(t["source_path"], s0, s0 + int(t["source_length"])))
            hit += any(bare(p) == bare(t["source_path"]) and a == s0
                       or normalize(text(p, a, b)) == src
                       for p, a, b in pairs.get((bare(t["path"]), int(t["start"])), []))
        print(f"near plants at J >= {args.bar} verified in a pair with their source: "
              f"{hit} / {n}, pair recall {hit / max(n, 1):.4f}")

    reported_low = sum(float(s[6]) < args.bar for s in spans)
    low, disagree = 0, 0
    for s in spans:
        j = jaccard(text(s[0], int(s[1]), int(s[2])), text(s[3], int(s[4]), int(s[5])))
        low += j < args.bar - 1e-9
        disagree += abs(j - float(s[6])) > 1e-3
    print(f"removals: {len(spans)}; reported below the bar: {reported_low}; "
          f"recomputed below the bar: {low}; recomputed differing by > 0.001: {disagree}")


if __name__ == "__main__":
    main()
