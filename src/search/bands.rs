//! Banded LSH search: candidate pairs are documents that share a key in at least one band.
//!
//! One table per band: the searched documents' keys for that band, sorted with their
//! indexes (8 bytes an entry), so equal keys form runs and every pair inside a run is a
//! candidate. A pair is emitted by the first band it agrees on only (earlier bands are
//! checked, which costs nothing for true strangers and a few compares for others), so no
//! hash set removes repeats and the output does not depend on how bands are scheduled.
//! Bands are searched a few at a time and handed to the caller in groups of bounded size,
//! so candidates are verified batch by batch and never all held in memory. A caller with
//! a cheaper test of the earlier bands, or a test of its own (fingerprints too far apart
//! in Hamming distance), passes it to [`search_filtered`] instead.

use rayon::prelude::*;

use super::Pair;
use crate::error::Error;
use crate::progress::Progress;
use crate::text::minhash::{BandKeys, KeyStore};

/// Candidates handed to the caller at once (at most about this many, unless one band alone
/// has more): 12 bytes each.
pub const GROUP_CANDIDATES: usize = 1 << 22;

/// What a band search did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BandStats {
    /// Documents searched.
    pub documents: u64,
    /// Bands (tables) searched.
    pub bands: u64,
    /// Candidate pairs emitted (each once).
    pub candidates: u64,
    /// Pairs that shared a key in a band, counted once per band, before the filter and
    /// before pairs found by an earlier band are dropped.
    pub collisions: u64,
}

/// Decides whether a pair `(x, y)` (positions in `ids`, `x < y`) that shares a key in band
/// `b` becomes a candidate there, and with what distance: it must answer `None` when the
/// pair shares a key in an earlier band (as [`first_band`] does), so that every pair is
/// emitted once, and may drop pairs by tests of its own.
pub type PairFilter<'a> = &'a (dyn Fn(u32, u32, usize) -> Option<u32> + Sync);

/// Searches the documents `ids` (indexes into `keys`, in any order) band by band and
/// calls `sink` with groups of candidate pairs, as [`Pair`]s of positions in `ids` with
/// distance 0. Every pair that shares a key in some band is emitted exactly once, in the
/// group of the first band it shares; each group is sorted by `(a, b)`. Deterministic:
/// the same groups for any thread count.
pub fn search(
    keys: &BandKeys,
    ids: &[u32],
    progress: &dyn Progress,
    sink: &mut dyn FnMut(Vec<Pair>),
) -> BandStats {
    search_admitting(keys, ids, &|_, _| true, progress, sink)
}

/// [`search`] for the pairs that involve a new document: `ids[..split]` were searched
/// before (an index), `ids[split..]` are new; pairs among old documents are left out.
pub fn search_new(
    keys: &BandKeys,
    ids: &[u32],
    split: usize,
    progress: &dyn Progress,
    sink: &mut dyn FnMut(Vec<Pair>),
) -> BandStats {
    let split = split as u32;
    search_admitting(keys, ids, &|x, y| x >= split || y >= split, progress, sink)
}

/// [`search`] for pairs across two sets only: `ids[..split]` (queries, say) against
/// `ids[split..]` (a reference). Each emitted pair has `a < split <= b`.
pub fn cross_search(
    keys: &BandKeys,
    ids: &[u32],
    split: usize,
    progress: &dyn Progress,
    sink: &mut dyn FnMut(Vec<Pair>),
) -> BandStats {
    let split = split as u32;
    search_admitting(
        keys,
        ids,
        &|x, y| (x < split) != (y < split),
        progress,
        sink,
    )
}

/// [`search`] restricted to the pairs of positions `admits` accepts, each from the first
/// band it shares.
fn search_admitting(
    keys: &BandKeys,
    ids: &[u32],
    admits: &(dyn Fn(u32, u32) -> bool + Sync),
    progress: &dyn Progress,
    sink: &mut dyn FnMut(Vec<Pair>),
) -> BandStats {
    let filter =
        |x: u32, y: u32, b: usize| (admits(x, y) && first_band(keys, ids, x, y, b)).then_some(0);
    search_filtered(keys, ids, &filter, progress, sink)
}

