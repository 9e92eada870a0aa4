"""Varied texts for checking simdedup's embedding against Python's model2vec.

Real prose (sentences of the licence texts Debian ships in /usr/share/common-licenses),
then the cases a tokenizer gets wrong first: accents, scripts without spaces, emoji,
control and zero-width characters, U+FFFD, literal special tokens, words longer than
WordPiece's 100-character limit, unknown words, empty and whitespace-only texts, and texts
far beyond the 512-token limit (cut by characters, then by tokens). Deterministic: the
same list on every machine that has the same licence files.

Used by scripts/model_reference.py (the committed reference file) and
scripts/model_parity.py (the 1,000-text check run in CI).
"""

import random
import re
from pathlib import Path

LICENSES = Path("/usr/share/common-licenses")
PROSE = ["GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3", "Artistic", "LGPL-2.1"]

# Hand-written cases, each for a step of the BERT pipeline or of Model2Vec's encode.
SPECIAL = [
    "",
    " ",
    "\n\t \r\n",
    "Hello, world!",
    "HELLO WORLD",
    "Café crème brûlée à la française, naïve façade, Ångström, Straße, Øresund.",
    "ΟΔΟΣ οδός Σίσυφος — Greek with a final sigma",
    "İstanbul ıIiİ Turkish dotted and dotless i",
    "Москва — столица России. Привет, мир!",
    "中文文本没有空格，每个汉字都是一个词。",
    "日本語のテキスト、ひらがなとカタカナ。東京タワー",
    "한국어 문장은 띄어쓰기를 합니다.",
    "العربية نص من اليمين إلى اليسار",
    "עברית טקסט",
    "हिन्दी पाठ देवनागरी में",
    "ภาษาไทยไม่มีช่องว่าง",
    "Emoji 😀🎉👍🏽 and flags 🇫🇷 and a family 👨‍👩‍👧",
    "zero\u200bwidth\u200cjoiners\u200dhere and a soft\u00adhyphen",
    "control \x01\x02\x07\x1b[31m chars \x7f and \x85 next line",
    "replacement \ufffd char inside wo\ufffdrd",
    "combining: e\u0301 a\u0308 o\u0302 n\u0303 \u0301 alone",
    "fullwidth ＡＢＣ ｄｅｆ １２３ and ligatures ﬁ ﬂ ﬀ",
    "superscripts x² y³ ½ ¼ ™ © ® № ℃",
    "math ∑ ∫ √ ∞ ≤ ≥ ≠ ∀ ∃ ∈ α β γ",
    "quotes «guillemets» “curly” ‘single’ „low“ and dashes – — ‒",
    "punctuation!!! ??? ... ;;; ::: ,,, ((( ))) [[[ ]]] {{{ }}}",
    "[CLS] a literal special token [SEP] and [MASK] and [UNK] and [PAD]",
    "[mask] lowercase is not special, nor [ MASK ] nor [MASK",
    "hello[MASK]world[CLS][SEP]",
    "https://example.org/path?query=1&x=y#frag user@example.com",
    "numbers 3.14159 2,718 1e-10 0x1F 1_000_000 42nd",
    "tabs\tand\nnewlines\r\nand\x0bvertical\x0cform feeds",
    "snake_case camelCase PascalCase kebab-case SCREAMING_CASE",
    "xqzvbnmwrtp plokijuhygt qwzxcvbnm unknownwordsthatwordpiececannotcover",
    "a" * 99,
    "b" * 100,
    "c" * 101,
    "supercalifragilisticexpialidocious" * 4,
    "é" * 120,
    "word " * 600,
    "字" * 4000,
    # 876 tokens after the character cut, every other one unknown: the 512-token limit
    # comes before unknown tokens are dropped, so 256 remain.
    "🙂 word " * 500,
    "🙂" * 50,
    "\u3000ideographic\u3000spaces\u3000and\u00a0no-break\u2009thin\u2002en",
    "\ud7ff\ue000\uf8ff private use and \U0001f9ff \U000e0001 tag",
    "mixed 中文 English русский 日本 العربية 😀 in one line",
]


def sentences():
    """Sentences of the licence texts, in file order, each with its whitespace collapsed."""
    out = []
    for name in PROSE:
        path = LICENSES / name
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for part in re.split(r"(?<=[.;:!?])\s+|\n\s*\n", text):
            part = " ".join(part.split())
            if part:
                out.append(part)
    return out


def whole_licenses():
    """Whole licence files: far longer than 512 tokens."""
    return [
        (LICENSES / name).read_text(encoding="utf-8", errors="replace")
        for name in PROSE[:3]
        if (LICENSES / name).exists()
    ]


def varied(n, seed=13):
    """At least `n` texts: the special cases, whole licences, then prose sentences and
    mixtures of sentences with special cases (seeded), no NUL bytes."""
    rng = random.Random(seed)
    prose = sentences()
    if not prose:
        raise SystemExit(f"no licence texts in {LICENSES} (Debian's base-files ships them)")
    texts = list(SPECIAL) + whole_licenses()
    texts += prose[: max(0, (n - len(texts)) * 2 // 3)]
    while len(texts) < n:
        a = rng.choice(prose)
        b = rng.choice(SPECIAL[3:35])
        texts.append(a + " " + b if rng.random() < 0.5 else b + a)
    return texts


def reference_set():
    """About fifty texts for the committed reference file: the special cases and a few
    sentences of real prose."""
    prose = sentences()
    step = max(1, len(prose) // 8)
    return list(SPECIAL) + prose[::step][:8]


def clustered(rows, seed=7):
    """`rows` texts in tight clusters: a licence sentence drawn at random, then the row's
    number (the texts of `scripts/python_speed.py model`)."""
    rng = random.Random(seed)
    prose = sentences()
    return [f"{rng.choice(prose)} {i}" for i in range(rows)]


if __name__ == "__main__":
    import argparse
    import json
    import sys

    ap = argparse.ArgumentParser(description="Writes the clustered texts as JSONL ({\"text\": ...}).")
    ap.add_argument("--clustered", type=int, required=True, metavar="ROWS")
    a = ap.parse_args()
    for text in clustered(a.clustered):
        sys.stdout.write(json.dumps({"text": text}) + "\n")

