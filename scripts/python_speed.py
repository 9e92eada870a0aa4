#!/usr/bin/env python3
"""Speed of the Python package against its peers, from Python, on the same in-memory data.

    pip install . semhash rensa datasketch
    python3 scripts/python_speed.py vectors [--rows 100000] [--dim 256]
    python3 scripts/python_speed.py vectors --npy p62k.npy       # real vectors (prose_vectors.py)
    python3 scripts/python_speed.py texts --corpus eval/work/c100k
    python3 scripts/python_speed.py model [--rows 100000]

vectors: SemHash.from_embeddings(...).self_deduplicate(0.9) with its default backend
(USearch) against SimDedup.from_embeddings(...).self_deduplicate(0.9), on the anisotropic
clustered vectors of scripts/compare_semhash.py; reports both times, their ratio and the
agreement of the removed sets (|A xor B| / |A u B|). With --npy, the rows of that file
instead (scripts/prose_vectors.py: real sentences embedded by the bundled model). Each
tool's time is the whole worker process, Python's start and the imports included; the
in-process time from the vectors to the removed records is given beside it.

texts: the corpus of eval/make_corpus.py read into memory once (not timed), then each tool
from texts to verified pairs at Jaccard 0.5: SimDedup (exact Jaccard of MinHash band
candidates), rensa and datasketch as eval/run_eval.py configures them (MinHash LSH, pairs
kept by estimated Jaccard). F1 is against the corpus's truth.tsv (exact Jaccard >= 0.5).
Each tool runs in a fresh process; times are wall seconds from the in-memory texts.

model: SemHash's headline job, end to end from texts: SemHash.from_records(texts,
model=model2vec.StaticModel.from_pretrained(DIR)).self_deduplicate(0.9) against
SimDedup.from_records(texts, model=DIR).self_deduplicate(0.9) (simdedup's own model reader),
on licence sentences from /usr/share/common-licenses, each with a number appended
(scripts/embed_speed.py's texts), and the vendored potion-base-4m-int8.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class Unused:
    def encode(self, inputs, **kwargs):
        raise AssertionError("not called")


def vectors_worker(tool, rows, dim, threshold, npy=None):
    if npy:
        import numpy as np

        v = np.load(npy)
    else:
        sys.path.insert(0, HERE)
        from compare_semhash import make_vectors

        v = make_vectors(rows, dim)
    records = [str(i) for i in range(len(v))]
    start = time.perf_counter()
    if tool == "simdedup":
        from simdedup import SimDedup

        removed = [d.record for d in SimDedup.from_embeddings(v, records).self_deduplicate(threshold).filtered]
    else:
        from semhash import SemHash

        removed = [d.record for d in SemHash.from_embeddings(v, records, model=Unused()).self_deduplicate(threshold).filtered]
    return time.perf_counter() - start, removed


def texts_worker(tool, corpus, bar):
    sys.path.insert(0, os.path.join(ROOT, "eval"))
    from run_eval import BANDS, ROWS, read_all

    paths, texts = read_all(os.path.join(corpus, "corpus"))
    start = time.perf_counter()
    pairs = set()
    if tool == "simdedup":
        from simdedup import _core

        out = _core.dedup_texts(texts, bar)
        pairs = set(zip(out["pair_a"].tolist(), out["pair_b"].tolist()))
    elif tool == "rensa":
        from rensa import RMinHash, RMinHashLSH
        from shingles import shingles

        P = BANDS * ROWS
        mhs = RMinHash.from_token_sets([list(shingles(t)) for t in texts], P, 42)
        lsh = RMinHashLSH(bar, P, BANDS)
        lsh.insert_many(mhs, 0)
        for i, cands in enumerate(lsh.query_all(mhs)):
            for j in cands:
                if j != i and (min(i, j), max(i, j)) not in pairs and mhs[i].jaccard(mhs[j]) >= bar:
                    pairs.add((min(i, j), max(i, j)))
    elif tool == "datasketch":
        from datasketch import MinHash, MinHashLSH
        from shingles import shingles

        lsh = MinHashLSH(threshold=bar, num_perm=128)
        mhs = []
        for i, t in enumerate(texts):
            m = MinHash(num_perm=128)
            m.update_batch([s.encode("utf-8") for s in shingles(t)])
            mhs.append(m)
            lsh.insert(i, m)
        for i, m in enumerate(mhs):
            for j in lsh.query(m):
                if j != i and (min(i, j), max(i, j)) not in pairs and m.jaccard(mhs[j]) >= bar:
                    pairs.add((min(i, j), max(i, j)))
    seconds = time.perf_counter() - start
    named = [(paths[a], paths[b]) if paths[a] < paths[b] else (paths[b], paths[a]) for a, b in pairs]
    return seconds, named


def model_worker(tool, rows, threshold, model_dir):
    sys.path.insert(0, HERE)
    from model_texts import clustered

    texts = clustered(rows)
    start = time.perf_counter()
    if tool == "simdedup":
        from simdedup import SimDedup

        result = SimDedup.from_records(texts, model=model_dir).self_deduplicate(threshold)
    else:
        from model2vec import StaticModel
        from semhash import SemHash

        model = StaticModel.from_pretrained(model_dir)
        result = SemHash.from_records(texts, model=model).self_deduplicate(threshold)
    removed = [d.record for d in result.filtered]
    return time.perf_counter() - start, removed


REPEAT = 1
WHOLE = False  # time the worker process whole (vectors --npy)


def run(args_list):
    """Runs this script as a worker in a fresh process, REPEAT times (alternating tools is
    left to the caller); returns the answer of the run with the median time, with every
    time under "times"."""
    answers = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--worker", *args_list], capture_output=True, text=True)
        whole = time.perf_counter() - start
        if out.returncode != 0:
            raise SystemExit(out.stderr)
        answers.append(json.loads(out.stdout.strip().splitlines()[-1]))
        answers[-1]["process"] = whole
    key = "process" if WHOLE else "seconds"
    answers.sort(key=lambda a: a[key])
    median = answers[len(answers) // 2]
    median["times"] = [a[key] for a in answers]
    median["seconds"] = median[key]
    return median


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["vectors", "texts", "model"])
    ap.add_argument("--model", default=os.path.join(ROOT, "python", "simdedup", "models", "potion-base-4m-int8"))
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--npy", help="vectors: the rows of this .npy file, timed as whole processes")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "eval", "work", "c100k"))
    ap.add_argument("--tools", default=None)
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the median is reported")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tool", help=argparse.SUPPRESS)
    a = ap.parse_args()
    global REPEAT, WHOLE
    REPEAT = max(1, a.repeat)
    WHOLE = bool(a.npy)
    if a.worker:
        if a.what == "vectors":
            s, removed = vectors_worker(a.tool, a.rows, a.dim, a.threshold, a.npy)
            print(json.dumps({"seconds": s, "removed": removed}))
        elif a.what == "model":
            s, removed = model_worker(a.tool, a.rows, a.threshold, a.model)
            print(json.dumps({"seconds": s, "removed": removed}))
        else:
            s, pairs = texts_worker(a.tool, a.corpus, a.threshold)
            print(json.dumps({"seconds": s, "pairs": pairs}))
        return
    if a.what in ("vectors", "model"):
        t = a.threshold or 0.9
        tools = (a.tools or "simdedup,semhash").split(",")
        extra = ["--dim", str(a.dim)] if a.what == "vectors" else ["--model", a.model]
        if a.npy:
            extra += ["--npy", a.npy]
        res = {tool: run([a.what, "--tool", tool, "--rows", str(a.rows), "--threshold", str(t), *extra]) for tool in tools}
        what = f"{a.rows} x {a.dim} vectors" if a.what == "vectors" else f"{a.rows} texts embedded by {a.model}"
        if a.npy:
            what = f"{a.npy} (whole processes, Python's start and imports included)"
        print(f"{what}, cosine {t}, load {os.getloadavg()[0]:.2f}")
        for tool, r in res.items():
            times = ", ".join(f"{t:.2f}" for t in r["times"])
            print(f"  {tool:10} {r['seconds']:8.2f} s (median of {times})  {len(r['removed'])} removed")
        if "semhash" in res and "simdedup" in res:
            ours, theirs = set(res["simdedup"]["removed"]), set(res["semhash"]["removed"])
            union = ours | theirs
            print(f"  simdedup is {res['semhash']['seconds'] / res['simdedup']['seconds']:.1f}x faster; "
                  f"removed sets differ in {len(ours ^ theirs) / max(1, len(union)):.4f} of their union")
    else:
        t = a.threshold or 0.5
        sys.path.insert(0, os.path.join(ROOT, "eval"))
        from run_eval import load_truth

        truth = set(load_truth(os.path.join(a.corpus, "truth.tsv")))
        tools = (a.tools or "simdedup,rensa,datasketch").split(",")
        print(f"{a.corpus}: {len(truth)} true pairs at J >= {t}, load {os.getloadavg()[0]:.2f}")
        base = None
        for tool in tools:
            r = run(["texts", "--tool", tool, "--corpus", a.corpus, "--threshold", str(t)])
            got = {tuple(p) for p in r["pairs"]}
            tp = len(got & truth)
            prec, rec = tp / max(1, len(got)), tp / max(1, len(truth))
            f1 = 2 * prec * rec / max(1e-12, prec + rec)
            base = base or r["seconds"]
            print(f"  {tool:10} {r['seconds']:8.2f} s  ({r['seconds'] / base:5.1f}x)  pairs {len(got)}  "
                  f"precision {prec:.4f} recall {rec:.4f} F1 {f1:.4f}")


if __name__ == "__main__":
    main()
