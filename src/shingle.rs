//! From text to features: normalisation, then character or word n-grams ("shingles").
//!
//! Every shingle is a contiguous span of the normalised text (with whitespace collapsed,
//! a word n-gram is its words joined by single spaces), so shingles are handed out as
//! `&str` slices without allocating.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

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
        lowercase: true,
        strip_punctuation: true,
        collapse_whitespace: true,
    };

    /// Whether any switch is on.
    pub fn any(&self) -> bool {
        self.lowercase || self.strip_punctuation || self.collapse_whitespace
    }

    /// The normalised text (borrowed unchanged when every switch is off).
    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.any() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        // Whether the last pushed character was a collapsed space (or nothing yet).
        let mut at_space = true;
        let mut push = |c: char, out: &mut String| {
            if self.collapse_whitespace && c.is_whitespace() {
                if !at_space {
                    out.push(' ');
                    at_space = true;
                }
            } else {
                out.push(c);
                at_space = false;
            }
        };
        for c in text.chars() {
            let c = if self.strip_punctuation && !c.is_alphanumeric() && !c.is_whitespace() {
                ' '
            } else {
                c
            };
            if self.lowercase && !c.is_lowercase() && c.is_alphabetic() {
                for l in c.to_lowercase() {
                    push(l, &mut out);
                }
            } else {
                push(c, &mut out);
            }
        }
        if self.collapse_whitespace && out.ends_with(' ') {
            out.pop();
        }
        Cow::Owned(out)
    }
}

/// Calls `f` with every shingle of `text`, in order, one call per occurrence. A text with
/// fewer than `n` characters (or words) has no shingles. Returns the number of shingles.
pub fn for_each_shingle(text: &str, shingling: Shingling, mut f: impl FnMut(&str)) -> usize {
    match shingling.kind {
        ShingleKind::Char => char_ngrams(text, shingling.n, &mut f),
        ShingleKind::Word => word_ngrams(text, shingling.n, &mut f),
    }
}

fn char_ngrams(text: &str, n: usize, f: &mut impl FnMut(&str)) -> usize {
    // Start offsets of the last n characters seen, as a ring buffer.
    let mut starts = vec![0usize; n];
    let mut count = 0usize;
    let mut seen = 0usize;
    for (i, _) in text.char_indices() {
        if seen >= n {
            f(&text[starts[seen % n]..i]);
            count += 1;
        }
        starts[seen % n] = i;
        seen += 1;
    }
    if seen >= n {
        f(&text[starts[seen % n]..]);
        count += 1;
    }
    count
}

fn word_ngrams(text: &str, n: usize, f: &mut impl FnMut(&str)) -> usize {
    // (start, end) byte spans of the last n words, as a ring buffer.
    let mut spans = vec![(0usize, 0usize); n];
    let mut seen = 0usize;
    let mut count = 0usize;
    let mut word_start: Option<usize> = None;
    let mut emit = |start: usize, end: usize, seen: &mut usize| {
        spans[*seen % n] = (start, end);
        *seen += 1;
        if *seen >= n {
            let first = spans[*seen % n].0;
            f(&text[first..end]);
            count += 1;
        }
    };
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), word_start) {
            (true, Some(s)) => {
                emit(s, i, &mut seen);
                word_start = None;
            }
            (false, None) => word_start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = word_start {
        emit(s, text.len(), &mut seen);
    }
    count
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
        assert_eq!(Normalization::default().apply(" A,B "), " A,B ");
        let only_case = Normalization {
            lowercase: true,
            ..Default::default()
        };
        assert_eq!(only_case.apply("ÀB c"), "àb c");
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
