"""simdedup's embeddings against Python's model2vec on at least 1,000 varied texts, for
each layout and dtype simdedup reads.

Each text (scripts/model_texts.py: licence prose, Unicode, empty, very long, unknown words,
plus three files of invalid UTF-8) is written to a file, embedded by `simdedup embed`, and
compared with `StaticModel.from_pretrained(DIR).encode` on the same texts (invalid UTF-8
decoded with errors="replace", the behaviour simdedup documents). The model is the one
given (int8 for the vendored one) and variants of it written here with model2vec:
float32, float16, a vocabulary-quantised one (`mapping` and `weights` tensors; clusters
made by token id here, as the check is of inference, not of clustering) and the
sentence-transformers layout (0_StaticEmbedding/, `embedding.weight`, not normalised).
Prints the largest absolute difference of each and exits 1 when one is above 1e-5 (a
float16 model's vectors are float16, so there the bar is one float16 step of the value) or
a row is missing.

    pip install model2vec==0.10.0
    cargo build --release
    python3 scripts/model_parity.py [--bin target/release/simdedup] [--model DIR] [-n 1000]
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from model2vec import StaticModel
from safetensors.numpy import save_file

sys.path.insert(0, str(Path(__file__).parent))
from model_texts import varied  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-5

INVALID_UTF8 = [
    b"caf\xe9 au lait",
    b"\xff\xfe\xfd truncated \xe2\x82 sequence \xf0\x9f\x98",
    b"overlong \xc0\xaf and surrogate \xed\xa0\x80 encodings",
]


def variants(model_dir, tmp):
    """(name, directory) of the model and of the variants described above."""
    out = [("as given", model_dir)]
    base = StaticModel.from_pretrained(model_dir)
    for dtype in ["float32", "float16"]:
        path = tmp / dtype
        StaticModel.from_pretrained(model_dir, quantize_to=dtype).save_pretrained(path)
        out.append((dtype, path))
    emb = base.embedding.astype(np.float32)
    ids = np.arange(len(emb))
    mapping = (ids * 7919) % 1024  # 1,024 rows shared by all tokens
    rows = np.stack([emb[mapping == c].mean(axis=0) for c in range(1024)])
    weights = (1.0 + (ids % 13) / 4.0).astype(np.float32)
    quantised = StaticModel(
        vectors=rows.astype(np.float32), tokenizer=base.tokenizer, config=dict(base.config),
        normalize=base.normalize, weights=weights, token_mapping=mapping.astype(np.int64),
    )
    quantised.save_pretrained(tmp / "quantised")
    out.append(("vocabulary-quantised", tmp / "quantised"))
    st = tmp / "sentence-transformers"
    (st / "0_StaticEmbedding").mkdir(parents=True)
    (st / "config_sentence_transformers.json").write_text(json.dumps({}))
    save_file({"embedding.weight": emb}, st / "0_StaticEmbedding" / "model.safetensors")
    shutil.copy(Path(model_dir) / "tokenizer.json", st / "0_StaticEmbedding" / "tokenizer.json")
    out.append(("sentence-transformers", st))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "simdedup"))
    ap.add_argument("--model", default=str(ROOT / "python" / "simdedup" / "models" / "potion-base-4m-int8"))
    ap.add_argument("-n", type=int, default=1000, help="texts besides the invalid UTF-8 ones")
    args = ap.parse_args()
    # The binary runs in a temporary directory: a relative path is resolved from here.
    args.bin = str(Path(args.bin).resolve())

    texts = varied(args.n)
    raw = [t.encode("utf-8") for t in texts] + INVALID_UTF8
    decoded = texts + [b.decode("utf-8", errors="replace") for b in INVALID_UTF8]
    lengths = [len(t) for t in decoded]
    print(
        f"{len(raw)} texts ({sum(1 for t in decoded if not t.strip())} empty or blank, "
        f"longest {max(lengths)} characters)"
    )
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "texts").mkdir()
        for i, data in enumerate(raw):
            (tmp / "texts" / f"{i:06d}.txt").write_bytes(data)
        for name, model_dir in variants(args.model, tmp):
            subprocess.run(
                [args.bin, "embed", "-q", "--model", str(model_dir), "texts",
                 "-o", "emb.npy", "--ids", "ids.txt"],
                cwd=tmp, check=True,
            )
            got = np.load(tmp / "emb.npy")
            order = [int(Path(line).stem) for line in (tmp / "ids.txt").read_text().splitlines()]
            if sorted(order) != list(range(len(raw))):
                print(f"{name}: simdedup wrote {len(order)} rows for {len(raw)} texts")
                failed = True
                continue
            model = StaticModel.from_pretrained(str(model_dir))
            want = model.encode(decoded)[order].astype(np.float32)
            diff = np.abs(got - want)
            if want.dtype == np.float16 or model.embedding.dtype == np.float16:
                bar = np.maximum(np.spacing(np.abs(want).astype(np.float16)).astype(np.float32), 1e-5)
            else:
                bar = np.full_like(want, TOLERANCE)
            over = int((diff > bar).sum())
            worst = float(diff.max())
            row = order[int(diff.max(axis=1).argmax())]
            print(
                f"{name} ({model.embedding.dtype}, {got.shape[1]} dimensions, normalize="
                f"{model.normalize}): max abs difference {worst:.3g} "
                f"(text {row}: {decoded[row][:40]!r}); {over} values over the bar"
            )
            failed |= over > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
