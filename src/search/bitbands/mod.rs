//! Bit-sampling bands over hyperplane fingerprints: the near-linear search for embeddings.
//!
//! Band `b` looks at `rows` bits of a `bits`-bit hyperplane fingerprint, at positions drawn
//! at random (without repeats) for that band; its key is those bits hashed to 32 bits, so
//! two rows share a band key when they agree on all of its bits ([`BitBands`]). Candidates
//! are pairs sharing a key in some band whose fingerprints are also within a Hamming
//! `radius`, a cheap filter before the exact cosine. Given the Hamming distance `d` of a
//! pair, bands agree independently with probability `C(bits - d, rows) / C(bits, rows)`, and
//! `d` is Binomial(bits, θ/π) for vectors at angle θ, so the S-curve is exact
//! ([`BitBandParams::recall_at`]) and [`BitBandParams::solve`] picks `(rows, bands)` for a
//! recall target at the cosine bar, trading tables against spurious collisions measured on
//! a sample of the data.

use rayon::prelude::*;

use crate::fingerprint::Fingerprint;
use crate::progress::Progress;
use crate::search::Pair;
use crate::search::bands::{BandStats, GROUP_CANDIDATES};
use crate::text::minhash::{BandKeys, mix64};
use crate::vectors::hyperplane::{Rng, binomial, cosine_radius};

mod shape;

pub use shape::*;

/// Bits of a band's table key in [`BitBands::search`]: two radix passes of 11 bits.
const TABLE_KEY_BITS: u32 = 22;

/// Sorts entries `key << 32 | position` (key below 2^22, positions ascending on entry) by
/// key, stably, so positions stay ascending within a key: two counting passes of 11 bits.
fn radix_sort_keys(table: &mut Vec<u64>) {
    let mut other = vec![0u64; table.len()];
    let mut counts = [0usize; 1 << 11];
    for shift in [32, 43] {
        counts.fill(0);
        for &e in table.iter() {
            counts[(e >> shift) as usize & 0x7ff] += 1;
        }
        let mut sum = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &e in table.iter() {
            let slot = &mut counts[(e >> shift) as usize & 0x7ff];
            other[*slot] = e;
            *slot += 1;
        }
        std::mem::swap(table, &mut other);
    }
}

/// Pairs that passed the Hamming filter, gathered before [`PairTest::keep`] reads their
/// rows (prefetched a few pairs ahead).
const TEST_BATCH: usize = 4096;

/// The test a pair passes after the Hamming filter of [`BitBands::search`]: one that reads
/// the rows at random (the 8-bit codes of [`crate::vectors::npy::Codes`], say), so the search
/// calls [`PairTest::prefetch`] for rows it will test a few pairs later.
pub trait PairTest: Sync {
    /// Whether the pair of positions `a < b` may be a candidate.
    fn keep(&self, a: u32, b: u32) -> bool;

    /// A hint that row `x` will be tested soon (no effect on results).
    fn prefetch(&self, _x: u32) {}
}

impl<K: Fn(u32, u32) -> bool + Sync> PairTest for K {
    fn keep(&self, a: u32, b: u32) -> bool {
        self(a, b)
    }
}

/// Bits of a band's table key sorted by each pass of [`BitBands::search`] (half of
/// [`TABLE_KEY_BITS`]): 2,048 buckets of about 500 rows at 1M rows, whose slots stream
/// into the cache side by side.
const BUCKET_BITS: u32 = 11;
const _: () = assert!(TABLE_KEY_BITS == 2 * BUCKET_BITS, "two passes sort the key");

/// Bands whose keys [`BitBands::search`] computes in one pass over the fingerprints (each
/// pass reads them all from memory).
const KEY_GROUP: usize = 2;

/// The bits where fingerprints `a` and `b` differ, as the words that band masks are made
/// of (the first `BITS / 64` of 16, rounded up).
#[inline(always)]
fn differing_words<F: Fingerprint>(a: &F, b: &F) -> [u64; 16] {
    let mut x = [0u64; 16];
    let width = F::BITS.min(64);
    for (w, word) in x.iter_mut().enumerate().take(F::BITS.div_ceil(64) as usize) {
        *word = a.extract(64 * w as u32, width) ^ b.extract(64 * w as u32, width);
    }
    x
}

