//! Which paragraphs or lines go: decisions over units grouped by exact digest and joined
//! by verified near pairs. Units are numbered in input order (document, then offset), so
//! "first" is the first occurrence in the input.

use crate::ops::dedup::ExactGroups;

/// Which occurrences of a repeated unit are removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitKeep {
    /// The first occurrence stays; every later unit similar to a kept one goes.
    First,
    /// Every occurrence of a unit that occurs at least `min_repeats` times goes (itself
    /// and its near copies counted): boilerplate removal.
    None { min_repeats: usize },
}

/// Two units, `a < b`, verified at the bar (exact Jaccard of their shingle sets).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnitPair {
    pub a: u32,
    pub b: u32,
    pub similarity: f64,
}

/// One unit removed, and the unit it repeats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Removal {
    pub unit: u32,
    /// The kept unit it repeats (with [`UnitKeep::None`], for the first occurrence, the
    /// next occurrence).
    pub duplicate_of: u32,
    pub similarity: f64,
    /// Same normalised text (digest).
    pub exact: bool,
}

/// The units to remove, sorted by unit. `groups` holds every unit in input order, grouped
/// by digest; `pairs` join group representatives (first members) only.
///
/// Greedy in input order: a unit is removed when it reaches a kept earlier unit, and names
/// the most similar one (the earliest among equals). Only representatives can be kept: a
/// later member of a group is an exact copy of its representative, so it goes with it
/// (naming the representative when that is kept, else the most similar kept unit before
/// the member that the representative reaches). So A~B and B~C with A and C unrelated
/// remove B only.
pub fn decide(n: usize, groups: &ExactGroups, pairs: &[UnitPair], keep: UnitKeep) -> Vec<Removal> {
    // Each pair from both ends, by (unit, other).
    let mut adj: Vec<(u32, u32, f64)> = pairs
        .iter()
        .flat_map(|p| [(p.a, p.b, p.similarity), (p.b, p.a, p.similarity)])
        .collect();
    adj.sort_by_key(|x| (x.0, x.1));
    let around = |u: u32| {
        let lo = adj.partition_point(|x| x.0 < u);
        let hi = adj.partition_point(|x| x.0 <= u);
        &adj[lo..hi]
    };
    let mut kept = vec![false; n];
    // The most similar kept unit before `before` among `r`'s neighbours.
    let best = |kept: &[bool], r: u32, before: u32| {
        let mut best: Option<(u32, f64)> = None;
        for &(_, x, s) in around(r) {
            if x < before && kept[x as usize] && best.is_none_or(|(_, b)| s > b) {
                best = Some((x, s));
            }
        }
        best
    };
    // Groups are ordered by their first member: representatives in input order.
    for g in groups.iter() {
        let r = g[0];
        kept[r as usize] = best(&kept, r, r).is_none();
    }
    let mut removals = Vec::new();
    for g in groups.iter() {
        let r = g[0];
        if kept[r as usize] {
            removals.extend(g[1..].iter().map(|&m| Removal {
                unit: m,
                duplicate_of: r,
                similarity: 1.0,
                exact: true,
            }));
        } else {
            for &m in g {
                let (k, similarity) = best(&kept, r, m).expect("a removed unit reaches a kept one");
                removals.push(Removal {
                    unit: m,
                    duplicate_of: k,
                    similarity,
                    exact: false,
                });
            }
        }
    }
    removals.sort_by_key(|r| r.unit);
    if let UnitKeep::None { min_repeats } = keep {
        // Each kept unit with its copies is one cluster; a cluster of at least
        // `min_repeats` goes whole, its first occurrence naming the next one.
        let mut next: Vec<Option<Removal>> = vec![None; n];
        let mut size = vec![1usize; n];
        for r in &removals {
            let k = r.duplicate_of as usize;
            size[k] += 1;
            if next[k].is_none() {
                next[k] = Some(*r);
            }
        }
        removals.retain(|r| size[r.duplicate_of as usize] >= min_repeats.max(2));
        for (k, copy) in next.iter().enumerate() {
            if let Some(c) = copy
                && size[k] >= min_repeats.max(2)
            {
                removals.push(Removal {
                    unit: k as u32,
                    duplicate_of: c.unit,
                    similarity: c.similarity,
                    exact: c.exact,
                });
            }
        }
        removals.sort_by_key(|r| r.unit);
    }
    removals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: u32, b: u32, similarity: f64) -> UnitPair {
        UnitPair { a, b, similarity }
    }

    #[test]
    fn greedy_keeps_the_first_and_never_chains() {
        // 0~1, 1~2 (0 and 2 unrelated); 3 is an exact copy of 1; 4 alone.
        let digests = [0u32, 1, 2, 1, 4];
        let groups = ExactGroups::by_key((0..5).collect(), |i| digests[i as usize]);
        let pairs = [pair(0, 1, 0.6), pair(1, 2, 0.7)];
        let r = decide(5, &groups, &pairs, UnitKeep::First);
        let got: Vec<(u32, u32)> = r.iter().map(|r| (r.unit, r.duplicate_of)).collect();
        // 1 goes (copy of 0), 2 stays (1 is not kept), 3 follows 1 and names the kept
        // unit before it that 1 is most similar to: 2.
        assert_eq!(got, [(1, 0), (3, 2)]);
        assert_eq!(r[1].similarity, 0.7);
    }

    #[test]
    fn keep_none_removes_clusters_of_min_repeats() {
        // Cluster {0, 2, 3} (3 occurrences), cluster {1, 4} (2 occurrences).
        let digests = [0u32, 1, 0, 3, 1];
        let groups = ExactGroups::by_key((0..5).collect(), |i| digests[i as usize]);
        let pairs = [pair(0, 3, 0.8)];
        let units = |k| -> Vec<u32> {
            decide(5, &groups, &pairs, UnitKeep::None { min_repeats: k })
                .iter()
                .map(|r| r.unit)
                .collect()
        };
        assert_eq!(units(2), [0, 1, 2, 3, 4]);
        assert_eq!(units(3), [0, 2, 3]);
        assert!(units(4).is_empty());
    }
}
