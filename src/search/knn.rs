//! k nearest neighbours of every item by Hamming distance (for outlier scores and
//! representatives). [`knn()`] is exact: rounds of exact cross search at a growing radius
//! settle the items that have enough neighbours inside it; brute force finishes the rest
//! once the cost model says a radius is too wide for block tables, so it is quadratic when
//! neighbours are far. [`approximate_knn`] bounds the work instead: a few sorts of the
//! fingerprints under byte permutations, each item compared with the items beside it, then
//! with its neighbours' neighbours.

use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::blocks::{self, Plan};
use crate::fingerprint::Fingerprint;
use crate::progress::Progress;

/// One neighbour of an item. Ordered by `(distance, index)`, the order of a neighbour list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Neighbor {
    /// Hamming distance to the item.
    pub distance: u32,
    /// Index of the neighbour in the searched slice.
    pub index: u32,
}

/// The nearest neighbours of every item: `min(k, N - 1)` each, so every list has the same
/// length. Flat storage, 8 bytes per neighbour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Knn {
    per_item: usize,
    neighbors: Vec<Neighbor>,
}

impl Knn {
    /// Neighbours of item `i`, nearest first, ties by smaller index; the item itself is
    /// never among them (identical other items are, at distance 0).
    pub fn neighbors(&self, i: usize) -> &[Neighbor] {
        &self.neighbors[i * self.per_item..(i + 1) * self.per_item]
    }

    /// Length of every neighbour list: `min(k, N - 1)`.
    pub fn per_item(&self) -> usize {
        self.per_item
    }
}

/// Items sampled to choose the search radii.
const SAMPLE: usize = 64;

/// The radii of the first two rounds: the median and the largest distance to the `k`-th
/// neighbour over a sample of items (found by brute force, `SAMPLE * N` distances). The
/// first round then settles about half the items; data without near neighbours goes
/// straight to brute force, because the cost model rejects block tables at wide radii.
fn sampled_radii<F: Fingerprint>(fps: &[F], per_item: usize) -> (u32, u32) {
    let n = fps.len();
    let step = n.div_ceil(SAMPLE);
    let mut kth: Vec<u32> = (0..n)
        .step_by(step)
        .collect::<Vec<_>>()
        .par_iter()
        .map(|&i| {
            let mut d: Vec<u32> = fps
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, g)| fps[i].distance(g))
                .collect();
            *d.select_nth_unstable(per_item - 1).1
        })
        .collect();
    kth.sort_unstable();
    (kth[kth.len() / 2], kth[kth.len() - 1])
}

/// The `k` nearest neighbours of every fingerprint, exactly (equal to brute force).
///
/// Each round searches the unsettled items against all items within radius `r` and settles
/// those with at least `k` others inside it. The first two radii come from a sample of
/// items (`sampled_radii`); after them `r` doubles (plus one) per round. When block
/// tables would cost more than brute force at the current radius, the remaining items are
/// settled by brute force (N distances each, a bounded heap of `k`). Memory per round: the
/// pairs within `r` of the unsettled items, which is large for items in dense clusters.
pub fn knn<F: Fingerprint>(fps: &[F], k: usize, progress: &dyn Progress) -> Knn {
    let n = fps.len();
    assert!(n < u32::MAX as usize, "at most 2^32 - 2 fingerprints");
    let per_item = k.min(n.saturating_sub(1));
    let mut out = Knn {
        per_item,
        neighbors: vec![Neighbor::default(); n * per_item],
    };
    if per_item == 0 {
        return out;
    }
    let mut open: Vec<u32> = (0..n as u32).collect();
    let (first, second) = sampled_radii(fps, per_item);
    let mut radius = first;
    while !open.is_empty() {
        let wanted = open.len() as f64 * n as f64;
        let too_wide = radius >= F::BITS
            || blocks::plan(open.len() + n, wanted, F::BITS, radius, F::BITS) == Plan::Brute;
        if too_wide {
            settle_brute(fps, &open, &mut out, progress);
            break;
        }
        let queries: Vec<F> = open.iter().map(|&i| fps[i as usize]).collect();
        let (pairs, _) = blocks::cross_search(&queries, fps, radius, None, progress);
        let mut still_open = Vec::new();
        let mut found: Vec<Neighbor> = Vec::new();
        let mut start = 0;
        for (q, &item) in open.iter().enumerate() {
            let end = start + pairs[start..].partition_point(|p| p.query as usize == q);
            found.clear();
            found.extend(
                pairs[start..end]
                    .iter()
                    .filter(|p| p.reference != item)
                    .map(|p| Neighbor {
                        distance: p.distance,
                        index: p.reference,
                    }),
            );
            start = end;
            if found.len() >= per_item {
                found.sort_unstable();
                let row = item as usize * per_item;
                out.neighbors[row..row + per_item].copy_from_slice(&found[..per_item]);
            } else {
                still_open.push(item);
            }
        }
        open = still_open;
        radius = if radius < second {
            second
        } else {
            radius.saturating_mul(2).saturating_add(1)
        };
    }
    out
}

