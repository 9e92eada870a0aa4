"""The one text normalisation used by the ground truth and by every Python peer.

words(text): lowercase the text (str.lower), then take maximal runs of
  characters that are Unicode letters or digits (regex [^\\W_]+, i.e. what
  str.isalnum() accepts); everything else (punctuation, underscores,
  whitespace) separates words.  "Don't stop-gap v2.1" -> don, t, stop, gap, v2, 1
shingles(text): the SET of word 3-shingles, each the three consecutive words
  joined by one space.  A text with 1 or 2 words has a single shingle made of
  all its words; an empty text has none.
"""
import re

_WORD = re.compile(r"[^\W_]+")


def words(text):
    return _WORD.findall(text.lower())


def shingle_list(text, k=3):
    w = words(text)
    if len(w) < k:
        return [" ".join(w)] if w else []
    return [" ".join(w[i:i + k]) for i in range(len(w) - k + 1)]


def shingles(text, k=3):
    return set(shingle_list(text, k))


def jaccard(a, b):
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
