//! Text deduplication: exact duplicates first, then Hamming candidates verified by exact
//! Jaccard similarity, then keep/remove decisions.
//!
//! 1. Documents are grouped by the digest of their normalised text: each group is a set of
//!    exact duplicates (similarity 1), and only one member of each group is searched.
//! 2. The searched members' fingerprints give candidate pairs within a Hamming radius,
//!    chosen from the similarity bar unless given ([`candidate_radius`]).
//! 3. Every candidate is verified: exact Jaccard of the two shingle sets ([`crate::verify`]).
//! 4. Decisions: exact duplicates name the group's first member (in keep order); the
//!    remaining members are assigned greedily ([`crate::ops::cluster`]).

use std::collections::HashMap;

use crate::error::Report;
use crate::fingerprint::Fingerprint;
use crate::ops::cluster::{self, Assignment, Duplicate, ScoredPair};
use crate::progress::Progress;
use crate::search::{self, Pair, SearchOptions};
use crate::simhash::TextConfig;
use crate::verify::{TextSource, verify_pairs};

/// Which member of a set of duplicates is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KeepOrder {
    /// The first in input order.
    #[default]
    First,
    /// The longest (in characters); ties by input order.
    Longest,
    /// The shortest (in characters); ties by input order.
    Shortest,
}

/// How duplicates are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Grouping {
    /// A record is a duplicate only of a record that is kept: no chaining.
    #[default]
    Greedy,
    /// Connected components of the pair graph: A~B and B~C put A, B and C together.
    Components,
}

/// Settings of a text deduplication.
#[derive(Clone, Copy, Debug)]
pub struct DedupOptions {
    /// The Hamming search; its `max_distance` is the candidate radius.
    pub search: SearchOptions,
    /// Pairs with verified Jaccard similarity at or above this are duplicates.
    pub min_similarity: f64,
    pub keep: KeepOrder,
    pub grouping: Grouping,
}

/// The result: every duplicate pair, and the decisions.
#[derive(Debug)]
pub struct Dedup {
    /// Every pair of documents at or above the bar, sorted by (a, b), `a < b`: exact
    /// duplicates (score 1, `exact`) and verified near-duplicates.
    pub pairs: Vec<ScoredPair>,
    /// Which documents are kept, and what each removed one duplicates.
    pub assignment: Assignment,
    /// Number of candidate pairs the Hamming search proposed (before verification).
    pub candidates: usize,
}

/// The Hamming radius that catches a pair of Jaccard similarity `j` with probability at
/// least `recall`, under SimHash's model: two sets with Jaccard j (and equal sizes) have
/// cosine c = 2j / (1 + j); each of the `bits` bits differs independently with probability
/// arccos(c) / pi; the radius is the `recall` quantile of that binomial distribution.
pub fn candidate_radius(bits: u32, j: f64, recall: f64) -> u32 {
    let j = j.clamp(0.0, 1.0);
    crate::hyperplane::cosine_radius(bits, 2.0 * j / (1.0 + j), recall)
}

/// The visiting order of [`KeepOrder`]: a permutation of `0..lengths.len()`.
pub fn keep_order(lengths: &[u64], keep: KeepOrder) -> Vec<u32> {
    let mut order: Vec<u32> = (0..lengths.len() as u32).collect();
    match keep {
        KeepOrder::First => {}
        KeepOrder::Longest => order.sort_by_key(|&i| std::cmp::Reverse(lengths[i as usize])),
        KeepOrder::Shortest => order.sort_by_key(|&i| lengths[i as usize]),
    }
    order
}

/// What deduplication needs to know of a fingerprinted document besides its fingerprint:
/// files ([`crate::corpus::Document`]) and records ([`crate::records::Row`]) alike.
pub trait DocStats: Sync {
    /// Characters in the text as read (for [`KeepOrder`]).
    fn chars(&self) -> u64;
    /// Shingle occurrences; 0 = too short to fingerprint (compared as exact duplicate only).
    fn shingles(&self) -> u64;
    /// Digest of the normalised text: equal digests are exact duplicates.
    fn digest(&self) -> u128;
}