/// Orders [`approximate_knn`] sorts the fingerprints in.
pub const PROBES: usize = 10;

/// Approximate k nearest neighbours in `O(N · PROBES · (log N + k))`: for each of
/// [`PROBES`] fixed pseudo-random orders of the fingerprint's bytes, the fingerprints are
/// sorted by their first 16 bytes in that order, and each item is compared with the
/// `k + 8` items on either side; each item keeps the `k` nearest it met (by distance, then
/// index). Items that agree on long runs of bytes meet in some order, so near neighbours
/// are found with high probability; far ones (an outlier's) are approximate. Then
/// [`join_neighbors`] compares each item with its near neighbours' neighbours. Every listed
/// neighbour is a real item at its exact distance; the lists have `min(k, N - 1)` entries
/// (fewer only if an item met fewer others, which needs N below about 2k). Deterministic.
pub fn approximate_knn<F: Fingerprint>(fps: &[F], k: usize, progress: &dyn Progress) -> Knn {
    let n = fps.len();
    assert!(n < u32::MAX as usize, "at most 2^32 - 2 fingerprints");
    let per_item = k.min(n.saturating_sub(1));
    let empty = Neighbor {
        distance: u32::MAX,
        index: u32::MAX,
    };
    let mut out = Knn {
        per_item,
        neighbors: vec![empty; n * per_item],
    };
    if per_item == 0 {
        return out;
    }
    let width = (F::BITS / 8) as usize;
    let window = per_item + 8;
    let mut rng = crate::search::synth::SplitMix64::new(0x6b6e_6e5f_7072_6f62);
    progress.start(
        "nearest neighbours (sorted probes)",
        PROBES as u64,
        "probes",
    );
    let mut bytes = vec![0u8; width];
    for _ in 0..PROBES {
        // A random order of the bytes; the key is the first 16 in that order.
        let mut order: Vec<usize> = (0..width).collect();
        for i in (1..width).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        order.truncate(16);
        let mut keyed: Vec<(u128, u32)> = fps
            .iter()
            .enumerate()
            .map(|(i, f)| {
                f.write_le(&mut bytes);
                let key = order
                    .iter()
                    .fold(0u128, |acc, &b| acc << 8 | u128::from(bytes[b]));
                (key, i as u32)
            })
            .collect();
        keyed.par_sort_unstable();
        let mut position = vec![0u32; n];
        for (p, &(_, i)) in keyed.iter().enumerate() {
            position[i as usize] = p as u32;
        }
        out.neighbors
            .par_chunks_mut(per_item)
            .enumerate()
            .for_each(|(i, row)| {
                let p = position[i] as usize;
                let lo = p.saturating_sub(window);
                let hi = (p + window + 1).min(n);
                for &(_, j) in &keyed[lo..hi] {
                    if j as usize == i {
                        continue;
                    }
                    let candidate = Neighbor {
                        distance: fps[i].distance(&fps[j as usize]),
                        index: j,
                    };
                    insert(row, candidate);
                }
            });
        progress.inc(1);
    }
    progress.finish();
    join_neighbors(fps, &mut out, progress);
    out
}

