"""Per-stage time of the Spark job (simdedup.spark) against the single-machine run on one
dataset file. Each stage is materialised in turn (``dedup(stats=...)``), so the table says
where the time goes; the sum is a little above an unmeasured run's.

    python3 scripts/spark_bench.py /work/corpora/jsonl/n1m.jsonl --columns text --id-column id \
        --cli target/release/simdedup --master 'local[2]' --partitions 16
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time

from pyspark.sql import SparkSession

from simdedup import spark as sd


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("input")
    p.add_argument("--columns", required=True)
    p.add_argument("--id-column")
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--master", default="local[2]")
    p.add_argument("--partitions", type=int, default=16)
    p.add_argument("--memory", default="6g")
    p.add_argument("--cli", help="simdedup binary: also time the local run and compare")
    args = p.parse_args()
    out = tempfile.mkdtemp(prefix="spark-bench-")
    spark = (
        SparkSession.builder.master(args.master)
        .config("spark.sql.shuffle.partitions", str(args.partitions))
        .config("spark.driver.memory", args.memory)
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    load0 = os.getloadavg()
    start = time.perf_counter()
    stats: dict = {}
    kept, removed = sd.dedup(
        sd.read(spark, args.input),
        args.columns.split(","),
        args.threshold,
        args.id_column,
        split=True,
        shape_rows=os.path.getsize(args.input) // 200,
        stats=stats,
    )
    t = time.perf_counter()
    sd.write(kept, os.path.join(out, "kept.parquet"))
    sd.write(removed, os.path.join(out, "removed.parquet"))
    stats["6 write kept and removed"] = (time.perf_counter() - t, None)
    total = time.perf_counter() - start
    load1 = os.getloadavg()
    n_removed = spark.read.parquet(os.path.join(out, "removed.parquet")).count()
    n = stats["0 row numbers"][1]
    print(f"| stage | time | rows out | rows in / s |\n|---|---:|---:|---:|")
    for name, (secs, rows) in stats.items():
        print(f"| {name} | {secs:.1f} s | {rows if rows is not None else ''} | {n / secs:,.0f} |")
    print(f"| total (Spark, {args.master}) | {total:.1f} s | {n_removed} removed | {n / total:,.0f} |")
    print(f"load average before {load0[0]:.1f}, after {load1[0]:.1f}")
    if args.cli:
        t = time.perf_counter()
        ext = ".jsonl" if args.input.endswith(".jsonl") else os.path.splitext(args.input)[1]
        cmd = [args.cli, "dedup", args.input, "--columns", args.columns, "--threshold", str(args.threshold),
               "-o", os.path.join(out, "cli_kept" + ext), "--removed", os.path.join(out, "cli_removed" + ext)]
        if args.id_column:
            cmd += ["--id-column", args.id_column]
        subprocess.run(cmd, check=True, capture_output=True)
        secs = time.perf_counter() - t
        with open(os.path.join(out, "cli_removed" + ext)) as f:
            cli_removed = sum(1 for _ in f)
        print(f"| single machine (`simdedup dedup`, 2 threads) | {secs:.1f} s | {cli_removed} removed | {n / secs:,.0f} |")
        print(f"load average after {os.getloadavg()[0]:.1f}")
    spark.stop()
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
