//! SimHash of text: each shingle hashed with CityHash of the fingerprint's width, one
//! counter per bit (+1 where the hash bit is 1, -1 where it is 0, per occurrence), and the
//! fingerprint bit set where its counter is above zero.
//!
//! The counters are kept as per-bit counts of ones, bit-sliced: hashes are summed eight at
//! a time by a tree of carry-save adders (Harley and Seal's popcount, one bit position per
//! bit of a word), and only each bit's count of eights goes to byte lanes, by a 256-entry
//! table that spreads a byte over eight lanes. A shingle costs about four word operations
//! per 64 bits instead of `BITS` branches.

use std::borrow::Cow;

use crate::fingerprint::Fingerprint;
use crate::text::minhash::Sketcher;
use crate::text::shingle::{Normalization, NormalizeStream, ShingleStream, Shingling};

/// A fingerprint type with a CityHash (v1.1) of the same width.
pub trait CityHash: Fingerprint {
    /// CityHash32, CityHash64 or CityHash128 (v1.1) of `bytes`. The 128-bit value is
    /// `high64 << 64 | low64` of Google's `uint128`, as the Python `cityhash` package returns.
    fn city(bytes: &[u8]) -> Self;
    /// A well-mixed 64-bit value of this hash, for MinHash ([`crate::text::minhash`]): the hash
    /// itself at 64 bits, its halves folded at 128, and a bijective mix of the 32-bit hash.
    fn sketch_hash(&self) -> u64;
}

impl CityHash for u32 {
    #[inline]
    fn city(bytes: &[u8]) -> Self {
        cityhasher::hash::<u32>(bytes)
    }
    #[inline]
    fn sketch_hash(&self) -> u64 {
        crate::text::minhash::mix64(*self as u64)
    }
}

impl CityHash for u64 {
    #[inline]
    fn city(bytes: &[u8]) -> Self {
        cityhasher::hash::<u64>(bytes)
    }
    #[inline]
    fn sketch_hash(&self) -> u64 {
        *self
    }
}

impl CityHash for u128 {
    #[inline]
    fn city(bytes: &[u8]) -> Self {
        crate::text::city::city128(bytes)
    }
    #[inline]
    fn sketch_hash(&self) -> u64 {
        (*self as u64) ^ (*self >> 64) as u64
    }
}

/// `SPREAD[b]` holds bit `i` of byte `b` in byte lane `i` (lane 0 = least significant).
const SPREAD: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut i = 0;
        while i < 8 {
            if b >> i & 1 == 1 {
                t[b] |= 1 << (8 * i);
            }
            i += 1;
        }
        b += 1;
    }
    t
};

/// Full adder on 64 bit positions at once: per bit, `a + b + c = sum + 2 * carry`.
#[inline(always)]
fn carry_save(a: u64, b: u64, c: u64) -> (u64, u64) {
    let u = a ^ b;
    (u ^ c, (a & b) | (u & c))
}

/// Accumulates shingle hashes into per-bit counters of ones. Unit weight per occurrence.
///
/// The count of ones of bit `i` is `ones + 2 * twos + 4 * fours` (bit `i` of each plane)
/// plus 8 times its count of eights (in `lanes`, then `counts`), plus the hashes still
/// waiting in `group`. A document of one shingle costs a full group of eight, and the
/// final sums, about a thousand operations: noise next to reading the file.
#[derive(Clone, Debug)]
pub struct BitCounter {
    bits: u32,
    /// Up to eight hashes not counted yet, as 64-bit words.
    group: [[u64; 2]; 8],
    grouped: usize,
    /// Carry-save planes: bit `i` of a plane is a binary digit of bit `i`'s count.
    ones: [u64; 2],
    twos: [u64; 2],
    fours: [u64; 2],
    /// Byte lanes of eights: `lanes[j]` lane `i` counts eights of hash bit `8 * j + i`
    /// since the last flush. A lane overflows after 255 additions, so we flush every 255.
    lanes: [u64; 16],
    pending: u32,
    /// Per bit, the ones flushed from the lanes.
    counts: Vec<u64>,
    total: u64,
}

impl BitCounter {
    /// Counters for `bits`-wide hashes (a multiple of 8, at most 128).
    pub fn new(bits: u32) -> BitCounter {
        assert!(bits.is_multiple_of(8), "hash width must be a multiple of 8");
        assert!(bits <= 128, "hashes of at most 128 bits");
        BitCounter {
            bits,
            group: [[0; 2]; 8],
            grouped: 0,
            ones: [0; 2],
            twos: [0; 2],
            fours: [0; 2],
            lanes: [0; 16],
            pending: 0,
            counts: vec![0; bits as usize],
            total: 0,
        }
    }

