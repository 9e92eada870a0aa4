#!/usr/bin/env python3
"""Generate a labelled near-duplicate corpus from real prose (deterministic).

Input : a paragraphs file (one paragraph per line), made by fetch_text.sh.
Output: OUT/corpus/SSS/NNNNNN.txt   one document per file (SSS = NNNNNN // 1000)
        OUT/truth.tsv               every unordered pair with exact word
                                    3-shingle Jaccard >= bar:
                                    path_a <TAB> path_b <TAB> jaccard (6 d.p.)
                                    paths relative to OUT/corpus, path_a < path_b
                                    (plain string order); rows sorted.
        OUT/docs.tsv                per document: path, cluster, role
                                    (single|base|variant), parent path, edit
                                    rate, words, boilerplate ids
        OUT/meta.json               counts, seed, source, bar, parameters, timings

Documents are built from short runs of consecutive sentences (1-3 sentences,
a "passage") taken from random places in the source, joined into paragraphs,
until a target length drawn from a log-normal (median 150 words, sigma 0.8,
clipped to 50..2000 words) is reached.  Passages are short so that unrelated
documents share little text even though the 2.3 M-word source is reused ~11x
at 100k documents; whatever they do share is counted by the exact ground
truth anyway (a few percent of truth pairs are such accidental overlaps).

Near-duplicates: 20% of base documents get 1..8 variants (P(k) ~ k^-1.5).  A
variant is made from the base (70%) or from an earlier variant of the same
cluster (30%, so edits chain) at an edit rate r drawn log-uniformly from
[0.01, 0.30]: each word is, with probability r, deleted, substituted by a
random source word, followed by an inserted random word, or swapped with its
neighbour (equal odds); then round(r * sentences) random pairs of sentences
are swapped (reordering).  Boilerplate: 35% of documents carry a header
and/or footer from 16 shared blocks (at most 40% of the body's words); a
variant keeps its parent's boilerplate (60%), gets other blocks (20%) or none
(20%).

Ground truth is computed exactly over ALL pairs (not only generated ones):
an all-pairs set-similarity join with prefix filtering (shingles ordered
rarest first; a pair with J >= t must share a shingle within the first
|X| - ceil(t|X|) + 1 shingles of each document X), length filtering, then
exact verification |A&B| >= t |A|B| in rational arithmetic.
"""
import argparse
import json
import math
import os
import random
import re
import sys
import time
from fractions import Fraction

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shingles import shingle_list  # noqa: E402

# Our own boilerplate blocks (headers, footers, licence-style blurbs, nav).
BOILERPLATE = [
    "Home | Documentation | Downloads | Community | Contact us | Search this site",
    "This page is part of the project documentation set. If you find an error or an "
    "outdated statement, please report it through the usual feedback channels so it can be fixed.",
    "Copyright the contributors. Permission is granted to copy, distribute and modify this "
    "document under the terms of the licence shipped with it, provided this notice is kept "
    "intact on all copies and derived works.",
    "This text is provided as is, without warranty of any kind, express or implied, including "
    "but not limited to fitness for a particular purpose. Use it at your own risk.",
    "Previous topic | Next topic | Up one level | Table of contents | Index | Glossary",
    "You are reading an archived version of this document. Newer revisions may describe "
    "different behaviour; check the release notes of your distribution before relying on it.",
    "Subscribe to our newsletter to receive weekly updates about new articles, tutorials and "
    "security announcements. You can unsubscribe at any time from the link at the bottom of each message.",
    "Comments are moderated and may take a day to appear. Please stay on topic and be kind to "
    "other readers; off-topic or abusive comments will be removed without notice.",
    "Printed from the online edition. Some figures and interactive examples are omitted in this "
    "format; refer to the web version for the complete material.",
    "Sponsored content: hosting and bandwidth for this site are donated by our partners. Their "
    "support keeps the documentation free for everyone to read.",
    "Skip to main content. Accessibility options. Change language. Sign in. Register a new account.",
    "Was this page helpful? Yes No. Tell us how we can improve this article in the form below.",
    "All trademarks mentioned in this document belong to their respective owners and are used "
    "for identification purposes only, with no endorsement implied.",
    "Last updated by the editorial team. Translations of this page may lag behind the original "
    "English version by several weeks.",
    "Related articles: getting started, installation guide, frequently asked questions, "
    "troubleshooting, release history and the mailing list archives.",
    "Disclaimer: the opinions expressed here are those of the authors and do not necessarily "
    "reflect the views of the project, its members or its sponsors.",
]
HEADERS = [0, 4, 5, 10, 8]
FOOTERS = [1, 2, 3, 6, 7, 9, 11, 12, 13, 14, 15]

SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(\[])")


def load_source(path):
    sents = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                sents.extend(s for s in SENT_SPLIT.split(line) if s.strip())
    return sents


def passage(rng, sents, lens):
    n = len(sents)
    i = rng.randrange(n)
    k = rng.randint(1, 3)
    out = sents[i:i + k]
    return out, sum(lens[i:i + k])


def make_body(rng, sents, lens, target):
    """List of paragraphs, each a list of sentences."""
    paras, total = [], 0
    while total < target:
        p, n = passage(rng, sents, lens)
        paras.append(p)
        total += n
    return paras


def draw_length(rng):
    return int(min(2000, max(50, rng.lognormvariate(math.log(150), 0.8))))


def draw_boilerplate(rng, body_words):
    ids = []
    if rng.random() < 0.35:
        if rng.random() < 0.6:
            ids.append(rng.choice(HEADERS))
        if rng.random() < 0.8 or not ids:
            ids.append(rng.choice(FOOTERS))
    # keep boilerplate at most 40% of the body
    while ids and sum(len(BOILERPLATE[b].split()) for b in ids) > 0.4 * body_words:
        ids.pop()
    return ids


def render(paras, bp):
    head = [BOILERPLATE[b] for b in bp if b in HEADERS]
    foot = [BOILERPLATE[b] for b in bp if b not in HEADERS]
    blocks = head + [" ".join(p) for p in paras] + foot
    return "\n\n".join(blocks) + "\n"


def edit(rng, paras, rate, vocab):
    out = []
    for p in paras:
        newp = []
        for s in p:
            w = s.split()
            res = []
            i = 0
            while i < len(w):
                if rng.random() < rate:
                    op = rng.randrange(4)
                    if op == 0:  # delete
                        i += 1
                        continue
                    if op == 1:  # substitute
                        res.append(rng.choice(vocab))
                        i += 1
                        continue
                    if op == 2:  # insert after
                        res.append(w[i])
                        res.append(rng.choice(vocab))
                        i += 1
                        continue
                    if i + 1 < len(w):  # swap with neighbour
                        res.append(w[i + 1])
                        res.append(w[i])
                        i += 2
                        continue
                res.append(w[i])
                i += 1
            if res:
                newp.append(" ".join(res))
        if newp:
            out.append(newp)
    # sentence reorderings: swap random pairs of sentences
    flat = [(pi, si) for pi, p in enumerate(out) for si in range(len(p))]
    for _ in range(round(rate * len(flat))):
        (a1, b1), (a2, b2) = rng.choice(flat), rng.choice(flat)
        out[a1][b1], out[a2][b2] = out[a2][b2], out[a1][b1]
    return out


def generate(args, sents):
    rng = random.Random(args.seed)
    lens = [len(s.split()) for s in sents]
    # insertions/substitutions draw words with their source frequency
    vocab = [w for s in sents for w in s.split()]
    docs = []  # dicts: text, cluster, role, parent(index), rate, bp
    cluster = 0
    while len(docs) < args.docs:
        body = make_body(rng, sents, lens, draw_length(rng))
        nwords = sum(len(s.split()) for p in body for s in p)
        bp = draw_boilerplate(rng, nwords)
        base_idx = len(docs)
        k = 0
        if rng.random() < args.dup_frac:
            k = rng.choices(range(1, 9), weights=[j ** -1.5 for j in range(1, 9)])[0]
        docs.append(dict(paras=body, cluster=cluster, role="base" if k else "single",
                         parent=-1, rate=0.0, bp=bp))
        members = [base_idx]
        for _ in range(k):
            if len(docs) >= args.docs:
                break
            src = base_idx if (len(members) == 1 or rng.random() < 0.7) else rng.choice(members[1:])
            rate = math.exp(rng.uniform(math.log(args.min_rate), math.log(args.max_rate)))
            paras = edit(rng, docs[src]["paras"], rate, vocab)
            u = rng.random()
            nw = sum(len(s.split()) for p in paras for s in p)
            vbp = docs[src]["bp"] if u < 0.6 else (draw_boilerplate(rng, nw) if u < 0.8 else [])
            members.append(len(docs))
            docs.append(dict(paras=paras, cluster=cluster, role="variant", parent=src,
                             rate=rate, bp=vbp))
        cluster += 1
    # shuffle so clusters are not adjacent on disk
    order = list(range(len(docs)))
    rng.shuffle(order)
    pos = {old: new for new, old in enumerate(order)}
    out = [None] * len(docs)
    for old, d in enumerate(docs):
        d["parent"] = pos[d["parent"]] if d["parent"] >= 0 else -1
        out[pos[old]] = d
    for d in out:
        d["text"] = render(d.pop("paras"), d["bp"])
    return out