/// Whether positions `x` and `y` of `ids` share no key in the bands before `b`.
#[inline]
pub fn first_band(keys: &BandKeys, ids: &[u32], x: u32, y: u32, b: usize) -> bool {
    let kx = &keys.get(ids[x as usize] as usize)[..b];
    let ky = &keys.get(ids[y as usize] as usize)[..b];
    kx.iter().zip(ky).all(|(p, q)| p != q)
}

/// [`search`], with the pairs that share a key in a band decided by `filter` (which also
/// rules out the pairs of earlier bands, see [`PairFilter`]); the emitted [`Pair`]s carry
/// the distance it gives. The filter must depend on the pair and the band alone.
pub fn search_filtered(
    keys: &BandKeys,
    ids: &[u32],
    filter: PairFilter,
    progress: &dyn Progress,
    sink: &mut dyn FnMut(Vec<Pair>),
) -> BandStats {
    assert!(ids.len() < u32::MAX as usize, "at most 2^32 - 2 documents");
    let bands = keys.bands();
    let mut stats = BandStats {
        documents: ids.len() as u64,
        bands: bands as u64,
        candidates: 0,
        collisions: 0,
    };
    progress.start("searching", bands as u64, "bands");
    let step = rayon::current_num_threads().max(1);
    let mut pending: Vec<Pair> = Vec::new();
    let mut band = 0;
    while band < bands {
        let end = (band + step).min(bands);
        let found: Vec<(Vec<Pair>, u64)> = (band..end)
            .into_par_iter()
            .map(|b| {
                let pairs = band_pairs(keys, ids, b, filter);
                progress.inc(1);
                pairs
            })
            .collect();
        for (pairs, collisions) in found {
            stats.collisions += collisions;
            stats.candidates += pairs.len() as u64;
            if pending.is_empty() {
                pending = pairs;
            } else {
                pending.extend(pairs);
            }
            if pending.len() >= GROUP_CANDIDATES {
                pending.sort_unstable();
                sink(std::mem::take(&mut pending));
            }
        }
        band = end;
    }
    if !pending.is_empty() {
        pending.sort_unstable();
        sink(pending);
    }
    progress.finish();
    stats
}

/// The pairs of band `b` that pass `filter` and agree on no earlier band, in table order,
/// and the number of pairs that share a key in it.
fn band_pairs(keys: &BandKeys, ids: &[u32], b: usize, filter: PairFilter) -> (Vec<Pair>, u64) {
    let mut table: Vec<u64> = ids
        .iter()
        .enumerate()
        .map(|(x, &id)| (keys.get(id as usize)[b] as u64) << 32 | x as u64)
        .collect();
    table.sort_unstable();
    let mut pairs = Vec::new();
    let mut collisions = 0;
    for run in table.chunk_by(|x, y| x >> 32 == y >> 32) {
        if run.len() < 2 {
            continue;
        }
        collisions += (run.len() * (run.len() - 1) / 2) as u64;
        for (s, &x) in run.iter().enumerate() {
            let x = x as u32;
            for &y in &run[s + 1..] {
                let y = y as u32;
                // Table order is key then position: x < y.
                if let Some(distance) = filter(x, y, b) {
                    pairs.push(Pair::new(x, y, distance));
                }
            }
        }
    }
    (pairs, collisions)
}

/// The collision runs of every band: for each band, the documents that share their key
/// with at least one other document, grouped by key. They hold what the band search needs of
/// the keys (at 35x3 on prose, a few percent of the documents per band, 4 bytes each) so
/// that the keys themselves (4 bytes per band per document) can be freed before the rest
/// of the run allocates anything ([`collision_runs`], then [`search_runs`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BandRuns {
    /// Documents the keys were for (document numbers are below this).
    documents: usize,
    /// Per band: the members of its runs, run after run (runs in key order, members in
    /// ascending order), and where each run ends in `members`.
    bands: Vec<(Vec<u32>, Vec<u32>)>,
}

impl BandRuns {
    /// Number of bands.
    pub fn bands(&self) -> usize {
        self.bands.len()
    }

    /// The runs of band `b`, each a list of document numbers in ascending order.
    pub fn runs(&self, b: usize) -> impl Iterator<Item = &[u32]> + '_ {
        let (members, ends) = &self.bands[b];
        let starts = std::iter::once(0).chain(ends.iter().copied());
        starts
            .zip(ends.iter().copied())
            .map(move |(s, e)| &members[s as usize..e as usize])
    }
}

