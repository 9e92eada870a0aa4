//! From text to features: normalisation, then character or word n-grams ("shingles").
//!
//! Every shingle is a contiguous span of the normalised text (with whitespace collapsed,
//! a word n-gram is its words joined by single spaces), so shingles are handed out as
//! `&str` slices without allocating.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use unicode_normalization::{IsNormalized, UnicodeNormalization};

/// Character n-grams (Unicode scalar values) or word n-grams (whitespace-separated words).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShingleKind {
    Char,
    Word,
}

/// A shingle kind and its size `n >= 1`, written `char:N` or `word:N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shingling {
    pub kind: ShingleKind,
    pub n: usize,
}

impl fmt::Display for Shingling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ShingleKind::Char => "char",
            ShingleKind::Word => "word",
        };
        write!(f, "{kind}:{}", self.n)
    }
}

impl FromStr for Shingling {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, n) = s
            .split_once(':')
            .ok_or_else(|| format!("expected char:N or word:N, got '{s}'"))?;
        let kind = match kind {
            "char" => ShingleKind::Char,
            "word" => ShingleKind::Word,
            _ => return Err(format!("unknown shingle kind '{kind}' (use char or word)")),
        };
        let n: usize = n
            .parse()
            .map_err(|_| format!("shingle size must be a positive integer, got '{n}'"))?;
        if n == 0 || n > 64 {
            return Err(format!("shingle size must be between 1 and 64, got {n}"));
        }
        Ok(Shingling { kind, n })
    }
}

/// Text normalisation applied before shingling. All off reproduces the raw text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Normalization {
    /// Unicode compatibility normalisation (NFKC): ligatures, full-width forms, composed
    /// and decomposed accents all become one spelling. Pure ASCII text is left as it is.
    pub nfkc: bool,
    /// Unicode lowercase (`char::to_lowercase`, full mappings).
    pub lowercase: bool,
    /// Replace every character that is neither alphanumeric nor whitespace with a space.
    pub strip_punctuation: bool,
    /// Collapse runs of whitespace to one space and trim both ends.
    pub collapse_whitespace: bool,
}

impl Normalization {
    /// Every switch on: the default of the normal (non-compat) mode.
    pub const ALL: Normalization = Normalization {
        nfkc: true,
        lowercase: true,
        strip_punctuation: true,
        collapse_whitespace: true,
    };

    /// Whether any switch is on.
    pub fn any(&self) -> bool {
        self.nfkc || self.lowercase || self.strip_punctuation || self.collapse_whitespace
    }

    /// The normalised text (borrowed unchanged when every switch is off). The same as one
    /// [`NormalizeStream::push`] of the whole text.
    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.any() {
            return Cow::Borrowed(text);
        }
        let mut out = String::new();
        NormalizeStream::new(*self).push(text, &mut out);
        Cow::Owned(out)
    }

    /// Whether normalising a text cut just before `c` gives the same result as normalising
    /// it whole (NFKC looks across characters: a combining mark reorders with and composes
    /// into what precedes it). True before any character that NFKC leaves alone in every
    /// context (a starter, quick check "yes"), and everywhere when NFKC is off.
    pub fn can_cut_before(&self, c: char) -> bool {
        !self.nfkc
            || c.is_ascii()
            || (unicode_normalization::char::canonical_combining_class(c) == 0
                && unicode_normalization::is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes)
    }
}

/// Normalisation of a text that arrives in pieces. Each piece must start where
/// [`Normalization::can_cut_before`] allows; the concatenated outputs then equal
/// [`Normalization::apply`] of the whole text. The only state carried between pieces is
/// whether a collapsed space is pending: it is written only when something follows it,
/// since the whole text would have it trimmed at its end.
#[derive(Clone, Debug)]
pub struct NormalizeStream {
    norm: Normalization,
    /// Nothing was kept yet, or the last byte kept was a collapsed space.
    at_space: bool,
    /// A collapsed space held back from the end of the previous piece.
    pending_space: bool,
    buf: Vec<u8>,
    /// What each ASCII byte becomes: lowered and punctuation made a space as asked, and
    /// with whitespace collapsing every ASCII whitespace byte a space.
    ascii: [u8; 128],
    /// The switches as word masks (all ones when on) for [`NormalizeStream::ascii8`].
    lower_mask: u64,
    strip_mask: u64,
    collapse_mask: u64,
}

