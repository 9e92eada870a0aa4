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

use std::collections::HashSet;

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

/// Bytes of shingle hashes that verification holds at once (8 per distinct shingle of the
/// documents in flight), whatever the number or the size of the documents; the candidate
/// pairs are held besides (12 bytes each). See [`verify_scheduled`] for how the documents
/// are read.
pub const VERIFY_BYTES: usize = 256 << 20;

/// Most documents read in one parallel piece (also bounded by their size hints).
const PIECE_DOCS: usize = 4096;

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
    Verifier::reading_all(source, config, digest, min_similarity, report)
        .verify(candidates, progress)
}

/// [`verify_pairs`] for candidates that arrive in groups (from the band search): they are
/// filtered by sketch as they come ([`Verifier::add`]) and verified together at the end
/// ([`Verifier::verify_pending`]), so a document is read again once, not once per group; a
/// document that fails is reported once, and never read again.
pub struct Verifier<'a> {
    job: Job<'a>,
    failed: HashSet<u32>,
    pending: Vec<Pair>,
    rejected: usize,
    reads: usize,
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
                shingles: None,
                budget: VERIFY_BYTES,
            },
            failed: HashSet::new(),
            pending: Vec::new(),
            rejected: 0,
            reads: 0,
        }
    }

    /// [`Verifier::new`] without the sketches: every candidate is read. For the Hamming
    /// search, whose candidates depend on every hash bit: the sketch's bound assumes a
    /// selection independent of it.
    pub fn reading_all(
        source: &'a dyn TextSource,
        config: &'a TextConfig,
        digest: &'a (dyn Fn(usize) -> u128 + Sync),
        min_similarity: f64,
        report: &'a dyn Report,
    ) -> Verifier<'a> {
        let mut verifier = Verifier::new(source, config, digest, min_similarity, report);
        verifier.job.prefilter = None;
        verifier
    }

    /// Sizes documents before they are read: `shingles(i)`, document `i`'s shingle count
    /// when fingerprinted (an upper bound of its set's length), keeps each piece read in
    /// parallel within the byte budget even when the documents are large.
    pub fn with_shingle_counts(mut self, shingles: &'a (dyn Fn(usize) -> u64 + Sync)) -> Self {
        self.job.shingles = Some(shingles);
        self
    }

    /// Candidates rejected by their sketches so far (never read).
    pub fn sketch_rejected(&self) -> usize {
        self.rejected
    }

    /// Documents read again so far (a document may be read more than once when the sets of
    /// the documents in candidate pairs exceed [`VERIFY_BYTES`]).
    pub fn documents_read(&self) -> usize {
        self.reads
    }

    /// Keeps the candidates that their sketches do not reject, for [`Verifier::verify_pending`].
    pub fn add(&mut self, candidates: &[Pair]) {
        match self.job.prefilter {
            Some(filter) => {
                let source = self.job.source;
                let before = self.pending.len();
                self.pending.par_extend(
                    candidates
                        .par_iter()
                        .filter(|p| {
                            match (source.sketch(p.a as usize), source.sketch(p.b as usize)) {
                                (Some(a), Some(b)) => filter.may_reach(a, b),
                                _ => true,
                            }
                        })
                        .copied(),
                );
                self.rejected += candidates.len() - (self.pending.len() - before);
            }
            None => self.pending.extend_from_slice(candidates),
        }
    }

    /// The pairs added since the last call at or above the bar, sorted by (a, b).
    pub fn verify_pending(&mut self, progress: &dyn Progress) -> Vec<ScoredPair> {
        let mut pending = std::mem::take(&mut self.pending);
        let (pairs, reads) = verify_scheduled(&mut pending, &self.job, &mut self.failed, progress);
        self.reads += reads;
        pairs
    }

    /// The pairs of `candidates` at or above the bar, sorted by (a, b).
    pub fn verify(&mut self, candidates: &[Pair], progress: &dyn Progress) -> Vec<ScoredPair> {
        let held = std::mem::take(&mut self.pending);
        self.add(candidates);
        let pairs = self.verify_pending(progress);
        self.pending = held;
        pairs
    }
}