/// Reduces `keys` to their collision runs over the documents `include` accepts, one band at
/// a time from the last. Held keys are first stored band by band
/// ([`BandKeys::into_columns`]) and each band freed once reduced; spilled keys are read one
/// band at a time. Each band becomes a table of 8 bytes per document (sorted by all threads
/// at once) and its runs. So the memory beyond the keys is one table, and the runs take the
/// place of freed keys. Fails only if spilled keys cannot be read back.
pub fn collision_runs(
    keys: KeyStore,
    include: &(dyn Fn(usize) -> bool + Sync),
    progress: &dyn Progress,
) -> Result<BandRuns, Error> {
    let (n, bands) = (keys.len(), keys.bands());
    assert!(n < u32::MAX as usize, "at most 2^32 - 2 documents");
    progress.start("searching", bands as u64, "bands");
    let mut runs = vec![(Vec::new(), Vec::new()); bands];
    let mut table: Vec<u64> = Vec::new();
    match keys {
        KeyStore::Memory(keys) => {
            let mut columns = keys.into_columns();
            for b in (0..bands).rev() {
                fill_table(&mut table, columns.column(b), include);
                columns.truncate(b);
                runs[b] = table_runs(&mut table);
                progress.inc(1);
            }
        }
        KeyStore::Spilled(keys) => {
            let mut column = Vec::new();
            for b in (0..bands).rev() {
                keys.column(b, &mut column)?;
                fill_table(&mut table, &column, include);
                runs[b] = table_runs(&mut table);
                progress.inc(1);
            }
        }
    }
    progress.finish();
    Ok(BandRuns {
        documents: n,
        bands: runs,
    })
}

/// Documents left out of a table get an entry no document has (position `u32::MAX`), which
/// sorts last and is skipped.
const LEFT_OUT: u64 = u64::MAX;

/// One band's table: `(key, document)` of every document, as one `u64` each.
fn fill_table(table: &mut Vec<u64>, column: &[u32], include: &(dyn Fn(usize) -> bool + Sync)) {
    table.clear();
    table.par_extend(column.par_iter().enumerate().map(|(i, &key)| {
        if include(i) {
            (key as u64) << 32 | i as u64
        } else {
            LEFT_OUT
        }
    }));
}

/// Sorts a band's table and returns its runs of two or more equal keys: the members, and
/// where each run ends.
fn table_runs(table: &mut [u64]) -> (Vec<u32>, Vec<u32>) {
    table.par_sort_unstable();
    let (mut members, mut ends) = (Vec::new(), Vec::new());
    for run in table.chunk_by(|x, y| x >> 32 == y >> 32) {
        // Left-out entries sort last, at the end of the last run.
        let run = &run[..run.partition_point(|&x| x != LEFT_OUT)];
        if run.len() >= 2 {
            members.extend(run.iter().map(|&x| x as u32));
            ends.push(members.len() as u32);
        }
    }
    members.shrink_to_fit();
    ends.shrink_to_fit();
    (members, ends)
}