    /// Counts the bits of one hash.
    #[inline]
    pub fn add<F: Fingerprint>(&mut self, h: &F) {
        debug_assert_eq!(F::BITS, self.bits);
        let slot = &mut self.group[self.grouped % 8];
        for (w, word) in slot.iter_mut().enumerate().take(words::<F>()) {
            *word = h.extract(64 * w as u32, (F::BITS - 64 * w as u32).min(64));
        }
        self.total += 1;
        self.grouped += 1;
        if self.grouped == 8 {
            self.add_group::<F>();
        }
    }

    /// Adds the eight hashes of `group` to the planes; the eights they carry out go to
    /// the lanes.
    #[inline]
    #[allow(clippy::needless_range_loop)] // `w` indexes the planes and the group in step
    fn add_group<F: Fingerprint>(&mut self) {
        let g = &self.group;
        for w in 0..words::<F>() {
            let (ones, twos_a) = carry_save(self.ones[w], g[0][w], g[1][w]);
            let (ones, twos_b) = carry_save(ones, g[2][w], g[3][w]);
            let (twos, fours_a) = carry_save(self.twos[w], twos_a, twos_b);
            let (ones, twos_a) = carry_save(ones, g[4][w], g[5][w]);
            let (ones, twos_b) = carry_save(ones, g[6][w], g[7][w]);
            let (twos, fours_b) = carry_save(twos, twos_a, twos_b);
            let (fours, eights) = carry_save(self.fours[w], fours_a, fours_b);
            (self.ones[w], self.twos[w], self.fours[w]) = (ones, twos, fours);
            let bytes = ((F::BITS - 64 * w as u32).min(64) / 8) as usize;
            for j in 0..bytes {
                self.lanes[8 * w + j] += SPREAD[(eights >> (8 * j)) as usize & 0xff];
            }
        }
        self.grouped = 0;
        self.pending += 1;
        if self.pending == 255 {
            self.flush();
        }
    }

    /// Moves the lanes' counts of eights to `counts`.
    fn flush(&mut self) {
        let lanes = self.bits as usize / 8;
        for (j, lane) in self.lanes[..lanes].iter_mut().enumerate() {
            for i in 0..8 {
                self.counts[8 * j + i] += 8 * ((*lane >> (8 * i)) & 0xff);
            }
            *lane = 0;
        }
        self.pending = 0;
    }

    /// Number of hashes added.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The SimHash: bit `i` set where more hashes had bit `i` set than not (ties give 0).
    /// With `reverse_bits`, counter `i` becomes bit `BITS - 1 - i` (the seed's order).
    pub fn finish<F: Fingerprint>(&mut self, reverse_bits: bool) -> F {
        let mut fp = F::zero();
        for (i, ones) in self.ones::<F>().into_iter().enumerate() {
            if 2 * ones > self.total {
                let bit = if reverse_bits {
                    F::BITS - 1 - i as u32
                } else {
                    i as u32
                };
                fp.set_bit(bit);
            }
        }
        fp
    }

    /// The number of hashes with each bit set. Consumes the counts: call once, at the end.
    fn ones<F: Fingerprint>(&mut self) -> Vec<u64> {
        // The hashes still waiting, padded with zero hashes (which add nothing).
        if self.grouped > 0 {
            self.group[self.grouped..].fill([0; 2]);
            self.add_group::<F>();
        }
        self.flush();
        let mut ones = std::mem::take(&mut self.counts);
        for (i, count) in ones.iter_mut().enumerate() {
            let (w, b) = (i / 64, i % 64);
            let digit = |plane: [u64; 2]| plane[w] >> b & 1;
            *count += digit(self.ones) + 2 * digit(self.twos) + 4 * digit(self.fours);
        }
        ones
    }
}

/// 64-bit words in a hash of type `F` (1 or 2).
#[inline(always)]
const fn words<F: Fingerprint>() -> usize {
    F::BITS.div_ceil(64) as usize
}

/// How much each distinct shingle counts in the fingerprint, by its number of occurrences c.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Weighting {
    /// c: every occurrence counts (the seed's way).
    #[default]
    Raw,
    /// 1 + ln(c): repetition counts, but less.
    Log,
    /// 1: the shingle set, as Jaccard similarity sees it.
    Set,
}