/// Whether some band of `masks` (`n` words each) agrees: none of its bits in `x`.
fn any_agrees_dyn(x: &[u64; 16], masks: &[u64], n: usize) -> bool {
    masks
        .chunks_exact(n)
        .any(|m| x.iter().zip(m).fold(0, |acc, (x, m)| acc | x & m) == 0)
}

/// Rows whose fingerprints [`BitBands::band_pairs`] asks for ahead of the one it gathers.
const GATHER_AHEAD: usize = 16;

/// A row as a band's bucket holds it: its key and all that its pairs are tested on.
#[derive(Clone, Copy)]
struct Entry<F, T> {
    key: u32,
    x: u32,
    fp: F,
    terms: T,
}

/// What one band of [`BitBands::search`] works in, kept from band to band so that its
/// memory is allocated once.
struct BandScratch<F, T> {
    /// The band's key of every row.
    keys: Vec<u32>,
    /// The rows, `key << 32 | position` with their terms, sorted by key: bucket after
    /// bucket (the key's top [`BUCKET_BITS`]), each bucket by the rest of the key.
    slots: Vec<(u64, T)>,
    /// The rows by the key's low bits only, the first pass of the sort into `slots`.
    spare: Vec<(u64, T)>,
    /// A bucket's rows that share their key, gathered in (key, position) order.
    entries: Vec<Entry<F, T>>,
    /// Pairs past the Hamming filter, waiting for the [`PairTest`].
    passed: Vec<Pair>,
    /// Their differing bits ([`differing_words`], the first `BITS / 64` words), pair after
    /// pair.
    differing: Vec<u64>,
}

impl<F, T> BandScratch<F, T> {
    fn new() -> Self {
        BandScratch {
            keys: Vec::new(),
            entries: Vec::new(),
            slots: Vec::new(),
            spare: Vec::new(),
            passed: Vec::new(),
            differing: Vec::new(),
        }
    }
}

/// The band positions of a shape, drawn from a seed, and the keys they give.
#[derive(Clone, Debug)]
pub struct BitBands {
    params: BitBandParams,
    /// Fingerprint words per band mask.
    words: usize,
    /// The bits of band `b`: words `b * words .. (b + 1) * words`.
    masks: Vec<u64>,
}

impl BitBands {
    /// Band positions for `params`, drawn with [`Rng`] from `seed`: band `b` gets `rows`
    /// distinct bit positions, independently of the other bands.
    pub fn new(params: BitBandParams, seed: u64) -> BitBands {
        assert!(
            params.rows >= 1 && params.rows <= params.bits,
            "1 to bits rows"
        );
        let mut rng = Rng::new(seed ^ 0xb17b_a4d5_0000_0000);
        let words = params.bits.div_ceil(64) as usize;
        let mut masks = vec![0u64; words * params.bands as usize];
        for mask in masks.chunks_mut(words) {
            let mut chosen = 0;
            while chosen < params.rows {
                let bit = ((rng.next_u64() as u128 * params.bits as u128) >> 64) as usize;
                if mask[bit / 64] >> (bit % 64) & 1 == 0 {
                    mask[bit / 64] |= 1 << (bit % 64);
                    chosen += 1;
                }
            }
        }
        assert!(params.bands <= MAX_BANDS, "at most {MAX_BANDS} bands");
        BitBands {
            params,
            words,
            masks,
        }
    }

    /// The shape.
    pub fn params(&self) -> BitBandParams {
        self.params
    }

    /// Whether `band` is the first band on all of whose bits fingerprints `a` and `b`
    /// agree: from the masks alone, no key is read, and a pair whose keys collide without
    /// its bits agreeing is not a candidate of that band.
    #[inline]
    pub fn first_agreement<F: Fingerprint>(&self, a: &F, b: &F, band: usize) -> bool {
        self.first_agreement_of(&differing_words(a, b), band)
    }