/// [`search`] over collision runs ([`collision_runs`]) instead of the keys: the same groups
/// of the same candidate pairs (positions in `ids`, distance 0), the same statistics. A pair
/// is emitted by the first band it shares (the pairs of earlier bands are remembered in a
/// set, 8 bytes and a little more per candidate, instead of comparing earlier keys).
pub fn search_runs(runs: &BandRuns, ids: &[u32], sink: &mut dyn FnMut(Vec<Pair>)) -> BandStats {
    assert!(ids.len() < u32::MAX as usize, "at most 2^32 - 2 documents");
    let mut position = vec![u32::MAX; runs.documents];
    for (x, &id) in ids.iter().enumerate() {
        position[id as usize] = x as u32;
    }
    let mut stats = BandStats {
        documents: ids.len() as u64,
        bands: runs.bands() as u64,
        candidates: 0,
        collisions: 0,
    };
    let mut seen: hashbrown::HashTable<u64> = hashbrown::HashTable::new();
    let mut pending: Vec<Pair> = Vec::new();
    let mut run_positions: Vec<u32> = Vec::new();
    for b in 0..runs.bands() {
        let mut pairs = Vec::new();
        for run in runs.runs(b) {
            run_positions.clear();
            run_positions.extend(
                run.iter()
                    .map(|&d| position[d as usize])
                    .filter(|&x| x != u32::MAX),
            );
            if run_positions.len() < 2 {
                continue;
            }
            run_positions.sort_unstable();
            let m = run_positions.len();
            stats.collisions += (m * (m - 1) / 2) as u64;
            for (s, &x) in run_positions.iter().enumerate() {
                for &y in &run_positions[s + 1..] {
                    let key = (x as u64) << 32 | y as u64;
                    if seen.find(mix(key), |&k| k == key).is_none() {
                        pairs.push(Pair::new(x, y, 0));
                    }
                }
            }
        }
        // A pair shares at most one run of a band: the set only needs the earlier bands.
        seen.reserve(pairs.len(), |&k| mix(k));
        for p in &pairs {
            let key = (p.a as u64) << 32 | p.b as u64;
            seen.insert_unique(mix(key), key, |&k| mix(k));
        }
        stats.candidates += pairs.len() as u64;
        if pending.is_empty() {
            pending = pairs;
        } else {
            pending.extend(pairs);
        }
        if pending.len() >= GROUP_CANDIDATES {
            pending.sort_unstable();
            sink(std::mem::take(&mut pending));
        }
    }
    if !pending.is_empty() {
        pending.sort_unstable();
        sink(pending);
    }
    stats
}

/// A well-mixed hash of a pair's 64-bit key (MurmurHash3's finaliser), for the set of
/// pairs seen in earlier bands.
fn mix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// Where [`run_pairs`] stopped: the pair `(x, y)` of positions in its input comes next.
pub type RunCursor = (usize, usize);

