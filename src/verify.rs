//! Verified similarity for text: the Jaccard similarity of two documents' shingle sets,
//! computed exactly for every candidate pair the Hamming search proposes.
//!
//! No text is kept between fingerprinting and verification: the documents that appear in
//! candidate pairs are read again (a [`TextSource`]) and their shingle sets rebuilt. A
//! document whose normalised text changed in between is reported and left out. Shingles are
//! compared by 64-bit CityHash: exact up to hash collisions (about n^2 / 2^65 for n shingles).
//! Candidates of the band search ([`Verifier`]) whose source kept similarity sketches are
//! first compared by sketch ([`crate::text::sketch`]), and only those that may reach the
//! bar are read; the sketch rejects at most [`MISS`] of the pairs at the bar.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use crate::error::{Error, Report};
use crate::progress::Progress;
use crate::search::Pair;
use crate::text::simhash::TextConfig;
use crate::text::sketch::{MISS, SketchFilter};
use crate::text::texts::{TextSource, field_jaccard, jaccard};

/// A verified pair: records `a` and `b` (indexes) with similarity `score` (Jaccard or
/// cosine), `exact` when their normalised contents are identical.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoredPair {
    pub a: u32,
    pub b: u32,
    /// Hamming distance of the two fingerprints.
    pub distance: u32,
    pub score: f64,
    pub exact: bool,
}

/// Most documents whose shingle sets are held at once during verification. Candidates are
/// verified in batches of consecutive pairs touching at most this many documents, so memory
/// stays bounded however many candidates there are; a document in pairs of several batches
/// is read once per batch.
pub const BATCH_DOCS: usize = 1 << 16;

/// Scores every candidate pair (document indexes `a`, `b`) with the exact Jaccard
/// similarity of the two documents' shingle sets and keeps those at or above
/// `min_similarity`. `digest(i)` is the digest recorded at fingerprinting; a document whose
/// text no longer matches it, or cannot be read, is reported once and its pairs dropped.
/// Candidates sorted by `a` make the fewest reads. The result is sorted by (a, b).
pub fn verify_pairs(
    candidates: &[Pair],
    source: &dyn TextSource,
    config: &TextConfig,
    digest: &(dyn Fn(usize) -> u128 + Sync),
    min_similarity: f64,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Vec<ScoredPair> {
    let mut verifier = Verifier::new(source, config, digest, min_similarity, report);
    // The Hamming search's candidates depend on every hash bit: the sketch's bound assumes
    // a selection independent of it, so every candidate is read.
    verifier.job.prefilter = None;
    verifier.verify(candidates, progress)
}

/// [`verify_pairs`] for candidates that arrive in groups (from the band search): a
/// document that fails is reported once over all groups, and never read again.
pub struct Verifier<'a> {
    job: Job<'a>,
    failed: HashSet<u32>,
    rejected: usize,
}

impl<'a> Verifier<'a> {
    /// A verifier with [`verify_pairs`]'s arguments, for band candidates: a pair whose
    /// documents both have sketches ([`TextSource::sketch`]) is read only if its sketches
    /// may reach the bar ([`SketchFilter`] with a miss of [`MISS`]); records of several
    /// fields are always read.
    pub fn new(
        source: &'a dyn TextSource,
        config: &'a TextConfig,
        digest: &'a (dyn Fn(usize) -> u128 + Sync),
        min_similarity: f64,
        report: &'a dyn Report,
    ) -> Verifier<'a> {
        Verifier {
            job: Job {
                source,
                config,
                digest,
                min_similarity,
                report,
                prefilter: source
                    .separator()
                    .is_none()
                    .then(|| SketchFilter::new(min_similarity, MISS)),
            },
            failed: HashSet::new(),
            rejected: 0,
        }
    }

    /// Candidates rejected by their sketches so far (never read).
    pub fn sketch_rejected(&self) -> usize {
        self.rejected
    }

    /// The pairs of `candidates` at or above the bar, sorted by (a, b).
    pub fn verify(&mut self, candidates: &[Pair], progress: &dyn Progress) -> Vec<ScoredPair> {
        let kept: Vec<Pair>;
        let candidates = match self.job.prefilter {
            Some(filter) => {
                let source = self.job.source;
                kept = candidates
                    .par_iter()
                    .filter(
                        |p| match (source.sketch(p.a as usize), source.sketch(p.b as usize)) {
                            (Some(a), Some(b)) => filter.may_reach(a, b),
                            _ => true,
                        },
                    )
                    .copied()
                    .collect();
                self.rejected += candidates.len() - kept.len();
                &kept[..]
            }
            None => candidates,
        };
        verify_in_batches(
            candidates,
            &self.job,
            BATCH_DOCS,
            &mut self.failed,
            progress,
        )
    }
}