/// Deduplicates fingerprinted documents (see the module docs): `fingerprints[i]` and
/// `docs[i]` describe document `i`, which `source` reads again for verification. Documents
/// without shingles take part only as exact duplicates.
pub fn dedup<F: Fingerprint, D: DocStats>(
    fingerprints: &[F],
    docs: &[D],
    source: &dyn TextSource,
    config: &TextConfig,
    opts: &DedupOptions,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Dedup {
    assert_eq!(
        fingerprints.len(),
        docs.len(),
        "one fingerprint per document"
    );
    let n = docs.len();
    // 1. Exact duplicates, grouped by digest.
    let groups = exact_groups(docs, opts.keep);

    // 2. Candidates among the representatives that have shingles.
    let reps: Vec<u32> = groups
        .iter()
        .map(|g| g[0])
        .filter(|&r| docs[r as usize].shingles() > 0)
        .collect();
    let rep_fps: Vec<F> = reps.iter().map(|&r| fingerprints[r as usize]).collect();
    let found = search::find_pairs(&rep_fps, &opts.search, progress);
    let candidates: Vec<Pair> = found
        .iter()
        .map(|p| Pair::new(reps[p.a as usize], reps[p.b as usize], p.distance))
        .collect();

    // 3. Verification.
    let digests: Vec<u128> = docs.iter().map(|d| d.digest()).collect();
    let near = verify_pairs(
        &candidates,
        source,
        config,
        &digests,
        opts.min_similarity,
        progress,
        report,
    );

    // 4. Decisions among representatives, then exact members follow their representative.
    let (pairs, assignment) = assign_groups(n, &groups, &near, opts.grouping);
    Dedup {
        pairs,
        assignment,
        candidates: candidates.len(),
    }
}

/// Step 1 of [`dedup`]: documents grouped by digest, each group listed in keep order, the
/// groups ordered by their first member (which represents the group from then on).
fn exact_groups<D: DocStats>(docs: &[D], keep: KeepOrder) -> Vec<Vec<u32>> {
    let lengths: Vec<u64> = docs.iter().map(|d| d.chars()).collect();
    let mut group_of_digest: HashMap<u128, usize> = HashMap::new();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for i in keep_order(&lengths, keep) {
        let g = *group_of_digest
            .entry(docs[i as usize].digest())
            .or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
        groups[g].push(i);
    }
    groups
}

/// The pairs of an incremental run ([`pairs_with_new`]).
#[derive(Debug)]
pub struct NewPairs {
    /// Every pair at or above the bar with `b >= first_new`, sorted by (a, b), `a < b`.
    pub pairs: Vec<ScoredPair>,
    /// Number of candidate pairs the Hamming search proposed (before verification).
    pub candidates: usize,
}

/// Exactly the pairs of [`dedup`] over all `docs` that involve a document numbered
/// `first_new` or later, without comparing two older documents: for adding documents to an
/// index of old ones. Documents are grouped by digest as in [`dedup`]; a group is *fresh*
/// when it holds a new document; candidates are the representatives' pairs among fresh
/// groups and between fresh and other groups (an exact search, [`search::find_cross_pairs`],
/// for the latter; `opts.search`'s method for the former); they are verified by
/// [`verify_pairs`] as in [`dedup`] (old documents in a candidate are read again), and the
/// near pairs expanded over both groups. With the exact or brute method, the result equals
/// [`dedup`]'s pairs with `b >= first_new`: the same candidates, the same verification.
/// Only the pairs are computed: keep/remove decisions need the old pairs too.
#[allow(clippy::too_many_arguments)]
pub fn pairs_with_new<F: Fingerprint, D: DocStats>(
    fingerprints: &[F],
    docs: &[D],
    first_new: usize,
    source: &dyn TextSource,
    config: &TextConfig,
    opts: &DedupOptions,
    progress: &dyn Progress,
    report: &dyn Report,
) -> NewPairs {
    assert_eq!(
        fingerprints.len(),
        docs.len(),
        "one fingerprint per document"
    );
    let groups = exact_groups(docs, opts.keep);
    let is_fresh = |g: &Vec<u32>| g.iter().any(|&m| m as usize >= first_new);
    let searched = |g: &&Vec<u32>| docs[g[0] as usize].shingles() > 0;
    let fresh: Vec<u32> = groups
        .iter()
        .filter(|g| is_fresh(g))
        .filter(searched)
        .map(|g| g[0])
        .collect();
    let stale: Vec<u32> = groups
        .iter()
        .filter(|g| !is_fresh(g))
        .filter(searched)
        .map(|g| g[0])
        .collect();
    let fps_of =
        |reps: &[u32]| -> Vec<F> { reps.iter().map(|&r| fingerprints[r as usize]).collect() };
    let (fresh_fps, stale_fps) = (fps_of(&fresh), fps_of(&stale));
    let mut candidates: Vec<Pair> = search::find_pairs(&fresh_fps, &opts.search, progress)
        .iter()
        .map(|p| Pair::new(fresh[p.a as usize], fresh[p.b as usize], p.distance))
        .collect();
    if !fresh_fps.is_empty() && !stale_fps.is_empty() {
        let blocks = match opts.search.method {
            search::Method::Exact { blocks } => blocks,
            _ => None,
        };
        let k = opts.search.max_distance;
        let (cross, _) = search::find_cross_pairs(&fresh_fps, &stale_fps, k, blocks, progress);
        candidates.extend(cross.iter().map(|p| {
            Pair::new(
                fresh[p.query as usize],
                stale[p.reference as usize],
                p.distance,
            )
        }));
    }

    let digests: Vec<u128> = docs.iter().map(|d| d.digest()).collect();
    let near = verify_pairs(
        &candidates,
        source,
        config,
        &digests,
        opts.min_similarity,
        progress,
        report,
    );
    let fresh_groups: Vec<Vec<u32>> = groups.iter().filter(|g| is_fresh(g)).cloned().collect();
    let mut pairs = expand_pairs(&fresh_groups, &groups, &near);
    pairs.retain(|p| p.b as usize >= first_new);
    NewPairs {
        pairs,
        candidates: candidates.len(),
    }
}

/// Decisions from exact-duplicate `groups` (each listed in keep order, the groups ordered
/// by their first member, which represents the group) and the verified `near` pairs
/// between representatives (record indexes): representatives are assigned by `grouping`
/// in group order, every other member names its representative as an exact duplicate.
/// Returns every pair at or above the bar (exact pairs inside groups, near pairs expanded
/// over both groups), sorted by (a, b), and the assignment of all `n` records.
pub fn assign_groups(
    n: usize,
    groups: &[Vec<u32>],
    near: &[ScoredPair],
    grouping: Grouping,
) -> (Vec<ScoredPair>, Assignment) {
    let group_of_rep: HashMap<u32, usize> = groups
        .iter()
        .enumerate()
        .map(|(g, members)| (members[0], g))
        .collect();
    let rep_order: Vec<u32> = groups.iter().map(|g| g[0]).collect();
    let rep_pairs: Vec<ScoredPair> = near
        .iter()
        .map(|p| ScoredPair {
            a: group_of_rep[&p.a] as u32,
            b: group_of_rep[&p.b] as u32,
            ..*p
        })
        .collect();
    let identity: Vec<u32> = (0..rep_order.len() as u32).collect();
    let rep_assignment = match grouping {
        Grouping::Greedy => cluster::greedy(rep_order.len(), &identity, &rep_pairs),
        Grouping::Components => cluster::components(rep_order.len(), &identity, &rep_pairs),
    };
    let mut duplicate_of: Vec<Option<Duplicate>> = vec![None; n];
    for (k, members) in groups.iter().enumerate() {
        let rep = members[0];
        duplicate_of[rep as usize] = rep_assignment.duplicate_of[k].map(|d| Duplicate {
            kept: rep_order[d.kept as usize],
            ..d
        });
        for &m in &members[1..] {
            duplicate_of[m as usize] = Some(Duplicate {
                kept: rep,
                score: 1.0,
                exact: true,
            });
        }
    }

    let pairs = expand_pairs(groups, groups, near);
    (pairs, Assignment { duplicate_of })
}

/// Every pair at or above the bar, sorted by (a, b), `a < b`: the exact pairs inside each
/// of `exact` (groups of `groups`), and each `near` pair between representatives expanded
/// over both of their `groups`.
fn expand_pairs(exact: &[Vec<u32>], groups: &[Vec<u32>], near: &[ScoredPair]) -> Vec<ScoredPair> {
    let group_of_rep: HashMap<u32, usize> = groups
        .iter()
        .enumerate()
        .map(|(g, members)| (members[0], g))
        .collect();
    let mut pairs = Vec::new();
    for members in exact {
        for (x, &a) in members.iter().enumerate() {
            for &b in &members[x + 1..] {
                pairs.push(ScoredPair {
                    a: a.min(b),
                    b: a.max(b),
                    distance: 0,
                    score: 1.0,
                    exact: true,
                });
            }
        }
    }
    for p in near {
        for &a in &groups[group_of_rep[&p.a]] {
            for &b in &groups[group_of_rep[&p.b]] {
                pairs.push(ScoredPair {
                    a: a.min(b),
                    b: a.max(b),
                    ..*p
                });
            }
        }
    }
    pairs.sort_unstable_by_key(|p| (p.a, p.b));
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radius_grows_with_dissimilarity_and_bits() {
        assert_eq!(candidate_radius(64, 1.0, 0.99), 0);
        let r80 = candidate_radius(64, 0.8, 0.99);
        let r50 = candidate_radius(64, 0.5, 0.99);
        assert!(r80 < r50, "{r80} {r50}");
        assert!((14..=19).contains(&r80), "{r80}");
        assert!(candidate_radius(128, 0.8, 0.99) > r80);
        // The binomial quantile: at J = 0.8, p = 0.151; mean 9.7 of 64 bits.
        assert!(candidate_radius(64, 0.8, 0.5) >= 9);
    }

    #[test]
    fn keep_orders() {
        let lengths = [5, 9, 5, 1];
        assert_eq!(keep_order(&lengths, KeepOrder::First), [0, 1, 2, 3]);
        assert_eq!(keep_order(&lengths, KeepOrder::Longest), [1, 0, 2, 3]);
        assert_eq!(keep_order(&lengths, KeepOrder::Shortest), [3, 0, 2, 1]);
    }
}