def doc_path(i):
    return f"{i // 1000:03d}/{i:06d}.txt"


def exact_pairs(shingle_sets, bar):
    """All pairs (i<j) with |A&B| / |A|B| >= bar, exactly. Returns list (i, j, inter, union)."""
    t = Fraction(str(bar))
    ids = {}
    docs_tok = []
    for s in shingle_sets:
        docs_tok.append(np.fromiter((ids.setdefault(x, len(ids)) for x in s), dtype=np.int64, count=len(s)))
    freq = np.zeros(len(ids), dtype=np.int64)
    for a in docs_tok:
        freq[a] += 1
    # rank: rarest first (ties by id) -> global total order
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.lexsort((np.arange(len(ids)), freq))] = np.arange(len(ids))
    sizes = np.array([len(a) for a in docs_tok], dtype=np.int64)
    ranked = [np.sort(rank[a]) for a in docs_tok]
    toks, owners = [], []
    for d, a in enumerate(ranked):
        n = len(a)
        if n == 0:
            continue
        alpha = math.ceil(t * n)  # exact: Fraction ceil
        p = n - alpha + 1
        toks.append(a[:p])
        owners.append(np.full(p, d, dtype=np.int64))
    toks = np.concatenate(toks)
    owners = np.concatenate(owners)
    o = np.lexsort((owners, toks))
    toks, owners = toks[o], owners[o]
    # group boundaries
    starts = np.flatnonzero(np.r_[True, toks[1:] != toks[:-1]])
    ends = np.r_[starts[1:], len(toks)]
    gsize = ends - starts
    cand = []
    # expand pairs within each group, in chunks to bound memory
    multi = np.flatnonzero(gsize > 1)
    # per entry: number of later entries in its group
    grp_end = np.repeat(ends, gsize)
    idx = np.arange(len(toks))
    later = grp_end - idx - 1
    sel = later > 0
    e_idx, e_cnt = idx[sel], later[sel]
    CH = 20_000_000
    csum = np.cumsum(e_cnt)
    lo = 0
    while lo < len(e_idx):
        base = csum[lo - 1] if lo else 0
        hi = int(np.searchsorted(csum, base + CH, side="right"))
        hi = max(hi, lo + 1)
        ei, ec = e_idx[lo:hi], e_cnt[lo:hi]
        left = np.repeat(ei, ec)
        off = np.arange(len(left)) - np.repeat(np.cumsum(ec) - ec, ec)
        right = left + 1 + off
        a, b = owners[left], owners[right]
        a, b = np.minimum(a, b), np.maximum(a, b)
        keep = a != b
        a, b = a[keep], b[keep]
        # length filter: |small| >= t |large|
        sa, sb = sizes[a], sizes[b]
        small, large = np.minimum(sa, sb), np.maximum(sa, sb)
        keep = small * t.denominator >= t.numerator * large
        cand.append(np.unique(a[keep] * len(sizes) + b[keep]))
        lo = hi
    del multi
    codes = np.unique(np.concatenate(cand)) if cand else np.zeros(0, dtype=np.int64)
    n = len(sizes)
    sets = [set(a.tolist()) for a in docs_tok]
    res = []
    num, den = t.numerator, t.denominator
    for c in codes.tolist():
        i, j = divmod(c, n)
        inter = len(sets[i] & sets[j])
        union = sizes[i] + sizes[j] - inter
        if inter * den >= num * union:
            res.append((i, j, inter, int(union)))
    return res, len(codes)