/// What every piece of the verification shares.
struct Job<'a> {
    source: &'a dyn TextSource,
    config: &'a TextConfig,
    digest: &'a (dyn Fn(usize) -> u128 + Sync),
    min_similarity: f64,
    report: &'a dyn Report,
    /// Compares sketches before reading, when the source has them.
    prefilter: Option<SketchFilter>,
    /// Each document's shingle count, when known ([`Verifier::with_shingle_counts`]).
    shingles: Option<&'a (dyn Fn(usize) -> u64 + Sync)>,
    /// Bytes of shingle hashes held at once.
    budget: usize,
}

/// Shingle sets of documents, in one allocation: `docs` (sorted) and their sets' ranges of
/// `hashes`; a document that failed has none.
#[derive(Default)]
struct Sets {
    docs: Vec<u32>,
    ranges: Vec<Option<(usize, usize)>>,
    hashes: Vec<u64>,
}

impl Sets {
    fn bytes(&self) -> usize {
        self.hashes.len() * 8
    }

    fn get(&self, doc: u32) -> Option<&[u64]> {
        let i = self.docs.binary_search(&doc).ok()?;
        self.ranges[i].map(|(s, e)| &self.hashes[s..e])
    }

    fn contains(&self, doc: u32) -> bool {
        self.docs.binary_search(&doc).is_ok()
    }

    /// Reads `docs` (increasing, all above those held) in parallel and appends their sets.
    /// Documents that fail are reported and added to `failed`, and never read again.
    /// Returns how many were read.
    fn read(&mut self, docs: &[u32], job: &Job, failed: &mut HashSet<u32>) -> usize {
        let sets: Vec<Option<Vec<u64>>> = docs
            .par_iter()
            .map(|&i| {
                if failed.contains(&i) {
                    return None;
                }
                let i = i as usize;
                match job.source.shingle_set(i, job.config) {
                    Ok((set, d)) if d == (job.digest)(i) => Some(set),
                    Ok(_) => {
                        job.report.report(Error::Changed {
                            name: job.source.name(i),
                        });
                        None
                    }
                    Err(e) => {
                        job.report.report(e);
                        None
                    }
                }
            })
            .collect();
        let read = docs.iter().filter(|d| !failed.contains(d)).count();
        for (&doc, set) in docs.iter().zip(sets) {
            self.docs.push(doc);
            match set {
                Some(set) => {
                    let start = self.hashes.len();
                    self.hashes.extend_from_slice(&set);
                    self.ranges.push(Some((start, self.hashes.len())));
                }
                None => {
                    failed.insert(doc);
                    self.ranges.push(None);
                }
            }
        }
        read
    }
}

/// The length of the next piece of `docs` to read at once: at most [`PIECE_DOCS`], and
/// documents whose sets (by their shingle counts) fit in `bytes` (at least one).
fn piece(docs: &[u32], job: &Job, bytes: usize) -> usize {
    let most = docs.len().min(PIECE_DOCS);
    let Some(shingles) = job.shingles else {
        return most;
    };
    let mut sum = 0u64;
    for (k, &d) in docs[..most].iter().enumerate() {
        sum += 8 * shingles(d as usize);
        if k > 0 && sum > bytes as u64 {
            return k;
        }
    }
    most
}