/// Rounds of [`join_neighbors`] after the sorted probes.
pub const JOIN_ROUNDS: usize = 2;

/// Neighbours per item whose own lists [`join_neighbors`] reads, each round.
pub const JOIN_WIDTH: usize = 10;

/// Items whose lists [`join_neighbors`] computes from one state of the lists: blocks are
/// taken in order and written back in turn, so the result does not depend on the threads.
const JOIN_BLOCK: usize = 4096;

/// Neighbours of neighbours: for [`JOIN_ROUNDS`] rounds, each item meets the neighbours of
/// its [`JOIN_WIDTH`] nearest (a neighbour of a near neighbour is likely near, the
/// observation behind NN-descent), keeping the `k` nearest it has met. Lists only improve.
fn join_neighbors<F: Fingerprint>(fps: &[F], out: &mut Knn, progress: &dyn Progress) {
    let (n, per_item) = (fps.len(), out.per_item);
    let width = JOIN_WIDTH.min(per_item);
    progress.start(
        "nearest neighbours (neighbours of neighbours)",
        (JOIN_ROUNDS * n.div_ceil(JOIN_BLOCK)) as u64,
        "blocks",
    );
    let mut rows = Vec::new();
    for _ in 0..JOIN_ROUNDS {
        for start in (0..n).step_by(JOIN_BLOCK) {
            let end = (start + JOIN_BLOCK).min(n);
            let current = &*out;
            (start..end)
                .into_par_iter()
                .map(|i| {
                    let mut row = current.neighbors(i).to_vec();
                    for near in &current.neighbors(i)[..width] {
                        if near.index == u32::MAX {
                            break;
                        }
                        for far in current.neighbors(near.index as usize) {
                            let j = far.index;
                            if j == u32::MAX || j as usize == i {
                                continue;
                            }
                            let candidate = Neighbor {
                                distance: fps[i].distance(&fps[j as usize]),
                                index: j,
                            };
                            insert(&mut row, candidate);
                        }
                    }
                    row
                })
                .collect_into_vec(&mut rows);
            for (i, row) in (start..end).zip(&rows) {
                out.neighbors[i * per_item..(i + 1) * per_item].copy_from_slice(row);
            }
            progress.inc(1);
        }
    }
    progress.finish();
}

/// Puts `candidate` into the sorted `row` if it is nearer than its last entry and not in
/// it yet (the last entry drops out).
fn insert(row: &mut [Neighbor], candidate: Neighbor) {
    let last = row.len() - 1;
    if candidate >= row[last] {
        return;
    }
    let at = row.partition_point(|x| *x < candidate);
    if row[at] == candidate {
        return;
    }
    row.copy_within(at..last, at + 1);
    row[at] = candidate;
}