impl NormalizeStream {
    pub fn new(norm: Normalization) -> NormalizeStream {
        let table = &ASCII_MAP[norm.lowercase as usize * 2 + norm.strip_punctuation as usize];
        let ascii = table.map(|o| {
            if norm.collapse_whitespace && ASCII_SPACE[o as usize] {
                b' '
            } else {
                o
            }
        });
        NormalizeStream {
            norm,
            at_space: true,
            pending_space: false,
            buf: Vec::new(),
            ascii,
            lower_mask: 0u64.wrapping_sub(norm.lowercase as u64),
            strip_mask: 0u64.wrapping_sub(norm.strip_punctuation as u64),
            collapse_mask: 0u64.wrapping_sub(norm.collapse_whitespace as u64),
        }
    }

    /// Normalises eight ASCII bytes (`word`, little-endian) at once, as the byte table
    /// does one at a time: the kept bytes (first `n` bytes of the result) and whether the
    /// last byte was a collapsed space. `at_space`: the byte before was one.
    #[inline(always)]
    fn ascii8(&self, word: u64, at_space: bool) -> (u64, usize, bool) {
        let upper = in_range(word, b'A', b'Z');
        let alnum = upper | in_range(word, b'a', b'z') | in_range(word, b'0', b'9');
        let white = in_range(word, 0x09, 0x0d) | in_range(word, b' ', b' ');
        let lowered = word | ((upper >> 2) & self.lower_mask);
        // High bit of each byte that becomes a space.
        let to_space = (!(alnum | white) & HIGH & self.strip_mask) | (white & self.collapse_mask);
        let full = (to_space >> 7) * 0xff;
        let mut out = (lowered & !full) | ((ONES * b' ' as u64) & full);
        // A collapsed space right after another (or after `at_space`) is dropped.
        let spaces = to_space & self.collapse_mask;
        let mut drop = spaces & ((spaces << 8) | ((at_space as u64) << 7));
        let n = 8 - drop.count_ones() as usize;
        while drop != 0 {
            // Highest first, so that the lower positions stay where they are.
            let byte = (63 - drop.leading_zeros()) / 8;
            let low = (1u64 << (8 * byte)) - 1;
            out = (out & low) | ((out >> 8) & !low);
            drop &= low;
        }
        (out, n, spaces >> 63 == 1)
    }

    /// Normalises the next piece into `out` (replacing its contents).
    pub fn push(&mut self, text: &str, out: &mut String) {
        let ascii = text.is_ascii();
        let composed: String;
        let text = if self.norm.nfkc
            && !ascii
            && unicode_normalization::is_nfkc_quick(text.chars()) != IsNormalized::Yes
        {
            composed = text.nfkc().collect();
            composed.as_str()
        } else {
            text
        };
        let map = &self.ascii;
        let collapse = self.norm.collapse_whitespace;
        // Written branch-free: every byte is stored, but the write position only advances
        // when the byte is kept (a space right after a collapsed space is overwritten).
        // Lowercasing grows a character by at most 1.5x, hence the 3x buffer; ASCII text
        // only shrinks (one byte more for a pending space).
        let mut out_bytes = std::mem::take(&mut self.buf);
        out_bytes.clear();
        out_bytes.resize(
            if ascii {
                text.len() + 1
            } else {
                text.len() * 3 + 5
            },
            0,
        );
        let out_b = &mut out_bytes[..];
        let mut j = 0usize;
        let mut at_space = self.at_space;
        if self.pending_space {
            out_b[0] = b' ';
            j = 1;
        }
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // The fast path: eight ASCII bytes at a time, classified in one word (SWAR).
            // The output never runs more than the buffer's slack ahead of the input, so
            // eight bytes fit.
            if let Some(word) = bytes.get(i..i + 8) {
                let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
                if word & HIGH == 0 {
                    let (kept, n, space) = self.ascii8(word, at_space);
                    out_b[j..j + 8].copy_from_slice(&kept.to_le_bytes());
                    j += n;
                    at_space = space;
                    i += 8;
                    continue;
                }
            }
            let b = bytes[i];
            if b < 0x80 {
                let o = map[b as usize];
                let space = collapse & (o == b' ');
                out_b[j] = o;
                j += !(space & at_space) as usize;
                at_space = space;
                i += 1;
                continue;
            }
            let c = text[i..].chars().next().expect("char boundary");
            let len = c.len_utf8();
            let to_space =
                (self.norm.strip_punctuation && !c.is_alphanumeric() && !c.is_whitespace())
                    || (collapse && c.is_whitespace());
            if to_space {
                let space = collapse;
                out_b[j] = b' ';
                j += !(space & at_space) as usize;
                at_space = space;
            } else {
                if self.norm.lowercase && c.is_uppercase() {
                    for l in c.to_lowercase() {
                        j += l.encode_utf8(&mut out_b[j..]).len();
                    }
                } else {
                    out_b[j..j + len].copy_from_slice(&bytes[i..i + len]);
                    j += len;
                }
                at_space = false;
            }
            i += len;
        }
        // A trailing collapsed space waits for what follows (and is dropped at the end).
        self.pending_space = collapse && j > 0 && out_b[j - 1] == b' ';
        if self.pending_space {
            j -= 1;
        }
        self.at_space = at_space;
        // The output buffers are recycled: `out` takes this one, `self.buf` keeps its old one.
        out_bytes.truncate(j);
        let text = String::from_utf8(out_bytes).expect("normalisation keeps UTF-8 valid");
        self.buf = std::mem::replace(out, text).into_bytes();
    }

    /// Ends the text: a pending space is dropped and the next push starts a new text.
    pub fn reset(&mut self) {
        self.at_space = true;
        self.pending_space = false;
    }
}