/// Scores every candidate (reordered in place) by exact Jaccard and keeps those at or
/// above the bar, sorted by (a, b); also returns how many documents were read.
///
/// The pairs are sorted by their lower document. The documents are read in chunks, in
/// index (path) order: a chunk is the lower documents of consecutive pairs whose sets fill
/// half the budget. Pairs within the chunk are scored from it; the other documents of its
/// pairs are read after it, in pieces, and scored against it. When every document in a
/// pair fits in one chunk (256 MiB: over 30 million shingles), each is read exactly once;
/// otherwise a document is read once more for each earlier chunk it has pairs with, and
/// memory stays within the budget (plus one piece) whatever the documents' sizes.
fn verify_scheduled(
    candidates: &mut [Pair],
    job: &Job,
    failed: &mut HashSet<u32>,
    progress: &dyn Progress,
) -> (Vec<ScoredPair>, usize) {
    for p in candidates.iter_mut() {
        *p = Pair::new(p.a, p.b, p.distance);
    }
    candidates.par_sort_unstable_by_key(|p| (p.a, p.b));
    progress.start("verifying", candidates.len() as u64, "pairs");
    let fields = job.source.separator().is_some();
    let half = (job.budget / 2).max(1);
    let mut scored = Vec::new();
    let mut reads = 0;
    let mut start = 0;
    while start < candidates.len() {
        // The chunk: lower documents in order until their sets hold half the budget.
        let mut outer = Sets::default();
        let mut end = start;
        while end < candidates.len() && outer.bytes() < half {
            let mut next: Vec<u32> = Vec::new();
            let mut stop = end;
            while stop < candidates.len() && next.len() < PIECE_DOCS {
                if next.last() != Some(&candidates[stop].a) {
                    next.push(candidates[stop].a);
                }
                stop += 1;
            }
            // `stop` may have passed the first pair of a document left out: trim to it.
            let take = piece(&next, job, half.saturating_sub(outer.bytes()));
            next.truncate(take);
            let last = *next.last().expect("a piece holds a document");
            while end < candidates.len() && candidates[end].a <= last {
                end += 1;
            }
            reads += outer.read(&next, job, failed);
        }
        let pairs = &candidates[start..end];
        // Pairs with both documents in the chunk.
        let score = |p: &Pair, sa: Option<&[u64]>, sb: Option<&[u64]>| {
            score_pair(p, sa?, sb?, fields, job.min_similarity)
        };
        scored.par_extend(
            pairs
                .par_iter()
                .filter(|p| outer.contains(p.b))
                .filter_map(|p| score(p, outer.get(p.a), outer.get(p.b))),
        );
        // The others, by their upper document, read in pieces.
        let mut across: Vec<Pair> = pairs
            .iter()
            .filter(|p| !outer.contains(p.b))
            .copied()
            .collect();
        across.par_sort_unstable_by_key(|p| (p.b, p.a));
        let mut docs: Vec<u32> = across.iter().map(|p| p.b).collect();
        docs.dedup();
        let mut from = 0;
        let mut k = 0;
        while k < docs.len() {
            let take = piece(&docs[k..], job, half);
            let mut inner = Sets::default();
            reads += inner.read(&docs[k..k + take], job, failed);
            let last = docs[k + take - 1];
            let mut to = from;
            while to < across.len() && across[to].b <= last {
                to += 1;
            }
            scored.par_extend(
                across[from..to]
                    .par_iter()
                    .filter_map(|p| score(p, outer.get(p.a), inner.get(p.b))),
            );
            from = to;
            k += take;
        }
        progress.inc(pairs.len() as u64);
        start = end;
    }
    progress.finish();
    scored.par_sort_unstable_by_key(|p| (p.a, p.b));
    (scored, reads)
}

