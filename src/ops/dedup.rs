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

use crate::error::{Error, Report};
use crate::fingerprint::Fingerprint;
use crate::ops::cluster::{self, Assignment, Duplicate};
use crate::progress::Progress;
use crate::search::{self, Pair, SearchOptions};
use crate::text::minhash::{BandKeys, KeyStore};
use crate::text::simhash::TextConfig;
use crate::text::texts::{DocStats, TextSource};
use crate::verify::ScoredPair;
use crate::verify::{Verifier, verify_pairs};

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

/// Which verified pairs a deduplication returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PairSet {
    /// Every pair at or above the bar (for `--save`, pair output, rethresholding and
    /// connected components).
    #[default]
    All,
    /// With [`Grouping::Greedy`], only the pairs that decide: each removed record with the
    /// kept records it reaches. The decisions are the same; a search may then skip the
    /// pairs between removed records, most of the work in tight clusters.
    Deciding,
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
    /// Number of candidate pairs the search proposed (before verification).
    pub candidates: usize,
    /// Candidates verified by reading both texts again: all of them, less those their
    /// similarity sketches rejected ([`crate::text::sketch`]).
    pub read: usize,
    /// Documents read again to verify them (each at most once while the sets of the
    /// documents in candidates fit in [`crate::verify::VERIFY_BYTES`]).
    pub documents_read: usize,
}

/// Where candidate pairs come from.
#[derive(Clone, Copy, Debug)]
pub enum Candidates<'a> {
    /// The Hamming search of [`DedupOptions::search`] over the fingerprints.
    Hamming,
    /// The MinHash band search ([`search::bands`]) over these keys (one entry per
    /// document), verified group by group as the bands are searched.
    Bands(&'a BandKeys),
}

/// Verifies the candidates of a band search: `search` runs one of [`search::bands`]'
/// searches over `ids` with the sink it is given; each group's positions become document
/// numbers (`ids[x]`), with their fingerprints' Hamming distance (0 when `fingerprints` is
/// empty: a caller that prints no distance need not keep them), and go to `verifier`, which
/// filters them by sketch as they come and verifies them all once the search is done (each
/// document read once). Returns the pairs at or above the bar, sorted by (a, b), and the
/// number of candidates (the ones the verifier's sketches rejected are in
/// [`Verifier::sketch_rejected`]).
pub fn verify_band_candidates<F: Fingerprint>(
    ids: &[u32],
    fingerprints: &[F],
    verifier: &mut Verifier,
    progress: &dyn Progress,
    search: impl FnOnce(&mut dyn FnMut(Vec<Pair>)) -> search::bands::BandStats,
) -> (Vec<ScoredPair>, usize) {
    let stats = search(&mut |mut group| {
        for p in &mut group {
            let (a, b) = (ids[p.a as usize], ids[p.b as usize]);
            let distance = match fingerprints {
                [] => 0,
                f => f[a as usize].distance(&f[b as usize]),
            };
            *p = Pair::new(a, b, distance);
        }
        verifier.add(&group);
    });
    (verifier.verify_pending(progress), stats.candidates as usize)
}

/// The Hamming radius that catches a pair of Jaccard similarity `j` with probability at
/// least `recall`, under SimHash's model: two sets with Jaccard j (and equal sizes) have
/// cosine c = 2j / (1 + j); each of the `bits` bits differs independently with probability
/// arccos(c) / pi; the radius is the `recall` quantile of that binomial distribution.
pub fn candidate_radius(bits: u32, j: f64, recall: f64) -> u32 {
    crate::vectors::hyperplane::cosine_radius(bits, jaccard_cosine(j), recall)
}

/// The probability that a pair of Jaccard similarity `j` is a candidate of the Hamming
/// search within `radius` of `bits` bits, under the model of [`candidate_radius`].
pub fn candidate_probability(bits: u32, j: f64, radius: u32) -> f64 {
    crate::vectors::hyperplane::within_radius(bits, jaccard_cosine(j), radius)
}