/// A byte of ones in each byte lane, and the high bits of the lanes.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` (all below 0x80) that is in `lo..=hi`: a byte `b`
/// plus `0x80 - lo` reaches 0x80 when `b >= lo`, and never carries into the next byte.
#[inline(always)]
fn in_range(word: u64, lo: u8, hi: u8) -> u64 {
    let from_lo = word + ONES * (0x80 - lo as u64);
    let past_hi = word + ONES * (0x7f - hi as u64);
    from_lo & !past_hi & HIGH
}

/// ASCII whitespace as `char::is_whitespace` defines it (space, \t, \n, \x0b, \x0c, \r).
const ASCII_SPACE: [bool; 256] = {
    let mut t = [false; 256];
    t[b' ' as usize] = true;
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t[0x0b] = true;
    t[0x0c] = true;
    t[b'\r' as usize] = true;
    t
};

/// ASCII byte mappings, indexed by `lowercase * 2 + strip_punctuation`: letters lowered
/// if asked, everything that is neither alphanumeric nor whitespace a space if asked.
const ASCII_MAP: [[u8; 128]; 4] = {
    let mut t = [[0u8; 128]; 4];
    let mut k = 0;
    while k < 4 {
        let (lower, strip) = (k / 2 == 1, k % 2 == 1);
        let mut b = 0u8;
        while b < 128 {
            t[k][b as usize] = if strip && !b.is_ascii_alphanumeric() && !ASCII_SPACE[b as usize] {
                b' '
            } else if lower {
                b.to_ascii_lowercase()
            } else {
                b
            };
            b += 1;
        }
        k += 1;
    }
    t
};

/// Whether the character starting at byte `i` of `text` is whitespace (`char::is_whitespace`)
/// and how long it is in bytes. Only four lead bytes can start non-ASCII whitespace.
#[inline]
fn space_at(text: &str, i: usize) -> (bool, usize) {
    let b = text.as_bytes()[i];
    match b {
        0x00..=0x7f => (ASCII_SPACE[b as usize], 1),
        0xc2 | 0xe1 | 0xe2 | 0xe3 => {
            let c = text[i..].chars().next().expect("char boundary");
            (c.is_whitespace(), c.len_utf8())
        }
        0xc0..=0xdf => (false, 2),
        0xe0..=0xef => (false, 3),
        _ => (false, 4),
    }
}

/// Calls `f` with every shingle of `text`, in order, one call per occurrence. A text with
/// fewer than `n` characters (or words) has no shingles. Returns the number of shingles.
pub fn for_each_shingle(text: &str, shingling: Shingling, mut f: impl FnMut(&str)) -> usize {
    ngrams(text, shingling, true, false, &mut f).0
}