/// Settles `items` by comparing each with every fingerprint, in parallel.
fn settle_brute<F: Fingerprint>(fps: &[F], items: &[u32], out: &mut Knn, progress: &dyn Progress) {
    let per_item = out.per_item;
    progress.start(
        "nearest neighbours (brute force)",
        items.len() as u64,
        "items",
    );
    let rows: Vec<Vec<Neighbor>> = items
        .par_iter()
        .map_init(Vec::new, |dist, &item| {
            dist.resize(fps.len(), 0);
            blocks::distances(&fps[item as usize], fps, dist);
            // A max-heap of the best so far: its top is the one to beat. Indexes grow
            // during the scan, so a later item must be strictly nearer to win a tie.
            let mut heap: BinaryHeap<Neighbor> = BinaryHeap::with_capacity(per_item + 1);
            for (j, &distance) in dist.iter().enumerate() {
                if j == item as usize {
                    continue;
                }
                if heap.len() < per_item {
                    heap.push(Neighbor {
                        distance,
                        index: j as u32,
                    });
                } else if distance < heap.peek().expect("heap is full").distance {
                    heap.pop();
                    heap.push(Neighbor {
                        distance,
                        index: j as u32,
                    });
                }
            }
            progress.inc(1);
            heap.into_sorted_vec()
        })
        .collect();
    progress.finish();
    for (&item, row) in items.iter().zip(rows) {
        let at = item as usize * per_item;
        out.neighbors[at..at + per_item].copy_from_slice(&row);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::Bits256;
    use crate::search::blocks::tests::dataset;

    /// The oracle: every other item, sorted by (distance, index), cut to `k`.
    fn brute_knn<F: Fingerprint>(fps: &[F], k: usize) -> Vec<Vec<Neighbor>> {
        (0..fps.len())
            .map(|i| {
                let mut all: Vec<Neighbor> = (0..fps.len())
                    .filter(|&j| j != i)
                    .map(|j| Neighbor {
                        distance: fps[i].distance(&fps[j]),
                        index: j as u32,
                    })
                    .collect();
                all.sort_unstable();
                all.truncate(k);
                all
            })
            .collect()
    }

    fn check<F: Fingerprint>(seed: u64, n: usize, k: usize) {
        let fps: Vec<F> = dataset(seed, n, 3);
        let got = knn(&fps, k, &());
        let want = brute_knn(&fps, k);
        for (i, w) in want.iter().enumerate() {
            assert_eq!(got.neighbors(i), &w[..], "item {i}, k={k}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        #[test]
        fn knn_u64(seed: u64, k in 1usize..12) {
            check::<u64>(seed, 150, k);
        }

        #[test]
        fn knn_u128(seed: u64, k in 1usize..12) {
            check::<u128>(seed, 150, k);
        }

        #[test]
        fn knn_256(seed: u64, k in 1usize..8) {
            check::<Bits256>(seed, 100, k);
        }
    }

    #[test]
    fn knn_rounds_match_brute_force_on_a_larger_set() {
        // Large enough for block tables at the first radius.
        check::<u64>(5, 1500, 4);
    }

    /// Approximate lists hold real neighbours at their exact distances, sorted, without
    /// the item itself or repeats, and find most of the true k nearest in clustered data.
    #[test]
    fn approximate_neighbours_are_real_and_mostly_the_nearest() {
        // 100 clusters of 30: a centre with up to 16 of its 128 bits flipped.
        let mut rng = crate::search::synth::SplitMix64::new(9);
        let mut fps: Vec<u128> = Vec::new();
        for _ in 0..100 {
            let centre = u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
            for _ in 0..30 {
                let mut f = centre;
                for _ in 0..rng.below(17) {
                    f ^= 1u128 << rng.below(128);
                }
                fps.push(f);
            }
        }
        let k = 10;
        let got = approximate_knn(&fps, k, &());
        let want = knn(&fps, k, &());
        let mut found = 0;
        for i in 0..fps.len() {
            let row = got.neighbors(i);
            assert_eq!(row.len(), k);
            assert!(row.windows(2).all(|w| w[0] < w[1]), "item {i}: {row:?}");
            for nb in row {
                assert_ne!(nb.index as usize, i);
                assert_eq!(nb.distance, fps[i].distance(&fps[nb.index as usize]));
            }
            // Neighbours at the true k-th distance or nearer count as found.
            let kth = want.neighbors(i)[k - 1].distance;
            found += row.iter().filter(|nb| nb.distance <= kth).count();
        }
        let recall = found as f64 / (k * fps.len()) as f64;
        assert!(recall > 0.9, "recall {recall}");
    }

    #[test]
    fn small_inputs() {
        assert_eq!(knn::<u64>(&[], 3, &()).per_item(), 0);
        let one = knn(&[1u64], 3, &());
        assert_eq!(one.per_item(), 0);
        assert!(one.neighbors(0).is_empty());
        let two = knn(&[1u64, 1, 3], 5, &());
        assert_eq!(two.per_item(), 2);
        let n = |distance, index| Neighbor { distance, index };
        assert_eq!(two.neighbors(0), &[n(0, 1), n(1, 2)]);
        assert_eq!(two.neighbors(2), &[n(1, 0), n(1, 1)]);
    }
}
