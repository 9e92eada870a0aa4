//! All-pairs search: every pair compared with one popcount. The oracle that every other
//! method is tested against, and the fastest choice for small inputs.

use rayon::prelude::*;

use super::Pair;
use crate::fingerprint::Fingerprint;
use crate::progress::Progress;

/// Every pair within `max_distance`, sorted by `(a, b)`. O(N^2 / 2) comparisons, in parallel.
pub fn search<F: Fingerprint>(fps: &[F], max_distance: u32, progress: &dyn Progress) -> Vec<Pair> {
    let n = fps.len();
    progress.start("brute-force search", n as u64, "rows");
    let rows: Vec<Vec<Pair>> = (0..n)
        .into_par_iter()
        .with_max_len(64)
        .map(|i| {
            let fi = &fps[i];
            let found = fps[i + 1..]
                .iter()
                .enumerate()
                .filter_map(|(off, fj)| {
                    let d = fi.distance(fj);
                    (d <= max_distance).then(|| Pair::new(i as u32, (i + 1 + off) as u32, d))
                })
                .collect();
            progress.inc(1);
            found
        })
        .collect();
    progress.finish();
    rows.into_iter().flatten().collect()
}