/// The candidate pairs of sorted `(key, id)` entries (one band's table, or a slice of one
/// holding whole runs: a distributed job sorts by key and hands each task its slice): every
/// pair of entries with equal keys, as `(smaller id, larger id, shared key)`. Pairs are
/// enumerated in a fixed order, position `x` then `y > x` inside each run, from `cursor`
/// on, and at most `max` (at least 1) are returned with the cursor to resume from (`None`
/// when done), so a run of any length (10,000 near-copies of a boilerplate row make 50
/// million pairs) is emitted in bounded pieces. `keys` must be sorted.
pub fn run_pairs(
    keys: &[u64],
    ids: &[u64],
    cursor: RunCursor,
    max: usize,
) -> (Vec<(u64, u64, u64)>, Option<RunCursor>) {
    assert_eq!(keys.len(), ids.len(), "one id per key");
    assert!(max > 0, "at least one pair per piece");
    debug_assert!(keys.is_sorted(), "keys are sorted");
    let n = keys.len();
    let (mut x, mut y) = cursor;
    let mut out = Vec::new();
    while x < n {
        if y <= x {
            y = x + 1;
        }
        if y >= n || keys[y] != keys[x] {
            x += 1;
            y = x + 1;
            continue;
        }
        if out.len() == max {
            return (out, Some((x, y)));
        }
        let (a, b) = (ids[x].min(ids[y]), ids[x].max(ids[y]));
        out.push((a, b, keys[x]));
        y += 1;
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(keys: &BandKeys, ids: &[u32]) -> (Vec<Pair>, BandStats) {
        let mut all = Vec::new();
        let stats = search(keys, ids, &(), &mut |g| all.extend(g));
        all.sort_unstable();
        (all, stats)
    }

    #[test]
    fn pairs_that_share_any_band_once() {
        let mut keys = BandKeys::new(3);
        keys.push(&[1, 2, 3]); // 0
        keys.push(&[1, 2, 9]); // 1: shares bands 0 and 1 with 0
        keys.push(&[7, 8, 3]); // 2: shares band 2 with 0
        keys.push(&[5, 5, 5]); // 3: shares nothing
        let (pairs, stats) = collect(&keys, &[0, 1, 2, 3]);
        let ab: Vec<(u32, u32)> = pairs.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(ab, vec![(0, 1), (0, 2)]);
        assert_eq!(stats.candidates, 2);
        // Positions in `ids`, not document numbers.
        let (pairs, _) = collect(&keys, &[2, 0]);
        assert_eq!((pairs[0].a, pairs[0].b), (0, 1));
    }

    #[test]
    fn cross_pairs_only_across_the_split() {
        let mut keys = BandKeys::new(2);
        for k in [[1, 1], [1, 2], [1, 3], [2, 3]] {
            keys.push(&k);
        }
        let mut all = Vec::new();
        cross_search(&keys, &[0, 1, 2, 3], 2, &(), &mut |g| all.extend(g));
        all.sort_unstable();
        let ab: Vec<(u32, u32)> = all.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(ab, vec![(0, 2), (1, 2)]);
    }

    #[test]
    fn run_pairs_in_bounded_pieces() {
        // Runs: key 1 (ids 5, 3, 9), key 2 (id 4), key 7 (ids 8, 2).
        let keys = [1, 1, 1, 2, 7, 7];
        let ids = [5, 3, 9, 4, 8, 2];
        let (all, done) = run_pairs(&keys, &ids, (0, 0), usize::MAX);
        assert_eq!(done, None);
        assert_eq!(all, vec![(3, 5, 1), (5, 9, 1), (3, 9, 1), (2, 8, 7)]);
        // Any piece size gives the same pairs in the same order.
        for max in 1..5 {
            let (mut got, mut cursor) = (Vec::new(), Some((0, 0)));
            while let Some(c) = cursor {
                let (piece, next) = run_pairs(&keys, &ids, c, max);
                assert!(piece.len() <= max);
                got.extend(piece);
                cursor = next;
            }
            assert_eq!(got, all);
        }
        assert_eq!(run_pairs(&[], &[], (0, 0), 3), (vec![], None));
    }

    proptest::proptest! {
        /// The search over collision runs hands over the same groups as the search over the
        /// keys, with the same statistics, for any subset of documents searched.
        #[test]
        fn runs_search_equals_key_search(
            docs in proptest::collection::vec(proptest::collection::vec(0u32..4, 3), 0..40),
            skip in proptest::collection::vec(proptest::bool::weighted(0.2), 40),
            left_out in proptest::collection::vec(proptest::bool::weighted(0.1), 40),
        ) {
            let mut keys = BandKeys::new(3);
            for d in &docs {
                keys.push(d);
            }
            // Documents left out of the runs are never searched (as documents without
            // shingles); the search may skip others too (exact duplicates).
            let ids: Vec<u32> = (0..docs.len() as u32)
                .filter(|&i| !skip[i as usize] && !left_out[i as usize])
                .collect();
            let mut by_keys = Vec::new();
            let stats = search(&keys, &ids, &(), &mut |g| by_keys.push(g));
            let mut spilled = crate::text::minhash::SpilledKeys::new(3).unwrap();
            for d in &docs {
                spilled.push(d).unwrap();
            }
            spilled.finish().unwrap();
            for store in [KeyStore::Memory(keys), KeyStore::Spilled(spilled)] {
                let runs = collision_runs(store, &|i| !left_out[i], &()).unwrap();
                let mut by_runs = Vec::new();
                let run_stats = search_runs(&runs, &ids, &mut |g| by_runs.push(g));
                proptest::prop_assert_eq!(&by_runs, &by_keys);
                proptest::prop_assert_eq!(run_stats, stats);
            }
        }

        /// Against the oracle: every pair of documents with an equal key in some band, each
        /// once, whatever the keys.
        #[test]
        fn equals_all_pairs_sharing_a_band(
            docs in proptest::collection::vec(proptest::collection::vec(0u32..4, 3), 0..40),
        ) {
            let mut keys = BandKeys::new(3);
            for d in &docs {
                keys.push(d);
            }
            let ids: Vec<u32> = (0..docs.len() as u32).collect();
            let (pairs, _) = collect(&keys, &ids);
            let mut oracle = Vec::new();
            for a in 0..docs.len() {
                for b in a + 1..docs.len() {
                    if (0..3).any(|k| docs[a][k] == docs[b][k]) {
                        oracle.push(Pair::new(a as u32, b as u32, 0));
                    }
                }
            }
            proptest::prop_assert_eq!(pairs, oracle);
        }
    }
}
