"""simdedup's embeddings against Python's model2vec on at least 1,000 varied texts.

Each text (scripts/model_texts.py: licence prose, Unicode, empty, very long, unknown words,
plus three files of invalid UTF-8) is written to a file, embedded by `simdedup embed`, and
compared with `StaticModel.from_pretrained(DIR).encode` on the same texts (invalid UTF-8
decoded with errors="replace", the behaviour simdedup documents). Prints the largest
absolute difference and exits 1 when it is above 1e-5 (or a row is missing).

    pip install model2vec==0.10.0
    cargo build --release
    python3 scripts/model_parity.py [--bin target/release/simdedup] [--model DIR] [-n 1000]
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from model2vec import StaticModel

sys.path.insert(0, str(Path(__file__).parent))
from model_texts import varied  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-5

INVALID_UTF8 = [
    b"caf\xe9 au lait",
    b"\xff\xfe\xfd truncated \xe2\x82 sequence \xf0\x9f\x98",
    b"overlong \xc0\xaf and surrogate \xed\xa0\x80 encodings",
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "simdedup"))
    ap.add_argument("--model", default=str(ROOT / "testdata" / "models" / "potion-base-4m-int8"))
    ap.add_argument("-n", type=int, default=1000, help="texts besides the invalid UTF-8 ones")
    args = ap.parse_args()

    texts = varied(args.n)
    raw = [t.encode("utf-8") for t in texts] + INVALID_UTF8
    decoded = texts + [b.decode("utf-8", errors="replace") for b in INVALID_UTF8]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "texts").mkdir()
        for i, data in enumerate(raw):
            (tmp / "texts" / f"{i:06d}.txt").write_bytes(data)
        subprocess.run(
            [args.bin, "embed", "-q", "--model", args.model, "texts",
             "-o", "emb.npy", "--ids", "ids.txt"],
            cwd=tmp, check=True,
        )
        got = np.load(tmp / "emb.npy")
        order = [int(Path(line).stem) for line in (tmp / "ids.txt").read_text().splitlines()]

    if sorted(order) != list(range(len(raw))):
        print(f"simdedup wrote {len(order)} rows for {len(raw)} texts")
        return 1
    want = StaticModel.from_pretrained(args.model).encode(decoded)
    diff = np.abs(got - want[order])
    worst = float(diff.max()) if diff.size else 0.0
    row = order[int(diff.max(axis=1).argmax())] if diff.size else 0
    lengths = [len(t) for t in decoded]
    print(
        f"{len(raw)} texts ({sum(1 for t in decoded if not t.strip())} empty or blank, "
        f"longest {max(lengths)} characters), {got.shape[1]} dimensions: "
        f"max abs difference {worst:.3g} (text {row}: {decoded[row][:60]!r})"
    )
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
