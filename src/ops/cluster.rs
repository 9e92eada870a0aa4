//! From verified pairs to decisions: which record is kept and which duplicates which.
//!
//! The default is greedy assignment in keep order (SemHash's semantics): a record is a
//! duplicate when it is similar enough to a record already *kept*; it then names the most
//! similar kept record. A record similar only to a removed record is kept, so A~B and B~C
//! never put an unrelated A and C together. Connected components are available on request.

use crate::verify::ScoredPair;

/// The fate of every record.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// `duplicate_of[i]` is `None` for a kept record, or the kept record it duplicates with
    /// the score and whether the two are exact duplicates.
    pub duplicate_of: Vec<Option<Duplicate>>,
}

/// A removed record's link to the kept record it duplicates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Duplicate {
    pub kept: u32,
    pub score: f64,
    pub exact: bool,
}

impl Assignment {
    /// Number of removed records.
    pub fn removed(&self) -> usize {
        self.duplicate_of.iter().filter(|d| d.is_some()).count()
    }

    /// Whether record `i` is kept.
    pub fn is_kept(&self, i: usize) -> bool {
        self.duplicate_of[i].is_none()
    }
}

/// Adjacency lists of `pairs` over `n` records, each sorted by neighbour index, in one
/// buffer: 4 bytes per record plus 16 per pair end, where a `Vec` per record would cost 24
/// bytes per record even without pairs.
struct Adjacency {
    /// Record `i`'s neighbours are `entries[starts[i]..starts[i + 1]]`.
    starts: Vec<u32>,
    entries: Vec<(u32, f64, bool)>,
}

impl Adjacency {
    fn new(n: usize, pairs: &[ScoredPair]) -> Adjacency {
        let mut starts = vec![0u32; n + 1];
        for p in pairs {
            starts[p.a as usize + 1] += 1;
            starts[p.b as usize + 1] += 1;
        }
        for i in 0..n {
            starts[i + 1] += starts[i];
        }
        let mut fill: Vec<u32> = starts[..n].to_vec();
        let mut entries = vec![(0u32, 0.0, false); 2 * pairs.len()];
        for p in pairs {
            for (x, y) in [(p.a, p.b), (p.b, p.a)] {
                entries[fill[x as usize] as usize] = (y, p.score, p.exact);
                fill[x as usize] += 1;
            }
        }
        let mut adj = Adjacency { starts, entries };
        for i in 0..n {
            let (s, e) = (adj.starts[i] as usize, adj.starts[i + 1] as usize);
            adj.entries[s..e].sort_unstable_by_key(|x| x.0);
        }
        adj
    }

    fn of(&self, i: usize) -> &[(u32, f64, bool)] {
        &self.entries[self.starts[i] as usize..self.starts[i + 1] as usize]
    }
}

/// Greedy assignment: records are visited in `order` (a permutation of `0..n`, the keep
/// priority); a record with a pair to an already kept record is removed as a duplicate of
/// the kept record with the highest score (an exact duplicate first; ties go to the record
/// visited first), otherwise it is kept.
pub fn greedy(n: usize, order: &[u32], pairs: &[ScoredPair]) -> Assignment {
    assert_eq!(order.len(), n, "order must be a permutation of the records");
    let adj = Adjacency::new(n, pairs);
    let mut rank = vec![u32::MAX; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    let mut duplicate_of: Vec<Option<Duplicate>> = vec![None; n];
    let mut visited = vec![false; n];
    for &i in order {
        let i = i as usize;
        let best = adj
            .of(i)
            .iter()
            .filter(|(j, _, _)| visited[*j as usize] && duplicate_of[*j as usize].is_none())
            .max_by(|x, y| {
                (x.2, x.1)
                    .partial_cmp(&(y.2, y.1))
                    .expect("scores are not NaN")
                    .then(rank[y.0 as usize].cmp(&rank[x.0 as usize]))
            });
        duplicate_of[i] = best.map(|&(kept, score, exact)| Duplicate { kept, score, exact });
        visited[i] = true;
    }
    Assignment { duplicate_of }
}

/// [`greedy`] over records named by sparse ids (row numbers of a distributed job, say),
/// visited in increasing id order: `pairs` are `(id, id, score)` (none exact), and only
/// ids that appear in a pair take part. Returns each removed id with the id it duplicates
/// and the score, by increasing removed id. Because the greedy rule only looks at a
/// record's pairs, running this on each connected component of a pair graph (or on any
/// union of whole components) gives the decisions of one run over the whole graph.
pub fn greedy_sparse(pairs: &[(u64, u64, f64)]) -> Vec<(u64, u64, f64)> {
    let mut ids: Vec<u64> = pairs.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    ids.sort_unstable();
    ids.dedup();
    let index = |id: u64| ids.binary_search(&id).expect("collected") as u32;
    let dense: Vec<ScoredPair> = pairs
        .iter()
        .map(|&(a, b, score)| {
            let (a, b) = (index(a), index(b));
            ScoredPair {
                a: a.min(b),
                b: a.max(b),
                distance: 0,
                score,
                exact: false,
            }
        })
        .collect();
    let order: Vec<u32> = (0..ids.len() as u32).collect();
    let assignment = greedy(ids.len(), &order, &dense);
    assignment
        .duplicate_of
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.map(|d| (ids[i], ids[d.kept as usize], d.score)))
        .collect()
}

