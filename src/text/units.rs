//! Paragraphs and lines as units of deduplication inside a document: where a text's units
//! start and end, as byte offsets into its original bytes (so a span can be cut from the
//! file as it is, whatever its encoding or line endings), and what is kept of each unit: a
//! 64-bit SimHash, the digest of its normalised text and its place, 40 bytes, never its
//! text. Units arrive in pieces of any size ([`Splitter`]), so a file is never held whole.

use std::fmt;
use std::str::FromStr;

use crate::text::shingle::Normalization;
use crate::text::simhash::{TextConfig, fingerprint_text};
use crate::text::texts::shingle_set;

/// What a unit of deduplication is inside a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnitKind {
    /// Text between blank lines (lines holding only whitespace). The span runs from the
    /// paragraph's first byte to the first byte of the next paragraph (or the end of the
    /// text): its blank lines after it go with it, so cutting it leaves no gap.
    Paragraph,
    /// Text between newlines (`\n`; a `\r` before it belongs to the terminator). The span
    /// includes the terminator.
    Line,
}

impl UnitKind {
    /// The default `min_words` (shorter units are never removed): 10 words for paragraphs,
    /// 5 for lines.
    pub fn default_min_words(self) -> usize {
        match self {
            UnitKind::Paragraph => 10,
            UnitKind::Line => 5,
        }
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnitKind::Paragraph => "paragraph",
            UnitKind::Line => "line",
        })
    }
}

impl FromStr for UnitKind {
    type Err = String;

    fn from_str(s: &str) -> Result<UnitKind, String> {
        match s {
            "paragraph" => Ok(UnitKind::Paragraph),
            "line" => Ok(UnitKind::Line),
            _ => Err(format!("unknown unit '{s}' (use paragraph or line)")),
        }
    }
}

/// A byte range `[start, end)` of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

/// Cuts bytes that arrive in pieces into units: [`Splitter::push`] each piece, then
/// [`Splitter::finish`]. `f(span, content)` is called once per unit, in order, with the
/// unit's bytes without its separator (a line without its terminator, a paragraph without
/// the blank lines after it). Only the current unit is held, so a paragraph longer than a
/// piece costs its own length and no more. Newlines are found on bytes, so offsets are
/// exact for any input, UTF-8 or not.
pub struct Splitter {
    kind: UnitKind,
    /// Offset of the first byte of `line`.
    line_start: u64,
    /// The current line, incomplete until its `\n` arrives.
    line: Vec<u8>,
    /// The open paragraph's lines, and where it starts.
    para: Vec<u8>,
    para_start: u64,
    /// The open paragraph has seen a blank line after it: the next non-blank line ends it.
    para_closed: bool,
}

impl Splitter {
    pub fn new(kind: UnitKind) -> Splitter {
        Splitter {
            kind,
            line_start: 0,
            line: Vec::new(),
            para: Vec::new(),
            para_start: 0,
            para_closed: false,
        }
    }

    /// The next piece of the text.
    pub fn push(&mut self, mut bytes: &[u8], f: &mut impl FnMut(Span, &[u8])) {
        while let Some(nl) = memchr::memchr(b'\n', bytes) {
            if self.line.is_empty() {
                self.on_line(&bytes[..=nl], f);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&bytes[..=nl]);
                self.on_line(&line, f);
                line.clear();
                self.line = line;
            }
            bytes = &bytes[nl + 1..];
        }
        self.line.extend_from_slice(bytes);
    }

    /// The end of the text: the last line (without a newline) and the open paragraph.
    pub fn finish(mut self, f: &mut impl FnMut(Span, &[u8])) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.on_line(&line, f);
        }
        if !self.para.is_empty() {
            let end = self.line_start;
            f(
                Span {
                    start: self.para_start,
                    end,
                },
                &self.para,
            );
        }
    }

    /// One complete line (with its `\n`, except at the end of the text) at `line_start`.
    fn on_line(&mut self, line: &[u8], f: &mut impl FnMut(Span, &[u8])) {
        let start = self.line_start;
        let end = start + line.len() as u64;
        self.line_start = end;
        match self.kind {
            UnitKind::Line => {
                let content = line.strip_suffix(b"\n").unwrap_or(line);
                let content = content.strip_suffix(b"\r").unwrap_or(content);
                f(Span { start, end }, content);
            }
            UnitKind::Paragraph => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    self.para_closed = !self.para.is_empty();
                    return;
                }
                if self.para_closed {
                    let span = Span {
                        start: self.para_start,
                        end: start,
                    };
                    f(span, &self.para);
                    self.para.clear();
                    self.para_closed = false;
                }
                if self.para.is_empty() {
                    self.para_start = start;
                }
                self.para.extend_from_slice(line);
            }
        }
    }
}

/// Every unit of `bytes` held whole: [`Splitter`] over one piece.
pub fn split(bytes: &[u8], kind: UnitKind, mut f: impl FnMut(Span, &[u8])) {
    let mut s = Splitter::new(kind);
    s.push(bytes, &mut f);
    s.finish(&mut f);
}

/// What is kept of one unit: 40 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    /// The document it belongs to (an index into the searched documents).
    pub doc: u32,
    /// Length of its span in bytes.
    pub len: u32,
    /// Start of its span in the document.
    pub start: u64,
    /// SimHash of its shingles (64 bits).
    pub fingerprint: u64,
    /// 128-bit digest of its normalised text, as two words (8-byte alignment).
    pub digest: [u64; 2],
}

impl Unit {
    pub fn span(&self) -> Span {
        Span {
            start: self.start,
            end: self.start + self.len as u64,
        }
    }
}