/// What every batch of [`verify_pairs`] shares.
struct Job<'a> {
    source: &'a dyn TextSource,
    config: &'a TextConfig,
    digest: &'a (dyn Fn(usize) -> u128 + Sync),
    min_similarity: f64,
    report: &'a dyn Report,
    /// Compares sketches before reading, when the source has them.
    prefilter: Option<SketchFilter>,
}

fn verify_in_batches(
    candidates: &[Pair],
    job: &Job,
    batch_docs: usize,
    failed: &mut HashSet<u32>,
    progress: &dyn Progress,
) -> Vec<ScoredPair> {
    progress.start("verifying", candidates.len() as u64, "pairs");
    let mut scored = Vec::new();
    let mut batch: HashMap<u32, u32> = HashMap::new();
    let mut first = 0;
    for (end, p) in candidates.iter().enumerate() {
        let new = [p.a, p.b].iter().filter(|d| !batch.contains_key(d)).count();
        if batch.len() + new > batch_docs && !batch.is_empty() {
            let pairs = &candidates[first..end];
            verify_batch(pairs, &batch, job, failed, &mut scored);
            progress.inc(pairs.len() as u64);
            batch.clear();
            first = end;
        }
        for d in [p.a, p.b] {
            let next = batch.len() as u32;
            batch.entry(d).or_insert(next);
        }
    }
    verify_batch(&candidates[first..], &batch, job, failed, &mut scored);
    progress.inc((candidates.len() - first) as u64);
    progress.finish();
    scored.sort_unstable_by_key(|p| (p.a, p.b));
    scored
}

