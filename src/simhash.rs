//! SimHash of text: each shingle hashed with CityHash of the fingerprint's width, one
//! counter per bit (+1 where the hash bit is 1, -1 where it is 0, per occurrence), and the
//! fingerprint bit set where its counter is above zero.
//!
//! The counters are kept as per-bit counts of ones: eight 8-bit lanes per `u64`, filled by
//! a 256-entry table that spreads each hash byte over eight lanes, so one shingle costs
//! `BITS / 8` table lookups and additions instead of `BITS` branches.

use std::borrow::Cow;

use crate::fingerprint::Fingerprint;
use crate::shingle::{Normalization, Shingling, for_each_shingle};

/// A fingerprint type with a CityHash (v1.1) of the same width.
pub trait CityHash: Fingerprint {
    /// CityHash32, CityHash64 or CityHash128 (v1.1) of `bytes`. The 128-bit value is
    /// `high64 << 64 | low64` of Google's `uint128`, as the Python `cityhash` package returns.
    fn city(bytes: &[u8]) -> Self;
}

impl CityHash for u32 {
    #[inline]
    fn city(bytes: &[u8]) -> Self {
        cityhasher::hash::<u32>(bytes)
    }
}

impl CityHash for u64 {
    #[inline]
    fn city(bytes: &[u8]) -> Self {
        cityhasher::hash::<u64>(bytes)
    }
}

