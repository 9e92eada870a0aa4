#!/usr/bin/env python3
"""Extract English prose paragraphs from HTML and plain-text documentation.

Writes one paragraph per line (whitespace collapsed), de-duplicated, in a
deterministic order (sorted input paths). Only the standard library is used.

HTML: text inside <p>, <li>, <dd>, <td>, <blockquote> is collected; <pre>,
<script>, <style> and navigation-ish elements are skipped.  Plain text
(optionally .gz): paragraphs are separated by blank lines.
A paragraph is kept if it has >= 12 words, is mostly letters, and looks like
English (>= 20% of its words are common English function words).
Files whose name carries a non-English language tag (foo.de.html) are skipped.
"""
import argparse
import gzip
import os
import re
import sys
from html.parser import HTMLParser

BLOCK = {"p", "li", "dd", "td", "blockquote", "dt", "figcaption", "caption"}
SKIP = {"pre", "script", "style", "head", "nav", "title", "code-block"}
FUNCTION_WORDS = set(
    "the of and to a in is it that for as with be on by this are or not an "
    "can you if from at which will your have has was but all its may these "
    "should when there one more other than so use also their into only such "
    "each any must been we they some".split()
)
LANG_TAG = re.compile(r"\.([a-z]{2}(?:[-_][A-Za-z]{2})?)\.html?$")


class ParaParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paras = []
        self.buf = []
        self.depth_block = 0
        self.depth_skip = 0

    def flush(self):
        if self.buf:
            self.paras.append(" ".join("".join(self.buf).split()))
            self.buf = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIP:
            self.depth_skip += 1
        elif tag in BLOCK:
            # nested blocks (li > p) end the enclosing paragraph
            self.flush()
            self.depth_block += 1
        elif tag == "br":
            self.buf.append(" ")

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.depth_skip = max(0, self.depth_skip - 1)
        elif tag in BLOCK:
            self.flush()
            self.depth_block = max(0, self.depth_block - 1)

    def handle_data(self, data):
        if self.depth_block and not self.depth_skip:
            self.buf.append(data)


def html_paragraphs(text):
    p = ParaParser()
    p.feed(text)
    p.close()
    p.flush()
    return p.paras


def text_paragraphs(text):
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]


def good(par):
    words = par.split()
    if len(words) < 12:
        return False
    letters = sum(c.isalpha() for c in par)
    if letters < 0.7 * len(par.replace(" ", "")):
        return False
    lw = [w.strip(".,;:()\"'!?").lower() for w in words]
    return sum(w in FUNCTION_WORDS for w in lw) >= 0.2 * len(lw)


def read(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        return f.read().decode("utf-8", errors="replace")


def files_under(root):
    if os.path.isfile(root):
        return [root]
    out = []
    for d, _, fs in os.walk(root):
        for f in fs:
            out.append(os.path.join(d, f))
    return sorted(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()
    seen = set()
    n_files = 0
    n_words = 0
    with open(a.out, "w", encoding="utf-8") as out:
        for root in a.inputs:
            for path in files_under(root):
                base = os.path.basename(path)
                m = LANG_TAG.search(base)
                if m and m.group(1).lower() not in ("en", "en-us", "en_us"):
                    continue
                is_html = re.search(r"\.html?(\.gz)?$", base)
                is_text = re.search(r"\.(txt|text)(\.gz)?$", base)
                if not (is_html or is_text):
                    continue
                if is_text and os.path.exists(re.sub(r"\.(txt|text)(\.gz)?$", ".html", path)):
                    continue  # same document also shipped as HTML
                if base in ("genindex.html", "search.html", "py-modindex.html") or base.startswith("genindex-"):
                    continue
                text = read(path)
                paras = html_paragraphs(text) if is_html else text_paragraphs(text)
                n_files += 1
                for par in paras:
                    if good(par) and par not in seen:
                        seen.add(par)
                        n_words += len(par.split())
                        out.write(par + "\n")
    print(f"{n_files} files, {len(seen)} paragraphs, {n_words} words -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
