#!/usr/bin/env python3
"""Score simdedup and its PyPI peers on a corpus made by make_corpus.py.

    python3 eval/run_eval.py CORPUS_OUT [--tools simdedup,datasketch,rensa,gaoya,simhash,seed]
        [--simdedup PATH] [--simdedup-args "..."] [--repeat N] [--timeout S] [--json FILE]

CORPUS_OUT is the --out directory of make_corpus.py (holding corpus/, truth.tsv,
meta.json).  Each tool runs in its own fresh Python process (or, for simdedup,
as the external command), once per --repeat; the reported time is the median
wall time of the runs, end to end: listing and reading every file, shingling,
hashing, indexing, querying and verifying (Python import and interpreter start
are excluded for the Python peers; simdedup's time is the whole command).
Pairs are scored as unordered sets against truth.tsv.

Peer configurations (all on the same word 3-shingle sets of shingles.py):
  datasketch  MinHash(num_perm=128) + MinHashLSH(threshold=bar) -> it picks
              25 bands x 5 rows; candidates kept if estimated Jaccard >= bar.
  rensa       RMinHash(num_perm=125, seed=42) + RMinHashLSH(threshold=bar,
              num_perm=125, num_bands=25) (same 25x5 banding); candidates kept
              if RMinHash.jaccard >= bar.
  gaoya       MinHashStringIndex(hash_size=32, jaccard_threshold=bar,
              num_bands=25, band_size=5) fed our shingles as tokens; its query
              already keeps only candidates with estimated Jaccard >= bar.
  simhash     Simhash(shingles, f=64) + SimhashIndex(k=K): pairs within
              Hamming distance K (--simhash-k, default 16: best F1 of a sweep at 2k; see docs/benchmarks.md, "Quality against the peers").
  floor       reference row: read + shingle only, no search (Python share of peer times).
  seed        seed_baseline.py (char bigrams, CityHash of --seed-bits (32), one pass per bit,
              neighbours only, distance ratio < 0.25).
  simdedup    PATH CORPUS_OUT/corpus ARGS; stdout lines path_a<TAB>path_b[...].
"""
import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

ALL_TOOLS = ["simdedup", "datasketch", "rensa", "gaoya", "simhash", "seed", "floor"]
BANDS, ROWS = 25, 5


def list_files(corpus):
    out = []
    for root, _, files in os.walk(corpus):
        for f in files:
            out.append(os.path.relpath(os.path.join(root, f), corpus))
    return sorted(out)


def read_all(corpus):
    paths = list_files(corpus)
    texts = []
    for p in paths:
        with open(os.path.join(corpus, p), encoding="utf-8", errors="replace") as f:
            texts.append(f.read())
    return paths, texts


# ---------------------------------------------------------------- peers
def run_datasketch(corpus, bar, opts):
    from datasketch import MinHash, MinHashLSH
    from shingles import shingles
    paths, texts = read_all(corpus)
    lsh = MinHashLSH(threshold=bar, num_perm=128)
    mhs = []
    for i, t in enumerate(texts):
        m = MinHash(num_perm=128)
        m.update_batch([s.encode("utf-8") for s in shingles(t)])
        mhs.append(m)
        lsh.insert(i, m)
    pairs = set()
    for i, m in enumerate(mhs):
        for j in lsh.query(m):
            if j != i and (min(i, j), max(i, j)) not in pairs and m.jaccard(mhs[j]) >= bar:
                pairs.add((min(i, j), max(i, j)))
    return paths, pairs, f"num_perm=128 b={lsh.b} r={lsh.r} verify est>= {bar}"