/// How a unit's content is turned into what the search and verification need.
#[derive(Clone, Copy, Debug)]
pub struct UnitText {
    pub config: TextConfig,
    /// Units with fewer words (after normalisation) are left out: never removed.
    pub min_words: usize,
}

impl UnitText {
    /// The normalised text of a unit's bytes (invalid UTF-8 replaced by U+FFFD), or `None`
    /// when it has fewer than `min_words` words or no shingle.
    pub fn normalized(&self, content: &[u8]) -> Option<String> {
        let raw = String::from_utf8_lossy(content);
        let text = self.config.normalization.apply(&raw).into_owned();
        let words = text.split_whitespace().count();
        let shingles = match self.config.shingling.kind {
            crate::text::shingle::ShingleKind::Word => words,
            crate::text::shingle::ShingleKind::Char => text.chars().count(),
        };
        (words >= self.min_words.max(1) && shingles >= self.config.shingling.n).then_some(text)
    }

    /// The configuration that shingles text already normalised.
    fn normalized_config(&self) -> TextConfig {
        TextConfig {
            normalization: Normalization::default(),
            ..self.config
        }
    }

    /// The unit kept for `content` at `span` of document `doc`, if it counts as one.
    pub fn unit(&self, doc: u32, span: Span, content: &[u8]) -> Option<Unit> {
        let len = u32::try_from(span.end - span.start).ok()?;
        let text = self.normalized(content)?;
        let sig = fingerprint_text::<u64>(&text, &self.normalized_config());
        (sig.shingles > 0).then(|| Unit {
            doc,
            len,
            start: span.start,
            fingerprint: sig.fingerprint,
            digest: digest_words(sig.digest),
        })
    }

    /// The sorted distinct shingle hashes of a unit's content and its digest (as
    /// [`UnitText::unit`] computes it), for exact verification.
    pub fn shingle_set(&self, content: &[u8]) -> Option<(Vec<u64>, [u64; 2])> {
        let text = self.normalized(content)?;
        let (set, digest) = shingle_set(&text, None, &self.normalized_config());
        Some((set, digest_words(digest)))
    }
}

fn digest_words(d: u128) -> [u64; 2] {
    [(d >> 64) as u64, d as u64]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(text: &str, kind: UnitKind) -> Vec<(Span, String)> {
        let mut v = Vec::new();
        split(text.as_bytes(), kind, |s, c| {
            v.push((s, String::from_utf8_lossy(c).into_owned()))
        });
        v
    }

    fn pieces(text: &[u8], kind: UnitKind, size: usize) -> Vec<(Span, Vec<u8>)> {
        let mut v = Vec::new();
        let mut s = Splitter::new(kind);
        let mut f = |sp, c: &[u8]| v.push((sp, c.to_vec()));
        for chunk in text.chunks(size) {
            s.push(chunk, &mut f);
        }
        s.finish(&mut f);
        v
    }

    #[test]
    fn paragraphs_take_their_blank_lines() {
        let t = "\n\nfirst para\nstill first\n\n \t\nsecond\r\n\r\nthird";
        let u = units(t, UnitKind::Paragraph);
        let got: Vec<&str> = u
            .iter()
            .map(|(s, _)| &t[s.start as usize..s.end as usize])
            .collect();
        assert_eq!(
            got,
            [
                "first para\nstill first\n\n \t\n",
                "second\r\n\r\n",
                "third"
            ]
        );
        assert_eq!(u[0].1, "first para\nstill first\n");
        assert_eq!(u[1].1, "second\r\n");
    }

    #[test]
    fn lines_take_their_terminator() {
        let t = "a b\r\nc\n\nlast";
        let u = units(t, UnitKind::Line);
        let spans: Vec<&str> = u
            .iter()
            .map(|(s, _)| &t[s.start as usize..s.end as usize])
            .collect();
        assert_eq!(spans, ["a b\r\n", "c\n", "\n", "last"]);
        let content: Vec<&str> = u.iter().map(|(_, c)| c.as_str()).collect();
        assert_eq!(content, ["a b", "c", "", "last"]);
    }

    #[test]
    fn any_piece_size_gives_the_same_units() {
        let mut t = "x y z\n\nlong paragraph ".repeat(40).into_bytes();
        t.extend_from_slice(b"\r\n\r\n\xc3\xa9t\xff\n");
        let t = &t[..];
        for kind in [UnitKind::Paragraph, UnitKind::Line] {
            let whole = pieces(t, kind, t.len());
            for size in [1, 2, 3, 7, 64] {
                assert_eq!(pieces(t, kind, size), whole, "{kind} size {size}");
            }
            // The spans tile the text from the first unit on.
            let mut at = whole[0].0.start;
            for (s, _) in &whole {
                assert_eq!(s.start, at);
                at = s.end;
            }
            assert_eq!(at, t.len() as u64);
        }
    }

    #[test]
    fn short_units_are_left_out() {
        let ut = UnitText {
            config: TextConfig::default(),
            min_words: 5,
        };
        assert!(ut.normalized(b"one two, three four").is_none());
        assert_eq!(
            ut.normalized(b"One two, three four FIVE").as_deref(),
            Some("one two three four five")
        );
        let span = Span { start: 0, end: 24 };
        let a = ut.unit(0, span, b"One two, three four FIVE").unwrap();
        let b = ut.unit(1, span, b"one two three  four five").unwrap();
        assert_eq!((a.fingerprint, a.digest), (b.fingerprint, b.digest));
        assert_eq!(std::mem::size_of::<Unit>(), 40);
    }
}
