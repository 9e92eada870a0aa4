#!/usr/bin/env python3
"""`simdedup.dedup` on a DataFrame against `simdedup dedup` on the same rows as Parquet.

    python3 scripts/frames_speed.py /work/corpora/jsonl/n1m.jsonl --cli target/release/simdedup

The JSON Lines file is written once as Parquet beside it (`.parquet`; not timed). Then,
alternating, each `--repeat` times: the command line on the Parquet file (whole process,
`--output remove` to /dev/null), and `simdedup.dedup(frame, columns=...)` on the frame
read from that Parquet file by pandas (Arrow strings), polars and pyarrow (the read not
timed; the call timed from the frame to the returned frame). Prints the medians and each
one's ratio to the command line, and checks that every run removed the same rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("jsonl")
    ap.add_argument("--columns", default="text")
    ap.add_argument("--cli", default="simdedup")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--kinds", default="pandas,polars,pyarrow")
    a = ap.parse_args()
    import pyarrow.json
    import pyarrow.parquet as pq

    import simdedup

    columns = a.columns.split(",")
    parquet = os.path.splitext(a.jsonl)[0] + ".parquet"
    if not os.path.exists(parquet):
        table = pyarrow.json.read_json(a.jsonl)
        tmp = parquet + ".tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, parquet)
    frames = {}
    for kind in a.kinds.split(","):
        if kind == "pandas":
            import pandas as pd

            frames[kind] = pd.read_parquet(parquet, dtype_backend="pyarrow")
        elif kind == "polars":
            import polars as pl

            frames[kind] = pl.read_parquet(parquet)
        else:
            frames[kind] = pq.read_table(parquet)
    times: dict[str, list[float]] = {"cli": [], **{k: [] for k in frames}}
    removed: dict[str, int] = {}
    for _ in range(a.repeat):
        os.sync()
        start = time.perf_counter()
        out = subprocess.run(
            [a.cli, "dedup", parquet, "--columns", a.columns], capture_output=True, text=True, check=True
        )
        times["cli"].append(time.perf_counter() - start)
        removed["cli"] = out.stdout.count("\n")
        for kind, frame in frames.items():
            start = time.perf_counter()
            result = simdedup.dedup(frame, columns=columns)
            times[kind].append(time.perf_counter() - start)
            if kind == "pyarrow":
                n = result.column("duplicate_of").null_count
                removed[kind] = result.num_rows - n
            elif kind == "polars":
                removed[kind] = result["duplicate_of"].is_not_null().sum()
            else:
                removed[kind] = int(result["duplicate_of"].notna().sum())
            del result
    cli = statistics.median(times["cli"])
    print(f"{parquet}: {a.repeat} runs each, load {os.getloadavg()[0]:.2f}")
    for kind, ts in times.items():
        m = statistics.median(ts)
        print(f"  {kind:8} {m:7.2f} s (runs {', '.join(f'{t:.2f}' for t in ts)})  {m / cli:5.2f}x  {removed[kind]} removed")
    if len(set(removed.values())) != 1:
        sys.exit(f"the runs removed different counts: {removed}")


if __name__ == "__main__":
    main()
