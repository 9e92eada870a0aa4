//! Texts as documents: what is known of each once it is fingerprinted ([`DocStats`]), how
//! a set of documents is read again by index for verification ([`TextSource`]: files,
//! dataset rows, an index plus new files) and the sorted shingle-hash sets that exact
//! Jaccard compares. Fingerprinting, reading and storage share these; decisions live above.

use rayon::prelude::*;

use crate::error::Error;
use crate::text::minhash::BandKeys;
use crate::text::simhash::{TextConfig, TextStream, stream_text};
use crate::text::sketch::Sketch;

/// What deduplication needs to know of a fingerprinted document besides its fingerprint:
/// files ([`crate::text::corpus::Document`]) and records ([`crate::records::Row`]) alike.
pub trait DocStats: Sync {
    /// Characters in the text as read (for [`KeepOrder`]).
    fn chars(&self) -> u64;
    /// Shingle occurrences; 0 = too short to fingerprint (compared as exact duplicate only).
    fn shingles(&self) -> u64;
    /// Digest of the normalised text: equal digests are exact duplicates.
    fn digest(&self) -> u128;
}

/// Documents that can be read again by index, for verification.
pub trait TextSource: Sync {
    /// The text of document `i`, as it was read for fingerprinting.
    fn text(&self, i: usize) -> Result<String, Error>;
    /// How to name document `i` in a message (its path, or its row).
    fn name(&self, i: usize) -> String;
    /// The character that separates fields in the texts, for records of several fields
    /// (see [`crate::text::simhash::fingerprint_fields`]); `None` for plain documents.
    fn separator(&self) -> Option<char> {
        None
    }
    /// The shingle set and digest of document `i`, as [`shingle_set`] builds them from
    /// [`TextSource::text`]; a source of large documents streams them instead.
    fn shingle_set(&self, i: usize, config: &TextConfig) -> Result<(Vec<u64>, u128), Error> {
        Ok(shingle_set(&self.text(i)?, self.separator(), config))
    }
    /// The similarity sketch of document `i` made when it was fingerprinted
    /// ([`crate::text::sketch`]), when the source keeps them: the band search's verification
    /// compares two before it reads either. `None`: every candidate is read.
    fn sketch(&self, _i: usize) -> Option<Sketch<'_>> {
        None
    }
}

/// Fingerprinted texts as the text jobs take them: `fingerprints[i]` and `docs[i]` describe
/// text `i`, which `source` reads again; `bands` holds their MinHash band keys when they
/// were computed.
pub struct Texts<'a, F, D> {
    pub fingerprints: &'a [F],
    pub docs: &'a [D],
    pub bands: Option<&'a BandKeys>,
    pub source: &'a dyn TextSource,
}

impl<F, D: DocStats> Texts<'_, F, D> {
    /// Number of texts.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
}

/// Two sources read as one, numbered as one run over both would number them: `first`'s
/// texts `0..split`, then `second`'s. Records keep `first`'s separator.
pub struct Joined<'a> {
    pub first: &'a dyn TextSource,
    pub second: &'a dyn TextSource,
    pub split: usize,
}

impl Joined<'_> {
    fn side(&self, i: usize) -> (&dyn TextSource, usize) {
        match i.checked_sub(self.split) {
            None => (self.first, i),
            Some(j) => (self.second, j),
        }
    }
}

impl TextSource for Joined<'_> {
    fn text(&self, i: usize) -> Result<String, Error> {
        let (s, j) = self.side(i);
        s.text(j)
    }

    fn name(&self, i: usize) -> String {
        let (s, j) = self.side(i);
        s.name(j)
    }

    fn separator(&self) -> Option<char> {
        self.first.separator()
    }

    fn shingle_set(&self, i: usize, config: &TextConfig) -> Result<(Vec<u64>, u128), Error> {
        let (s, j) = self.side(i);
        s.shingle_set(j, config)
    }

    fn sketch(&self, i: usize) -> Option<Sketch<'_>> {
        let (s, j) = self.side(i);
        s.sketch(j)
    }
}

/// The distinct shingles of a text (after the configured normalisation), as sorted 64-bit
/// hashes, and the digest of its normalised text. With a `separator`, the text is a record
/// whose fields are shingled one by one, as [`crate::text::simhash::fingerprint_fields`] does,
/// and each hash carries its field's index in its low byte (see [`field_jaccard`]).
pub fn shingle_set(text: &str, separator: Option<char>, config: &TextConfig) -> (Vec<u64>, u128) {
    let mut set = SetBuilder::new(separator.is_some());
    let (_, digest) = stream_text(text, separator, config, &mut |k, s| set.add(k, s));
    (set.finish(), digest)
}

/// The shingle set of a text that arrives in pieces ([`TextStream`]): equal to
/// [`shingle_set`] of the whole text (without fields). Memory grows with the number of
/// distinct shingles (8 bytes each, about twice that while the set is built), not with
/// the length of the text.
pub fn stream_shingle_set(
    config: &TextConfig,
    read: impl FnOnce(&mut dyn FnMut(&str, bool)) -> Result<(), Error>,
) -> Result<(Vec<u64>, u128), Error> {
    let mut stream = TextStream::new(config, false);
    let mut set = SetBuilder::new(false);
    read(&mut |piece, last| stream.push(piece, last, &mut |k, s| set.add(k, s)))?;
    Ok((set.finish(), stream.finish().1))
}