/// One batch of [`verify_pairs`]: `slots` numbers the documents of `pairs`. Documents that
/// fail (unreadable or changed) are reported and added to `failed`, and never read again.
fn verify_batch(
    pairs: &[Pair],
    slots: &HashMap<u32, u32>,
    job: &Job,
    failed: &mut HashSet<u32>,
    scored: &mut Vec<ScoredPair>,
) {
    let Job {
        source,
        config,
        digest,
        min_similarity,
        report,
        ..
    } = *job;
    let mut docs: Vec<(u32, u32)> = slots.iter().map(|(&d, &s)| (s, d)).collect();
    docs.sort_unstable();
    let sets: Vec<Option<Vec<u64>>> = docs
        .par_iter()
        .map(|&(_, i)| {
            if failed.contains(&i) {
                return None;
            }
            let i = i as usize;
            match source.shingle_set(i, config) {
                Ok((set, d)) => {
                    if d == digest(i) {
                        Some(set)
                    } else {
                        report.report(Error::Changed {
                            name: source.name(i),
                        });
                        None
                    }
                }
                Err(e) => {
                    report.report(e);
                    None
                }
            }
        })
        .collect();
    for (&(_, i), set) in docs.iter().zip(&sets) {
        if set.is_none() {
            failed.insert(i);
        }
    }
    let fields = source.separator().is_some();
    let found: Vec<ScoredPair> = pairs
        .par_iter()
        .filter_map(|p| {
            let sa = sets[slots[&p.a] as usize].as_ref()?;
            let sb = sets[slots[&p.b] as usize].as_ref()?;
            // |A ∩ B| / |A ∪ B| <= min(|A|, |B|) / max(|A|, |B|): skip hopeless merges. A
            // bound, not an estimate: it never drops a pair the exact score keeps.
            let (small, large) = (sa.len().min(sb.len()), sa.len().max(sb.len()));
            if (small as f64) < min_similarity * large as f64 * (1.0 - 1e-12) {
                return None;
            }
            let score = if fields {
                field_jaccard(sa, sb)
            } else {
                jaccard(sa, sb)
            };
            (score >= min_similarity).then_some(ScoredPair {
                a: p.a.min(p.b),
                b: p.a.max(p.b),
                distance: p.distance,
                score,
                exact: false,
            })
        })
        .collect();
    scored.extend(found);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::texts::shingle_set;

    #[test]
    fn per_field_similarity_is_the_smallest() {
        // Field 0: {1, 2} vs {1, 2} (1.0); field 1: {1, 2, 3} vs {1} (1/3).
        let t = |h: u64, k: u64| h << 8 | k;
        let mut a = vec![t(1, 0), t(2, 0), t(1, 1), t(2, 1), t(3, 1)];
        let mut b = vec![t(1, 0), t(2, 0), t(1, 1)];
        a.sort_unstable();
        b.sort_unstable();
        assert!((field_jaccard(&a, &b) - 1.0 / 3.0).abs() < 1e-12);
        assert!(jaccard(&a, &b) > field_jaccard(&a, &b));
        assert_eq!(field_jaccard(&[], &[]), 1.0);
        let config = TextConfig {
            shingling: "word:2".parse().unwrap(),
            normalization: crate::text::shingle::Normalization::ALL,
            weighting: Default::default(),
            compat: false,
        };
        let sep = Some(crate::text::simhash::FIELD_SEPARATOR);
        let (x, _) = shingle_set("Why?\u{1e}the long shared context here", sep, &config);
        let (y, _) = shingle_set("How?\u{1e}the long shared context here", sep, &config);
        assert!(jaccard(&x, &y) > 0.6);
        assert_eq!(field_jaccard(&x, &y), 0.0);
    }

    proptest::proptest! {
        /// The smallest per-field similarity never exceeds the whole sets' similarity, so
        /// the whole-set filters (size ratio, sketch, Hamming radius) never drop a pair the
        /// per-field rule would keep.
        #[test]
        fn field_jaccard_is_at_most_jaccard(
            a in proptest::collection::btree_set(0u64..40, 0..30),
            b in proptest::collection::btree_set(0u64..40, 0..30),
        ) {
            // Values 0..40 become hashes of 10 shingles in each of 4 fields.
            let tag = |s: &std::collections::BTreeSet<u64>| {
                let mut v: Vec<u64> = s.iter().map(|&x| ((x % 10) << 8) | (x / 10)).collect();
                v.sort_unstable();
                v
            };
            let (a, b) = (tag(&a), tag(&b));
            let (f, j) = (field_jaccard(&a, &b), jaccard(&a, &b));
            proptest::prop_assert!(f <= j + 1e-12, "{} > {}", f, j);
            proptest::prop_assert!((0.0..=1.0).contains(&f));
        }
    }

    /// Texts in memory; document 3 "changed" since fingerprinting (its digest differs).
    struct Texts(Vec<String>);

    impl TextSource for Texts {
        fn text(&self, i: usize) -> Result<String, Error> {
            Ok(self.0[i].clone())
        }
        fn name(&self, i: usize) -> String {
            format!("doc{i}")
        }
    }

    #[test]
    fn batches_give_the_same_result_and_report_a_changed_document_once() {
        let config = TextConfig {
            shingling: "word:1".parse().unwrap(),
            normalization: crate::text::shingle::Normalization::ALL,
            weighting: Default::default(),
            compat: false,
        };
        let words = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let texts: Vec<String> = (0..12)
            .map(|i| words[i % 3..(i % 3 + 5)].join(" "))
            .collect();
        let source = Texts(texts);
        let digests: Vec<u128> = (0..12)
            .map(|i| shingle_set(&source.0[i], None, &config).1 ^ (i == 3) as u128)
            .collect();
        let mut candidates = Vec::new();
        for a in 0..12 {
            for b in a + 1..12 {
                candidates.push(Pair::new(a, b, 0));
            }
        }
        let run = |batch: usize| {
            let reported = std::sync::Mutex::new(Vec::new());
            let report = |e: Error| reported.lock().unwrap().push(e.to_string());
            let job = Job {
                source: &source,
                config: &config,
                digest: &|i| digests[i],
                min_similarity: 0.5,
                report: &report,
                prefilter: None,
            };
            let pairs = verify_in_batches(&candidates, &job, batch, &mut HashSet::new(), &());
            (pairs, reported.into_inner().unwrap())
        };
        let (whole, reported) = run(usize::MAX);
        assert!(whole.len() > 10, "{}", whole.len());
        assert!(whole.iter().all(|p| p.a != 3 && p.b != 3));
        assert_eq!(reported.len(), 1, "{reported:?}");
        for batch in [1, 2, 3, 5] {
            let (pairs, reported) = run(batch);
            assert_eq!(pairs, whole, "batch {batch}");
            assert_eq!(reported.len(), 1, "batch {batch}: {reported:?}");
        }
    }

    #[test]
    fn jaccard_of_sets() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 1.0);
        assert_eq!(jaccard(&[1], &[]), 0.0);
        assert_eq!(jaccard(&[1, 5, 9], &[1, 5, 9]), 1.0);
    }

    #[test]
    fn shingle_sets_follow_the_config() {
        let config = TextConfig {
            shingling: "word:1".parse().unwrap(),
            normalization: crate::text::shingle::Normalization::ALL,
            weighting: Default::default(),
            compat: false,
        };
        let (a, da) = shingle_set("The cat, the CAT.", None, &config);
        let (b, db) = shingle_set("the cat the cat", None, &config);
        assert_eq!(a.len(), 2);
        assert_eq!((a, da), (b, db));
    }
}
