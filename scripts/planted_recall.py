#!/usr/bin/env python3
"""Recall of planted pairs: the share of a truth file's pairs at or above a bar that a
tool's pair list holds.

    python3 scripts/planted_recall.py TRUTH.tsv PAIRS.tsv [--bar 0.5]

TRUTH.tsv lines are `source<TAB>copy<TAB>jaccard` (scripts/make_jsonl.py writes them, with
the exact Jaccard of word 3-shingle sets); PAIRS.tsv lines start with `a<TAB>b` (simdedup's
`--output pairs`, or scripts/peer_minhash.py); either order of a pair counts.
"""

import argparse


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("truth")
    ap.add_argument("pairs")
    ap.add_argument("--bar", type=float, default=0.5)
    args = ap.parse_args()

    found = set()
    with open(args.pairs) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 2 and fields[0] != "path_a":
                found.add(frozenset(fields[:2]))
    total = hit = 0
    missed_j = []
    with open(args.truth) as f:
        for line in f:
            a, b, j = line.rstrip("\n").split("\t")
            if float(j) < args.bar or a == b:
                continue
            total += 1
            if frozenset((a, b)) in found:
                hit += 1
            else:
                missed_j.append(float(j))
    recall = hit / total if total else 1.0
    print(f"planted pairs at J >= {args.bar}: {total}, found {hit}, recall {recall:.4f}")
    if missed_j:
        missed_j.sort()
        print(f"missed: {len(missed_j)}, J from {missed_j[0]:.3f} to {missed_j[-1]:.3f}")


if __name__ == "__main__":
    main()
