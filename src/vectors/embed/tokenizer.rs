//! The HuggingFace `tokenizer.json` pipeline of BERT-style models (every English Model2Vec
//! "potion" model), reproduced id for id: added tokens matched in the raw text, then
//! `BertNormalizer` (clean control characters, space out CJK ideographs, strip accents,
//! lowercase), `BertPreTokenizer` (split on whitespace, isolate punctuation) and
//! greedy longest-match `WordPiece`. Any other pipeline (Unigram, BPE, Metaspace ...) is a
//! load-time error naming `tokenizer.json`, never a silently different tokenization.
//!
//! The Unicode tables are the ones HuggingFace's code uses: `unicode_categories` for
//! control, punctuation and nonspacing marks. NFD comes from `unicode-normalization`
//! (Unicode 18) where HuggingFace uses a fork at Unicode 9; the two decompose differently
//! only 21 characters of scripts added since (Tulu-Tigalari, Kirat Rai, ...), none in a
//! BERT vocabulary, so every word holding one is `[UNK]` either way.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use serde::Deserialize;
use unicode_categories::UnicodeCategories;
use unicode_normalization::UnicodeNormalization;

use super::ModelError;

/// A `BertNormalizer` + `BertPreTokenizer` + `WordPiece` tokenizer.
#[derive(Debug)]
pub struct Tokenizer {
    /// Looked up once per candidate piece: the hot path, hence the cheap hash.
    vocab: HashMap<String, u32, BuildHasherDefault<PieceHasher>>,
    /// Added tokens matched in the raw text, longest first (leftmost-longest matching).
    added: Vec<(String, u32)>,
    /// The first bytes of the added tokens: a match can start only at one of them.
    added_first: [bool; 256],
    prefix: String,
    unk: Option<u32>,
    max_chars_per_word: usize,
    /// Longest vocabulary entry in bytes: no longer piece is ever looked up.
    max_piece: usize,
    clean_text: bool,
    chinese_chars: bool,
    strip_accents: bool,
    lowercase: bool,
}

#[derive(Deserialize)]
struct Json {
    #[serde(default)]
    added_tokens: Vec<AddedToken>,
    normalizer: Option<Component>,
    pre_tokenizer: Option<Component>,
    model: Model,
}

#[derive(Deserialize)]
struct AddedToken {
    id: u32,
    content: String,
    #[serde(default)]
    single_word: bool,
    #[serde(default)]
    lstrip: bool,
    #[serde(default)]
    rstrip: bool,
    #[serde(default)]
    normalized: bool,
}

#[derive(Deserialize)]
struct Component {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "yes")]
    clean_text: bool,
    #[serde(default = "yes")]
    handle_chinese_chars: bool,
    #[serde(default)]
    strip_accents: Option<bool>,
    #[serde(default = "yes")]
    lowercase: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct Model {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    vocab: serde_json::Value,
    unk_token: Option<String>,
    #[serde(default = "default_prefix")]
    continuing_subword_prefix: String,
    #[serde(default = "default_max_chars")]
    max_input_chars_per_word: usize,
}

fn default_prefix() -> String {
    "##".into()
}

fn default_max_chars() -> usize {
    100
}

