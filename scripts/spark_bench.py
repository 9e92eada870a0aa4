"""Per-stage time of the Spark job (simdedup.spark) against the single-machine run on one
dataset file. Each stage is materialised in turn (``dedup(stats=...)``), so the table says
where the time goes; the sum is a little above an unmeasured run's (``--total-only``).
A ``.jsonl`` input takes the JSON Lines path (``dedup_lines``: JSON Lines out, checked
byte for byte against the command line's two files); ``--dataframe`` the DataFrame path
(``read`` and ``dedup``, Parquet out).

    python3 scripts/spark_bench.py /work/corpora/jsonl/n1m.jsonl --columns text --id-column id \
        --cli target/release/simdedup --master 'local[2]' --total-only

The session gets the settings ``python -m simdedup.spark`` gives its own
(``simdedup.spark.SESSION_SETTINGS``), then any ``--conf KEY=VALUE``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from pyspark.sql import SparkSession

from simdedup import spark as sd


def _concat(directory: str) -> bytes:
    """The part files of a Spark text output, in name order."""
    names = sorted(n for n in os.listdir(directory) if n.startswith("part-"))
    return b"".join(open(os.path.join(directory, n), "rb").read() for n in names)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("input")
    p.add_argument("--columns", help="text columns (comma-separated)")
    p.add_argument("--embedding-column", help="deduplicate by this column's vectors (cosine) instead")
    p.add_argument("--id-column")
    p.add_argument("--threshold", type=float, help="[0.5; 0.9 with --embedding-column]")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--partitions", type=int, help="partitions of the stages [the job's default]")
    p.add_argument("--memory", help="spark.driver.memory [Spark's default, 1g]")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting (repeatable)")
    p.add_argument("--total-only", action="store_true", help="no per-stage table (stages not materialised apart)")
    p.add_argument("--shape-from-size", action="store_true", help="shape for size/200 rows, not the count")
    p.add_argument("--cli", help="simdedup binary: also time the local run and compare")
    p.add_argument(
        "--dataframe",
        action="store_true",
        help="JSONL through spark.read.json and dedup() to Parquet, not read_lines and dedup_lines to JSONL",
    )
    args = p.parse_args()
    if not args.columns and not args.embedding_column:
        p.error("give --columns or --embedding-column")
    if args.threshold is None:
        args.threshold = 0.9 if args.embedding_column else 0.5
    out = tempfile.mkdtemp(prefix="spark-bench-")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(args.master).config("spark.ui.enabled", "false")
    if args.partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(args.partitions))
    if os.environ.get("SPARK_EVENT_LOG"):  # per Spark stage times, for profiling
        builder = builder.config("spark.eventLog.enabled", "true").config("spark.eventLog.dir", os.environ["SPARK_EVENT_LOG"])
    if args.memory:
        builder = builder.config("spark.driver.memory", args.memory)
    # The settings `python -m simdedup.spark` gives its session, then --conf's.
    for key, value in sd.SESSION_SETTINGS.items():
        builder = builder.config(key, value)
    for setting in args.conf:
        key, _, value = setting.partition("=")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    # Each run starts with nothing waiting to be written back (the page cache stays warm):
    # the files one run leaves would otherwise slow the next one down.
    os.sync()
    load0 = os.getloadavg()
    start = time.perf_counter()
    stats: dict = {}
    lines = args.input.endswith(".jsonl") and not args.dataframe and not args.embedding_column
    stats_arg = None if args.total_only else stats
    shape_rows = os.path.getsize(args.input) // 200 if args.shape_from_size else None
    if lines:
        kept, removed = sd.dedup_lines(
            sd.read_lines(spark, args.input), args.columns.split(","), args.threshold, args.id_column,
            shape_rows=shape_rows, partitions=args.partitions, stats=stats_arg,
        )
        save, ext = sd.write_lines, ".jsonl"
    else:
        kept, removed = sd.dedup(
            sd.read(spark, args.input), (args.columns or "").split(",") if args.columns else None, args.threshold,
            args.id_column, embedding_column=args.embedding_column, split=True, shape_rows=shape_rows,
            partitions=args.partitions, stats=stats_arg,
        )
        save, ext = sd.write, ".parquet"
    t = time.perf_counter()
    save(kept, os.path.join(out, "kept" + ext))
    save(removed, os.path.join(out, "removed" + ext))
    stats["8 write kept and removed"] = (time.perf_counter() - t, None, None)
    total = time.perf_counter() - start
    load1 = os.getloadavg()
    removed_dir = os.path.join(out, "removed" + ext)
    n_removed = (spark.read.text if lines else spark.read.parquet)(removed_dir).count()
    n = next(iter(stats.values()))[1] if len(stats) > 1 else None
    print("| stage | time | records out | bytes out per row |\n|---|---:|---:|---:|")
    for name, (secs, rows, *size) in stats.items():
        per_row = f"{size[0] / n:,.0f}" if n and size and size[0] is not None else ""
        print(f"| {name} | {secs:.1f} s | {rows if rows is not None else ''} | {per_row} |")
    print(f"| total (Spark, {args.master}) | {total:.1f} s | {n_removed} removed | |")
    print(f"load average before {load0[0]:.1f}, after {load1[0]:.1f}")
    if args.cli:
        os.sync()
        t = time.perf_counter()
        ext = ".jsonl" if args.input.endswith(".jsonl") else os.path.splitext(args.input)[1]
        cmd = [args.cli, "dedup", args.input, "--columns", args.columns or args.id_column, "--threshold",
               str(args.threshold), "-o", os.path.join(out, "cli_kept" + ext), "--removed",
               os.path.join(out, "cli_removed" + ext)]
        if args.embedding_column:
            cmd += ["--embedding-column", args.embedding_column]
        if args.id_column:
            cmd += ["--id-column", args.id_column]
        subprocess.run(cmd, check=True, capture_output=True)
        secs = time.perf_counter() - t
        if ext == ".parquet":
            import pyarrow.parquet as pq

            local_removed = pq.read_table(os.path.join(out, "cli_removed" + ext))
            cli_removed = local_removed.num_rows
        else:
            with open(os.path.join(out, "cli_removed" + ext)) as f:
                cli_removed = sum(1 for _ in f)
        print(f"| single machine (`simdedup dedup`, 2 threads) | {secs:.1f} s | {cli_removed} removed | |")
        print(f"Spark / single machine: {total / secs:.2f}x")
        if lines:
            same = all(
                _concat(os.path.join(out, name + ".jsonl")) == open(os.path.join(out, "cli_" + name + ".jsonl"), "rb").read()
                for name in ("kept", "removed")
            )
            print(f"kept and removed files byte for byte the local run's: {'yes' if same else 'NO'}")
        elif args.id_column and ext == ".parquet":
            import pyarrow.dataset as ds

            wanted = [args.id_column, "duplicate_of", "score"]
            remote = ds.dataset(os.path.join(out, "removed.parquet")).to_table(columns=wanted).to_pylist()
            local = local_removed.select(wanted).to_pylist()
            print(f"same removed rows, duplicate_of and scores as the local run: {'yes' if local == remote else 'NO'}")
        elif args.id_column and ext == ".jsonl":
            import json

            with open(os.path.join(out, "cli_removed" + ext)) as f:
                local = sorted((str(r[args.id_column]), str(r["duplicate_of"]), r["score"]) for r in map(json.loads, f))
            got = spark.read.parquet(os.path.join(out, "removed.parquet")).select(args.id_column, "duplicate_of", "score")
            # The command line writes scores with 4 decimals.
            remote = sorted((str(r[0]), str(r[1]), f"{r[2]:.4f}") for r in got.collect())
            local = [(a, b, f"{c:.4f}") for a, b, c in local]
            print(f"same removed rows and duplicate_of as the local run: {'yes' if local == remote else 'NO'}")
        print(f"load average after {os.getloadavg()[0]:.1f}")
    spark.stop()
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
