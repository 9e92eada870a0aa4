#!/usr/bin/env python3
"""Print the Markdown table of docs/benchmarks.md ("Quality against the peers") from run_eval.py JSON results.

    python3 eval/table.py eval/results/c2k-*.json eval/results/c100k-*.json
"""
import json
import sys


def main():
    print("| docs | tool | settings | precision | recall | F1 | time (s) | pairs | load |")
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for path in sys.argv[1:]:
        d = json.load(open(path))
        for r in d["results"]:
            if "f1" in r:
                print(f"| {d['docs']:,} | {r['tool']} | `{r['settings']}` | {r['precision']:.4f} | "
                      f"{r['recall']:.4f} | {r['f1']:.4f} | {r['seconds']:.2f} | {r['reported']:,} | "
                      f"{r['load1']} |")
            else:
                print(f"| {d['docs']:,} | {r['tool']} | `{r['settings']}` | – | – | – | "
                      f"{r['status']} | – | {r['load1']} |")


if __name__ == "__main__":
    main()