/// `p` scored from its documents' sets, when at or above `min_similarity`.
fn score_pair(
    p: &Pair,
    sa: &[u64],
    sb: &[u64],
    fields: bool,
    min_similarity: f64,
) -> Option<ScoredPair> {
    // |A ∩ B| / |A ∪ B| <= min(|A|, |B|) / max(|A|, |B|): skip hopeless merges. A bound,
    // not an estimate: it never drops a pair the exact score keeps.
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
        a: p.a,
        b: p.b,
        distance: p.distance,
        score,
        exact: false,
    })
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
    fn any_budget_gives_the_same_pairs_and_reports_a_changed_document_once() {
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
        let counts: Vec<u64> = (0..12)
            .map(|i| shingle_set(&source.0[i], None, &config).0.len() as u64)
            .collect();
        let count = |i: usize| counts[i];
        let run = |budget: usize| {
            let reported = std::sync::Mutex::new(Vec::new());
            let report = |e: Error| reported.lock().unwrap().push(e.to_string());
            let job = Job {
                source: &source,
                config: &config,
                digest: &|i| digests[i],
                min_similarity: 0.5,
                report: &report,
                prefilter: None,
                shingles: Some(&count),
                budget,
            };
            let mut shuffled = candidates.clone();
            shuffled.reverse();
            let (pairs, reads) = verify_scheduled(&mut shuffled, &job, &mut HashSet::new(), &());
            (pairs, reads, reported.into_inner().unwrap())
        };
        let (whole, reads, reported) = run(usize::MAX);
        assert!(whole.len() > 10, "{}", whole.len());
        assert!(whole.iter().all(|p| p.a != 3 && p.b != 3));
        assert_eq!(reported.len(), 1, "{reported:?}");
        assert_eq!(reads, 12, "one read per document within the budget");
        // Budgets of a few sets: several chunks, each document read more than once.
        for budget in [1, 16, 40, 100] {
            let (pairs, reads, reported) = run(budget);
            assert_eq!(pairs, whole, "budget {budget}");
            assert_eq!(reported.len(), 1, "budget {budget}: {reported:?}");
            assert!(reads > 12, "budget {budget}: {reads}");
        }
    }

    /// Documents of word sets, read through a counter.
    struct Counted {
        texts: Vec<String>,
        reads: Vec<std::sync::atomic::AtomicUsize>,
    }

    impl TextSource for Counted {
        fn text(&self, i: usize) -> Result<String, Error> {
            self.reads[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(self.texts[i].clone())
        }
        fn name(&self, i: usize) -> String {
            format!("doc{i}")
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Any budget and any candidate order give the pairs that scoring every candidate
        /// directly gives; within the budget every document is read at most once.
        #[test]
        fn scheduled_verification_is_direct_scoring(
            words in proptest::collection::vec(proptest::collection::btree_set(0u8..12, 1..8), 2..40),
            picks in proptest::collection::vec((0usize..1000, 0usize..1000), 0..200),
            budget in proptest::prop_oneof![1usize..200, proptest::strategy::Just(usize::MAX)],
            sized in proptest::bool::ANY,
        ) {
            let config = TextConfig {
                shingling: "word:1".parse().unwrap(),
                normalization: crate::text::shingle::Normalization::ALL,
                weighting: Default::default(),
                compat: false,
            };
            let n = words.len();
            let texts: Vec<String> = words
                .iter()
                .map(|w| w.iter().map(|x| format!("w{x}")).collect::<Vec<_>>().join(" "))
                .collect();
            let source = Counted {
                reads: (0..n).map(|_| Default::default()).collect(),
                texts,
            };
            let sets: Vec<(Vec<u64>, u128)> =
                source.texts.iter().map(|t| shingle_set(t, None, &config)).collect();
            let mut candidates: Vec<Pair> = picks
                .iter()
                .map(|&(a, b)| (a % n, b % n))
                .filter(|(a, b)| a != b)
                .map(|(a, b)| Pair { a: a as u32, b: b as u32, distance: (a + b) as u32 })
                .collect();
            candidates.sort_by_key(|p| (p.a.min(p.b), p.a.max(p.b)));
            candidates.dedup_by_key(|p| (p.a.min(p.b), p.a.max(p.b)));
            let mut want: Vec<ScoredPair> = candidates
                .iter()
                .filter_map(|p| {
                    let q = Pair::new(p.a, p.b, p.distance);
                    score_pair(&q, &sets[q.a as usize].0, &sets[q.b as usize].0, false, 0.5)
                })
                .collect();
            want.sort_by_key(|p| (p.a, p.b));
            let counts: Vec<u64> = sets.iter().map(|s| s.0.len() as u64).collect();
            let count = |i: usize| counts[i];
            let job = Job {
                source: &source,
                config: &config,
                digest: &|i| sets[i].1,
                min_similarity: 0.5,
                report: &|e: Error| panic!("{e}"),
                prefilter: None,
                shingles: sized.then_some(&count as &(dyn Fn(usize) -> u64 + Sync)),
                budget,
            };
            candidates.reverse();
            let (got, reads) = verify_scheduled(&mut candidates, &job, &mut HashSet::new(), &());
            proptest::prop_assert_eq!(&got, &want);
            let each: Vec<usize> = source.reads.iter().map(|r| r.load(std::sync::atomic::Ordering::Relaxed)).collect();
            proptest::prop_assert_eq!(reads, each.iter().sum::<usize>());
            if budget == usize::MAX {
                proptest::prop_assert!(each.iter().all(|&r| r <= 1), "{:?}", each);
            }
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