    /// [`BitBands::first_agreement`] of a pair whose differing bits are `x`
    /// ([`differing_words`]).
    #[inline(always)]
    fn first_agreement_of(&self, x: &[u64; 16], band: usize) -> bool {
        /// Whether some band of `masks` (`N` words each) agrees, all of its bits outside
        /// `x`: one vector test a band with `N` a constant.
        #[inline(always)]
        fn any_agrees<const N: usize>(x: &[u64; 16], masks: &[u64]) -> bool {
            let x: &[u64; N] = x[..N].try_into().expect("N <= 16");
            masks.chunks_exact(N).any(|m| {
                let m: &[u64; N] = m.try_into().expect("N words");
                x.iter().zip(m).fold(0, |acc, (x, m)| acc | x & m) == 0
            })
        }
        let n = self.words;
        let (before, own) = self.masks.split_at(band * n);
        if !any_agrees_dyn(x, &own[..n], n) {
            return false;
        }
        !match n {
            1 => any_agrees::<1>(x, before),
            2 => any_agrees::<2>(x, before),
            4 => any_agrees::<4>(x, before),
            8 => any_agrees::<8>(x, before),
            16 => any_agrees::<16>(x, before),
            _ => any_agrees_dyn(x, before, n),
        }
    }

    /// A band's table key of a fingerprint's words: its masked bits multiplied in and
    /// mixed, [`TABLE_KEY_BITS`] bits. Agreeing bits give equal keys; unequal bits collide
    /// by chance (1 in 2^22), which [`BitBands::first_agreement`] rules out.
    #[inline]
    fn table_key(&self, words: &[u64], band: usize) -> u64 {
        const K: [u64; 4] = [
            0x9e37_79b9_7f4a_7c15,
            0xc2b2_ae3d_27d4_eb4f,
            0x1656_67b1_9e37_79f9,
            0x27d4_eb2f_1656_67c5,
        ];
        let mask = &self.masks[band * self.words..(band + 1) * self.words];
        let mut acc = band as u64;
        for (w, (&word, &m)) in words.iter().zip(mask).enumerate() {
            acc ^= (word & m).wrapping_mul(K[w % 4]).rotate_left(w as u32 * 16);
        }
        mix64(acc) >> (64 - TABLE_KEY_BITS)
    }

    /// The search over `fps` itself, band by band, with no stored keys: each band sorts
    /// every row (key, position and `terms[x]`) by key in two streaming passes, then
    /// gathers the fingerprints of the rows that share a key (prefetched ahead) and
    /// compares the rows of each run where they lie (see
    /// [`BitBands::band_pairs`]). A pair sharing a key in
    /// band `b` is a candidate there when `within(terms x, terms y, distance)` holds
    /// (positions in `fps`, `x < y`), `test` keeps it (a test that reads more of the rows,
    /// at random: the pairs that pass the filter are gathered in batches and their rows
    /// prefetched, see [`PairTest`]) and `b` is the first band whose bits agree
    /// ([`BitBands::first_agreement`], tested last: few pairs get there). Candidates go to
    /// `sink` in groups sorted by `(a, b)`, as [`crate::search::bands::search_filtered`]
    /// gives them, the same for any thread count.
    pub fn search<F, T, W, K>(
        &self,
        fps: &[F],
        terms: &[T],
        within: &W,
        test: &K,
        progress: &dyn Progress,
        sink: &mut dyn FnMut(Vec<Pair>),
    ) -> BandStats
    where
        F: Fingerprint,
        T: Copy + Default + Send + Sync,
        W: Fn(&T, &T, u32) -> bool + Sync,
        K: PairTest,
    {
        let all = 0..self.params.bands as usize;
        self.search_split(fps, None, all, terms, within, test, progress, sink)
    }

    /// [`BitBands::search`] over the bands `bands` only: the candidates whose first
    /// agreeing band is one of them. The searches of disjoint ranges that cover every band
    /// give [`BitBands::search`]'s candidates between them, each once (the Spark job
    /// splits the band search so, one range a task).
    pub fn search_bands<F, T, W, K>(
        &self,
        fps: &[F],
        bands: std::ops::Range<usize>,
        terms: &[T],
        within: &W,
        test: &K,
        sink: &mut dyn FnMut(Vec<Pair>),
    ) -> BandStats
    where
        F: Fingerprint,
        T: Copy + Default + Send + Sync,
        W: Fn(&T, &T, u32) -> bool + Sync,
        K: PairTest,
    {
        assert!(
            bands.end <= self.params.bands as usize,
            "bands of the shape"
        );
        self.search_split(fps, None, bands, terms, within, test, &(), sink)
    }

