#!/usr/bin/env python3
"""Writes the committed seed corpus of the fuzz targets, fuzz/corpus/<target>/: the small
files of testdata/ and hand-made edge cases, each with the settings byte(s) that
fuzz/src/checks.rs reads in front. Run from anywhere; it replaces the seed-* files only
(inputs the fuzzers found and were kept by hand stay)."""

import gzip
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT / "testdata"
CORPUS = ROOT / "fuzz" / "corpus"


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data)


def shingle_config(kind="word", n=3, nfkc=True, lower=True, strip=True, collapse=True,
                   compat=False, weighting=0, width=2):
    """The three settings bytes of the `shingle` target (see checks::text_config)."""
    a = ((n - 1) << 1) | (1 if kind == "char" else 0)
    b = nfkc | lower << 1 | strip << 2 | collapse << 3 | compat << 4 | weighting << 5
    return bytes([a, b, width])


def npy(descr, shape, data, version=1, fortran="False"):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)
    pre = 12 if version > 1 else 10
    header += " " * ((-(pre + len(header) + 1)) % 64) + "\n"
    size = struct.pack("<I" if version > 1 else "<H", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header.encode() + data


def main():
    prose = (TESTDATA / "example" / "notes" / "river.txt").read_bytes()
    seven = (TESTDATA / "seed" / "test" / "1.txt").read_bytes()
    shingles = {
        "default-prose": shingle_config() + prose,
        "dedup-py": shingle_config("char", 2, False, False, False, False, True, 0, 0) + seven,
        "char5-64": shingle_config("char", 5, width=1) + prose[:300],
        "word1-log": shingle_config("word", 1, weighting=1) + prose[:200],
        "word8-set": shingle_config("word", 8, weighting=2) + prose[:400],
        "unicode": shingle_config("char", 3)
        + "ﬁne ＡＢ cafe\u0301 İstanbul ß ŉ 東京\u3000x\u00a0y\u2003z\u0085 ﷺ".encode(),
        "raw-unicode": shingle_config("word", 2, False, False, False, False)
        + "  İ\tΣΑΣ \r\n\r ǅ \u1e9e ".encode(),
        "fields": shingle_config("word", 2) + b"one two three\x1efour five\x1e\x1esix",
        "crlf-compat": shingle_config("char", 2, False, False, False, False, True)
        + b"a\r\nb\rc\n\r",
        "empty": shingle_config(),
        "invalid-utf8": shingle_config("char", 1) + b"caf\xe9 \xff\xfe \xc3",
        "punctuation": shingle_config("word", 2, lower=False) + b"don't-stop, (now)! ..."
        + "«quoted» — dash".encode(),
    }
    for name, data in shingles.items():
        put("shingle", name, data)

    fps = {
        "32": b"\x00#bits=32\na\\tb\t09d1cbe2\nc\t00000007\n",
        "64": b"\x01#bits=64\nx\t0123456789abcdef\n#bits=64\ny\tffffffffffffffff\n",
        "128": b"\x02#bits=128\r\nid with\ttab\t" + b"0" * 31 + b"1\r\n",
        "256": b"\x03#bits=256\nw\t" + b"f" * 64 + b"\n",
        "bad-lines": b"\x00#bits=32\nd\t0000000g\ne\t123\n\nno tab\nf\t00000001\n#bits=64\ng\t0\n",
        "no-header": b"\x01a\t0000000000000000\n",
        "header-only": b"\x02#bits=128",
        "bad-header": b"\x00#bits=\n#bits=99999999999\n",
        "non-utf8": b"\x00#bits=32\n\xff\t00000000\n",
        "upper-hex": b"\x00#bits=32\na\tDEADBEEF\nb\t+0000001\n",
    }
    for name, data in fps.items():
        put("fpfile", name, data)

    for f in ["planted.npy", "planted-f16.npy", "reference.npy", "fortran.npy", "int32.npy",
              "one-d.npy"]:
        put("npy", f.removesuffix(".npy"), (TESTDATA / "vectors" / f).read_bytes())
    put("npy", "truncated", (TESTDATA / "vectors" / "planted.npy").read_bytes()[:300])
    put("npy", "big-endian-f8", npy(">f8", "(2, 2)", struct.pack(">4d", 1, 2, 3, 4)))
    put("npy", "v2-f4", npy("<f4", "(1, 3)", struct.pack("<3f", 1, 0, -1), version=2))
    put("npy", "v3-f2", npy("=f2", "(2L, 1L)", b"\x00\x3c\x00\x7c", version=3))
    put("npy", "empty-rows", npy("<f4", "(0, 8)", b""))
    put("npy", "zero-dim", npy("<f4", "(3, 0)", b""))
    put("npy", "nan-inf", npy("<f4", "(2, 1)", struct.pack("<2f", float("nan"), float("inf"))))
    put("npy", "header-past-end", b"\x93NUMPY\x01\x00\xff\xff{'descr'")
    put("npy", "magic-only", b"\x93NUMPY\x02\x00")

    jsonl = (TESTDATA / "records" / "questions.jsonl").read_bytes()
    gz = (TESTDATA / "records" / "questions.jsonl.gz").read_bytes()
    malformed = (TESTDATA / "records" / "malformed.jsonl").read_bytes()
    # Flags byte (checks::records): 1 skip bad rows, 2 id, 4 embedding, 8 second column,
    # 16 the compressed or tab-separated variant.
    put("records_jsonl", "questions", b"\x0e" + jsonl)
    put("records_jsonl", "questions-gz", b"\x1a" + gz)
    put("records_jsonl", "malformed-skip", b"\x0b" + malformed)
    put("records_jsonl", "malformed", b"\x00" + malformed)
    put("records_jsonl", "edge-cases", b"\x0f" + b'{"question": "a\\u001eb c d", "context": "", '
        b'"id": null, "emb": [1e308, -0.0]}\r\n\n  \n{"question": "\xff\xfe", "context": "x", '
        b'"id": {"k": [1]}, "emb": [1, 2]}\n{"question": "no newline", "context": "y", '
        b'"id": 3, "emb": [0, 0]}')
    put("records_jsonl", "multi-member-gz", b"\x10" + gzip.compress(jsonl[:300], mtime=0)
        + gzip.compress(b'{"question": "second member"}\n', mtime=0))
    put("records_jsonl", "truncated-gz", b"\x11" + gz[: len(gz) // 2])

    csv = (TESTDATA / "records" / "questions.csv").read_bytes()
    tsv = (TESTDATA / "records" / "questions.tsv").read_bytes()
    put("records_csv", "questions", b"\x0e" + csv)
    put("records_csv", "questions-tsv", b"\x1e" + tsv)
    put("records_csv", "edge-cases", b"\x0b" + b'id,question,context\r\n1,"a ""quoted""\r\nline",x\r\n'
        b'\r\n2,short\n3,"unterminated,y\n')
    put("records_csv", "header-only", b"\x00question,context")
    put("records_csv", "bom-and-blank", b"\x09" + "\ufeffquestion,context\n\n\na b c,d e f\n".encode())
    put("records_csv", "cr-only", b"\x0c" + b"question,context,emb\ra b c,x,\"[1,2]\"\rd e f,y,[3]\r")

    for f in ["questions.parquet", "questions-zstd.parquet"]:
        data = (TESTDATA / "records" / f).read_bytes()
        put("records_parquet", f.removesuffix(".parquet"), b"\x0e" + data)
    data = (TESTDATA / "records" / "questions.parquet").read_bytes()
    put("records_parquet", "truncated", b"\x00" + data[: len(data) // 2] + data[-8:])
    put("records_parquet", "magic-only", b"\x00PAR1PAR1")


if __name__ == "__main__":
    main()
