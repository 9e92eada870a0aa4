//! All-pairs search: every pair compared with one popcount. The oracle that every other
//! method is tested against, and the fastest choice for small inputs.

use rayon::prelude::*;

use super::Pair;
use crate::fingerprint::Fingerprint;
use crate::progress::Progress;

/// Fingerprints compared per call of the distance kernel.
const CHUNK: usize = 1024;

/// Every pair within `max_distance`, sorted by `(a, b)`. O(N^2 / 2) comparisons, in parallel.
pub fn search<F: Fingerprint>(fps: &[F], max_distance: u32, progress: &dyn Progress) -> Vec<Pair> {
    let n = fps.len();
    progress.start("brute-force search", n as u64, "rows");
    let rows: Vec<Vec<Pair>> = (0..n)
        .into_par_iter()
        .with_max_len(64)
        .map_init(
            || vec![0u32; CHUNK],
            |dist, i| {
                let fi = &fps[i];
                let mut found = Vec::new();
                // Distances a chunk at a time, in a loop the compiler vectorises.
                for (c, chunk) in fps[i + 1..].chunks(CHUNK).enumerate() {
                    let dist = &mut dist[..chunk.len()];
                    super::blocks::distances(fi, chunk, dist);
                    for (off, &d) in dist.iter().enumerate() {
                        if d <= max_distance {
                            let j = i + 1 + c * CHUNK + off;
                            found.push(Pair::new(i as u32, j as u32, d));
                        }
                    }
                }
                progress.inc(1);
                found
            },
        )
        .collect();
    progress.finish();
    rows.into_iter().flatten().collect()
}
