"""Writes testdata/models/reference.jsonl: the vectors Python's model2vec gives the vendored
model (python/simdedup/models/potion-base-4m-int8) for about fifty varied texts, one JSON object
a line: {"text": ..., "ids": [token ids averaged], "vector": [float32 values]}.
src/vectors/embed/tests.rs checks simdedup's vectors against it within 1e-5.

    pip install model2vec==0.10.0
    python3 scripts/model_reference.py
"""

import json
import sys
from pathlib import Path

import model2vec
from model2vec import StaticModel

sys.path.insert(0, str(Path(__file__).parent))
from model_texts import reference_set  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "python" / "simdedup" / "models" / "potion-base-4m-int8"
OUT = ROOT / "testdata" / "models" / "reference.jsonl"


def main():
    model = StaticModel.from_pretrained(str(MODEL))
    texts = reference_set()
    vectors = model.encode(texts)
    # The ids model2vec averages: cut to max_length * median token length characters,
    # tokenized, limited to max_length tokens, unknown ids dropped.
    cut = [t[: model.max_length * model.median_token_length] for t in texts]
    model.tokenizer.enable_truncation(model.max_length)
    ids = model.tokenize(cut)
    with open(OUT, "w", encoding="utf-8") as f:
        for text, tok, vec in zip(texts, ids, vectors):
            row = {"text": text, "ids": tok, "vector": [float(v) for v in vec]}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{OUT}: {len(texts)} texts, model2vec {model2vec.__version__}")


if __name__ == "__main__":
    main()