def main():
    ap = argparse.ArgumentParser(description="Generate a labelled near-duplicate corpus.")
    ap.add_argument("--source", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "work", "source", "paragraphs.txt"))
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bar", type=float, default=0.5, help="Jaccard bar for ground truth")
    ap.add_argument("--dup-frac", type=float, default=0.2, help="fraction of bases that get variants")
    ap.add_argument("--min-rate", type=float, default=0.01)
    ap.add_argument("--max-rate", type=float, default=0.30)
    args = ap.parse_args()

    t0 = time.time()
    sents = load_source(args.source)
    docs = generate(args, sents)
    t1 = time.time()
    cdir = os.path.join(args.out, "corpus")
    if os.path.exists(cdir) and os.listdir(cdir):
        sys.exit(f"{cdir} exists and is not empty; choose a fresh --out")
    paths = [doc_path(i) for i in range(len(docs))]
    for i, d in enumerate(docs):
        p = os.path.join(cdir, paths[i])
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8") as f:
            f.write(d["text"])
    t2 = time.time()
    sets = [set(shingle_list(d["text"])) for d in docs]
    pairs, ncand = exact_pairs(sets, args.bar)
    t3 = time.time()
    rows = []
    for i, j, inter, union in pairs:
        a, b = sorted((paths[i], paths[j]))
        rows.append((a, b, inter / union))
    rows.sort()
    with open(os.path.join(args.out, "truth.tsv"), "w") as f:
        for a, b, jac in rows:
            f.write(f"{a}\t{b}\t{jac:.6f}\n")
    with open(os.path.join(args.out, "docs.tsv"), "w") as f:
        f.write("path\tcluster\trole\tparent\trate\twords\tboilerplate\n")
        for i, d in enumerate(docs):
            par = paths[d["parent"]] if d["parent"] >= 0 else "-"
            nw = len(d["text"].split())
            f.write(f"{paths[i]}\t{d['cluster']}\t{d['role']}\t{par}\t{d['rate']:.4f}\t{nw}\t"
                    f"{','.join(map(str, d['bp'])) or '-'}\n")
    src_dir = os.path.dirname(os.path.abspath(args.source))
    pk = os.path.join(src_dir, "packages.tsv")
    packages = [l.rstrip("\n").split("\t") for l in open(pk)] if os.path.exists(pk) else []
    roles = {}
    for d in docs:
        roles[d["role"]] = roles.get(d["role"], 0) + 1
    words = [len(d["text"].split()) for d in docs]
    generated = sum(1 for d in docs if d["role"] == "variant")
    meta = dict(
        docs=len(docs), seed=args.seed, bar=args.bar,
        truth_pairs=len(rows), candidate_pairs_verified=ncand,
        roles=roles, variant_parent_links=generated,
        clusters=max(d["cluster"] for d in docs) + 1,
        docs_with_boilerplate=sum(1 for d in docs if d["bp"]),
        words=dict(total=int(sum(words)), min=min(words), median=int(np.median(words)),
                   mean=round(float(np.mean(words)), 1), max=max(words)),
        source=dict(file=os.path.abspath(args.source), sentences=len(sents), debian_packages=packages),
        params=dict(dup_frac=args.dup_frac, min_rate=args.min_rate, max_rate=args.max_rate,
                    length="lognormal median 150 sigma 0.8 clipped 50..2000 words"),
        normalisation="shingles.py: lowercase, words = runs of [^\\W_], set of word 3-shingles",
        truth_convention="path_a<TAB>path_b<TAB>jaccard; paths relative to corpus/, path_a < path_b "
                         "by plain string comparison; pair included iff |A&B| >= bar*|A|B| exactly",
        seconds=dict(generate=round(t1 - t0, 1), write=round(t2 - t1, 1), truth=round(t3 - t2, 1)),
    )
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps({k: meta[k] for k in ("docs", "truth_pairs", "candidate_pairs_verified", "roles",
                                           "words", "seconds")}))


if __name__ == "__main__":
    main()