/// How text becomes a fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TextConfig {
    pub shingling: Shingling,
    pub normalization: Normalization,
    pub weighting: Weighting,
    /// The seed script's conventions: Python's universal newlines (`\r\n` and `\r` read as
    /// `\n`) and the reversed output bit order.
    pub compat: bool,
}

/// The command line's defaults: word 3-shingles, every normalisation step, raw weights.
impl Default for TextConfig {
    fn default() -> Self {
        TextConfig {
            shingling: Shingling {
                kind: crate::text::shingle::ShingleKind::Word,
                n: 3,
            },
            normalization: Normalization::ALL,
            weighting: Weighting::Raw,
            compat: false,
        }
    }
}

impl TextConfig {
    /// The seed script (`dedup.py`): raw character bigrams, reversed bit order.
    pub fn dedup_py() -> TextConfig {
        TextConfig {
            shingling: Shingling {
                kind: crate::text::shingle::ShingleKind::Char,
                n: 2,
            },
            normalization: Normalization::default(),
            weighting: Weighting::Raw,
            compat: true,
        }
    }
}

/// What fingerprinting learned about one text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextSignature<F> {
    pub fingerprint: F,
    /// Number of shingle occurrences; 0 means the text was too short to fingerprint.
    pub shingles: u64,
    /// Length in characters (Unicode scalar values) of the text as read (after newline
    /// translation in compat mode, before normalisation).
    pub chars: u64,
    /// 128-bit CityHash of the normalised text: equal texts after normalisation have equal
    /// digests (exact-duplicate detection).
    pub digest: u128,
}

/// Separates the fields of a record joined into one text (ASCII Record Separator). The
/// `*_fields` functions normalise and shingle each field on its own, so no shingle spans
/// two fields; the separator itself never reaches a shingle or the digest's fields.
pub const FIELD_SEPARATOR: char = '\u{1e}';

/// Fingerprints one text: [`Fingerprinter`] over the text as one piece.
pub fn fingerprint_text<F: CityHash>(text: &str, config: &TextConfig) -> TextSignature<F> {
    let mut fp = Fingerprinter::new(config);
    fp.push(text, true);
    fp.finish()
}

/// Fingerprints a record: the fields of `text` split at [`FIELD_SEPARATOR`] are normalised
/// and shingled one by one, and all their shingles feed one SimHash, each tagged with its
/// field (so a shingle never spans two fields, and equal words in different columns are
/// different features). With several fields, a non-empty field too short to have a
/// shingle is one shingle as a whole, so that two records differing only in a short field
/// do differ. `chars` counts the fields' characters; the digest covers the normalised
/// fields and their boundaries. A text without a separator gives exactly
/// [`fingerprint_text`]'s result.
pub fn fingerprint_fields<F: CityHash>(text: &str, config: &TextConfig) -> TextSignature<F> {
    fingerprint_fields_with(text, config, None)
}

/// [`fingerprint_fields`], also feeding the shingle hashes to `sketcher` when given (see
/// [`Fingerprinter::with_sketcher`]).
pub fn fingerprint_fields_with<'c, F: CityHash>(
    text: &str,
    config: &'c TextConfig,
    sketcher: Option<&'c mut Sketcher>,
) -> TextSignature<F> {
    fields_with(text, config, sketcher, true)
}

/// [`fingerprint_fields_with`], the SimHash skipped unless `simhash`
/// ([`Fingerprinter::without_simhash`]).
pub fn fields_with<'c, F: CityHash>(
    text: &str,
    config: &'c TextConfig,
    sketcher: Option<&'c mut Sketcher>,
    simhash: bool,
) -> TextSignature<F> {
    let fields = text.contains(FIELD_SEPARATOR);
    let mut fp = Fingerprinter::with_stream(TextStream::new(config, fields));
    if !simhash {
        fp = fp.without_simhash();
    }
    fp.sketcher = sketcher;
    for (k, field) in text.split(FIELD_SEPARATOR).enumerate() {
        if k > 0 {
            fp.stream.next_field();
        }
        fp.push(field, true);
    }
    fp.finish()
}

