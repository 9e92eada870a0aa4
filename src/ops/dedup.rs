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
    let order = match opts.keep {
        KeepOrder::First => (0..n as u32).collect(),
        _ => {
            let lengths: Vec<u64> = docs.iter().map(|d| d.chars()).collect();
            keep_order(&lengths, opts.keep)
        }
    };

    // 1. Exact duplicates, grouped by digest; groups listed by their first member in keep
    //    order, which represents the group from here on.
    let groups = ExactGroups::by_key(order, |i| docs[i as usize].digest());

    // 2. Candidates among the representatives that have shingles.
    let mut reps: Vec<u32> = groups
        .iter()
        .map(|g| g[0])
        .filter(|&r| docs[r as usize].shingles() > 0)
        .collect();
    reps.sort_unstable();
    // Without exact duplicates or short documents every document is searched: no copy.
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
    drop(reps);

    // 3. Verification.
    let near = verify_pairs(
        &candidates,
        source,
        config,
        &|i| docs[i].digest(),
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
    let mut group_of = vec![u32::MAX; n];
    for (g, members) in groups.iter().enumerate() {
        group_of[members[0] as usize] = g as u32;
    }
    let rep_pairs: Vec<ScoredPair> = near
        .iter()
        .map(|p| ScoredPair {
            a: group_of[p.a as usize],
            b: group_of[p.b as usize],
            ..*p
        })
        .collect();
    let identity: Vec<u32> = (0..groups.len() as u32).collect();
    let rep_assignment = match grouping {
        Grouping::Greedy => cluster::greedy(groups.len(), &identity, &rep_pairs),
        Grouping::Components => cluster::components(groups.len(), &identity, &rep_pairs),
    };
    drop((identity, rep_pairs));
    let mut duplicate_of: Vec<Option<Duplicate>> = vec![None; n];
    for (g, members) in groups.iter().enumerate() {
        let rep = members[0];
        duplicate_of[rep as usize] = rep_assignment.duplicate_of[g].map(|d| Duplicate {
            kept: groups.get(d.kept as usize)[0],
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

    // Every pair: exact pairs inside groups, near pairs expanded over both groups.
    let mut pairs = Vec::new();
    for members in groups.iter() {
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
        for &a in groups.get(group_of[p.a as usize] as usize) {
            for &b in groups.get(group_of[p.b as usize] as usize) {
                pairs.push(ScoredPair {
                    a: a.min(b),
                    b: a.max(b),
                    ..*p
                });
            }
        }
    }
    pairs.sort_unstable_by_key(|p| (p.a, p.b));
    (pairs, Assignment { duplicate_of })
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

    #[test]
    fn keep_orders() {
        let lengths = [5, 9, 5, 1];
        assert_eq!(keep_order(&lengths, KeepOrder::First), [0, 1, 2, 3]);
        assert_eq!(keep_order(&lengths, KeepOrder::Longest), [1, 0, 2, 3]);
        assert_eq!(keep_order(&lengths, KeepOrder::Shortest), [3, 0, 2, 1]);
    }
}
