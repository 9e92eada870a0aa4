//! Finding every pair of fingerprints within a Hamming distance: the core all modes share.
//!
//! Three methods behind one entry point, [`find_pairs`]: `brute` (all pairs, the oracle),
//! `rotate` (the seed script's rotate-sort-compare passes, approximate) and `exact`
//! (permuted block tables, every pair guaranteed). Results are [`Pair`]s of indexes into
//! the input slice, sorted, so output never depends on the thread count.

pub mod brute;
pub mod rotate;

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
}

/// What to search for and how.
#[derive(Clone, Copy, Debug)]
pub struct SearchOptions {
    pub method: Method,
    /// Report pairs with distance `<= max_distance`.
    pub max_distance: u32,
}

/// Every pair the method finds within `opts.max_distance`, sorted by `(a, b)`, each once.
pub fn find_pairs<F: Fingerprint>(
    fps: &[F],
    opts: &SearchOptions,
    progress: &dyn Progress,
) -> Vec<Pair> {
    assert!(
        fps.len() <= u32::MAX as usize,
        "at most 2^32 - 1 fingerprints per search"
    );
    match opts.method {
        Method::Brute => brute::search(fps, opts.max_distance, progress),
        Method::Rotate { window } => {
            let mut pairs: Vec<Pair> = rotate::search(fps, opts.max_distance, window, progress)
                .into_iter()
                .map(|f| f.pair)
                .collect();
            pairs.sort_unstable();
            pairs
        }
    }
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