impl Tokenizer {
    /// Reads `tokenizer.json`; a pipeline other than BERT's WordPiece is an error.
    pub fn from_file(path: &Path) -> Result<Tokenizer, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Tokenizer::from_json(path, &bytes)
    }

    /// The tokenizer described by `bytes`, named `path` in errors.
    pub fn from_json(path: &Path, bytes: &[u8]) -> Result<Tokenizer, ModelError> {
        let unsupported = |message: String| ModelError::Tokenizer {
            path: path.to_path_buf(),
            message,
        };
        let json: Json = serde_json::from_slice(bytes).map_err(|source| ModelError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        let kind = json.model.kind.as_deref().unwrap_or("?");
        if kind != "WordPiece" {
            return Err(unsupported(format!(
                "model type {kind} is not supported (only WordPiece, the BERT pipeline)"
            )));
        }
        let norm = match json.normalizer {
            Some(n) if n.kind == "BertNormalizer" => n,
            other => {
                let name = other.map_or("none".to_string(), |n| n.kind);
                return Err(unsupported(format!(
                    "normalizer {name} is not supported (only BertNormalizer)"
                )));
            }
        };
        match json.pre_tokenizer {
            Some(p) if p.kind == "BertPreTokenizer" => {}
            other => {
                let name = other.map_or("none".to_string(), |p| p.kind);
                return Err(unsupported(format!(
                    "pre-tokenizer {name} is not supported (only BertPreTokenizer)"
                )));
            }
        }
        let vocab: HashMap<String, u32> = serde_json::from_value(json.model.vocab)
            .map_err(|e| unsupported(format!("the WordPiece vocabulary is not a map: {e}")))?;
        let vocab: HashMap<_, _, _> = vocab.into_iter().collect();
        let mut added = Vec::new();
        for t in json.added_tokens {
            if t.normalized || t.single_word || t.lstrip || t.rstrip {
                return Err(unsupported(format!(
                    "added token {:?} uses normalized/single_word/lstrip/rstrip, which are not supported",
                    t.content
                )));
            }
            if !t.content.is_empty() {
                added.push((t.content, t.id));
            }
        }
        added.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        let mut added_first = [false; 256];
        for (content, _) in &added {
            added_first[content.as_bytes()[0] as usize] = true;
        }
        let unk = json
            .model
            .unk_token
            .as_ref()
            .and_then(|t| vocab.get(t).copied());
        let max_piece = vocab.keys().map(String::len).max().unwrap_or(0);
        Ok(Tokenizer {
            vocab,
            added,
            added_first,
            prefix: json.model.continuing_subword_prefix,
            unk,
            max_chars_per_word: json.model.max_input_chars_per_word,
            max_piece,
            clean_text: norm.clean_text,
            chinese_chars: norm.handle_chinese_chars,
            // HuggingFace: no explicit setting means "strip accents when lowercasing".
            strip_accents: norm.strip_accents.unwrap_or(norm.lowercase),
            lowercase: norm.lowercase,
        })
    }

    /// The id of the unknown token, if the vocabulary has one.
    pub fn unk(&self) -> Option<u32> {
        self.unk
    }

    /// Every token with its id: the vocabulary and the added tokens (as HuggingFace's
    /// `get_vocab()`, which Model2Vec's median token length is taken over).
    pub fn vocab(&self) -> HashMap<&str, u32> {
        let mut all: HashMap<&str, u32> =
            self.vocab.iter().map(|(t, &i)| (t.as_str(), i)).collect();
        for (t, id) in &self.added {
            all.entry(t).or_insert(*id);
        }
        all
    }

    /// Appends the ids of `text` to `ids`, without special tokens (unknown words give the
    /// unknown id). `scratch` is reused between calls.
    pub fn encode(&self, text: &str, ids: &mut Vec<u32>, scratch: &mut Scratch) {
        let mut start = 0;
        let mut i = 0;
        let bytes = text.as_bytes();
        while i < text.len() {
            let hit = if self.added_first[bytes[i] as usize] {
                self.added
                    .iter()
                    .find(|(content, _)| text[i..].starts_with(content.as_str()))
            } else {
                None
            };
            match hit {
                Some((content, id)) => {
                    self.encode_span(&text[start..i], ids, scratch);
                    ids.push(*id);
                    i += content.len();
                    start = i;
                }
                None => i += text[i..].chars().next().map_or(1, char::len_utf8),
            }
        }
        self.encode_span(&text[start..], ids, scratch);
    }

    /// Normalises, pre-tokenises and WordPieces text that holds no added token.
    fn encode_span(&self, span: &str, ids: &mut Vec<u32>, scratch: &mut Scratch) {
        if span.is_empty() {
            return;
        }
        let normal = &mut scratch.normal;
        normal.clear();
        self.normalize(span, normal);
        let normal = std::mem::take(normal);
        pre_tokenize(&normal, |word| {
            self.word_piece(word, ids, &mut scratch.piece)
        });
        scratch.normal = normal;
    }

    /// `BertNormalizer`: clean, space out CJK, strip accents (NFD, drop nonspacing
    /// marks), lowercase, in that order.
    fn normalize(&self, text: &str, out: &mut String) {
        if text.is_ascii() {
            for &b in text.as_bytes() {
                let c = match b {
                    b'\t' | b'\n' | b'\r' if self.clean_text => b' ',
                    0..=0x1f | 0x7f if self.clean_text => continue,
                    b if self.lowercase => b.to_ascii_lowercase(),
                    b => b,
                };
                out.push(c as char);
            }
            return;
        }
        let staged = text
            .chars()
            .flat_map(|c| self.clean(c).into_iter().flatten());
        if self.strip_accents {
            for c in staged.nfd().filter(|c| !c.is_mark_nonspacing()) {
                self.push_lower(c, out);
            }
        } else {
            for c in staged {
                self.push_lower(c, out);
            }
        }
    }

    /// The cleaning and CJK steps for one character: what it becomes (up to three).
    fn clean(&self, c: char) -> [Option<char>; 3] {
        if self.clean_text {
            if c == '\0' || c == '\u{fffd}' || is_control(c) {
                return [None; 3];
            }
            if is_whitespace(c) {
                return [Some(' '), None, None];
            }
        }
        if self.chinese_chars && is_chinese_char(c) {
            return [Some(' '), Some(c), Some(' ')];
        }
        [Some(c), None, None]
    }

    fn push_lower(&self, c: char, out: &mut String) {
        if self.lowercase {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }

    /// Greedy longest-match-first WordPiece; a word that cannot be covered, or longer than
    /// `max_input_chars_per_word` characters, is one unknown token.
    fn word_piece(&self, word: &str, ids: &mut Vec<u32>, piece: &mut String) {
        let mark = ids.len();
        if word.len() > self.max_chars_per_word && word.chars().count() > self.max_chars_per_word {
            self.push_unk(ids);
            return;
        }
        let mut start = 0;
        while start < word.len() {
            let mut end = word.len().min(start + self.max_piece);
            while !word.is_char_boundary(end) {
                end -= 1;
            }
            let mut found = None;
            while end > start {
                piece.clear();
                if start > 0 {
                    piece.push_str(&self.prefix);
                }
                piece.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(piece.as_str()) {
                    found = Some(id);
                    break;
                }
                end -= 1;
                while !word.is_char_boundary(end) {
                    end -= 1;
                }
            }
            match found {
                Some(id) => {
                    ids.push(id);
                    start = end;
                }
                None => {
                    ids.truncate(mark);
                    self.push_unk(ids);
                    return;
                }
            }
        }
    }

    fn push_unk(&self, ids: &mut Vec<u32>) {
        if let Some(unk) = self.unk {
            ids.push(unk);
        }
    }
}

/// FxHash (rustc's), eight bytes at a time: a vocabulary is not chosen by an adversary,
/// and SipHash would cost more than the rest of tokenization.
#[derive(Default)]
struct PieceHasher(u64);

impl Hasher for PieceHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(K);
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    }

    fn write_u8(&mut self, b: u8) {
        self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }

    fn finish(&self) -> u64 {
        // The high bits are the well-mixed ones; hashbrown takes its control byte from
        // the top seven.
        self.0.rotate_left(26)
    }
}