/// Fingerprints one text and computes its MinHash band keys with `sketcher` (as the
/// corpus pass does): the signature and the keys.
pub fn sketch_text<F: CityHash>(
    text: &str,
    config: &TextConfig,
    sketcher: &mut Sketcher,
) -> (TextSignature<F>, Vec<u32>) {
    let mut keys = vec![0; sketcher.params().bands as usize];
    let sig = {
        let mut fp = Fingerprinter::new(config).with_sketcher(sketcher);
        fp.push(text, true);
        fp.finish()
    };
    sketcher.finish(&mut keys);
    (sig, keys)
}

/// Hashes shingles tagged with their field: field 0 as the shingle alone (so one field is
/// hashed as plain text), field k > 0 with the bytes `0x1e, k` in front.
struct TaggedHasher(Vec<u8>);

impl TaggedHasher {
    fn hash<F: CityHash>(&mut self, k: usize, s: &str) -> F {
        if k == 0 {
            return F::city(s.as_bytes());
        }
        self.0.clear();
        self.0.extend_from_slice(&[0x1e, k as u8]);
        self.0.extend_from_slice(s.as_bytes());
        F::city(&self.0)
    }
}

/// A text on its way from the reader to the shingles, in pieces of any size: newline
/// translation (compat mode), normalisation, the digest of the normalised text and
/// shingling, each carried across piece boundaries so that the shingles, the character
/// count and the digest are those of the whole text read at once. The whole-text functions
/// are this stream over one piece.
///
/// Memory between pieces: a piece is processed up to its last safe cut (a character
/// normalisation cannot join with what precedes it, see
/// [`Normalization::can_cut_before`]; never between `\r` and `\n` in compat mode), the rest
/// waits for the next piece; shingling keeps the last n words. So the memory is a few
/// times the piece size plus the longest n words, whatever the length of the text.
pub struct TextStream<'c> {
    config: &'c TextConfig,
    /// Text received but not processed yet (after the last safe cut).
    held: String,
    normalizer: NormalizeStream,
    normalized: String,
    shingles: ShingleStream,
    digest: twox_hash::XxHash3_128,
    chars: u64,
    field: usize,
}

impl<'c> TextStream<'c> {
    /// A stream for one text, or for the fields of a record when `fields` (then a short
    /// field is one shingle, see [`fingerprint_fields`]); fields are separated by
    /// [`TextStream::next_field`].
    pub fn new(config: &'c TextConfig, fields: bool) -> TextStream<'c> {
        TextStream {
            config,
            held: String::new(),
            normalizer: NormalizeStream::new(config.normalization),
            normalized: String::new(),
            shingles: ShingleStream::new(config.shingling, fields)
                .spaces_only(config.normalization.collapse_whitespace),
            digest: twox_hash::XxHash3_128::new(),
            chars: 0,
            field: 0,
        }
    }

    /// Takes the next piece of the text; `last` ends the text (or the current field).
    /// `f(field, shingle)` is called for every shingle that is complete.
    pub fn push(&mut self, text: &str, last: bool, f: &mut impl FnMut(usize, &str)) {
        if self.held.is_empty() {
            let cut = if last {
                text.len()
            } else {
                self.safe_cut(text)
            };
            self.process(&text[..cut], last, f);
            self.held.push_str(&text[cut..]);
        } else {
            let mut buf = std::mem::take(&mut self.held);
            buf.push_str(text);
            let cut = if last { buf.len() } else { self.safe_cut(&buf) };
            self.process(&buf[..cut], last, f);
            buf.drain(..cut);
            self.held = buf;
        }
    }

    /// Starts the next field of a record (after a `push` with `last`).
    pub fn next_field(&mut self) {
        self.digest
            .write(FIELD_SEPARATOR.encode_utf8(&mut [0; 4]).as_bytes());
        self.field += 1;
    }

    /// The character count and the digest of the normalised text (fields joined by
    /// [`FIELD_SEPARATOR`]).
    pub fn finish(self) -> (u64, u128) {
        (self.chars, self.digest.finish_128())
    }

    /// The longest prefix of `text` that can be processed without what follows.
    fn safe_cut(&self, text: &str) -> usize {
        let compat = self.config.compat;
        let norm = &self.config.normalization;
        if !norm.nfkc {
            return text.len() - (compat && text.ends_with('\r')) as usize;
        }
        text.char_indices()
            .rev()
            .find(|&(_, c)| norm.can_cut_before(c) && !(compat && c == '\n'))
            .map_or(0, |(i, _)| i)
    }

    fn process(&mut self, piece: &str, last: bool, f: &mut impl FnMut(usize, &str)) {
        let piece: Cow<str> = if self.config.compat && piece.contains('\r') {
            Cow::Owned(piece.replace("\r\n", "\n").replace('\r', "\n"))
        } else {
            Cow::Borrowed(piece)
        };
        self.chars += piece.chars().count() as u64;
        let normalized: &str = if self.config.normalization.any() {
            self.normalizer.push(&piece, &mut self.normalized);
            if last {
                self.normalizer.reset();
            }
            &self.normalized
        } else {
            &piece
        };
        self.digest.write(normalized.as_bytes());
        let field = self.field;
        self.shingles.push(normalized, last, &mut |s| f(field, s));
    }
}

/// Fingerprints a text that arrives in pieces ([`TextStream`]): the result is bit for bit
/// [`fingerprint_text`] of the whole text. Raw weights keep only the bit counters; `log`
/// and `set` weights need each distinct shingle's count over the whole text, so their
/// memory grows with the number of distinct shingles (16 to 24 bytes each).
pub struct Fingerprinter<'c, F> {
    stream: TextStream<'c>,
    /// MinHash band keys built from the same shingle hashes, when asked for.
    sketcher: Option<&'c mut Sketcher>,
    tagged: TaggedHasher,
    weights: Weights<F>,
    shingles: u64,
    compat: bool,
}