/// Connected components of the pair graph: in each component the record first in `order`
/// is kept and every other member names it, with the score of their direct pair if they
/// have one, else the lowest score on the path that joined them (a lower bound in spirit,
/// to flag chained members).
pub fn components(n: usize, order: &[u32], pairs: &[ScoredPair]) -> Assignment {
    let adj = Adjacency::new(n, pairs);
    let mut duplicate_of: Vec<Option<Duplicate>> = vec![None; n];
    let mut seen = vec![false; n];
    for &root in order {
        let root = root as usize;
        if seen[root] {
            continue;
        }
        seen[root] = true;
        // Breadth-first from the root, carrying the weakest link on the path.
        let mut queue = std::collections::VecDeque::from([(root, f64::INFINITY, true)]);
        while let Some((i, weakest, all_exact)) = queue.pop_front() {
            for &(j, score, exact) in adj.of(i) {
                let j = j as usize;
                if seen[j] {
                    continue;
                }
                seen[j] = true;
                let (w, e) = (weakest.min(score), all_exact && exact);
                let direct = adj.of(j).iter().find(|x| x.0 as usize == root);
                duplicate_of[j] = Some(match direct {
                    Some(&(_, s, ex)) => Duplicate {
                        kept: root as u32,
                        score: s,
                        exact: ex,
                    },
                    None => Duplicate {
                        kept: root as u32,
                        score: w,
                        exact: e,
                    },
                });
                queue.push_back((j, w, e));
            }
        }
    }
    Assignment { duplicate_of }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: u32, b: u32, score: f64) -> ScoredPair {
        ScoredPair {
            a,
            b,
            distance: 0,
            score,
            exact: false,
        }
    }

    #[test]
    fn greedy_does_not_chain() {
        // 0~1 and 1~2, but 0 and 2 are unrelated: 1 goes, 2 stays.
        let pairs = [p(0, 1, 0.9), p(1, 2, 0.9)];
        let a = greedy(3, &[0, 1, 2], &pairs);
        assert_eq!(a.duplicate_of[0], None);
        assert_eq!(a.duplicate_of[1].unwrap().kept, 0);
        assert_eq!(a.duplicate_of[2], None);
        // Connected components put all three together.
        let c = components(3, &[0, 1, 2], &pairs);
        assert_eq!(c.duplicate_of[2].unwrap().kept, 0);
        assert_eq!(c.duplicate_of[2].unwrap().score, 0.9);
        assert_eq!(c.removed(), 2);
    }

    #[test]
    fn greedy_picks_the_most_similar_kept_record_and_respects_order() {
        let pairs = [p(0, 2, 0.85), p(1, 2, 0.95)];
        let a = greedy(3, &[0, 1, 2], &pairs);
        assert_eq!(a.duplicate_of[2].unwrap().kept, 1);
        assert_eq!(a.removed(), 1);
        // Keeping 2 first (say it is the longest) removes both others.
        let a = greedy(3, &[2, 0, 1], &pairs);
        assert!(a.is_kept(2));
        assert_eq!(a.duplicate_of[0].unwrap().kept, 2);
        assert_eq!(a.duplicate_of[1].unwrap().kept, 2);
    }

    #[test]
    fn exact_duplicates_win() {
        let mut exact = p(0, 2, 1.0);
        exact.exact = true;
        let pairs = [p(1, 2, 1.0), exact];
        let a = greedy(3, &[0, 1, 2], &pairs);
        assert_eq!(a.duplicate_of[2].unwrap().kept, 0);
        assert!(a.duplicate_of[2].unwrap().exact);
    }

    #[test]
    fn greedy_sparse_equals_greedy_per_component() {
        // Two components over sparse ids: {10, 40, 70} and {20, 1 << 63}.
        let top = 1u64 << 63;
        let pairs = [(40, 10, 0.9), (40, 70, 0.8), (10, 70, 0.6), (top, 20, 0.7)];
        assert_eq!(
            greedy_sparse(&pairs),
            vec![(40, 10, 0.9), (70, 10, 0.6), (top, 20, 0.7)]
        );
        // Component by component gives the same.
        let mut split = greedy_sparse(&pairs[3..]);
        split.extend(greedy_sparse(&pairs[..3]));
        split.sort_by_key(|x| x.0);
        assert_eq!(split, greedy_sparse(&pairs));
        assert!(greedy_sparse(&[]).is_empty());
    }
}