/// SimHash's cosine of two equal-sized sets of Jaccard similarity `j`: 2j / (1 + j).
fn jaccard_cosine(j: f64) -> f64 {
    let j = j.clamp(0.0, 1.0);
    2.0 * j / (1.0 + j)
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

/// Records grouped by an exact key (the digest of their normalised text, say), in compact
/// form: 4 bytes per record plus 4 per group. Members of a group are listed in keep order,
/// and groups are ordered by their first member, which represents the group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExactGroups {
    members: Vec<u32>,
    /// Group `g` is `members[starts[g]..starts[g + 1]]`.
    starts: Vec<u32>,
}

impl ExactGroups {
    /// Groups the records of `order` (in keep order; records left out take no part) by
    /// `key`.
    pub fn by_key<K: Ord>(order: Vec<u32>, key: impl Fn(u32) -> K) -> ExactGroups {
        let n = order.len();
        // Position of each record in keep order; the records of `order` are all below `max`.
        let max = order.iter().max().map_or(0, |&m| m as usize + 1);
        let mut rank = vec![u32::MAX; max];
        for (r, &i) in order.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        // A stable sort keeps keep order inside each run of equal keys.
        let mut by_key = order;
        by_key.sort_by_key(|&x| key(x));
        let mut runs: Vec<(u32, u32)> = Vec::new();
        let mut start = 0;
        while start < n {
            let mut end = start + 1;
            while end < n && key(by_key[end]) == key(by_key[start]) {
                end += 1;
            }
            runs.push((start as u32, end as u32));
            start = end;
        }
        runs.sort_unstable_by_key(|&(s, _)| rank[by_key[s as usize] as usize]);
        drop(rank);
        let mut members = Vec::with_capacity(n);
        let mut starts = Vec::with_capacity(runs.len() + 1);
        for (s, e) in runs {
            starts.push(members.len() as u32);
            members.extend_from_slice(&by_key[s as usize..e as usize]);
        }
        starts.push(members.len() as u32);
        ExactGroups { members, starts }
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The members of group `g`, its representative first.
    pub fn get(&self, g: usize) -> &[u32] {
        &self.members[self.starts[g] as usize..self.starts[g + 1] as usize]
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u32]> + '_ {
        (0..self.len()).map(|g| self.get(g))
    }
}

/// Deduplicates fingerprinted documents (see the module docs): `fingerprints[i]` and
/// `docs[i]` describe document `i`, which `source` reads again for verification. Documents
/// without shingles take part only as exact duplicates. `candidates` says which search
/// proposes the pairs to verify.
#[allow(clippy::too_many_arguments)]
pub fn dedup<F: Fingerprint, D: DocStats>(
    fingerprints: &[F],
    docs: &[D],
    candidates: Candidates,
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
    // 1. Exact duplicates, grouped by digest; groups listed by their first member in keep
    //    order, which represents the group from here on.
    let groups = digest_groups(docs, opts.keep);

    // 2. Candidates among the representatives that have shingles.
    let reps = representatives(&groups, docs);
    let digest = |i: usize| docs[i].digest();
    let shingles = |i: usize| docs[i].shingles();
    let (near, candidates, read, documents_read) = match candidates {
        Candidates::Bands(keys) => {
            assert_eq!(keys.len(), n, "band keys for every document");
            // 2-3. Band candidates, verified group by group.
            let mut verifier = Verifier::new(source, config, &digest, opts.min_similarity, report)
                .with_shingle_counts(&shingles);
            let (near, candidates) =
                verify_band_candidates(&reps, fingerprints, &mut verifier, progress, |sink| {
                    search::bands::search(keys, &reps, progress, sink)
                });
            let read = candidates - verifier.sketch_rejected();
            (near, candidates, read, verifier.documents_read())
        }
        Candidates::Hamming => {
            // Without exact duplicates or short documents every document is searched: no
            // copy.
            let rep_fps: std::borrow::Cow<[F]> = if reps.len() == n {
                std::borrow::Cow::Borrowed(fingerprints)
            } else {
                reps.iter().map(|&r| fingerprints[r as usize]).collect()
            };
            let mut candidates = search::find_pairs(&rep_fps, &opts.search, progress);
            drop(rep_fps);
            for p in &mut candidates {
                *p = Pair::new(reps[p.a as usize], reps[p.b as usize], p.distance);
            }
            // 3. Verification.
            let mut verifier =
                Verifier::reading_all(source, config, &digest, opts.min_similarity, report)
                    .with_shingle_counts(&shingles);
            let near = verifier.verify(&candidates, progress);
            (
                near,
                candidates.len(),
                candidates.len(),
                verifier.documents_read(),
            )
        }
    };
    drop(reps);

    // 4. Decisions among representatives, then exact members follow their representative.
    let (pairs, assignment) = assign_groups(n, &groups, &near, opts.grouping);
    Dedup {
        pairs,
        assignment,
        candidates,
        read,
        documents_read,
    }
}