/// The shingles of `text` and the byte offset from which a following piece needs it: the
/// last `n - 1` characters, or the last `n - 1` complete words and a word still open at
/// the end (when not `last`, a word running to the end may go on in the next piece, so
/// it is not emitted yet).
fn ngrams(
    text: &str,
    shingling: Shingling,
    last: bool,
    spaces_only: bool,
    f: &mut impl FnMut(&str),
) -> (usize, usize) {
    match shingling.kind {
        ShingleKind::Char => char_ngrams(text, shingling.n, f),
        ShingleKind::Word => word_ngrams(text, shingling.n, last, spaces_only, f),
    }
}

fn char_ngrams(text: &str, n: usize, f: &mut impl FnMut(&str)) -> (usize, usize) {
    // Start offsets of the last n characters seen, as a ring buffer: character `c` is at
    // `starts[c % n]`, and `head == seen % n` (kept without a division per character).
    let mut starts = vec![0usize; n];
    let (mut count, mut seen, mut head) = (0usize, 0usize, 0usize);
    for (i, _) in text.char_indices() {
        if seen >= n {
            f(&text[starts[head]..i]);
            count += 1;
        }
        starts[head] = i;
        head = if head + 1 == n { 0 } else { head + 1 };
        seen += 1;
    }
    if seen >= n {
        f(&text[starts[head]..]);
        count += 1;
    }
    let keep = match n - 1 {
        0 => text.len(),
        k if seen >= k => starts[(seen - k) % n],
        _ => 0,
    };
    (count, keep)
}

/// Calls `f` with the offset of every ASCII space in `bytes`, in order: eight bytes at a
/// time, each word's spaces found as its zero bytes after an XOR with spaces (words are
/// a few bytes long, too short for `memchr`'s start-up to pay).
#[inline(always)]
fn for_each_space(bytes: &[u8], mut f: impl FnMut(usize)) {
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ (ONES * b' ' as u64);
        // Exactly the zero bytes (no borrow runs from one byte into the next).
        let mut zeros = !(((x & !HIGH) + !HIGH) | x) & HIGH;
        while zeros != 0 {
            f(base + zeros.trailing_zeros() as usize / 8);
            zeros &= zeros - 1;
        }
        base += 8;
    }
    for (k, &b) in chunks.remainder().iter().enumerate() {
        if b == b' ' {
            f(base + k);
        }
    }
}

/// Word n-grams of `text`. With `spaces_only`, the text's only whitespace is the ASCII
/// space (normalised with whitespace collapsed), and words are found by
/// [`for_each_space`].
fn word_ngrams(
    text: &str,
    n: usize,
    last: bool,
    spaces_only: bool,
    f: &mut impl FnMut(&str),
) -> (usize, usize) {
    // Start offsets of the last n words, as a ring buffer: word `w` starts at
    // `starts[w % n]`, and `head == seen % n`, the oldest once n words are seen.
    let mut starts = vec![0usize; n];
    let (mut count, mut seen, mut head) = (0usize, 0usize, 0usize);
    let mut word = |start: usize, end: usize| {
        starts[head] = start;
        head = if head + 1 == n { 0 } else { head + 1 };
        seen += 1;
        if seen >= n {
            f(&text[starts[head]..end]);
            count += 1;
        }
    };
    // Where the word still open at the end of the text starts (`text.len()`: none).
    let mut open = text.len();
    if spaces_only {
        let mut start = 0;
        for_each_space(text.as_bytes(), |space| {
            if space > start {
                word(start, space);
            }
            start = space + 1;
        });
        open = start.min(text.len());
    } else {
        let mut word_start: Option<usize> = None;
        let mut i = 0;
        while i < text.len() {
            let (space, len) = space_at(text, i);
            match (space, word_start) {
                (true, Some(s)) => {
                    word(s, i);
                    word_start = None;
                }
                (false, None) => word_start = Some(i),
                _ => {}
            }
            i += len;
        }
        if let Some(s) = word_start {
            open = s;
        }
    }
    if last && open < text.len() {
        word(open, text.len());
        open = text.len();
    }
    let keep = match n - 1 {
        0 => open,
        k if seen >= k => starts[(seen - k) % n],
        _ if seen > 0 => starts[0],
        _ => open,
    };
    (count, keep)
}