/// Collects shingle hashes into a sorted set, deduplicating as it grows.
struct SetBuilder {
    hashes: Vec<u64>,
    /// Tag each hash with its field in the low byte.
    tag: bool,
    /// Length after the last deduplication.
    distinct: usize,
}

impl SetBuilder {
    fn new(tag: bool) -> SetBuilder {
        SetBuilder {
            hashes: Vec::new(),
            tag,
            distinct: 0,
        }
    }

    fn add(&mut self, k: usize, s: &str) {
        let h = cityhasher::hash::<u64>(s.as_bytes());
        self.hashes
            .push(if self.tag { h & !0xff | k as u64 } else { h });
        if self.hashes.len() >= (1 << 20).max(2 * self.distinct) {
            self.dedup();
        }
    }

    fn dedup(&mut self) {
        self.hashes.sort_unstable();
        self.hashes.dedup();
        self.distinct = self.hashes.len();
    }

    fn finish(mut self) -> Vec<u64> {
        self.dedup();
        self.hashes
    }
}

/// Documents sampled for a band shape's background ([`background`]): all pairs of them
/// are compared (half a million merges of small sets, a fraction of a second on two cores).
pub const SAMPLE_DOCS: usize = 1000;

/// Documents sampled for the background of a search over `n` files: all pairs of them are
/// compared, so at most about `4n` pairs (`√(8n)` documents, [`SAMPLE_DOCS`] from 125,000
/// files on) keep the sample a small share of fingerprinting the files (a merge of two
/// small sets costs a few percent of reading and shingling one file).
pub fn sample_docs(n: usize) -> usize {
    ((8.0 * n as f64).sqrt() as usize).clamp(2, SAMPLE_DOCS)
}

/// The exact Jaccard similarities of all pairs `(a, b)`, `a < b`, of `sets`, in that order:
/// the background a band shape has to live with
/// ([`crate::text::minhash::BandParams::solve_sampled`]). Written in place, one allocation of the
/// final size (a parallel collect of unknown length would hold the values twice).
pub fn background(sets: &[Vec<u64>]) -> Vec<f64> {
    let m = sets.len();
    let mut similarities = vec![0.0; m * m.saturating_sub(1) / 2];
    let mut rows: Vec<&mut [f64]> = Vec::with_capacity(m);
    let mut rest = &mut similarities[..];
    for a in 0..m {
        let (row, tail) = rest.split_at_mut(m - 1 - a);
        rows.push(row);
        rest = tail;
    }
    rows.into_par_iter().enumerate().for_each(|(a, row)| {
        for (x, b) in row.iter_mut().zip(a + 1..) {
            *x = jaccard(&sets[a], &sets[b]);
        }
    });
    similarities
}

/// Jaccard similarity |A ∩ B| / |A ∪ B| of two sorted, duplicate-free sets (1 when both
/// are empty).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    // A branch-free merge: which side advances is unpredictable, so branches would miss
    // about half the time.
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        common += usize::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    common as f64 / (a.len() + b.len() - common) as f64
}

/// The smallest per-field Jaccard similarity of two records' shingle sets (as
/// [`shingle_set`] builds them with a separator: the field in each hash's low byte). Fields
/// empty in both records are left out; with no field at all the similarity is 1. This is
/// at most the Jaccard similarity of the whole sets (a mediant of the per-field ratios), so
/// filters that reject pairs by the whole sets stay valid.
pub fn field_jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut size, mut common) = ([0u32; 256], [0u32; 256]);
    for &h in a.iter().chain(b) {
        size[(h & 0xff) as usize] += 1;
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common[(a[i] & 0xff) as usize] += 1;
                i += 1;
                j += 1;
            }
        }
    }
    (0..256)
        .filter(|&k| size[k] > 0)
        .map(|k| common[k] as f64 / (size[k] - common[k]) as f64)
        .fold(1.0, f64::min)
}

/// The exact similarity of each pair of texts of `source` (Jaccard of the shingle sets, or
/// the smallest per-field Jaccard for records), in parallel; each text's set is built once.
pub fn pair_similarities(
    source: &dyn TextSource,
    config: &TextConfig,
    pairs: &[(u32, u32)],
) -> Result<Vec<f64>, Error> {
    use rayon::prelude::*;
    let mut needed: Vec<u32> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    needed.sort_unstable();
    needed.dedup();
    let sets: Vec<Vec<u64>> = needed
        .par_iter()
        .map(|&i| source.shingle_set(i as usize, config).map(|s| s.0))
        .collect::<Result<_, _>>()?;
    let set = |i: u32| &sets[needed.binary_search(&i).expect("collected")];
    let fields = source.separator().is_some();
    Ok(pairs
        .par_iter()
        .map(|&(a, b)| {
            if fields {
                field_jaccard(set(a), set(b))
            } else {
                jaccard(set(a), set(b))
            }
        })
        .collect())
}