    /// [`BitBands::search`] across two sets: `fps[..split]` (queries) against
    /// `fps[split..]` (the reference). Only pairs with `a < split <= b` are compared, so
    /// the candidates are exactly those of [`BitBands::search`] over all of `fps` that
    /// cross the split, and pairs within either set cost nothing beyond sharing a run.
    #[allow(clippy::too_many_arguments)]
    pub fn cross_search<F, T, W, K>(
        &self,
        fps: &[F],
        split: usize,
        terms: &[T],
        within: &W,
        test: &K,
        progress: &dyn Progress,
        sink: &mut dyn FnMut(Vec<Pair>),
    ) -> BandStats
    where
        F: Fingerprint,
        T: Copy + Default + Send + Sync,
        W: Fn(&T, &T, u32) -> bool + Sync,
        K: PairTest,
    {
        assert!(split <= fps.len(), "split within the rows");
        let all = 0..self.params.bands as usize;
        self.search_split(
            fps,
            Some(split as u32),
            all,
            terms,
            within,
            test,
            progress,
            sink,
        )
    }

    /// The search of every pair (`split` `None`) or of the pairs crossing `split`, in the
    /// bands `range`.
    #[allow(clippy::too_many_arguments)]
    fn search_split<F, T, W, K>(
        &self,
        fps: &[F],
        split: Option<u32>,
        range: std::ops::Range<usize>,
        terms: &[T],
        within: &W,
        test: &K,
        progress: &dyn Progress,
        sink: &mut dyn FnMut(Vec<Pair>),
    ) -> BandStats
    where
        F: Fingerprint,
        T: Copy + Default + Send + Sync,
        W: Fn(&T, &T, u32) -> bool + Sync,
        K: PairTest,
    {
        assert!(fps.len() < u32::MAX as usize, "at most 2^32 - 2 rows");
        assert_eq!(fps.len(), terms.len(), "one term per fingerprint");
        let bands = range.end;
        let mut stats = BandStats {
            documents: fps.len() as u64,
            bands: range.len() as u64,
            candidates: 0,
            collisions: 0,
        };
        progress.start("searching", range.len() as u64, "bands");
        let step = rayon::current_num_threads().max(1);
        // One scratch per thread, reused round after round; each thread takes KEY_GROUP
        // consecutive bands a round.
        let mut scratch: Vec<BandScratch<F, T>> = (0..step).map(|_| BandScratch::new()).collect();
        let mut pending: Vec<Pair> = Vec::new();
        let mut band = range.start;
        while band < bands {
            let found: Vec<Vec<(Vec<Pair>, u64)>> = scratch
                .par_iter_mut()
                .enumerate()
                .map(|(i, scratch)| {
                    let first = (band + i * KEY_GROUP).min(bands);
                    let group = first..(first + KEY_GROUP).min(bands);
                    let count = group.len() as u64;
                    let out =
                        self.band_pairs_fastest(fps, split, group, terms, within, test, scratch);
                    progress.inc(count);
                    out
                })
                .collect();
            for (pairs, collisions) in found.into_iter().flatten() {
                stats.collisions += collisions;
                stats.candidates += pairs.len() as u64;
                pending.extend(pairs);
                if pending.len() >= GROUP_CANDIDATES {
                    pending.sort_unstable();
                    sink(std::mem::take(&mut pending));
                }
            }
            band = (band + step * KEY_GROUP).min(bands);
        }
        if !pending.is_empty() {
            pending.sort_unstable();
            sink(pending);
        }
        progress.finish();
        stats
    }