/// Shingling of a text that arrives in pieces (cut anywhere at a character boundary): the
/// calls to `f` are those [`for_each_shingle`] makes on the whole text. Between pieces it
/// keeps only the text a shingle may still need (the last `n - 1` characters or words and
/// a word still open), so memory is bounded by the longest `n` words, not the text.
#[derive(Clone, Debug)]
pub struct ShingleStream {
    shingling: Shingling,
    /// The end of the previous pieces that later shingles may still need.
    carry: String,
    count: u64,
    /// Fields of a record: a non-empty text with no shingle is one shingle as a whole.
    whole_if_short: bool,
    /// The text's only whitespace is the ASCII space (see [`ShingleStream::spaces_only`]).
    spaces_only: bool,
}

impl ShingleStream {
    /// With `whole_if_short`, a text too short for a shingle (but not empty) is passed to
    /// `f` whole, as the fields of a record are (see `simhash::fingerprint_fields`).
    pub fn new(shingling: Shingling, whole_if_short: bool) -> ShingleStream {
        ShingleStream {
            shingling,
            carry: String::new(),
            count: 0,
            whole_if_short,
            spaces_only: false,
        }
    }

    /// Declares that the text's only whitespace character is the ASCII space, as it is
    /// after normalisation with whitespace collapsed: words are then found by a fast
    /// search for spaces, with the same result.
    pub fn spaces_only(mut self, yes: bool) -> ShingleStream {
        self.spaces_only = yes;
        self
    }

    /// Shingles the next piece; `last` ends the text (and the next push starts a new one).
    pub fn push(&mut self, text: &str, last: bool, f: &mut impl FnMut(&str)) {
        let mut buf = std::mem::take(&mut self.carry);
        let whole: &str = if buf.is_empty() {
            text
        } else {
            buf.push_str(text);
            &buf
        };
        let (count, keep) = ngrams(whole, self.shingling, last, self.spaces_only, f);
        self.count += count as u64;
        // A short text is kept whole until its first shingle, to be emitted whole at the end.
        let keep = if self.whole_if_short && self.count == 0 {
            0
        } else {
            keep
        };
        if last {
            if self.whole_if_short && self.count == 0 && !whole.is_empty() {
                f(whole);
            }
            self.count = 0;
            buf.clear();
        } else if buf.is_empty() {
            buf.push_str(&text[keep..]);
        } else {
            buf.drain(..keep);
        }
        self.carry = buf;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str, spec: &str) -> Vec<String> {
        let mut v = Vec::new();
        let n = for_each_shingle(text, spec.parse().unwrap(), |s| v.push(s.to_string()));
        assert_eq!(n, v.len());
        v
    }

    #[test]
    fn char_bigrams_like_python_slices() {
        assert_eq!(collect("abc\n", "char:2"), ["ab", "bc", "c\n"]);
        assert_eq!(collect("é€x", "char:2"), ["é€", "€x"]);
        assert!(collect("a", "char:2").is_empty());
        assert!(collect("", "char:1").is_empty());
        assert_eq!(collect("ab", "char:2"), ["ab"]);
    }

    #[test]
    fn word_ngrams_are_spans() {
        assert_eq!(
            collect("the cat sat on", "word:2"),
            ["the cat", "cat sat", "sat on"]
        );
        assert_eq!(collect("  one\ttwo  ", "word:1"), ["one", "two"]);
        assert_eq!(collect("one two", "word:3"), Vec::<String>::new());
        assert_eq!(collect("a b c", "word:3"), ["a b c"]);
    }

    #[test]
    fn normalisation() {
        let n = Normalization::ALL;
        assert_eq!(n.apply("  Hello,   WORLD!\n\nÉté "), "hello world été");
        assert_eq!(n.apply("don't-stop"), "don t stop");
        // NFKC: a ligature, full-width letters and a decomposed accent.
        assert_eq!(n.apply("ﬁne ＡＢ cafe\u{301}"), "fine ab café");
        assert_eq!(Normalization::default().apply(" A,B "), " A,B ");
        let only_case = Normalization {
            lowercase: true,
            ..Default::default()
        };
        assert_eq!(only_case.apply("ÀB c"), "àb c");
    }