/// Buffers reused by [`Tokenizer::encode`] (one per thread).
#[derive(Debug, Default)]
pub struct Scratch {
    normal: String,
    piece: String,
}

/// `BertPreTokenizer`: whitespace separates words and is dropped; each punctuation
/// character is a word of its own.
fn pre_tokenize<'a>(text: &'a str, mut word: impl FnMut(&'a str)) {
    let mut start = None;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if space || is_punctuation(c) {
            if let Some(s) = start.take() {
                word(&text[s..i]);
            }
            if !space {
                word(&text[i..i + c.len_utf8()]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        word(&text[s..]);
    }
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || (!c.is_ascii() && c.is_punctuation())
}

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

/// Unicode "other" (Cc, Cf, Co and what the table counts as unassigned), except the
/// three whitespace controls.
fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.is_other()
}

/// The CJK ideograph blocks BERT spaces out (not Hangul, Hiragana or Katakana).
fn is_chinese_char(c: char) -> bool {
    matches!(
        c as u32,
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B920..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny BERT tokenizer: ids in vocabulary order.
    fn tokenizer(vocab: &[&str], strip_accents: &str) -> Tokenizer {
        let vocab: serde_json::Map<String, serde_json::Value> = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i.into()))
            .collect();
        let json = format!(
            r###"{{"added_tokens": [{{"id": 1, "content": "[UNK]", "special": true}},
                                 {{"id": 2, "content": "[MASK]", "special": true}}],
                "normalizer": {{"type": "BertNormalizer", "clean_text": true,
                    "handle_chinese_chars": true, "strip_accents": {strip_accents}, "lowercase": true}},
                "pre_tokenizer": {{"type": "BertPreTokenizer"}},
                "model": {{"type": "WordPiece", "unk_token": "[UNK]",
                    "continuing_subword_prefix": "##", "max_input_chars_per_word": 12,
                    "vocab": {}}}}}"###,
            serde_json::Value::Object(vocab)
        );
        Tokenizer::from_json(Path::new("tokenizer.json"), json.as_bytes()).unwrap()
    }

    const VOCAB: &[&str] = &[
        "[PAD]", "[UNK]", "[MASK]", "un", "##aff", "##able", "hello", "world", "!", ",", "cafe",
        "中", "文", "##s", "a", "##b", "naive", "i",
    ];

    fn ids(t: &Tokenizer, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        t.encode(text, &mut out, &mut Scratch::default());
        out
    }

    #[test]
    fn wordpiece_longest_match_first() {
        let t = tokenizer(VOCAB, "null");
        assert_eq!(ids(&t, "unaffable"), [3, 4, 5]);
        assert_eq!(ids(&t, "Hello, WORLD!"), [6, 9, 7, 8]);
        // One piece missing: the whole word is unknown.
        assert_eq!(ids(&t, "unaffablex hello"), [1, 6]);
        assert_eq!(ids(&t, "abbb"), [14, 15, 15, 15]);
        // Longer than max_input_chars_per_word (12 here).
        assert_eq!(ids(&t, "abbbbbbbbbbbb"), [1]);
        assert_eq!(ids(&t, ""), Vec::<u32>::new());
        assert_eq!(ids(&t, " \t\n "), Vec::<u32>::new());
    }

    #[test]
    fn normalizer_cleans_strips_and_spaces_cjk() {
        let t = tokenizer(VOCAB, "null");
        // Accents stripped after NFD, lowercased; a control char and U+FFFD removed.
        assert_eq!(ids(&t, "CAFÉ naïve"), [10, 16]);
        assert_eq!(ids(&t, "ca\u{0}f\u{fffd}e\u{200b}"), [10]);
        // CJK ideographs become words of their own, with no spaces needed.
        assert_eq!(ids(&t, "中文s"), [11, 12, 1]);
        // Unicode punctuation and whitespace split words.
        assert_eq!(ids(&t, "hello\u{3000}world\u{201c}"), [6, 7, 1]);
        // Turkish dotted capital I: NFD gives I + U+0307 (dropped), then lowercase.
        assert_eq!(ids(&t, "\u{130}"), [17]);
    }

    #[test]
    fn added_tokens_match_raw_text() {
        let t = tokenizer(VOCAB, "null");
        assert_eq!(ids(&t, "hello[MASK]world"), [6, 2, 7]);
        assert_eq!(ids(&t, "[mask]"), [1, 1, 1]);
        assert_eq!(ids(&t, "[UNK]"), [1]);
    }

    #[test]
    fn explicit_strip_accents_false_keeps_them() {
        let t = tokenizer(VOCAB, "false");
        assert_eq!(ids(&t, "CAFÉ"), [1]);
    }

    #[test]
    fn other_pipelines_are_refused() {
        let json = br#"{"model": {"type": "Unigram", "vocab": []}}"#;
        let err = Tokenizer::from_json(Path::new("t/tokenizer.json"), json).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t/tokenizer.json: model type Unigram is not supported (only WordPiece, the BERT pipeline)"
        );
        let err = Tokenizer::from_json(Path::new("t/tokenizer.json"), b"{").unwrap_err();
        assert!(err.to_string().starts_with("t/tokenizer.json: "));
    }
}
