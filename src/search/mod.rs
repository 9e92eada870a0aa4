//! Finding every pair of fingerprints within a Hamming distance: the core all modes share.
//!
//! Three methods behind one entry point, [`find_pairs`]: `brute` (all pairs, the oracle),
//! `rotate` (the seed script's rotate-sort-compare passes, approximate) and `exact`
//! (permuted block tables, every pair guaranteed). Results are [`Pair`]s of indexes into
//! the input slice, sorted, so output never depends on the thread count. The exact search
//! also answers query-against-reference pairs ([`find_cross_pairs`]) and [`knn()`].

pub mod bands;
pub mod bitbands;
pub mod blocks;
pub mod brute;
mod groups;
pub mod knn;
pub mod rotate;
pub mod synth;

pub use blocks::SearchStats;
pub use knn::{Knn, Neighbor, approximate_knn, knn};

use crate::fingerprint::Fingerprint;
use crate::progress::Progress;

/// Two items within the distance bound. Always `a < b` (indexes into the searched slice).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pair {
    pub a: u32,
    pub b: u32,
    /// Hamming distance between the two fingerprints.
    pub distance: u32,
}

impl Pair {
    /// A pair with its indexes put in order.
    pub fn new(i: u32, j: u32, distance: u32) -> Pair {
        let (a, b) = if i < j { (i, j) } else { (j, i) };
        Pair { a, b, distance }
    }
}

/// How candidate pairs are generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Every pair is compared: O(N^2) popcounts, exact.
    Brute,
    /// The seed's passes: for each of `BITS` rotations, sort and compare each item with the
    /// next `window` items. Fast but without a recall guarantee.
    Rotate { window: usize },
    /// Permuted block tables ([`blocks`]): every pair within the distance, each once.
    /// `blocks` forces the number of blocks the bits are split into (`None`: chosen by a
    /// cost model; a value `<= max_distance` means brute force).
    Exact { blocks: Option<u32> },
}

/// The exact method with the block count chosen by the cost model: the default outside
/// the seed-compatible mode.
impl Default for Method {
    fn default() -> Method {
        Method::Exact { blocks: None }
    }
}

/// A query fingerprint within the distance of a reference fingerprint
/// ([`find_cross_pairs`]): indexes into the two slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CrossPair {
    /// Index into the query slice.
    pub query: u32,
    /// Index into the reference slice.
    pub reference: u32,
    /// Hamming distance between the two fingerprints.
    pub distance: u32,
}

/// What to search for and how.
#[derive(Clone, Copy, Debug)]
pub struct SearchOptions {
    pub method: Method,
    /// Report pairs with distance `<= max_distance`.
    pub max_distance: u32,
}

impl SearchOptions {
    /// The exact search with an automatic block count.
    pub fn exact(max_distance: u32) -> SearchOptions {
        SearchOptions {
            method: Method::default(),
            max_distance,
        }
    }
}

/// Every pair the method finds within `opts.max_distance`, sorted by `(a, b)`, each once.
/// The same for any thread count.
pub fn find_pairs<F: Fingerprint>(
    fps: &[F],
    opts: &SearchOptions,
    progress: &dyn Progress,
) -> Vec<Pair> {
    find_pairs_with_stats(fps, opts, progress).0
}

/// [`find_pairs`], plus what the search did (for benchmarks). Only the exact method fills
/// in tables and blocks; brute force counts its candidates.
pub fn find_pairs_with_stats<F: Fingerprint>(
    fps: &[F],
    opts: &SearchOptions,
    progress: &dyn Progress,
) -> (Vec<Pair>, SearchStats) {
    assert!(
        fps.len() < u32::MAX as usize,
        "at most 2^32 - 2 fingerprints per search"
    );
    let k = opts.max_distance;
    let pairs = match opts.method {
        Method::Exact { blocks } => return blocks::search(fps, k, blocks, progress),
        Method::Brute => brute::search(fps, k, progress),
        Method::Rotate { window } => {
            let mut pairs: Vec<Pair> = rotate::search(fps, k, window, progress)
                .into_iter()
                .map(|f| f.pair)
                .collect();
            pairs.sort_unstable();
            pairs
        }
    };
    let n = fps.len() as u64;
    let stats = SearchStats {
        fingerprints: n,
        candidates: if opts.method == Method::Brute {
            n * n.saturating_sub(1) / 2
        } else {
            0
        },
        pairs: pairs.len() as u64,
        ..SearchStats::default()
    };
    (pairs, stats)
}

/// Every pair of a query and a reference fingerprint within `max_distance`, sorted by
/// `(query, reference)`, each once: for instance a test set checked against a training set.
/// Exact; `blocks` as in [`Method::Exact`].
pub fn find_cross_pairs<F: Fingerprint>(
    queries: &[F],
    reference: &[F],
    max_distance: u32,
    blocks: Option<u32>,
    progress: &dyn Progress,
) -> (Vec<CrossPair>, SearchStats) {
    assert!(
        queries.len() + reference.len() < u32::MAX as usize,
        "at most 2^32 - 2 fingerprints per search"
    );
    blocks::cross_search(queries, reference, max_distance, blocks, progress)
}

/// When `max_distance` is too wide for the exact search's block tables over `bits`-bit
/// fingerprints (so that it compares every pair), the estimated time in nanoseconds of
/// comparing all pairs of `n` fingerprints, by its own cost model; else `None`.
pub fn exact_brute_nanos(n: usize, bits: u32, max_distance: u32) -> Option<f64> {
    let pairs = n as f64 * n.saturating_sub(1) as f64 / 2.0;
    blocks::brute_cost_without_blocks(pairs, bits, max_distance, bits)
}

/// The largest distance `d` with `d / bits < ratio`: the seed's strict ratio rule as a
/// distance bound. `None` when no distance qualifies (ratio <= 0).
pub fn max_distance_for_ratio(ratio: f64, bits: u32) -> Option<u32> {
    (0..=bits)
        .rev()
        .find(|&d| (d as f64) / (bits as f64) < ratio)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_is_strict() {
        assert_eq!(max_distance_for_ratio(0.25, 32), Some(7));
        assert_eq!(max_distance_for_ratio(0.25, 64), Some(15));
        assert_eq!(max_distance_for_ratio(0.2501, 64), Some(16));
        assert_eq!(max_distance_for_ratio(1.5, 64), Some(64));
        assert_eq!(max_distance_for_ratio(0.0, 64), None);
    }
}
