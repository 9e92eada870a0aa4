#!/usr/bin/env python3
"""Writes the small dataset files of testdata/records/ (see testdata/README).

The same eight rows in every format: id, question, context, emb (a 3-vector) and n (an
integer). Expected with --columns question,context at Jaccard 0.5, keeping the first:
q1 is an exact duplicate of q0 (case and punctuation differ), q3 a near duplicate of q2
(one word added to the context), q7 a near duplicate of q0; q4 shares q0's context but
asks another question, and q6 shares q5's context with a one-word question: both kept.

Run from the repository root: python3 scripts/make_records_testdata.py
(needs pyarrow for the Parquet files).
"""
import gzip
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

OUT = "testdata/records"
C0 = ("The river flooded the northern valley in the spring of 1910 after weeks of heavy "
      "rain and melting snow.")
C2 = "The copper bridge was designed by a local engineer who later built the railway station."
C5 = ("A silver letter arrived at the house\nin the middle of winter, sealed with green wax, "
      "and \"urgent\" written on it.")
ROWS = [
    ("q0", "When did the river flood the northern valley?", C0),
    ("q1", "WHEN did the river flood the northern valley ?!", C0),
    ("q2", "Who designed the copper bridge?", C2),
    ("q3", "Who designed the copper bridge?", C2.replace("the railway", "the old railway")),
    ("q4", "What happened to the northern valley in 1910?", C0),
    ("q5", "Which silver letter arrived in winter?", C5),
    ("q6", "Why?", C5),
    ("q7", "When did the river flood the northern valley?",
     C0.replace("snow.", "snow on the hills.")),
]


def emb(i):
    return [round(0.1 * i, 1), 1.0, -0.5]


def jsonl_lines():
    return [json.dumps({"id": r, "question": q, "context": c, "emb": emb(i), "n": i},
                       ensure_ascii=False) + "\n"
            for i, (r, q, c) in enumerate(ROWS)]


def quote(field, delim):
    if any(ch in field for ch in (delim, '"', "\n", "\r")):
        return '"' + field.replace('"', '""') + '"'
    return field


def delimited(delim, ending):
    out = [delim.join(["id", "question", "context", "emb", "n"]).encode() + ending]
    for i, (r, q, c) in enumerate(ROWS):
        fields = [r, q, c, json.dumps(emb(i)), str(i)]
        line = delim.join(quote(f, delim) for f in fields).encode("utf-8")
        if r == "q5":
            # A byte that is not UTF-8 (normalisation turns its U+FFFD into a space).
            line = line.replace(b"winter?", b"winter\xff?")
        out.append(line + ending)
    return b"".join(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = jsonl_lines()
    with open(f"{OUT}/questions.jsonl", "w", encoding="utf-8") as f:
        f.writelines(lines)
    with open(f"{OUT}/questions.jsonl.gz", "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
            f.write("".join(lines).encode())
    with open(f"{OUT}/questions.csv", "wb") as f:
        f.write(delimited(",", b"\r\n"))
    with open(f"{OUT}/questions.tsv", "wb") as f:
        f.write(delimited("\t", b"\n"))
    malformed = [
        lines[0],
        "\n",
        '{"id": "b", "question": "broken", \n',
        '{"id": "c", "question": "caf\xe9 au lait for everyone", "context": "x y z"}\n',
        '{"id": "d", "question": "no context here"}\n',
        '{"id": "e", "question": "a number", "context": 42}\n',
        lines[1],
    ]
    with open(f"{OUT}/malformed.jsonl", "wb") as f:
        for line in malformed:
            f.write(line.encode("utf-8").replace("café".encode(), b"caf\xe9"))
    table = pa.table({
        "id": [r for r, _, _ in ROWS],
        "question": [q for _, q, _ in ROWS],
        "context": [c for _, _, c in ROWS],
        "emb": pa.array([emb(i) for i in range(len(ROWS))], type=pa.list_(pa.float32())),
        "n": pa.array(range(len(ROWS)), type=pa.int64()),
    })
    pq.write_table(table, f"{OUT}/questions.parquet", compression="snappy")
    pq.write_table(table, f"{OUT}/questions-zstd.parquet", compression="zstd", row_group_size=3)


if __name__ == "__main__":
    main()
