//! The seed script's search: rotate, sort, compare neighbours.
//!
//! Pass `p` (0 <= p < BITS) sorts the fingerprints rotated right by `p` bits and compares
//! each with the next `window` entries. Equal rotated values can only come from identical
//! fingerprints, whose relative order a stable sort never changes, so every pass can be
//! computed independently from the input order: the passes run in parallel and still give
//! exactly the seed's sequential result.

use rayon::prelude::*;

use super::Pair;
use crate::fingerprint::Fingerprint;
use crate::progress::Progress;

/// A pair as the rotate search found it: in the first pass that compared it, at the given
/// position of that pass's sorted order (`i` at `position`, `j` after it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub pair: Pair,
    /// The first pass (= rotation in bits) that found the pair.
    pub pass: u32,
    /// Position of the earlier entry in that pass's sorted order.
    pub position: u32,
    /// How many places after `position` the other entry stood (1 ..= window).
    pub offset: u32,
    /// The entry that came first in the sorted order (`pair.a` or `pair.b`).
    pub first: u32,
}

/// Every pair within `max_distance` that lands within `window` places of each other in some
/// pass, each once, in discovery order (pass, then position in the sorted order).
pub fn search<F: Fingerprint>(
    fps: &[F],
    max_distance: u32,
    window: usize,
    progress: &dyn Progress,
) -> Vec<Found> {
    let window = window.max(1);
    progress.start("rotate-sort-compare", F::BITS as u64, "passes");
    let mut found: Vec<Found> = (0..F::BITS)
        .into_par_iter()
        .flat_map_iter(|pass| {
            let mut order: Vec<(F, u32)> = fps
                .iter()
                .enumerate()
                .map(|(i, fp)| (fp.rotate_right(pass), i as u32))
                .collect();
            // Sorting by (value, index) equals a stable sort of the input order.
            order.sort_unstable();
            let mut hits = Vec::new();
            for (pos, &(fa, ia)) in order.iter().enumerate() {
                for (off, &(fb, ib)) in order[pos + 1..].iter().take(window).enumerate() {
                    let d = fa.distance(&fb);
                    if d <= max_distance {
                        hits.push(Found {
                            pair: Pair::new(ia, ib, d),
                            pass,
                            position: pos as u32,
                            offset: off as u32 + 1,
                            first: ia,
                        });
                    }
                }
            }
            progress.inc(1);
            hits
        })
        .collect();
    progress.finish();
    // Keep each pair's first discovery, then restore discovery order.
    found.sort_unstable_by_key(|f| (f.pair.a, f.pair.b, f.pass, f.position));
    found.dedup_by_key(|f| (f.pair.a, f.pair.b));
    found.sort_unstable_by_key(|f| (f.pass, f.position, f.offset));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::brute;
    use proptest::prelude::*;

    proptest! {
        /// Rotate never reports a pair beyond the threshold, reports each pair once, and
        /// only pairs that brute force also finds.
        #[test]
        fn rotate_is_sound(
            fps in proptest::collection::vec(any::<u64>(), 0..120),
            dups in proptest::collection::vec((any::<prop::sample::Index>(), 0u32..64, 0u32..6), 0..40),
            k in 0u32..20,
            window in 1usize..4,
        ) {
            let mut fps = fps;
            // Plant near copies so that there is something to find.
            for (idx, seed, flips) in dups {
                if fps.is_empty() { break; }
                let mut f = fps[idx.index(fps.len())];
                for t in 0..flips { f ^= 1 << ((seed + 7 * t) % 64); }
                fps.push(f);
            }
            let found = search(&fps, k, window, &());
            let oracle = brute::search(&fps, k, &());
            let mut pairs: Vec<Pair> = found.iter().map(|f| f.pair).collect();
            for p in &pairs {
                prop_assert!(p.distance <= k);
                prop_assert_eq!(p.distance, fps[p.a as usize].distance(&fps[p.b as usize]));
            }
            pairs.sort_unstable();
            let n = pairs.len();
            pairs.dedup();
            prop_assert_eq!(n, pairs.len(), "a pair reported twice");
            for p in &pairs {
                prop_assert!(oracle.binary_search(p).is_ok());
            }
            // With a window as large as the input, rotate degenerates to all pairs.
            let all = search(&fps, k, fps.len().max(1), &());
            prop_assert_eq!(all.len(), oracle.len());
        }
    }

    #[test]
    fn discovery_order_and_pass() {
        // 0b0011 and 0b1001 differ in 2 bits; with window 1 they are neighbours at pass 0.
        let fps: Vec<u32> = vec![0b0011, 0xffff_0000, 0b1001];
        let found = search(&fps, 2, 1, &());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].pair, Pair::new(0, 2, 2));
        assert_eq!(found[0].pass, 0);
    }
}