def run_rensa(corpus, bar, opts):
    from rensa import RMinHash, RMinHashLSH
    from shingles import shingles
    paths, texts = read_all(corpus)
    P = BANDS * ROWS
    mhs = RMinHash.from_token_sets([list(shingles(t)) for t in texts], P, 42)
    lsh = RMinHashLSH(bar, P, BANDS)
    lsh.insert_many(mhs, 0)
    pairs = set()
    for i, cands in enumerate(lsh.query_all(mhs)):
        m = mhs[i]
        for j in cands:
            if j != i and (min(i, j), max(i, j)) not in pairs and m.jaccard(mhs[j]) >= bar:
                pairs.add((min(i, j), max(i, j)))
    return paths, pairs, f"num_perm={P} bands={BANDS} verify est>= {bar}"


def run_gaoya(corpus, bar, opts):
    from gaoya.minhash import MinHashStringIndex
    from shingles import shingles
    paths, texts = read_all(corpus)
    idx = MinHashStringIndex(hash_size=32, jaccard_threshold=bar, num_bands=BANDS,
                             band_size=ROWS, analyzer=lambda d: list(shingles(d)))
    toks = [list(shingles(t)) for t in texts]
    ids = list(range(len(texts)))
    idx.minhash_index.par_bulk_insert_tokens(ids, toks)
    pairs = set()
    for i, res in enumerate(idx.minhash_index.par_bulk_query_tokens(toks)):
        for j in res:
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return paths, pairs, f"hash_size=32 bands={BANDS}x{ROWS} threshold={bar}"


def run_simhash(corpus, bar, opts):
    import logging
    from simhash import Simhash, SimhashIndex
    from shingles import shingles
    logging.getLogger("simhash").setLevel(logging.ERROR)
    k = opts.simhash_k
    paths, texts = read_all(corpus)
    hs = [Simhash(list(shingles(t)), f=64) for t in texts]
    index = SimhashIndex([(str(i), h) for i, h in enumerate(hs)], f=64, k=k)
    pairs = set()
    for i, h in enumerate(hs):
        for j in index.get_near_dups(h):
            j = int(j)
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return paths, pairs, f"f=64 k={k}"


def run_seed(corpus, bar, opts):
    from seed_baseline import seed_pairs
    paths, texts = read_all(corpus)
    b = opts.seed_bits
    found = seed_pairs(corpus, paths, b, 0.25, texts=texts)
    return paths, set(found), f"char bigrams, CityHash{b}, {b} bits, rotate-sort-adjacent, ratio<0.25"


def run_floor(corpus, bar, opts):
    """Reference only: read every file and build its shingle set, find nothing.
    The part of every Python peer's time that is not the peer's own work."""
    from shingles import shingles
    paths, texts = read_all(corpus)
    for t in texts:
        shingles(t)
    return paths, set(), "read + shingle sets only (reports no pairs)"


PEERS = dict(floor=run_floor, datasketch=run_datasketch, rensa=run_rensa, gaoya=run_gaoya,
             simhash=run_simhash, seed=run_seed)


def worker(tool, corpus, bar, out, opts):
    """Runs inside a fresh process; writes pairs (relative paths) + time to out."""
    t0 = time.perf_counter()
    paths, pairs, settings = PEERS[tool](corpus, bar, opts)
    dt = time.perf_counter() - t0
    with open(out, "w") as f:
        f.write(json.dumps(dict(seconds=dt, settings=settings)) + "\n")
        for i, j in pairs:
            f.write(f"{paths[i]}\t{paths[j]}\n")


# ---------------------------------------------------------------- driver
def norm_pair(a, b, corpus):
    def rel(p):
        if os.path.isabs(p) or p.startswith(corpus):
            p = os.path.relpath(os.path.abspath(p), os.path.abspath(corpus))
        return os.path.normpath(p)
    a, b = rel(a), rel(b)
    return (a, b) if a < b else (b, a)


