"""Texts per second of embedding: Python's model2vec against simdedup, same texts, same
machine. The texts are N sentences of licence prose (scripts/model_texts.py), each with a
number appended so that no two are equal, one per line. Both sides run on every core:
model2vec's `encode` (threads above 10,000 texts, its default) and simdedup's
`StaticModel::encode` (rayon), timed best of three after loading; then `simdedup embed` end
to end (reading one file per text, writing the .npy) on the first N_FILES of them. With
--one-thread both libraries run on one thread (TOKENIZERS_PARALLELISM=false and no
model2vec threads; RAYON_NUM_THREADS=1), a figure that depends less on other load.

    pip install model2vec==0.10.0
    cargo build --release --example embed_bench --bin simdedup
    python3 scripts/embed_speed.py [-n 100000] [--files 20000] [--target target] [--one-thread]
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from model2vec import StaticModel

sys.path.insert(0, str(Path(__file__).parent))
from model_texts import sentences  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--target", default=str(ROOT / "target"))
    ap.add_argument("--model", default=str(ROOT / "python" / "simdedup" / "models" / "potion-base-4m-int8"))
    ap.add_argument("--one-thread", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ)
    if args.one_thread:
        # Read by the tokenizers library when it first parallelises, so set before encoding.
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
        env["RAYON_NUM_THREADS"] = "1"

    rng = random.Random(7)
    prose = sentences()
    texts = [f"{rng.choice(prose)} {i}" for i in range(args.n)]
    print(f"load: {os.getloadavg()[0]:.2f} (1-minute average), {os.cpu_count()} cores")
    model = StaticModel.from_pretrained(args.model)
    threads = not args.one_thread
    best = min(timed(lambda: model.encode(texts, use_multiprocessing=threads)) for _ in range(3))
    print(f"model2vec (Python): {args.n} texts in {best:.3f} s: {args.n / best:.0f} texts/s")

    release = Path(args.target) / "release"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "texts.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
        out = subprocess.run(
            [str(release / "examples" / "embed_bench"), args.model, str(tmp / "texts.txt")],
            check=True, capture_output=True, text=True, env=env,
        ).stdout.strip()
        print(f"simdedup (library): {out}")
        (tmp / "files").mkdir()
        for i, t in enumerate(texts[: args.files]):
            (tmp / "files" / f"{i:06d}.txt").write_text(t, encoding="utf-8")
        cmd = [str(release / "simdedup"), "embed", "-q", "--model", args.model, "files",
               "-o", "e.npy"]
        secs = min(timed(lambda: subprocess.run(cmd, cwd=tmp, check=True, env=env)) for _ in range(3))
        n = args.files
        print(f"simdedup embed (CLI, one file per text): {n} files in {secs:.3f} s: "
              f"{n / secs:.0f} texts/s")
    print(f"load: {os.getloadavg()[0]:.2f} (1-minute average) at the end")


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