// One per document being read, on the stack: the counter's fixed arrays cost nothing to
// keep next to the smaller variant, and boxing them would cost an allocation per document.
#[allow(clippy::large_enum_variant)]
enum Weights<F> {
    /// No SimHash wanted (band keys, digest and counts only): the fingerprint is zero.
    Skipped,
    /// Raw weights: per-bit counters, a fixed size.
    Raw(BitCounter),
    /// Log and set weights: hashes not yet counted, and the distinct hashes counted so
    /// far with their occurrences, sorted by hash.
    Counted {
        weighting: Weighting,
        pending: Vec<F>,
        counted: Vec<(F, u64)>,
    },
}

impl<'c, F: CityHash> Fingerprinter<'c, F> {
    pub fn new(config: &'c TextConfig) -> Fingerprinter<'c, F> {
        Fingerprinter::with_stream(TextStream::new(config, false))
    }

    fn with_stream(stream: TextStream<'c>) -> Fingerprinter<'c, F> {
        let config = stream.config;
        let weights = match config.weighting {
            Weighting::Raw => Weights::Raw(BitCounter::new(F::BITS)),
            weighting => Weights::Counted {
                weighting,
                pending: Vec::new(),
                counted: Vec::new(),
            },
        };
        Fingerprinter {
            stream,
            sketcher: None,
            tagged: TaggedHasher(Vec::new()),
            weights,
            shingles: 0,
            compat: config.compat,
        }
    }

    /// Also feeds every shingle hash to `sketcher` (which must be empty), for
    /// [`crate::text::minhash`] band keys: the caller takes them with [`Sketcher::finish`] after
    /// [`Fingerprinter::finish`].
    pub fn with_sketcher(mut self, sketcher: &'c mut Sketcher) -> Self {
        debug_assert!(sketcher.is_empty());
        self.sketcher = Some(sketcher);
        self
    }

    /// Skips the SimHash: the signature's fingerprint is zero, its digest, counts and any
    /// band keys are as ever (for a caller that needs only those, as the Spark sketch).
    pub fn without_simhash(mut self) -> Self {
        self.weights = Weights::Skipped;
        self
    }

    /// Takes the next piece of the text; `last` ends it.
    pub fn push(&mut self, text: &str, last: bool) {
        let Fingerprinter {
            stream,
            sketcher,
            tagged,
            weights,
            shingles,
            ..
        } = self;
        stream.push(text, last, &mut |k, s| {
            *shingles += 1;
            let h = tagged.hash::<F>(k, s);
            if let Some(sketcher) = sketcher {
                sketcher.add(h.sketch_hash());
            }
            match weights {
                Weights::Skipped => {}
                Weights::Raw(counter) => counter.add(&h),
                Weights::Counted {
                    pending, counted, ..
                } => {
                    pending.push(h);
                    if pending.len() >= (1 << 16).max(counted.len()) {
                        count_pending(pending, counted);
                    }
                }
            }
        });
    }

    /// The signature of the text pushed.
    pub fn finish(self) -> TextSignature<F> {
        let fingerprint = match self.weights {
            Weights::Skipped => F::zero(),
            Weights::Raw(mut counter) => counter.finish(self.compat),
            Weights::Counted {
                weighting,
                mut pending,
                mut counted,
            } => {
                count_pending(&mut pending, &mut counted);
                weighted(&counted, weighting, self.compat)
            }
        };
        let (chars, digest) = self.stream.finish();
        TextSignature {
            fingerprint,
            shingles: self.shingles,
            chars,
            digest,
        }
    }
}

/// Merges the `pending` hashes into `counted` (sorted by hash, one entry per hash).
fn count_pending<F: Fingerprint>(pending: &mut Vec<F>, counted: &mut Vec<(F, u64)>) {
    pending.sort_unstable();
    counted.extend(
        pending
            .chunk_by(|a, b| a == b)
            .map(|run| (run[0], run.len() as u64)),
    );
    pending.clear();
    counted.sort_by_key(|&(h, _)| h);
    counted.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            earlier.1 += later.1;
        }
        same
    });
}