def run_once(tool, corpus, bar, opts):
    if tool == "simdedup":
        if not opts.simdedup:
            raise SystemExit("--simdedup PATH is required for tool simdedup")
        cmd = [opts.simdedup, corpus] + shlex.split(opts.simdedup_args)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=opts.timeout)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"simdedup exited {p.returncode}: {p.stderr.decode()[-2000:]}")
        pairs = set()
        for line in p.stdout.decode("utf-8", "replace").splitlines():
            cols = line.split("\t")
            if len(cols) >= 2 and cols[0] and cols[1]:
                a, b = norm_pair(cols[0], cols[1], corpus)
                if a != b:
                    pairs.add((a, b))
        return dt, pairs, " ".join(shlex.quote(c) for c in cmd[2:]) or "(defaults)"
    with tempfile.NamedTemporaryFile("r", suffix=".tsv", delete=False) as tf:
        out = tf.name
    try:
        cmd = [sys.executable, os.path.abspath(__file__), "--_worker", tool, "--_out", out,
               "--simhash-k", str(opts.simhash_k), "--seed-bits", str(opts.seed_bits), "--bar", str(bar), os.path.dirname(corpus)]
        p = subprocess.run(cmd, timeout=opts.timeout, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError(f"{tool} worker exited {p.returncode}: {p.stderr.decode()[-2000:]}")
        with open(out) as f:
            head = json.loads(f.readline())
            pairs = set()
            for line in f:
                a, b = line.rstrip("\n").split("\t")
                pairs.add((a, b) if a < b else (b, a))
        return head["seconds"], pairs, head["settings"]
    finally:
        os.unlink(out)


def load_truth(path):
    truth = {}
    with open(path) as f:
        for line in f:
            a, b, j = line.rstrip("\n").split("\t")
            truth[(a, b) if a < b else (b, a)] = float(j)
    return truth


BINS = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def jbins(bar):
    edges = sorted(set([bar] + [b for b in BINS if b > bar]))
    if edges[-1] < 1.0:
        edges.append(1.0)
    return edges


def bin_of(j, edges):
    for k in range(len(edges) - 1, -1, -1):
        if j >= edges[k]:
            return min(k, len(edges) - 2)
    return 0


def main():
    ap = argparse.ArgumentParser(description="Score near-duplicate finders against exact truth.")
    ap.add_argument("data", help="make_corpus.py --out directory (with corpus/ and truth.tsv)")
    ap.add_argument("--tools", default="datasketch,rensa,gaoya,simhash",
                    help=f"comma list from {','.join(ALL_TOOLS)}")
    ap.add_argument("--simdedup", help="path to the simdedup binary")
    ap.add_argument("--simdedup-args", default="", help="extra arguments, one shell-quoted string")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    ap.add_argument("--simhash-k", type=int, default=16)
    ap.add_argument("--seed-bits", type=int, default=32, choices=(32, 64, 128),
                    help="seed baseline fingerprint width (the seed's default is 32)")
    ap.add_argument("--bar", type=float, help="override meta.json bar (not recommended)")
    ap.add_argument("--json", help="results file (default eval/results/<corpus>-<time>.json)")
    ap.add_argument("--label", default="", help="free text stored in the JSON")
    ap.add_argument("--dump", help="directory for per-tool missed (FN) and false (FP) pairs")
    ap.add_argument("--_worker", help=argparse.SUPPRESS)
    ap.add_argument("--_out", help=argparse.SUPPRESS)
    opts = ap.parse_args()

    data = os.path.abspath(opts.data)
    corpus = os.path.join(data, "corpus")
    meta = json.load(open(os.path.join(data, "meta.json")))
    bar = opts.bar if opts.bar is not None else meta["bar"]
    if opts._worker:
        worker(opts._worker, corpus, bar, opts._out, opts)
        return

    truth = load_truth(os.path.join(data, "truth.tsv"))
    edges = jbins(bar)
    hist = [0] * (len(edges) - 1)
    for j in truth.values():
        hist[bin_of(j, edges)] += 1
    print(f"corpus {data}: {meta['docs']} docs, bar J>={bar} (word 3-shingles), "
          f"{len(truth)} truth pairs")
    print("truth Jaccard distribution: " + ", ".join(
        f"[{edges[k]:.2f},{edges[k+1]:.2f}{']' if k == len(edges) - 2 else ')'}: {hist[k]}"
        for k in range(len(hist))))
    # warm the page cache so every tool reads from memory
    read_all(corpus)

    results = []
    for tool in [t.strip() for t in opts.tools.split(",") if t.strip()]:
        if tool not in ALL_TOOLS:
            raise SystemExit(f"unknown tool {tool}")
        times, pairs, settings, status = [], set(), "", "ok"
        load = os.getloadavg()[0]
        for _ in range(opts.repeat):
            try:
                dt, pairs, settings = run_once(tool, corpus, bar, opts)
                times.append(dt)
            except subprocess.TimeoutExpired:
                status = f"timeout>{opts.timeout:.0f}s"
                break
            except Exception as e:  # noqa: BLE001
                status = f"error: {e}"
                break
        r = dict(tool=tool, settings=settings, status=status, load1=round(load, 2),
                 times=[round(t, 3) for t in times])
        if times:
            tp = sum(1 for p in pairs if p in truth)
            prec = tp / len(pairs) if pairs else 0.0
            rec = tp / len(truth) if truth else 1.0
            f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
            rb = [0] * len(hist)
            for p, j in truth.items():
                if p in pairs:
                    rb[bin_of(j, edges)] += 1
            r.update(seconds=round(statistics.median(times), 3), reported=len(pairs), tp=tp,
                     fp=len(pairs) - tp, fn=len(truth) - tp, precision=round(prec, 4),
                     recall=round(rec, 4), f1=round(f1, 4),
                     recall_by_jaccard={f"{edges[k]:.2f}-{edges[k+1]:.2f}":
                                        (round(rb[k] / hist[k], 4) if hist[k] else None)
                                        for k in range(len(hist))})
        results.append(r)
        if opts.dump and times:
            os.makedirs(opts.dump, exist_ok=True)
            with open(os.path.join(opts.dump, f"{tool}-fn.tsv"), "w") as f:
                for p in sorted(set(truth) - pairs):
                    f.write(f"{p[0]}\t{p[1]}\t{truth[p]:.6f}\n")
            with open(os.path.join(opts.dump, f"{tool}-fp.tsv"), "w") as f:
                for p in sorted(pairs - set(truth)):
                    f.write(f"{p[0]}\t{p[1]}\n")
        print(f"  {tool}: {status} " + (f"P={r['precision']:.4f} R={r['recall']:.4f} "
                                        f"F1={r['f1']:.4f} {r['seconds']:.2f}s" if times else ""),
              file=sys.stderr)

    print()
    hdr = f"{'tool':<11} {'precision':>9} {'recall':>7} {'F1':>7} {'time s':>8} {'pairs':>8}  settings"
    print(hdr)
    print("-" * len(hdr))
    for r in results:
        if "f1" in r:
            print(f"{r['tool']:<11} {r['precision']:>9.4f} {r['recall']:>7.4f} {r['f1']:>7.4f} "
                  f"{r['seconds']:>8.2f} {r['reported']:>8}  {r['settings']}")
        else:
            print(f"{r['tool']:<11} {r['status']}")
    print("\nrecall by truth Jaccard:")
    for r in results:
        if "recall_by_jaccard" in r:
            print(f"  {r['tool']:<11} " + "  ".join(f"{k}: {v if v is not None else '-'}"
                                                   for k, v in r["recall_by_jaccard"].items()))
    out = opts.json or os.path.join(
        HERE, "results", f"{os.path.basename(data)}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(dict(corpus=data, docs=meta["docs"], seed=meta["seed"], bar=bar,
                       truth_pairs=len(truth), truth_hist=dict(edges=edges, counts=hist),
                       repeat=opts.repeat, label=opts.label, when=time.strftime("%Y-%m-%d %H:%M:%S"),
                       machine=dict(cpus=os.cpu_count(), python=platform.python_version()),
                       results=results), f, indent=1)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