    /// [`BitBands::band_pairs`] compiled for the widest vectors this processor has (the
    /// same results: integer work and the same float operations in the same order).
    #[allow(clippy::too_many_arguments)]
    fn band_pairs_fastest<F, T, W, K>(
        &self,
        fps: &[F],
        split: Option<u32>,
        group: std::ops::Range<usize>,
        terms: &[T],
        within: &W,
        test: &K,
        scratch: &mut BandScratch<F, T>,
    ) -> Vec<(Vec<Pair>, u64)>
    where
        F: Fingerprint,
        T: Copy + Default,
        W: Fn(&T, &T, u32) -> bool,
        K: PairTest,
    {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512vpopcntdq") {
            /// Hamming distances with one population count per 512 bits. (A wrapper that
            /// runs a closure instead measured 10% slower: the generics are restated.)
            #[target_feature(enable = "avx512f,avx512bw,avx512vpopcntdq")]
            #[allow(clippy::too_many_arguments)]
            fn wide<F, T, W, K>(
                bands: &BitBands,
                fps: &[F],
                split: Option<u32>,
                group: std::ops::Range<usize>,
                terms: &[T],
                within: &W,
                test: &K,
                scratch: &mut BandScratch<F, T>,
            ) -> Vec<(Vec<Pair>, u64)>
            where
                F: Fingerprint,
                T: Copy + Default,
                W: Fn(&T, &T, u32) -> bool,
                K: PairTest,
            {
                bands.band_pairs(fps, split, group, terms, within, test, scratch)
            }
            // SAFETY: the processor has the features `wide` is compiled for.
            return unsafe { wide(self, fps, split, group, terms, within, test, scratch) };
        }
        self.band_pairs(fps, split, group, terms, within, test, scratch)
    }

    /// The candidates of each band of `group` (see [`BitBands::search`]) and the number of
    /// pairs that share its table key. One pass over `fps` computes the keys of every band
    /// of the group and counts them by their low and their high [`BUCKET_BITS`] bits; then,
    /// band by band, two stable streaming passes sort the rows (`key << 32 | position`
    /// with their terms: 16 bytes for vector rows) by the key's low bits, then by its high bits,
    /// so that each run of equal keys lies in input order; the fingerprints of the rows of
    /// runs of two or more are gathered in that order, [`GATHER_AHEAD`] rows prefetched
    /// ahead, and the runs compared where they lie. (Sorting each high-bits bucket in the
    /// cache instead of the second pass measured 14% more CPU time for the whole run;
    /// copying whole rows, 80 bytes at 512 bits, into the buckets instead of the gather
    /// measured the same speed with 150 MB more memory at 1M rows.)
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn band_pairs<F, T, W, K>(
        &self,
        fps: &[F],
        split: Option<u32>,
        group: std::ops::Range<usize>,
        terms: &[T],
        within: &W,
        test: &K,
        scratch: &mut BandScratch<F, T>,
    ) -> Vec<(Vec<Pair>, u64)>
    where
        F: Fingerprint,
        T: Copy + Default,
        W: Fn(&T, &T, u32) -> bool,
        K: PairTest,
    {
        let width = F::BITS.min(64);
        let nwords = F::BITS.div_ceil(64) as usize;
        let n = fps.len();
        let BandScratch {
            keys,
            entries,
            slots,
            spare,
            passed,
            differing,
        } = scratch;
        let buckets = 1 << BUCKET_BITS;
        let mut starts = vec![0usize; group.len() * (buckets + 1)];
        let mut lows = vec![0usize; group.len() * (buckets + 1)];
        keys.resize(group.len() * n, 0);
        for (x, fp) in fps.iter().enumerate() {
            let mut words = [0u64; 16];
            for (w, word) in words.iter_mut().enumerate().take(nwords) {
                *word = fp.extract(64 * w as u32, width);
            }
            for (g, b) in group.clone().enumerate() {
                let key = self.table_key(&words[..nwords], b) as u32;
                keys[g * n + x] = key;
                starts[g * (buckets + 1) + (key >> (TABLE_KEY_BITS - BUCKET_BITS)) as usize + 1] +=
                    1;
                lows[g * (buckets + 1) + (key as usize & (buckets - 1)) + 1] += 1;
            }
        }
        slots.resize(n, (0, T::default()));
        spare.resize(n, (0, T::default()));
        let mut out = Vec::with_capacity(group.len());
        for (g, b) in group.enumerate() {
            let keys = &keys[g * n..(g + 1) * n];
            let starts = &mut starts[g * (buckets + 1)..(g + 1) * (buckets + 1)];
            for i in 1..starts.len() {
                starts[i] += starts[i - 1];
            }
            let lows = &mut lows[g * (buckets + 1)..(g + 1) * (buckets + 1)];
            for i in 1..lows.len() {
                lows[i] += lows[i - 1];
            }
            // Two stable passes of BUCKET_BITS, the key's low bits then its high bits: the
            // rows by key, then position (each run's rows in input order).
            let mut next = lows.to_vec();
            for (x, (&key, &t)) in keys.iter().zip(terms).enumerate() {
                let slot = &mut next[key as usize & (buckets - 1)];
                spare[*slot] = ((key as u64) << 32 | x as u64, t);
                *slot += 1;
            }
            let mut next = starts.to_vec();
            for &(e, t) in spare.iter() {
                let slot = &mut next[(e >> (32 + TABLE_KEY_BITS - BUCKET_BITS)) as usize];
                slots[*slot] = (e, t);
                *slot += 1;
            }
            let mut pairs = Vec::new();
            let mut collisions = 0;
            for bounds in starts.windows(2) {
                let bucket = &slots[bounds[0]..bounds[1]];
                if bucket.len() < 2 {
                    continue;
                }
                let key = |i: usize| bucket[i].0 >> 32;
                let row = |i: usize| (bucket[i].0 as u32, bucket[i].1);
                let shared = |i: usize| {
                    (i > 0 && key(i - 1) == key(i))
                        || (i + 1 < bucket.len() && key(i + 1) == key(i))
                };
                for i in 0..bucket.len().min(GATHER_AHEAD) {
                    crate::cache::prefetch(&fps[row(i).0 as usize]);
                }
                entries.clear();
                for i in 0..bucket.len() {
                    if i + GATHER_AHEAD < bucket.len() {
                        crate::cache::prefetch(&fps[row(i + GATHER_AHEAD).0 as usize]);
                    }
                    if shared(i) {
                        let (x, terms) = row(i);
                        entries.push(Entry {
                            key: key(i) as u32,
                            x,
                            fp: fps[x as usize],
                            terms,
                        });
                    }
                }
                for run in entries.chunk_by(|p, q| p.key == q.key) {
                    // Across a split, the run's queries (its first `cut` entries, as
                    // positions ascend) against the rest; else every pair.
                    let cut = split.map_or(run.len(), |split| run.partition_point(|e| e.x < split));
                    collisions += match split {
                        None => run.len() * (run.len() - 1) / 2,
                        Some(_) => cut * (run.len() - cut),
                    } as u64;
                    for (s, ex) in run[..cut].iter().enumerate() {
                        let from = if split.is_some() { cut } else { s + 1 };
                        for ey in &run[from..] {
                            let d = ex.fp.distance(&ey.fp);
                            if within(&ex.terms, &ey.terms, d) {
                                passed.push(Pair::new(ex.x, ey.x, d));
                                differing
                                    .extend_from_slice(&differing_words(&ex.fp, &ey.fp)[..nwords]);
                            }
                        }
                    }
                }
                if passed.len() >= TEST_BATCH {
                    self.test_passed(b, test, passed, differing, &mut pairs);
                }
            }
            self.test_passed(b, test, passed, differing, &mut pairs);
            out.push((pairs, collisions));
        }
        out
    }

    /// Puts the pairs of band `b` that passed the Hamming filter (their differing bits in
    /// `differing`, see [`BandScratch::differing`]) to [`BitBands::first_agreement`], then the
    /// pairs no earlier band gave to `test`, their rows prefetched a few pairs ahead; the
    /// candidates go to `pairs`, and `passed` and `differing` are emptied. A pair that
    /// agrees on several bands passes the filter in each (about three times on average
    /// on clustered rows), and the first-band test reads no row.
    #[inline(always)]
    fn test_passed<K: PairTest>(
        &self,
        b: usize,
        test: &K,
        passed: &mut Vec<Pair>,
        differing: &mut Vec<u64>,
        pairs: &mut Vec<Pair>,
    ) {
        /// Pairs whose rows are asked for ahead of the one tested.
        const AHEAD: usize = 8;
        let mut x = [0u64; 16];
        let mut first = 0;
        for (i, words) in differing.chunks_exact(self.words).enumerate() {
            x[..self.words].copy_from_slice(words);
            if self.first_agreement_of(&x, b) {
                passed[first] = passed[i];
                first += 1;
            }
        }
        passed.truncate(first);
        differing.clear();
        for p in passed.iter().take(AHEAD) {
            test.prefetch(p.a);
            test.prefetch(p.b);
        }
        for (i, p) in passed.iter().enumerate() {
            if let Some(next) = passed.get(i + AHEAD) {
                test.prefetch(next.a);
                test.prefetch(next.b);
            }
            if test.keep(p.a, p.b) {
                pairs.push(*p);
            }
        }
        passed.clear();
    }

    /// Keep-first search, for a greedy deduplication that needs only the pairs that decide
    /// (a row against the rows already kept), not every pair: rows are visited in order,
    /// and row `x`'s candidates are the rows `y < x` already kept that agree with it on
    /// every bit of some band, pass `within(terms y, terms x, distance)` and `test.keep(y, x)`, each
    /// once, as `Pair { a: y, b: x }` in increasing `y`. `decide(x, candidates)` says
    /// whether `x` is kept. The candidates of `x` are those that [`BitBands::search`]
    /// would give with a kept `y`, so a greedy assignment made from them is the one made
    /// from every pair; pairs with a removed row, most of the work in tight clusters, are
    /// never formed.
    ///
    /// Each band's table is sorted once; every run of equal keys gets a slot list, where
    /// the run's kept rows are appended as they are decided, so a visit reads only kept
    /// rows, contiguously (see [`BitBandParams::greedy_bytes`] for the memory). The visit is
    /// sequential, as each decision depends on the ones before it.
    pub fn greedy<F, T, W, K>(
        &self,
        fps: &[F],
        terms: &[T],
        within: &W,
        test: &K,
        progress: &dyn Progress,
        decide: &mut dyn FnMut(u32, &[Pair]) -> bool,
    ) -> BandStats
    where
        F: Fingerprint,
        T: Copy,
        W: Fn(&T, &T, u32) -> bool,
        K: PairTest,
    {
        const NONE: u32 = u32::MAX;
        let n = fps.len();
        let bands = self.params.bands as usize;
        assert!(2 * n < NONE as usize, "at most 2^31 - 1 rows");
        let width = F::BITS.min(64);
        let nwords = F::BITS.div_ceil(64) as usize;
        let words_of = |fp: &F| {
            let mut words = [0u64; 16];
            for (w, word) in words.iter_mut().enumerate().take(nwords) {
                *word = fp.extract(64 * w as u32, width);
            }
            words
        };
        progress.start("searching", (bands + n) as u64, "tables and rows");
        // Band b's slots: for each run of two or more equal keys, its count of kept rows,
        // then room for all its members; `firsts[x]` lists row x's run (its count slot)
        // in every band, or NONE where no other row shares its key.
        let (mut slots, firsts): (Vec<Vec<u32>>, Vec<Vec<u32>>) = (0..bands)
            .into_par_iter()
            .map(|b| {
                let mut table: Vec<u64> = fps
                    .iter()
                    .enumerate()
                    .map(|(x, fp)| self.table_key(&words_of(fp)[..nwords], b) << 32 | x as u64)
                    .collect();
                radix_sort_keys(&mut table);
                let mut first = vec![NONE; n];
                let mut slots = Vec::new();
                for run in table.chunk_by(|x, y| x >> 32 == y >> 32) {
                    if run.len() > 1 {
                        for &e in run {
                            first[e as u32 as usize] = slots.len() as u32;
                        }
                        slots.resize(slots.len() + 1 + run.len(), 0);
                    }
                }
                progress.inc(1);
                (slots, first)
            })
            .unzip();
        // Row-major, so that a row's runs are read from one place.
        let mut at = vec![NONE; n * bands];
        for (b, first) in firsts.iter().enumerate() {
            for (x, &f) in first.iter().enumerate() {
                at[x * bands + b] = f;
            }
        }
        drop(firsts);
        let mut stats = BandStats {
            documents: n as u64,
            bands: bands as u64,
            candidates: 0,
            collisions: 0,
        };
        // The kept rows, numbered in order, with what their comparisons read (fingerprint
        // words and terms) copied together: far fewer than the rows in tight
        // clusters, so these stay in cache. The slots hold these numbers.
        let mut kept_rows: Vec<u32> = Vec::new();
        let mut kept_words: Vec<u64> = Vec::new();
        let mut kept_terms: Vec<T> = Vec::new();
        let mut seen: Vec<u32> = Vec::new();
        let mut found: Vec<Pair> = Vec::new();
        let mut counts = vec![0u32; bands];
        for (x, fx) in fps.iter().enumerate() {
            let wx = words_of(fx);
            let wx = &wx[..nwords];
            let tx = terms[x];
            let at_x = &at[x * bands..(x + 1) * bands];
            let x = x as u32;
            // The counts first, in a loop of independent reads (cache misses that
            // overlap), then the kept rows of the runs that have some.
            for ((count, band), &f) in counts.iter_mut().zip(&slots).zip(at_x) {
                *count = if f == NONE { 0 } else { band[f as usize] };
            }
            found.clear();
            for (b, ((band, &f), &count)) in slots.iter().zip(at_x).zip(&counts).enumerate() {
                if count == 0 {
                    continue;
                }
                let start = f as usize + 1;
                stats.collisions += count as u64;
                let mask = &self.masks[b * self.words..(b + 1) * self.words];
                for &k in &band[start..start + count as usize] {
                    let k = k as usize;
                    if seen[k] == x {
                        continue;
                    }
                    let wy = &kept_words[k * nwords..(k + 1) * nwords];
                    let agree = (wx.iter().zip(wy).zip(mask)).all(|((a, c), m)| (a ^ c) & m == 0);
                    if !agree {
                        continue;
                    }
                    seen[k] = x;
                    let d = wx.iter().zip(wy).map(|(a, c)| (a ^ c).count_ones()).sum();
                    let y = kept_rows[k];
                    if within(&kept_terms[k], &tx, d) && test.keep(y, x) {
                        found.push(Pair {
                            a: y,
                            b: x,
                            distance: d,
                        });
                    }
                }
            }
            found.sort_unstable_by_key(|p| p.a);
            stats.candidates += found.len() as u64;
            if decide(x, &found) {
                let k = kept_rows.len() as u32;
                kept_rows.push(x);
                kept_words.extend_from_slice(wx);
                kept_terms.push(tx);
                seen.push(NONE);
                for ((band, &f), &count) in slots.iter_mut().zip(at_x).zip(&counts) {
                    if f != NONE {
                        band[f as usize + 1 + count as usize] = k;
                        band[f as usize] = count + 1;
                    }
                }
            }
            if x % 4096 == 4095 {
                progress.inc(4096);
            }
        }
        progress.finish();
        stats
    }

    /// The band keys of one fingerprint, into `out` (one per band).
    pub fn keys_of<F: Fingerprint>(&self, fp: &F, out: &mut [u32]) {
        assert_eq!(
            F::BITS,
            self.params.bits,
            "fingerprint width and bands differ"
        );
        let mut words = [0u64; 16];
        let width = F::BITS.min(64);
        for (w, word) in words
            .iter_mut()
            .enumerate()
            .take(F::BITS.div_ceil(64) as usize)
        {
            *word = fp.extract(64 * w as u32, width);
        }
        for (b, (key, mask)) in out
            .iter_mut()
            .zip(self.masks.chunks_exact(self.words))
            .enumerate()
        {
            let mut acc = 0x243f_6a88_85a3_08d3 ^ (b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for (w, (&word, &m)) in words.iter().zip(mask).enumerate() {
                if m != 0 {
                    acc = mix64(acc ^ (word & m)).wrapping_add(w as u64);
                }
            }
            *key = (mix64(acc) >> 32) as u32;
        }
    }

    /// The band keys of every fingerprint, in order, computed in parallel.
    pub fn keys<F: Fingerprint>(&self, fps: &[F]) -> BandKeys {
        let bands = self.params.bands as usize;
        let mut flat = vec![0u32; fps.len() * bands];
        flat.par_chunks_mut(bands * 1024)
            .zip(fps.par_chunks(1024))
            .for_each(|(out, chunk)| {
                for (fp, keys) in chunk.iter().zip(out.chunks_mut(bands)) {
                    self.keys_of(fp, keys);
                }
            });
        BandKeys::from_flat(bands, flat)
    }
}

#[cfg(test)]
mod tests;