impl CityHash for u128 {
    #[inline]
    fn city(bytes: &[u8]) -> Self {
        cityhash_rs::cityhash_110_128(bytes)
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

/// Accumulates shingle hashes into per-bit counters of ones. Unit weight per occurrence.
#[derive(Clone, Debug)]
pub struct BitCounter {
    bits: u32,
    /// Byte lanes: `lanes[j]` lane `i` counts ones of hash bit `8 * j + i` since the last
    /// flush. A lane overflows after 255 additions, so we flush every 255.
    lanes: Vec<u64>,
    pending: u32,
    ones: Vec<u64>,
    total: u64,
}

impl BitCounter {
    /// Counters for `bits`-wide hashes (a multiple of 8).
    pub fn new(bits: u32) -> BitCounter {
        assert!(bits.is_multiple_of(8), "hash width must be a multiple of 8");
        BitCounter {
            bits,
            lanes: vec![0; bits as usize / 8],
            pending: 0,
            ones: vec![0; bits as usize],
            total: 0,
        }
    }

    /// Counts the bits of one hash.
    #[inline]
    pub fn add<F: Fingerprint>(&mut self, h: &F) {
        debug_assert_eq!(F::BITS, self.bits);
        for (j, lane) in self.lanes.iter_mut().enumerate() {
            *lane += SPREAD[h.extract(8 * j as u32, 8) as usize];
        }
        self.total += 1;
        self.pending += 1;
        if self.pending == 255 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        for (j, lane) in self.lanes.iter_mut().enumerate() {
            for i in 0..8 {
                self.ones[8 * j + i] += (*lane >> (8 * i)) & 0xff;
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
        self.flush();
        let mut fp = F::zero();
        for (i, &ones) in self.ones.iter().enumerate() {
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

impl TextConfig {
    /// The seed script (`dedup.py`): raw character bigrams, reversed bit order.
    pub fn dedup_py() -> TextConfig {
        TextConfig {
            shingling: Shingling {
                kind: crate::shingle::ShingleKind::Char,
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

/// Fingerprints one text.
pub fn fingerprint_text<F: CityHash>(text: &str, config: &TextConfig) -> TextSignature<F> {
    fingerprint_parts(text, None, config)
}

/// Fingerprints a record: the fields of `text` split at [`FIELD_SEPARATOR`] are normalised
/// and shingled one by one ([`for_each_field_shingle`]), and all their shingles feed one
/// SimHash, each tagged with its field (so a shingle never spans two fields, and equal words
/// in different columns are different features). `chars` counts the fields' characters; the
/// digest covers the normalised fields and their boundaries. A text without a separator
/// gives exactly [`fingerprint_text`]'s result.
pub fn fingerprint_fields<F: CityHash>(text: &str, config: &TextConfig) -> TextSignature<F> {
    fingerprint_parts(text, Some(FIELD_SEPARATOR), config)
}

/// Calls `f(k, shingle)` for every shingle of every part `k`. With several parts (the
/// fields of a record), a non-empty part too short to have a shingle is one shingle as a
/// whole, so that two records differing only in a short field do differ.
pub fn for_each_field_shingle<S: AsRef<str>>(
    parts: &[S],
    shingling: crate::shingle::Shingling,
    mut f: impl FnMut(usize, &str),
) {
    for (k, part) in parts.iter().enumerate() {
        let part = part.as_ref();
        let n = for_each_shingle(part, shingling, |s| f(k, s));
        if n == 0 && parts.len() > 1 && !part.is_empty() {
            f(k, part);
        }
    }
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

/// The normalised parts of `text` (the whole text, or its fields split at `separator`)
/// and the 128-bit digest of the normalised text (fields joined by the separator).
pub fn normalized_parts<'a>(
    text: &'a str,
    separator: Option<char>,
    config: &TextConfig,
) -> (Vec<Cow<'a, str>>, u128) {
    let parts: Vec<Cow<str>> = match separator {
        Some(sep) if text.contains(sep) => text
            .split(sep)
            .map(|part| config.normalization.apply(part))
            .collect(),
        _ => vec![config.normalization.apply(text)],
    };
    let digest = match (&parts[..], separator) {
        ([one], _) => cityhash_rs::cityhash_110_128(one.as_bytes()),
        (_, sep) => {
            let sep = sep
                .expect("several parts come from a separator")
                .to_string();
            cityhash_rs::cityhash_110_128(parts.join(sep.as_str()).as_bytes())
        }
    };
    (parts, digest)
}

fn fingerprint_parts<F: CityHash>(
    text: &str,
    separator: Option<char>,
    config: &TextConfig,
) -> TextSignature<F> {
    let text: Cow<str> = if config.compat && text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    };
    let (parts, digest) = normalized_parts(&text, separator, config);
    let chars = text.chars().count() as u64 + 1 - parts.len() as u64;
    let mut tagged = TaggedHasher(Vec::new());
    let (fingerprint, shingles) = match config.weighting {
        Weighting::Raw => {
            let mut counter = BitCounter::new(F::BITS);
            for_each_field_shingle(&parts, config.shingling, |k, s| {
                counter.add(&tagged.hash::<F>(k, s));
            });
            (counter.finish(config.compat), counter.total())
        }
        weighting => {
            let mut hashes: Vec<F> = Vec::new();
            for_each_field_shingle(&parts, config.shingling, |k, s| {
                hashes.push(tagged.hash::<F>(k, s));
            });
            (
                weighted(&mut hashes, weighting, config.compat),
                hashes.len() as u64,
            )
        }
    };
    TextSignature {
        fingerprint,
        shingles,
        chars,
        digest,
    }
}

/// SimHash of shingle hashes where a distinct hash occurring c times weighs `Log` or `Set`.
fn weighted<F: Fingerprint>(hashes: &mut [F], weighting: Weighting, reverse_bits: bool) -> F {
    hashes.sort_unstable();
    let mut counters = vec![0f64; F::BITS as usize];
    for run in hashes.chunk_by(|a, b| a == b) {
        let w = match weighting {
            Weighting::Log => 1.0 + (run.len() as f64).ln(),
            _ => 1.0,
        };
        for (i, c) in counters.iter_mut().enumerate() {
            *c += if run[0].bit(i as u32) { w } else { -w };
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

#[cfg(test)]
mod tests {
    use super::*;

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
        // More than 255 shingles so that the lanes flush.
        let words: Vec<String> = (0..700).map(|i| format!("w{}", i % 300)).collect();
        let refs: Vec<&str> = words.iter().map(|s| s.as_str()).collect();
        for reverse in [false, true] {
            let mut c = BitCounter::new(64);
            refs.iter().for_each(|s| c.add(&u64::city(s.as_bytes())));
            assert_eq!(c.finish::<u64>(reverse), naive::<u64>(&refs, reverse));
            let mut c = BitCounter::new(128);
            refs.iter().for_each(|s| c.add(&u128::city(s.as_bytes())));
            assert_eq!(c.finish::<u128>(reverse), naive::<u128>(&refs, reverse));
            let mut c = BitCounter::new(32);
            refs.iter().for_each(|s| c.add(&u32::city(s.as_bytes())));
            assert_eq!(c.finish::<u32>(reverse), naive::<u32>(&refs, reverse));
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

    #[test]
    fn compat_reads_universal_newlines() {
        let a = fingerprint_text::<u64>("ab\r\ncd\re", &TextConfig::dedup_py());
        let b = fingerprint_text::<u64>("ab\ncd\ne", &TextConfig::dedup_py());
        assert_eq!(a, b);
    }
}
