#!/usr/bin/env python3
"""Per Spark stage: start, wall time, tasks, task time, shuffle bytes written and read, input
bytes, from the event log of a run (``SPARK_EVENT_LOG=DIR python3 scripts/spark_bench.py
...``, or any job run with ``spark.eventLog.enabled``). With ``--rows N`` the shuffle bytes
written are also given per row.

    SPARK_EVENT_LOG=/tmp/ev python3 scripts/spark_bench.py data.jsonl --columns text --total-only
    python3 scripts/spark_stages.py /tmp/ev --rows 1000000

Reads the newest log under DIR (zstd logs through the ``zstd`` command).
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import subprocess


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("dir", help="spark.eventLog.dir of the run")
    p.add_argument("--rows", type=int, help="input rows: shuffle bytes written per row")
    args = p.parse_args()
    logs = glob.glob(os.path.join(args.dir, "**", "events_*"), recursive=True) + glob.glob(os.path.join(args.dir, "*"))
    logs = [f for f in logs if os.path.isfile(f)]
    if not logs:
        raise SystemExit(f"spark_stages: no event log under {args.dir}")
    path = max(logs, key=os.path.getmtime)
    if path.endswith(".zstd"):
        raw = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
    else:
        with open(path, "rb") as f:
            raw = f.read()
    stages, tasks = {}, collections.defaultdict(lambda: [0, 0, 0, 0])
    for line in raw.decode().splitlines():
        e = json.loads(line)
        if e["Event"] == "SparkListenerStageCompleted":
            s = e["Stage Info"]
            stages[(s["Stage ID"], s.get("Stage Attempt ID", 0))] = (s["Submission Time"], s["Completion Time"], s["Number of Tasks"])
        elif e["Event"] == "SparkListenerTaskEnd":
            m = e.get("Task Metrics") or {}
            t = tasks[(e["Stage ID"], e.get("Stage Attempt ID", 0))]
            read = m.get("Shuffle Read Metrics", {})
            t[0] += m.get("Executor Run Time", 0)
            t[1] += m.get("Shuffle Write Metrics", {}).get("Shuffle Bytes Written", 0)
            t[2] += read.get("Remote Bytes Read", 0) + read.get("Local Bytes Read", 0)
            t[3] += m.get("Input Metrics", {}).get("Bytes Read", 0)
    t0 = min(s[0] for s in stages.values())
    per_row = " | written per row" if args.rows else ""
    print(f"| stage | start | wall | tasks | task time | shuffle written | shuffle read | input{per_row} |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if args.rows else ""))
    for key in sorted(stages, key=lambda k: stages[k][0]):
        a, b, n = stages[key]
        run, written, read, given = tasks[key]
        row = f" | {written / args.rows:,.0f} B" if args.rows else ""
        print(f"| {key[0]} | {(a - t0) / 1000:.1f} s | {(b - a) / 1000:.1f} s | {n} | {run / 1000:.1f} s | "
              f"{written / 1e6:,.1f} MB | {read / 1e6:,.1f} MB | {given / 1e6:,.1f} MB{row} |")


if __name__ == "__main__":
    main()