    /// The definition, one character at a time, for comparison with the fast path.
    fn reference(n: &Normalization, text: &str) -> String {
        let nfkc: String = if n.nfkc {
            text.nfkc().collect()
        } else {
            text.to_string()
        };
        let text = nfkc.as_str();
        let mut out = String::new();
        for c in text.chars() {
            let c = if n.strip_punctuation && !c.is_alphanumeric() && !c.is_whitespace() {
                ' '
            } else {
                c
            };
            let c = if n.collapse_whitespace && c.is_whitespace() {
                ' '
            } else {
                c
            };
            if n.collapse_whitespace && c == ' ' && (out.is_empty() || out.ends_with(' ')) {
                continue;
            }
            if n.lowercase && c.is_uppercase() {
                out.extend(c.to_lowercase());
            } else {
                out.push(c);
            }
        }
        if n.collapse_whitespace && out.ends_with(' ') {
            out.pop();
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn fast_normalisation_equals_reference(
            text in "[ a-zA-Z0-9.,;!?'\\-\t\n\r\x0b\x0c\x01\u{a0}\u{2003}\u{3000}\u{85}ÀÉİȺßŉ東京é€·ﬁＡ\\u{301}]{0,40}",
            lowercase: bool, strip_punctuation: bool, collapse_whitespace: bool, nfkc: bool,
        ) {
            let n = Normalization { nfkc, lowercase, strip_punctuation, collapse_whitespace };
            proptest::prop_assert_eq!(n.apply(&text).into_owned(), reference(&n, &text));
        }

        /// The ASCII fast path (eight bytes at a time) on any text: printable ASCII runs
        /// of every length, control characters, and any Unicode between them.
        #[test]
        fn normalisation_equals_reference_on_any_text(
            text in "([ -~\t\n\r\x0b\x0c\x00-\x1f\x7f]{0,20}.{0,2}){0,8}",
            lowercase: bool, strip_punctuation: bool, collapse_whitespace: bool, nfkc: bool,
        ) {
            let n = Normalization { nfkc, lowercase, strip_punctuation, collapse_whitespace };
            proptest::prop_assert_eq!(n.apply(&text).into_owned(), reference(&n, &text));
        }

        /// Words found by searching for spaces (normalised text, whitespace collapsed) are
        /// those of the general scan, and so is what a following piece needs.
        #[test]
        fn space_search_equals_word_scan(
            text in "([ -~\t\n]{0,12}.{0,2}){0,8}", raw: bool, n in 1usize..5, last: bool,
        ) {
            let text = if raw { text.replace(|c: char| c.is_whitespace(), " ") } else {
                Normalization::ALL.apply(&text).into_owned()
            };
            let (mut fast, mut general) = (Vec::new(), Vec::new());
            let a = word_ngrams(&text, n, last, true, &mut |s| fast.push(s.to_string()));
            let b = word_ngrams(&text, n, last, false, &mut |s| general.push(s.to_string()));
            proptest::prop_assert_eq!(fast, general);
            proptest::prop_assert_eq!(a, b);
        }

        #[test]
        fn word_shingles_equal_split_whitespace(text in "[ a-c\\t\n\u{a0}\u{2003}é]{0,30}", n in 1usize..4) {
            let words: Vec<&str> = text.split_whitespace().collect();
            let expected: Vec<String> = words.windows(n).map(|w| {
                let start = w[0].as_ptr() as usize - text.as_ptr() as usize;
                let last = w[n - 1];
                let end = last.as_ptr() as usize - text.as_ptr() as usize + last.len();
                text[start..end].to_string()
            }).collect();
            let mut got = Vec::new();
            for_each_shingle(&text, Shingling { kind: ShingleKind::Word, n }, |s| got.push(s.to_string()));
            proptest::prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn parse_spec() {
        assert_eq!(
            "word:3".parse::<Shingling>().unwrap(),
            Shingling {
                kind: ShingleKind::Word,
                n: 3
            }
        );
        assert!("word:0".parse::<Shingling>().is_err());
        assert!("line:2".parse::<Shingling>().is_err());
        assert!("char".parse::<Shingling>().is_err());
    }
}