/// [`dedup`] with the MinHash band search over `keys` (one entry per document, held or
/// spilled), which it takes: they are reduced to their collision runs
/// ([`search::bands::collision_runs`]) and freed before the exact-duplicate groups, the search and the verification allocate
/// anything, so the peak memory is the keys' or the rest's, not their sum. The pairs, the
/// decisions and the candidate count are [`dedup`]'s with [`Candidates::Bands`].
/// `fingerprints` may be empty: the pairs' distances are then 0. Fails only if spilled
/// keys cannot be read back.
#[allow(clippy::too_many_arguments)]
pub fn dedup_with_keys<F: Fingerprint, D: DocStats>(
    fingerprints: &[F],
    docs: &[D],
    keys: KeyStore,
    source: &dyn TextSource,
    config: &TextConfig,
    opts: &DedupOptions,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Result<Dedup, Error> {
    assert!(
        fingerprints.is_empty() || fingerprints.len() == docs.len(),
        "one fingerprint per document, or none"
    );
    assert_eq!(keys.len(), docs.len(), "band keys for every document");
    let n = docs.len();
    // Documents without shingles are never searched (their keys are all alike).
    let runs = search::bands::collision_runs(keys, &|i| docs[i].shingles() > 0, progress)?;
    // 1. Exact duplicates, as in `dedup`.
    let groups = digest_groups(docs, opts.keep);
    // 2-3. Band candidates among the representatives, verified group by group.
    let reps = representatives(&groups, docs);
    let digest = |i: usize| docs[i].digest();
    let shingles = |i: usize| docs[i].shingles();
    let mut verifier = Verifier::new(source, config, &digest, opts.min_similarity, report)
        .with_shingle_counts(&shingles);
    let (near, candidates) =
        verify_band_candidates(&reps, fingerprints, &mut verifier, progress, |sink| {
            search::bands::search_runs(&runs, &reps, sink)
        });
    drop((runs, reps));
    let read = candidates - verifier.sketch_rejected();
    let documents_read = verifier.documents_read();
    // 4. Decisions, as in `dedup`.
    let (pairs, assignment) = assign_groups(n, &groups, &near, opts.grouping);
    Ok(Dedup {
        pairs,
        assignment,
        candidates,
        read,
        documents_read,
    })
}

/// The representative (first member) of each group that has shingles, in document order:
/// the documents a search compares.
fn representatives<D: DocStats>(groups: &ExactGroups, docs: &[D]) -> Vec<u32> {
    let mut reps: Vec<u32> = groups
        .iter()
        .map(|g| g[0])
        .filter(|&r| docs[r as usize].shingles() > 0)
        .collect();
    reps.sort_unstable();
    reps
}

/// The assignment of `count` nodes, kept in node order (node 0 first), from the `near`
/// pairs with each record mapped to its node by `node`.
pub(crate) fn assign_nodes(
    count: usize,
    near: &[ScoredPair],
    node: impl Fn(u32) -> u32,
    grouping: Grouping,
) -> Assignment {
    let node_pairs: Vec<ScoredPair> = near
        .iter()
        .map(|p| ScoredPair {
            a: node(p.a),
            b: node(p.b),
            ..*p
        })
        .collect();
    let identity: Vec<u32> = (0..count as u32).collect();
    match grouping {
        Grouping::Greedy => cluster::greedy(count, &identity, &node_pairs),
        Grouping::Components => cluster::components(count, &identity, &node_pairs),
    }
}

/// Decisions from exact-duplicate `groups` and the verified `near` pairs between
/// representatives (record indexes): representatives are assigned by `grouping` in group
/// order, every other member names its representative as an exact duplicate. Returns every
/// pair at or above the bar (exact pairs inside groups, near pairs expanded over both
/// groups), sorted by (a, b), and the assignment of all `n` records.
pub fn assign_groups(
    n: usize,
    groups: &ExactGroups,
    near: &[ScoredPair],
    grouping: Grouping,
) -> (Vec<ScoredPair>, Assignment) {
    // Only groups with a near pair take part in the assignment; the others keep their
    // representative. `nodes` lists those groups in group (keep) order.
    let mut node_of_rep: HashMap<u32, u32> =
        near.iter().flat_map(|p| [(p.a, 0), (p.b, 0)]).collect();
    let mut nodes: Vec<u32> = Vec::with_capacity(node_of_rep.len());
    for (g, members) in groups.iter().enumerate() {
        if let Some(node) = node_of_rep.get_mut(&members[0]) {
            *node = nodes.len() as u32;
            nodes.push(g as u32);
        }
    }
    let node_assignment = assign_nodes(nodes.len(), near, |r| node_of_rep[&r], grouping);
    let mut duplicate_of: Vec<Option<Duplicate>> = vec![None; n];
    for (node, d) in node_assignment.duplicate_of.iter().enumerate() {
        let rep = groups.get(nodes[node] as usize)[0];
        duplicate_of[rep as usize] = d.map(|d| Duplicate {
            kept: groups.get(nodes[d.kept as usize] as usize)[0],
            ..d
        });
    }
    // Exact copies follow their representative: of it when it is kept, else of the record
    // it duplicates (with its score; the copies are not exact copies of that one), so
    // every removed record names a kept one, as SemHash's groups do.
    for members in groups.iter() {
        let rep = members[0];
        let fate = duplicate_of[rep as usize].unwrap_or(Duplicate {
            kept: rep,
            score: 1.0,
            exact: true,
        });
        for &m in &members[1..] {
            duplicate_of[m as usize] = Some(fate);
        }
    }

    let group_of = |rep: u32| nodes[node_of_rep[&rep] as usize] as usize;
    let pairs = expand_pairs(groups, &group_of, near, |_| true);
    (pairs, Assignment { duplicate_of })
}

/// Every pair at or above the bar, sorted by (a, b), `a < b`: the exact pairs inside each
/// group `include` accepts, and each `near` pair between representatives expanded over both
/// groups; `group_of(r)` is the group that representative `r` leads.
fn expand_pairs(
    groups: &ExactGroups,
    group_of: &dyn Fn(u32) -> usize,
    near: &[ScoredPair],
    include: impl Fn(&[u32]) -> bool,
) -> Vec<ScoredPair> {
    let mut pairs = Vec::new();
    for members in groups.iter().filter(|m| include(m)) {
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
        for &a in groups.get(group_of(p.a)) {
            for &b in groups.get(group_of(p.b)) {
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

/// Documents grouped by digest, in `keep` order ([`ExactGroups`]).
fn digest_groups<D: DocStats>(docs: &[D], keep: KeepOrder) -> ExactGroups {
    let order = match keep {
        KeepOrder::First => (0..docs.len() as u32).collect(),
        _ => {
            let lengths: Vec<u64> = docs.iter().map(|d| d.chars()).collect();
            keep_order(&lengths, keep)
        }
    };
    ExactGroups::by_key(order, |i| docs[i as usize].digest())
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
/// when it holds a new document. Candidates are the representatives' pairs among fresh
/// groups (`opts.search`) and between fresh and other groups (the exact
/// [`search::find_cross_pairs`]), verified by [`verify_pairs`] as in [`dedup`] (an old
/// document in a candidate is read again), and near pairs are expanded over both groups.
/// With the exact or brute method the result is [`dedup`]'s pairs with `b >= first_new`:
/// the same candidates, the same verification. Only pairs are computed: keep/remove
/// decisions would need the old documents' pairs too.
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
    let groups = digest_groups(docs, opts.keep);
    let is_fresh = |members: &[u32]| members.iter().any(|&m| m as usize >= first_new);
    let (mut fresh, mut stale) = (Vec::new(), Vec::new());
    for members in groups.iter() {
        let rep = members[0];
        if docs[rep as usize].shingles() == 0 {
            continue;
        }
        if is_fresh(members) {
            fresh.push(rep);
        } else {
            stale.push(rep);
        }
    }
    fresh.sort_unstable();
    stale.sort_unstable();
    let digest = |i: usize| docs[i].digest();
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
    drop((fresh_fps, stale_fps));
    let near = verify_pairs(
        &candidates,
        source,
        config,
        &digest,
        opts.min_similarity,
        progress,
        report,
    );
    let mut group_of = vec![u32::MAX; docs.len()];
    for (g, members) in groups.iter().enumerate() {
        group_of[members[0] as usize] = g as u32;
    }
    let mut pairs = expand_pairs(&groups, &|r| group_of[r as usize] as usize, &near, is_fresh);
    pairs.retain(|p| p.b as usize >= first_new);
    NewPairs {
        pairs,
        candidates: candidates.len(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Copies of a removed record name the kept record it duplicates, never the removed
    /// one (SemHash's groups): record 2 copies 1, and 1 duplicates 0.
    #[test]
    fn copies_of_a_removed_record_name_a_kept_one() {
        let groups = ExactGroups::by_key(vec![0, 1, 2], |i| i.min(1));
        let near = [ScoredPair {
            a: 0,
            b: 1,
            distance: 3,
            score: 0.8,
            exact: false,
        }];
        for grouping in [Grouping::Greedy, Grouping::Components] {
            let (_, a) = assign_groups(3, &groups, &near, grouping);
            let expected = Some(Duplicate {
                kept: 0,
                score: 0.8,
                exact: false,
            });
            assert_eq!(a.duplicate_of, vec![None, expected, expected]);
        }
    }

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
    fn exact_groups_follow_keep_order() {
        let keys = [7, 3, 7, 9, 3, 7];
        let g = ExactGroups::by_key(vec![0, 1, 2, 3, 4, 5], |i| keys[i as usize]);
        let groups: Vec<&[u32]> = g.iter().collect();
        assert_eq!(groups, [&[0, 2, 5][..], &[1, 4], &[3]]);
        // Keep order 5 first: its group leads, led by 5.
        let g = ExactGroups::by_key(vec![5, 4, 3, 2, 1, 0], |i| keys[i as usize]);
        let groups: Vec<&[u32]> = g.iter().collect();
        assert_eq!(groups, [&[5, 2, 0][..], &[4, 1], &[3]]);
        // Records left out of the order take no part.
        let g = ExactGroups::by_key(vec![1, 3], |i| keys[i as usize]);
        assert_eq!(g.len(), 2);
        assert!(ExactGroups::by_key(Vec::new(), |i| i).is_empty());
    }

    /// Texts in memory.
    pub(crate) struct Texts(pub Vec<String>);

    impl TextSource for Texts {
        fn text(&self, i: usize) -> Result<String, crate::error::Error> {
            Ok(self.0[i].clone())
        }
        fn name(&self, i: usize) -> String {
            format!("doc{i}")
        }
    }

    pub(crate) struct Stats(crate::text::simhash::TextSignature<u64>);

    impl DocStats for Stats {
        fn chars(&self) -> u64 {
            self.0.chars
        }
        fn shingles(&self) -> u64 {
            self.0.shingles
        }
        fn digest(&self) -> u128 {
            self.0.digest
        }
    }

    /// A corpus for the incremental tests, shuffled: families of near copies (exact ones
    /// too) of 30-word texts, and texts too short for a shingle; their fingerprints, stats
    /// and band keys (12 bands of 2).
    pub(crate) struct Sample {
        pub config: TextConfig,
        pub texts: Texts,
        pub fps: Vec<u64>,
        pub docs: Vec<Stats>,
        pub keys: BandKeys,
    }

    pub(crate) fn sample() -> Sample {
        let config = TextConfig {
            shingling: "word:3".parse().unwrap(),
            normalization: crate::text::shingle::Normalization::ALL,
            weighting: Default::default(),
            compat: false,
        };
        let mut state = 7u64;
        let mut next = move |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let words = [
            "ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "ibis", "jay",
        ];
        let mut texts: Vec<String> = Vec::new();
        for _ in 0..40 {
            let base: Vec<&str> = (0..30).map(|_| words[next(10) as usize]).collect();
            for _ in 0..1 + next(3) {
                let mut copy = base.clone();
                for _ in 0..next(6) {
                    copy[next(30) as usize] = words[next(10) as usize];
                }
                texts.push(copy.join(" "));
            }
        }
        texts.extend(["Hi".to_string(), "hi!".to_string(), "ant bee".to_string()]);
        let order: Vec<usize> = {
            let mut o: Vec<usize> = (0..texts.len()).collect();
            for i in (1..o.len()).rev() {
                o.swap(i, next(i as u64 + 1) as usize);
            }
            o
        };
        let texts: Vec<String> = order.iter().map(|&i| texts[i].clone()).collect();
        let params = crate::text::minhash::BandParams { rows: 2, bands: 12 };
        let mut sketcher = crate::text::minhash::Sketcher::new(params);
        let mut keys = BandKeys::new(params.bands as usize);
        let sigs: Vec<_> = texts
            .iter()
            .map(|t| {
                let (sig, k) = crate::text::simhash::sketch_text::<u64>(t, &config, &mut sketcher);
                keys.push(&k);
                sig
            })
            .collect();
        Sample {
            config,
            fps: sigs.iter().map(|s| s.fingerprint).collect(),
            docs: sigs.iter().map(|&s| Stats(s)).collect(),
            texts: Texts(texts),
            keys,
        }
    }

    /// The incremental pairs are the full run's pairs that involve a new document, for
    /// every split point and keep order: exact copies, near copies, chains through exact
    /// groups (old A ~ old B, new A' = A) and texts too short for a shingle.
    #[test]
    fn pairs_with_new_equal_the_full_run_restricted() {
        let Sample {
            config,
            texts: source,
            fps,
            docs,
            ..
        } = sample();
        let report = |e: crate::error::Error| panic!("{e}");
        for keep in [KeepOrder::First, KeepOrder::Longest] {
            let opts = DedupOptions {
                search: SearchOptions::exact(candidate_radius(64, 0.5, 0.99)),
                min_similarity: 0.5,
                keep,
                grouping: Grouping::Greedy,
            };
            let full = dedup(
                &fps,
                &docs,
                Candidates::Hamming,
                &source,
                &config,
                &opts,
                &(),
                &report,
            );
            assert!(full.pairs.iter().any(|p| p.exact) && full.pairs.iter().any(|p| !p.exact));
            for first_new in [0, 1, 17, 40, docs.len() - 2, docs.len()] {
                let new = pairs_with_new(
                    &fps,
                    &docs,
                    first_new,
                    &source,
                    &config,
                    &opts,
                    &(),
                    &report,
                );
                let expected: Vec<ScoredPair> = full
                    .pairs
                    .iter()
                    .filter(|p| p.b as usize >= first_new)
                    .copied()
                    .collect();
                assert_eq!(new.pairs, expected, "first_new {first_new}, {keep:?}");
            }
        }
    }

    #[test]
    fn keep_orders() {
        let lengths = [5, 9, 5, 1];
        assert_eq!(keep_order(&lengths, KeepOrder::First), [0, 1, 2, 3]);
        assert_eq!(keep_order(&lengths, KeepOrder::Longest), [1, 0, 2, 3]);
        assert_eq!(keep_order(&lengths, KeepOrder::Shortest), [3, 0, 2, 1]);
    }
}