/// SimHash of distinct shingle hashes (sorted) with their counts c, each weighing `Log`
/// (1 + ln c) or `Set` (1). The sums run in hash order, so they do not depend on the order
/// the shingles came in.
fn weighted<F: Fingerprint>(counted: &[(F, u64)], weighting: Weighting, reverse_bits: bool) -> F {
    let mut counters = vec![0f64; F::BITS as usize];
    for &(h, c) in counted {
        let w = match weighting {
            Weighting::Log => 1.0 + (c as f64).ln(),
            _ => 1.0,
        };
        for (i, ctr) in counters.iter_mut().enumerate() {
            *ctr += if h.bit(i as u32) { w } else { -w };
        }
    }
    if reverse_bits {
        counters.reverse();
    }
    let mut fp = F::zero();
    for (i, &c) in counters.iter().enumerate() {
        if c > 0.0 {
            fp.set_bit(i as u32);
        }
    }
    fp
}

/// Streams `text` whole, or field by field when `separator` is given and occurs in it
/// (as [`fingerprint_fields`] does), calling `f(field, shingle)`; returns the character
/// count and the digest.
pub fn stream_text(
    text: &str,
    separator: Option<char>,
    config: &TextConfig,
    f: &mut impl FnMut(usize, &str),
) -> (u64, u128) {
    let sep = separator.filter(|&c| text.contains(c));
    let mut stream = TextStream::new(config, sep.is_some());
    match sep {
        Some(sep) => {
            for (k, field) in text.split(sep).enumerate() {
                if k > 0 {
                    stream.next_field();
                }
                stream.push(field, true, f);
            }
        }
        None => stream.push(text, true, f),
    }
    stream.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::shingle::for_each_shingle;

    /// The straightforward definition, for comparison with the lane counter.
    fn naive<F: CityHash>(shingles: &[&str], reverse: bool) -> F {
        let mut c = vec![0i64; F::BITS as usize];
        for s in shingles {
            let h = F::city(s.as_bytes());
            for (i, ci) in c.iter_mut().enumerate() {
                *ci += if h.bit(i as u32) { 1 } else { -1 };
            }
        }
        if reverse {
            c.reverse();
        }
        F::from_counters(&c)
    }

    #[test]
    fn lane_counter_equals_naive_counters() {
        // Every remainder of a group of eight, and more than 255 groups so that the lanes
        // flush; distinct words, and one word over and over (every count at its extreme).
        for (count, distinct) in [(0, 1), (1, 1), (7, 5), (8, 8), (13, 13), (700, 300)]
            .into_iter()
            .chain([(2039, 1000), (2041, 2041), (5000, 1), (20_001, 7)])
        {
            let words: Vec<String> = (0..count).map(|i| format!("w{}", i % distinct)).collect();
            let refs: Vec<&str> = words.iter().map(|s| s.as_str()).collect();
            for reverse in [false, true] {
                let mut c = BitCounter::new(64);
                refs.iter().for_each(|s| c.add(&u64::city(s.as_bytes())));
                assert_eq!(c.finish::<u64>(reverse), naive::<u64>(&refs, reverse));
                let mut c = BitCounter::new(128);
                refs.iter().for_each(|s| c.add(&u128::city(s.as_bytes())));
                assert_eq!(
                    c.clone().finish::<u128>(reverse),
                    naive::<u128>(&refs, reverse)
                );
                // The counts themselves, not only their signs.
                let expected: Vec<u64> = (0..128)
                    .map(|i| {
                        refs.iter()
                            .filter(|s| u128::city(s.as_bytes()).bit(i))
                            .count() as u64
                    })
                    .collect();
                assert_eq!(c.ones::<u128>(), expected);
                let mut c = BitCounter::new(32);
                refs.iter().for_each(|s| c.add(&u32::city(s.as_bytes())));
                assert_eq!(c.finish::<u32>(reverse), naive::<u32>(&refs, reverse));
            }
        }
    }

    #[test]
    fn cityhash_reference_vectors() {
        // Values printed by the reference `cityhash` Python package (CityHash v1.1).
        assert_eq!(u32::city(b"hello"), 2039911270);
        assert_eq!(u64::city("é".as_bytes()), 693143013273849025);
    }

    #[test]
    fn weightings() {
        let mut config = TextConfig::dedup_py();
        config.compat = false;
        config.shingling = "word:1".parse().unwrap();
        let once = "alpha beta gamma delta epsilon";
        let repeated = "alpha beta gamma delta epsilon alpha alpha alpha alpha alpha alpha";
        config.weighting = Weighting::Set;
        let a = fingerprint_text::<u64>(once, &config);
        let b = fingerprint_text::<u64>(repeated, &config);
        assert_eq!(a.fingerprint, b.fingerprint, "a set ignores repetition");
        assert_eq!(b.shingles, 11);
        // Raw and unit weights agree when every shingle occurs once.
        config.weighting = Weighting::Raw;
        assert_eq!(
            fingerprint_text::<u64>(once, &config).fingerprint,
            a.fingerprint
        );
        config.weighting = Weighting::Log;
        assert_eq!(
            fingerprint_text::<u64>(once, &config).fingerprint,
            a.fingerprint
        );
    }

    #[test]
    fn fields_never_share_a_shingle() {
        let mut config = TextConfig::dedup_py();
        config.compat = false;
        config.normalization = Normalization::ALL;
        config.shingling = "word:2".parse().unwrap();
        let one = fingerprint_fields::<u64>("Alpha beta gamma", &config);
        assert_eq!(one, fingerprint_text::<u64>("Alpha beta gamma", &config));
        // "beta gamma" spans the boundary in the joined text but not in the record.
        let two = fingerprint_fields::<u64>("alpha beta\u{1e}gamma delta", &config);
        assert_eq!(two.shingles, 2);
        assert_eq!(two.chars, 21);
        // A short field counts as one shingle; an empty one as none.
        assert_eq!(
            fingerprint_fields::<u64>("alpha beta\u{1e}gamma", &config).shingles,
            2
        );
        assert_eq!(
            fingerprint_fields::<u64>("alpha beta\u{1e}", &config).shingles,
            1
        );
        // The same words in another field are another feature.
        let a = fingerprint_fields::<u64>("x y\u{1e}alpha beta gamma delta", &config);
        let b = fingerprint_fields::<u64>("alpha beta gamma delta\u{1e}x y", &config);
        assert_ne!(a.fingerprint, b.fingerprint);
        let joined = fingerprint_text::<u64>("alpha beta gamma delta", &config);
        assert_eq!(joined.shingles, 3);
        // Field boundaries are part of the exact-duplicate key.
        let moved = fingerprint_fields::<u64>("alpha\u{1e}beta gamma delta", &config);
        assert_ne!(moved.digest, two.digest);
        assert_ne!(joined.digest, two.digest);
    }

    #[test]
    fn short_text_gives_zero() {
        let sig = fingerprint_text::<u64>("a", &TextConfig::dedup_py());
        assert_eq!(sig.fingerprint, 0);
        assert_eq!(sig.shingles, 0);
        assert_eq!(sig.chars, 1);
    }

    /// `text` cut into pieces of the given byte lengths (moved to character boundaries).
    fn pieces<'a>(text: &'a str, lengths: &[usize]) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut rest = text;
        for &len in lengths.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let mut cut = len.min(rest.len());
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            out.push(&rest[..cut]);
            rest = &rest[cut..];
        }
        out
    }

    /// The whole-text definition: newline translation, normalisation of the whole text,
    /// its shingles in order, its character count and digest.
    fn whole_text(text: &str, config: &TextConfig) -> (Vec<String>, u64, u128) {
        let text = if config.compat {
            text.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            text.to_string()
        };
        let normalized = config.normalization.apply(&text);
        let mut shingles = Vec::new();
        for_each_shingle(&normalized, config.shingling, |s| {
            shingles.push(s.to_string())
        });
        let digest = twox_hash::XxHash3_128::oneshot(normalized.as_bytes());
        (shingles, text.chars().count() as u64, digest)
    }

    fn streamed<F: CityHash>(parts: &[&str], config: &TextConfig) -> TextSignature<F> {
        let mut fp = Fingerprinter::<F>::new(config);
        for (i, part) in parts.iter().enumerate() {
            fp.push(part, i + 1 == parts.len());
        }
        if parts.is_empty() {
            fp.push("", true);
        }
        fp.finish()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Streaming in pieces of 1 to 64 bytes gives the whole text's shingles (in
        /// order), character count, digest and fingerprint, for every configuration.
        #[test]
        fn streaming_equals_whole_text(
            text in "[ a-dA-D.,'\t\r\n\u{a0}\u{3000}\u{85}\u{301}\u{308}\u{327}ÀÉİẞŉéﬁＡ①㈱각가\u{1100}\u{1161}\u{0B47}\u{0B3E}Σς東\u{1e}\u{fffd}]{0,80}",
            lengths in proptest::collection::vec(1usize..64, 1..8),
            word: bool, n in 1usize..5,
            nfkc: bool, lowercase: bool, strip_punctuation: bool, collapse_whitespace: bool,
            weighting in proptest::sample::select(vec![Weighting::Raw, Weighting::Log, Weighting::Set]),
            compat: bool,
        ) {
            let config = TextConfig {
                shingling: Shingling {
                    kind: if word { crate::text::shingle::ShingleKind::Word } else { crate::text::shingle::ShingleKind::Char },
                    n,
                },
                normalization: Normalization { nfkc, lowercase, strip_punctuation, collapse_whitespace },
                weighting,
                compat,
            };
            let parts = pieces(&text, &lengths);
            let (shingles, chars, digest) = whole_text(&text, &config);
            let mut got = Vec::new();
            let mut stream = TextStream::new(&config, false);
            for (i, part) in parts.iter().enumerate() {
                stream.push(part, i + 1 == parts.len(), &mut |_, s| got.push(s.to_string()));
            }
            if parts.is_empty() {
                stream.push("", true, &mut |_, s| got.push(s.to_string()));
            }
            proptest::prop_assert_eq!(&got, &shingles);
            proptest::prop_assert_eq!(stream.finish(), (chars, digest));
            let whole = fingerprint_text::<u32>(&text, &config);
            proptest::prop_assert_eq!(whole.shingles, shingles.len() as u64);
            proptest::prop_assert_eq!(streamed::<u32>(&parts, &config), whole);
            proptest::prop_assert_eq!(streamed::<u64>(&parts, &config), fingerprint_text::<u64>(&text, &config));
            proptest::prop_assert_eq!(streamed::<u128>(&parts, &config), fingerprint_text::<u128>(&text, &config));
        }
    }

    #[test]
    fn weights_count_across_compactions() {
        // More distinct shingles than one compaction holds, each several times.
        let words: Vec<String> = (0..200_000).map(|i| format!("w{}", i % 70_000)).collect();
        let text = words.join(" ");
        for weighting in [Weighting::Log, Weighting::Set] {
            let config = TextConfig {
                shingling: "word:1".parse().unwrap(),
                normalization: Normalization::ALL,
                weighting,
                compat: false,
            };
            let mut hashes: Vec<u64> = words.iter().map(|w| u64::city(w.as_bytes())).collect();
            hashes.sort_unstable();
            let counted: Vec<(u64, u64)> = hashes
                .chunk_by(|a, b| a == b)
                .map(|run| (run[0], run.len() as u64))
                .collect();
            let expected = weighted(&counted, weighting, false);
            let parts = pieces(&text, &[4096]);
            assert_eq!(streamed::<u64>(&parts, &config).fingerprint, expected);
            assert_eq!(
                fingerprint_text::<u64>(&text, &config).fingerprint,
                expected
            );
        }
    }

    #[test]
    fn compat_reads_universal_newlines() {
        let a = fingerprint_text::<u64>("ab\r\ncd\re", &TextConfig::dedup_py());
        let b = fingerprint_text::<u64>("ab\ncd\ne", &TextConfig::dedup_py());
        assert_eq!(a, b);
    }
}
