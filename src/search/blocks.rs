//! Exact search with permuted block tables (Manku, Jain and Das Sarma, WWW 2007), generalised
//! to any width, distance and block count, with recursive sub-tables for skewed inputs.
//!
//! Split the bits into `b > k` blocks: two fingerprints within distance `k` agree exactly on
//! at least `b - k` blocks, so one table per choice of `b - k` blocks, sorted on those blocks,
//! brings every such pair together in an equal-key run. Each pair is reported by one table
//! only (see `Layout::first_agreeing`), so no hash set is needed to remove repeats.
//! Identical inputs are grouped first; a long run is searched again on its remaining blocks
//! (its constant bits left out) when a cost model (`plan`) says that beats comparing it.

use rayon::prelude::*;

use super::groups::Groups;
use super::{CrossPair, Pair};
use crate::fingerprint::Fingerprint;
use crate::progress::Progress;

/// Keys are at most this many bits. Wider block sets are hashed down to it: a collision
/// only adds a candidate, which verification rejects. 32 bits keep a table entry at 8 bytes
/// (key and index in one `u64`) and cost N^2 / 2^33 spurious candidates per table.
const KEY_BITS_MAX: u32 = 32;

/// Bits of the in-place radix pass that starts a table's sort: 256 buckets.
const RADIX_BITS: u32 = 8;

/// Runs up to this length are compared pairwise without asking the cost model.
const SMALL_RUN: usize = 48;

/// Largest block count: table sets are `u64` bit masks.
const MAX_BLOCKS: u32 = 64;

/// Most tables the cost model considers for one split.
const MAX_TABLES: f64 = 1e6;

/// Cost model constants, in nanoseconds on one core of the 2-core development machine
/// (under load from other jobs), fitted to `examples/search_bench.rs` runs with forced
/// block counts: 1M 64-bit fingerprints, k = 8, b = 10, 11 and 12 (see [`plan`]).
mod cost {
    /// One distance between two fingerprints (brute force or in a run), per 64-bit word.
    pub const PAIR: f64 = 1.0;
    /// Copying the fingerprint of an entry in an equal-key run out of the table.
    pub const FETCH: f64 = 2.0;
    /// Building one key piece for one entry.
    pub const PIECE: f64 = 4.0;
    /// One pass of the table sort over one entry, per 16 bytes of entry (memory-bound).
    pub const PASS: f64 = 15.0;
    /// Fixed cost of a table (allocation, histograms).
    pub const TABLE: f64 = 3_000.0;
}

/// What one search did. Counts cover the distinct values searched: identical inputs are
/// collapsed before the search and expanded afterwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Fingerprints searched (all inputs, duplicates included).
    pub fingerprints: u64,
    /// Distinct values among them: the search works on these.
    pub unique: u64,
    /// Blocks of the top-level split; 0 when the whole search ran brute force.
    pub blocks: u32,
    /// Tables built, sub-tables of heavy runs included.
    pub tables: u64,
    /// Sub-tables built for heavy runs (included in `tables`).
    pub subtables: u64,
    /// Distances computed between distinct values (brute-force comparisons included).
    pub candidates: u64,
    /// Pairs of distinct values within the distance, before expanding identical inputs.
    pub unique_pairs: u64,
    /// Pairs reported.
    pub pairs: u64,
}

impl SearchStats {
    fn add(&mut self, o: &SearchStats) {
        self.tables += o.tables;
        self.subtables += o.subtables;
        self.candidates += o.candidates;
    }
}

/// A run of bits `(lo, len)`, `len <= 64`, so one `extract` reads it.
type Seg = (u32, u32);

/// How to search a set of values: compare every pair, or build tables on `b` blocks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Plan {
    Brute,
    Blocks(u32),
}

/// `n choose r` as a float (exact up to 2^53).
fn binomial(n: u32, r: u32) -> f64 {
    let r = r.min(n - r);
    (0..r).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

/// Estimated cost in nanoseconds of comparing every one of `pairs` pairs.
fn brute_cost(pairs: f64, words: f64) -> f64 {
    pairs * cost::PAIR * words
}

/// Estimated cost in nanoseconds of `b` blocks over `free_bits` bits, for `n` values of
/// which `pairs` pairs are wanted: per table, building and radix-sorting `n` keys, plus
/// `pairs * 2^-keybits` candidates (uniform values assumed; skew is handled by sub-tables),
/// plus fetching the fingerprints of the entries in runs.
/// `None` when the split is impossible or has too many tables.
fn blocks_cost(n: f64, pairs: f64, free_bits: u32, k: u32, b: u32, words: f64) -> Option<f64> {
    if b <= k || b > free_bits.min(MAX_BLOCKS) {
        return None;
    }
    let m = b - k;
    let tables = binomial(b, m);
    if tables > MAX_TABLES {
        return None;
    }
    // The narrowest key: the m smallest blocks.
    let small = free_bits / b;
    let key_bits = (m * small).min(KEY_BITS_MAX);
    let pieces = f64::from(m) * (1.0 + f64::from(small / 64));
    // In-place radix passes until the key is used up or buckets are small; an in-place
    // pass (swaps) costs about what a copying pass over 16-byte entries did.
    let levels = ((n / SMALL_RUN as f64).max(2.0).log2() / f64::from(RADIX_BITS)).ceil();
    let passes = f64::from(key_bits.div_ceil(RADIX_BITS).max(1)).min(levels.max(1.0));
    let entry = 1.0;
    let candidates = pairs * (-f64::from(key_bits)).exp2();
    let per_table = cost::TABLE
        + n * (cost::PIECE * pieces + cost::PASS * entry * passes)
        + candidates * cost::PAIR * words
        + n.min(2.0 * candidates) * cost::FETCH;
    Some(tables * per_table)
}

/// The cheapest plan for `n` values (`pairs` wanted pairs) over `free_bits` bits of
/// `BITS`-bit fingerprints, by the cost model: brute force, or the block count with the
/// lowest estimate. Calibrated on 64- and 128-bit uniform fingerprints (`search_bench`).
pub(crate) fn plan(n: usize, pairs: f64, free_bits: u32, k: u32, bits: u32) -> Plan {
    plan_with(n, pairs, free_bits, k, bits, true)
}

/// The estimated cost in nanoseconds of brute force when radius `k` leaves no block split
/// (a split needs more than `k` blocks, over at most `free_bits` bits and [`MAX_BLOCKS`]),
/// else `None`.
pub(crate) fn brute_cost_without_blocks(
    pairs: f64,
    free_bits: u32,
    k: u32,
    bits: u32,
) -> Option<f64> {
    (k >= free_bits.min(MAX_BLOCKS)).then(|| brute_cost(pairs, f64::from(bits.div_ceil(64))))
}

/// [`plan`], optionally without the brute-force choice (tests use it to exercise splits).
fn plan_with(n: usize, pairs: f64, free_bits: u32, k: u32, bits: u32, brute: bool) -> Plan {
    let words = f64::from(bits.div_ceil(64));
    let brute_cost = if brute {
        brute_cost(pairs, words)
    } else {
        f64::INFINITY
    };
    let mut best = (brute_cost, Plan::Brute);
    for b in k + 1..=free_bits.min(MAX_BLOCKS) {
        match blocks_cost(n as f64, pairs, free_bits, k, b, words) {
            Some(c) if c < best.0 => best = (c, Plan::Blocks(b)),
            Some(_) => {}
            None => break,
        }
    }
    best.1
}

/// `free` bits cut into `b` blocks of nearly equal width (wider blocks first), each block a
/// list of segments of at most 64 bits. Requires `b <=` the number of free bits.
fn split(free: &[Seg], b: u32) -> Vec<Vec<Seg>> {
    let total: u32 = free.iter().map(|s| s.1).sum();
    let mut rest = free.iter().copied();
    let mut cur = rest.next();
    (0..b)
        .map(|t| {
            let mut need = total / b + u32::from(t < total % b);
            let mut block = Vec::new();
            while need > 0 {
                let (lo, len) = cur.expect("enough free bits for the blocks");
                let take = need.min(len).min(64);
                block.push((lo, take));
                need -= take;
                cur = if take == len {
                    rest.next()
                } else {
                    Some((lo + take, len - take))
                };
            }
            block
        })
        .collect()
}

/// The blocks of one level of the search.
struct Layout {
    blocks: Vec<Vec<Seg>>,
}

impl Layout {
    /// Bit mask of the blocks on which `a` and `b` agree.
    fn agreement<F: Fingerprint>(&self, a: &F, b: &F) -> u64 {
        let mut mask = 0;
        for (t, block) in self.blocks.iter().enumerate() {
            if block
                .iter()
                .all(|&(lo, len)| a.extract(lo, len) == b.extract(lo, len))
            {
                mask |= 1 << t;
            }
        }
        mask
    }

    /// Whether table `sel` (a set of blocks) is the one that reports a pair agreeing on
    /// the blocks `agree`: its blocks must be the `|sel|` lowest-numbered agreeing blocks.
    /// Every pair within the distance has exactly one such table.
    fn first_agreeing(sel: u64, agree: u64) -> bool {
        let top = 63 - sel.leading_zeros();
        let below = (1u64 << top) - 1;
        sel & !agree == 0 && agree & below & !sel == 0
    }

    /// Number of bits in all blocks.
    fn width(&self) -> u32 {
        self.blocks.iter().flatten().map(|s| s.1).sum()
    }

    /// The segments of the blocks in `sel`, in block order.
    fn pieces(&self, sel: u64) -> Vec<Seg> {
        self.select(sel, true)
    }

    /// The bits outside the blocks of `sel`, adjacent segments merged up to 64 bits.
    fn rest(&self, sel: u64) -> Vec<Seg> {
        let mut out: Vec<Seg> = Vec::new();
        for seg in self.select(sel, false) {
            match out.last_mut() {
                Some(last) if last.0 + last.1 == seg.0 && last.1 + seg.1 <= 64 => last.1 += seg.1,
                _ => out.push(seg),
            }
        }
        out
    }

    fn select(&self, sel: u64, inside: bool) -> Vec<Seg> {
        self.blocks
            .iter()
            .enumerate()
            .filter(|(t, _)| (sel >> t & 1 == 1) == inside)
            .flat_map(|(_, b)| b.iter().copied())
            .collect()
    }
}

/// Every `m`-subset of `b` blocks as a bit mask, in lexicographic order.
fn combinations(b: u32, m: u32) -> Vec<u64> {
    let mut out = Vec::new();
    let mut idx: Vec<u32> = (0..m).collect();
    loop {
        out.push(idx.iter().fold(0u64, |acc, &i| acc | 1 << i));
        let Some(pos) = (0..m as usize).rev().find(|&p| idx[p] < b - m + p as u32) else {
            return out;
        };
        idx[pos] += 1;
        for p in pos + 1..m as usize {
            idx[p] = idx[p - 1] + 1;
        }
    }
}

/// The table key of `fp`: the bits of `pieces` concatenated, or hashed to
/// [`KEY_BITS_MAX`] bits when wider.
#[inline]
fn key<F: Fingerprint>(fp: &F, pieces: &[Seg], hashed: bool) -> u32 {
    if hashed {
        let mut h = 0u64;
        for &(lo, len) in pieces {
            h = (h.rotate_left(29) ^ fp.extract(lo, len)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        (h >> 32) as u32
    } else {
        let mut k = 0u64;
        for &(lo, len) in pieces {
            k = k << len | fp.extract(lo, len);
        }
        k as u32
    }
}

/// A table entry: `key << 32 | index`. The fingerprints of a run are fetched by index: runs
/// are short and rare next to the sorting, which moves 8 bytes per entry instead of 8 plus
/// the fingerprint.
type Entry = u64;

/// Groups entries by key in place: an in-place radix sort, most significant
/// [`RADIX_BITS`] of the `key_bits`-bit key first (cycles of swaps move each entry straight
/// into its bucket), each bucket then sorted on the next bits; buckets of at most
/// [`SMALL_RUN`] entries are sorted outright. Equal keys end up together (in an order that
/// depends only on the input). No scratch copy: a table costs 8 bytes per entry.
fn sort_entries(v: &mut [Entry], key_bits: u32) {
    if key_bits == 0 {
        return;
    }
    if v.len() <= SMALL_RUN {
        v.sort_unstable();
        return;
    }
    let digit_bits = key_bits.min(RADIX_BITS);
    let shift = 32 + key_bits - digit_bits;
    let mask = (1u64 << digit_bits) - 1;
    let digit = |e: Entry| (e >> shift & mask) as usize;
    let buckets = 1usize << digit_bits;
    let mut starts = [0usize; (1 << RADIX_BITS) + 1];
    for &e in v.iter() {
        starts[digit(e) + 1] += 1;
    }
    for b in 0..buckets {
        starts[b + 1] += starts[b];
    }
    let mut next = starts;
    for b in 0..buckets {
        while next[b] < starts[b + 1] {
            let mut e = v[next[b]];
            let mut d = digit(e);
            while d != b {
                std::mem::swap(&mut e, &mut v[next[d]]);
                next[d] += 1;
                d = digit(e);
            }
            v[next[b]] = e;
            next[b] += 1;
        }
    }
    for b in 0..buckets {
        sort_entries(&mut v[starts[b]..starts[b + 1]], key_bits - digit_bits);
    }
}

/// Whether a pair of colours (see [`Searcher::colors`]) joins a query and a reference.
#[inline(always)]
fn joins(cu: u8, cv: u8) -> bool {
    (cu & (cv >> 1) | (cu >> 1) & cv) & 1 == 1
}

/// Compares `a` with every value of `rest`, pushing `(at, at + 1 + j, d)` for `d <= k`.
/// With colours (`ca` for `a`, `crest` for `rest`), only query-reference pairs. Returns the
/// number of distances computed.
#[inline(always)]
fn compare_row_portable<F: Fingerprint>(
    a: &F,
    rest: &[F],
    colors: Option<(u8, &[u8])>,
    k: u32,
    at: u32,
    hits: &mut Vec<(u32, u32, u32)>,
) -> u64 {
    match colors {
        None => {
            for (j, b) in rest.iter().enumerate() {
                let d = a.distance(b);
                if d <= k {
                    hits.push((at, at + 1 + j as u32, d));
                }
            }
            rest.len() as u64
        }
        Some((ca, crest)) => {
            let mut n = 0;
            for (j, (b, &cb)) in rest.iter().zip(crest).enumerate() {
                if joins(ca, cb) {
                    n += 1;
                    let d = a.distance(b);
                    if d <= k {
                        hits.push((at, at + 1 + j as u32, d));
                    }
                }
            }
            n
        }
    }
}

/// [`compare_row_portable`] for every row of `vals`: all pairs `x < y` of positions.
#[inline(always)]
fn compare_all_portable<F: Fingerprint>(
    vals: &[F],
    colors: Option<&[u8]>,
    k: u32,
    hits: &mut Vec<(u32, u32, u32)>,
) -> u64 {
    let mut n = 0;
    for (x, a) in vals.iter().enumerate() {
        let c = colors.map(|c| (c[x], &c[x + 1..]));
        n += compare_row_portable(a, &vals[x + 1..], c, k, x as u32, hits);
    }
    n
}

/// The comparison loops compiled with the popcount instruction, which the baseline x86-64
/// target lacks (`count_ones` is otherwise a dozen instructions per word).
#[cfg(target_arch = "x86_64")]
mod popcnt {
    use super::*;

    #[target_feature(enable = "popcnt")]
    pub fn compare_all<F: Fingerprint>(
        vals: &[F],
        colors: Option<&[u8]>,
        k: u32,
        hits: &mut Vec<(u32, u32, u32)>,
    ) -> u64 {
        compare_all_portable(vals, colors, k, hits)
    }

    #[target_feature(enable = "popcnt")]
    pub fn distances<F: Fingerprint>(a: &F, all: &[F], out: &mut [u32]) {
        distances_portable(a, all, out);
    }

    #[target_feature(enable = "popcnt")]
    pub fn compare_row<F: Fingerprint>(
        a: &F,
        rest: &[F],
        colors: Option<(u8, &[u8])>,
        k: u32,
        at: u32,
        hits: &mut Vec<(u32, u32, u32)>,
    ) -> u64 {
        compare_row_portable(a, rest, colors, k, at, hits)
    }
}

/// `out[j] = a.distance(&all[j])`.
#[inline(always)]
fn distances_portable<F: Fingerprint>(a: &F, all: &[F], out: &mut [u32]) {
    for (o, b) in out.iter_mut().zip(all) {
        *o = a.distance(b);
    }
}

/// The distances from `a` to every value of `all` into `out` (same length), with the
/// popcount instruction when the CPU has it.
pub(crate) fn distances<F: Fingerprint>(a: &F, all: &[F], out: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if has_popcnt() {
        // SAFETY: the CPU supports popcnt.
        return unsafe { popcnt::distances(a, all, out) };
    }
    distances_portable(a, all, out);
}

/// Whether the CPU has the popcount instruction (checked once, then cached by std).
#[inline]
fn has_popcnt() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("popcnt")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Every pair of positions `x < y` of `vals` within `k` into `hits` (see
/// [`compare_row_portable`]); returns the distances computed.
fn compare_all<F: Fingerprint>(
    vals: &[F],
    colors: Option<&[u8]>,
    k: u32,
    hits: &mut Vec<(u32, u32, u32)>,
) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if has_popcnt() {
        // SAFETY: the CPU supports popcnt.
        return unsafe { popcnt::compare_all(vals, colors, k, hits) };
    }
    compare_all_portable(vals, colors, k, hits)
}

/// One brute-force row: `a` (at position `at`) against the values after it.
fn compare_row<F: Fingerprint>(
    a: &F,
    rest: &[F],
    colors: Option<(u8, &[u8])>,
    k: u32,
    at: u32,
    hits: &mut Vec<(u32, u32, u32)>,
) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if has_popcnt() {
        // SAFETY: the CPU supports popcnt.
        return unsafe { popcnt::compare_row(a, rest, colors, k, at, hits) };
    }
    compare_row_portable(a, rest, colors, k, at, hits)
}

/// The search over distinct values: finds pairs `(u, v)`, `u < v`, of value indexes.
struct Searcher<'a, F> {
    fps: &'a [F],
    /// For cross searches: bit 0 = the value occurs among the queries, bit 1 = among the
    /// reference. Only pairs with a query on one side and a reference on the other count.
    colors: Option<&'a [u8]>,
    k: u32,
    /// Split every heavy run that can be split, whatever the cost model says (tests).
    always_split: bool,
}

/// Reusable memory of one worker: the table being searched and the run being compared.
struct Buffers<F> {
    entries: Vec<Entry>,
    vals: Vec<F>,
    colors: Vec<u8>,
    hits: Vec<(u32, u32, u32)>,
}

impl<F> Default for Buffers<F> {
    fn default() -> Self {
        Buffers {
            entries: Vec::new(),
            vals: Vec::new(),
            colors: Vec::new(),
            hits: Vec::new(),
        }
    }
}

impl<F: Fingerprint> Searcher<'_, F> {
    /// Wanted pairs among `items` (for the cost model).
    fn wanted(&self, items: &[u32]) -> f64 {
        match self.colors {
            None => items.len() as f64 * (items.len() as f64 - 1.0) / 2.0,
            Some(c) => {
                let q = items.iter().filter(|&&u| c[u as usize] & 1 == 1).count() as f64;
                let r = items.iter().filter(|&&u| c[u as usize] & 2 == 2).count() as f64;
                q * r
            }
        }
    }

    /// The bits of `free` on which not all of `items` agree, as maximal segments.
    fn varying(&self, items: &[u32], free: &[Seg]) -> Vec<Seg> {
        let Some(&first) = items.first() else {
            return Vec::new();
        };
        let f0 = &self.fps[first as usize];
        let mut out = Vec::new();
        for &(lo, len) in free {
            let base = f0.extract(lo, len);
            let mut mask = items.iter().fold(0u64, |acc, &u| {
                acc | (self.fps[u as usize].extract(lo, len) ^ base)
            });
            while mask != 0 {
                let start = mask.trailing_zeros();
                let width = (!(mask >> start)).trailing_zeros().min(64 - start);
                out.push((lo + start, width));
                mask = if start + width >= 64 {
                    0
                } else {
                    mask & !(((1u64 << width) - 1) << start)
                };
            }
        }
        out
    }

    /// Every pair of `items` (ascending) within distance, if `accept` agrees, comparing the
    /// values in `buf.vals` (`buf.vals[x]` is the value of `items[x]`).
    fn brute(
        &self,
        items: &[u32],
        buf: &mut Buffers<F>,
        stats: &mut SearchStats,
        out: &mut Vec<Pair>,
        accept: impl Fn(&F, &F) -> bool,
    ) {
        let colors = self.colors.map(|c| {
            buf.colors.clear();
            buf.colors.extend(items.iter().map(|&u| c[u as usize]));
            &buf.colors[..]
        });
        buf.hits.clear();
        stats.candidates += compare_all(&buf.vals, colors, self.k, &mut buf.hits);
        for &(x, y, distance) in &buf.hits {
            let (x, y) = (x as usize, y as usize);
            if accept(&buf.vals[x], &buf.vals[y]) {
                out.push(Pair {
                    a: items[x],
                    b: items[y],
                    distance,
                });
            }
        }
    }

    /// Every pair of `items` (ascending) within distance whose bits outside `free` agree,
    /// at least (others may be reported too), each once. Sequential.
    fn search(&self, items: &[u32], free: &[Seg], stats: &mut SearchStats, out: &mut Vec<Pair>) {
        // Bits on which every item agrees cannot separate them: leave them out, so that
        // every key of the split separates the run and the recursion makes progress.
        let free = self.varying(items, free);
        let free_bits = free.iter().map(|s| s.1).sum();
        let wanted = self.wanted(items);
        let brute = !self.always_split;
        let mut buf = Buffers::default();
        match plan_with(items.len(), wanted, free_bits, self.k, F::BITS, brute) {
            Plan::Brute => {
                buf.vals.extend(items.iter().map(|&u| self.fps[u as usize]));
                self.brute(items, &mut buf, stats, out, |_, _| true);
            }
            Plan::Blocks(b) => {
                let layout = Layout {
                    blocks: split(&free, b),
                };
                for sel in combinations(b, b - self.k) {
                    stats.subtables += 1;
                    self.table(items, &layout, sel, &mut buf, stats, out);
                }
            }
        }
    }

    /// One table: sort `items` on the blocks of `sel`, then search every equal-key run,
    /// keeping the pairs this table is the first for.
    fn table(
        &self,
        items: &[u32],
        layout: &Layout,
        sel: u64,
        buf: &mut Buffers<F>,
        stats: &mut SearchStats,
        out: &mut Vec<Pair>,
    ) {
        stats.tables += 1;
        let pieces = layout.pieces(sel);
        let key_bits: u32 = pieces.iter().map(|s| s.1).sum();
        let hashed = key_bits > KEY_BITS_MAX;
        let key_bits = key_bits.min(KEY_BITS_MAX);
        let mut entries = std::mem::take(&mut buf.entries);
        entries.clear();
        entries.extend(
            items.iter().map(|&u| {
                u64::from(key(&self.fps[u as usize], &pieces, hashed)) << 32 | u64::from(u)
            }),
        );
        sort_entries(&mut entries, key_bits);

        let rest_bits = layout.width() - pieces.iter().map(|s| s.1).sum::<u32>();
        let accept = |a: &F, b: &F| Layout::first_agreeing(sel, layout.agreement(a, b));
        let mut run: Vec<u32> = Vec::new();
        let mut sub: Vec<Pair> = Vec::new();
        let mut start = 0;
        while start < entries.len() {
            let k = entries[start] >> 32;
            let mut end = start + 1;
            while end < entries.len() && entries[end] >> 32 == k {
                end += 1;
            }
            if end - start >= 2 {
                let entries = &entries[start..end];
                run.clear();
                run.extend(entries.iter().map(|&e| e as u32));
                // A heavy run is split on the remaining blocks when the cost model says
                // so; otherwise its entries are compared where they lie.
                let rest = (run.len() > SMALL_RUN
                    && (self.always_split
                        || plan(run.len(), self.wanted(&run), rest_bits, self.k, F::BITS)
                            != Plan::Brute))
                    .then(|| layout.rest(sel));
                match rest {
                    None => {
                        buf.vals.clear();
                        buf.vals.extend(run.iter().map(|&u| self.fps[u as usize]));
                        self.brute(&run, buf, stats, out, accept);
                    }
                    Some(rest) => {
                        // A heavy run: search it on the remaining blocks, then keep what
                        // this table reports.
                        sub.clear();
                        self.search(&run, &rest, stats, &mut sub);
                        out.extend(
                            sub.iter().filter(|p| {
                                accept(&self.fps[p.a as usize], &self.fps[p.b as usize])
                            }),
                        );
                    }
                }
            }
            start = end;
        }
        buf.entries = entries;
    }
}

/// Pairs `(u, v)`, `u < v`, of indexes into `fps` (distinct values) within `k`, each once,
/// sorted. With `colors`, only pairs of a query value and a reference value (see
/// [`Searcher`]). `blocks` forces the top-level block count (`<= k` forces brute force).
fn value_pairs<F: Fingerprint>(
    searcher: &Searcher<F>,
    blocks: Option<u32>,
    progress: &dyn Progress,
) -> (Vec<Pair>, SearchStats) {
    let (fps, k) = (searcher.fps, searcher.k);
    let items: Vec<u32> = (0..fps.len() as u32).collect();
    let mut stats = SearchStats::default();
    let bits = F::BITS.min(MAX_BLOCKS);
    let chosen = match blocks {
        Some(b) if b <= k || k >= bits => Plan::Brute,
        Some(b) => Plan::Blocks(b.min(bits)),
        None => plan(fps.len(), searcher.wanted(&items), F::BITS, k, F::BITS),
    };
    let mut pairs: Vec<Pair> = match chosen {
        Plan::Brute => {
            progress.start("exact search (brute force)", fps.len() as u64, "rows");
            let rows: Vec<(Vec<Pair>, SearchStats)> = (0..fps.len())
                .into_par_iter()
                .with_max_len(64)
                .map(|x| {
                    let mut st = SearchStats::default();
                    let mut hits = Vec::new();
                    let colors = searcher.colors.map(|c| (c[x], &c[x + 1..]));
                    st.candidates = compare_row(&fps[x], &fps[x + 1..], colors, k, 0, &mut hits);
                    let out: Vec<Pair> = hits
                        .iter()
                        .map(|&(_, y, d)| Pair::new(x as u32, x as u32 + y, d))
                        .collect();
                    progress.inc(1);
                    (out, st)
                })
                .collect();
            rows.into_iter()
                .flat_map(|(out, st)| {
                    stats.add(&st);
                    out
                })
                .collect()
        }
        Plan::Blocks(b) => {
            stats.blocks = b;
            let layout = Layout {
                blocks: split(&[(0, F::BITS)], b),
            };
            let tables = combinations(b, b - k);
            progress.start("exact search", tables.len() as u64, "tables");
            let found: Vec<(Vec<Pair>, SearchStats)> = tables
                .par_iter()
                .with_max_len(1)
                .map_init(Buffers::default, |buf, &sel| {
                    let mut st = SearchStats::default();
                    let mut out = Vec::new();
                    searcher.table(&items, &layout, sel, buf, &mut st, &mut out);
                    progress.inc(1);
                    (out, st)
                })
                .collect();
            found
                .into_iter()
                .flat_map(|(out, st)| {
                    stats.add(&st);
                    out
                })
                .collect()
        }
    };
    progress.finish();
    pairs.par_sort_unstable();
    stats.unique = fps.len() as u64;
    stats.unique_pairs = pairs.len() as u64;
    (pairs, stats)
}

/// Every pair of `fps` within `k`, sorted by `(a, b)`, each once, with what the search did.
/// Identical fingerprints are grouped first; the search runs on distinct values and every
/// pair of inputs behind a found pair of values (or behind one value) is reported.
/// `blocks` forces the top-level block count (`<= k` forces brute force).
///
/// Memory beyond the input, per fingerprint: a 4-byte index while grouping, kept as the
/// member list (with repeated values, also a copy of the distinct values and 4 bytes per
/// value), a 4-byte item list, and per worker thread one table, 8 bytes per distinct value
/// (sorted in place); plus the output. For two threads: 24 bytes per fingerprint at the
/// peak, whatever the width, when all values are distinct.
pub fn search<F: Fingerprint>(
    fps: &[F],
    k: u32,
    blocks: Option<u32>,
    progress: &dyn Progress,
) -> (Vec<Pair>, SearchStats) {
    search_with(fps, k, blocks, false, progress)
}

/// [`search`], with every heavy run split when `always_split` (for tests).
fn search_with<F: Fingerprint>(
    fps: &[F],
    k: u32,
    blocks: Option<u32>,
    always_split: bool,
    progress: &dyn Progress,
) -> (Vec<Pair>, SearchStats) {
    let groups = Groups::new(fps);
    let searcher = Searcher {
        fps: &groups.values,
        colors: None,
        k,
        always_split,
    };
    let (values, mut stats) = value_pairs(&searcher, blocks, progress);
    let mut pairs = Vec::new();
    for u in 0..groups.values.len() as u32 {
        let m = groups.members(u);
        for (x, &a) in m.iter().enumerate() {
            pairs.extend(m[x + 1..].iter().map(|&b| Pair::new(a, b, 0)));
        }
    }
    for p in &values {
        for &a in groups.members(p.a) {
            pairs.extend(
                groups
                    .members(p.b)
                    .iter()
                    .map(|&b| Pair::new(a, b, p.distance)),
            );
        }
    }
    pairs.par_sort_unstable();
    stats.fingerprints = fps.len() as u64;
    stats.pairs = pairs.len() as u64;
    (pairs, stats)
}

/// Every `(query, reference)` pair within `k`, sorted, each once, with what the search did:
/// one block search over both sets, counting only pairs with one side from each.
pub fn cross_search<F: Fingerprint>(
    queries: &[F],
    reference: &[F],
    k: u32,
    blocks: Option<u32>,
    progress: &dyn Progress,
) -> (Vec<CrossPair>, SearchStats) {
    // When brute force is the plan, compare each query with the reference set directly:
    // nq * nr distances, where the coloured search over the union would visit all
    // (nq + nr)^2 / 2 pairs of values to find the query-reference ones.
    let wanted = queries.len() as f64 * reference.len() as f64;
    let brute = match blocks {
        Some(b) => b <= k || k >= F::BITS.min(MAX_BLOCKS),
        None => {
            let n = queries.len() + reference.len();
            plan(n, wanted, F::BITS, k, F::BITS) == Plan::Brute
        }
    };
    if brute {
        return cross_brute(queries, reference, k, progress);
    }
    let nq = queries.len() as u32;
    let all: Vec<F> = queries.iter().chain(reference).copied().collect();
    let groups = Groups::new(&all);
    // Members are ascending, so each group lists its queries, then its reference items.
    let split_at = |u: u32| {
        let m = groups.members(u);
        m.split_at(m.partition_point(|&i| i < nq))
    };
    let colors: Vec<u8> = (0..groups.values.len() as u32)
        .map(|u| {
            let (q, r) = split_at(u);
            u8::from(!q.is_empty()) | u8::from(!r.is_empty()) << 1
        })
        .collect();
    let searcher = Searcher {
        fps: &groups.values,
        colors: Some(&colors),
        k,
        always_split: false,
    };
    let (values, mut stats) = value_pairs(&searcher, blocks, progress);
    let mut pairs = Vec::new();
    let mut cross = |qs: &[u32], rs: &[u32], distance: u32| {
        for &q in qs {
            pairs.extend(rs.iter().map(|&r| CrossPair {
                query: q,
                reference: r - nq,
                distance,
            }));
        }
    };
    for u in 0..groups.values.len() as u32 {
        let (q, r) = split_at(u);
        cross(q, r, 0);
    }
    for p in &values {
        let ((qa, ra), (qb, rb)) = (split_at(p.a), split_at(p.b));
        cross(qa, rb, p.distance);
        cross(qb, ra, p.distance);
    }
    pairs.par_sort_unstable();
    stats.fingerprints = u64::from(nq) + reference.len() as u64;
    stats.pairs = pairs.len() as u64;
    (pairs, stats)
}

/// [`cross_search`] by brute force: every query against every reference fingerprint.
fn cross_brute<F: Fingerprint>(
    queries: &[F],
    reference: &[F],
    k: u32,
    progress: &dyn Progress,
) -> (Vec<CrossPair>, SearchStats) {
    progress.start("exact search (brute force)", queries.len() as u64, "rows");
    let rows: Vec<(Vec<CrossPair>, u64)> = queries
        .par_iter()
        .enumerate()
        .with_max_len(16)
        .map(|(q, a)| {
            let mut hits = Vec::new();
            // Positions in `reference` come back numbered from 1 (`at + 1 + j`, `at = 0`).
            let compared = compare_row(a, reference, None, k, 0, &mut hits);
            let found = hits
                .iter()
                .map(|&(_, j, distance)| CrossPair {
                    query: q as u32,
                    reference: j - 1,
                    distance,
                })
                .collect();
            progress.inc(1);
            (found, compared)
        })
        .collect();
    progress.finish();
    let mut stats = SearchStats {
        fingerprints: (queries.len() + reference.len()) as u64,
        unique: (queries.len() + reference.len()) as u64,
        ..SearchStats::default()
    };
    let mut pairs = Vec::new();
    for (found, compared) in rows {
        stats.candidates += compared;
        pairs.extend(found);
    }
    stats.unique_pairs = pairs.len() as u64;
    stats.pairs = pairs.len() as u64;
    (pairs, stats)
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::Bits256;
    use crate::search::brute;
    use crate::search::synth::{SplitMix64, flip, toggle, uniform};

    /// A hard test set of about `n` fingerprints: uniform ones, partners planted at every
    /// distance `0..=k + 1`, groups of identical values, a dense cluster varying in 10 bits,
    /// and a quarter sharing all but their 12 low bits.
    pub(crate) fn dataset<F: Fingerprint>(seed: u64, n: usize, k: u32) -> Vec<F> {
        let mut rng = SplitMix64::new(seed);
        let mut fps: Vec<F> = (0..n / 4 + 1).map(|_| uniform(&mut rng)).collect();
        for d in 0..=(k + 1).min(F::BITS) {
            for _ in 0..2 {
                let base = fps[rng.below(fps.len() as u64) as usize];
                fps.push(flip(base, d, &mut rng));
            }
        }
        for _ in 0..3 {
            let base = fps[rng.below(fps.len() as u64) as usize];
            for _ in 0..2 + rng.below(6) {
                fps.push(base);
            }
        }
        let center: F = uniform(&mut rng);
        let varying: Vec<u32> = (0..10)
            .map(|_| rng.below(u64::from(F::BITS)) as u32)
            .collect();
        for _ in 0..n / 4 {
            let mut fp = center;
            for &i in &varying {
                if rng.next_u64() & 1 == 1 {
                    fp = toggle(fp, i);
                }
            }
            fps.push(fp);
        }
        let constant: F = uniform(&mut rng);
        for _ in 0..n / 4 {
            let mut fp = constant;
            for i in 0..12 {
                if rng.next_u64() & 1 == 1 {
                    fp = toggle(fp, i);
                }
            }
            fps.push(fp);
        }
        for i in (1..fps.len()).rev() {
            fps.swap(i, rng.below(i as u64 + 1) as usize);
        }
        fps
    }

    /// `search` (with heavy runs always split, or as the cost model says) equals brute force.
    fn check_exact<F: Fingerprint>(seed: u64, n: usize, k: u32, blocks: Option<u32>, split: bool) {
        let fps: Vec<F> = dataset(seed, n, k);
        let (got, stats) = search_with(&fps, k, blocks, split, &());
        let want = brute::search(&fps, k, &());
        assert_eq!(got, want, "k={k} blocks={blocks:?} split={split}");
        assert_eq!(stats.pairs, want.len() as u64);
    }

    /// `cross_search` equals brute force over every (query, reference) pair.
    fn check_cross<F: Fingerprint>(seed: u64, n: usize, k: u32, blocks: Option<u32>) {
        let fps: Vec<F> = dataset(seed, n, k);
        let (queries, reference) = fps.split_at(fps.len() / 3);
        let (got, _) = cross_search(queries, reference, k, blocks, &());
        let mut want = Vec::new();
        for (q, fq) in queries.iter().enumerate() {
            for (r, fr) in reference.iter().enumerate() {
                let distance = fq.distance(fr);
                if distance <= k {
                    want.push(CrossPair {
                        query: q as u32,
                        reference: r as u32,
                        distance,
                    });
                }
            }
        }
        assert_eq!(got, want, "k={k} blocks={blocks:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn exact_u32(seed: u64, k in 0u32..7, extra in proptest::option::of(0u32..5), split: bool) {
            check_exact::<u32>(seed, 120, k, extra.map(|e| k + e), split);
        }

        #[test]
        fn exact_u64(seed: u64, k in 0u32..9, extra in proptest::option::of(0u32..5), split: bool) {
            check_exact::<u64>(seed, 120, k, extra.map(|e| k + e), split);
        }

        #[test]
        fn exact_u128(seed: u64, k in 0u32..13, extra in proptest::option::of(0u32..4), split: bool) {
            check_exact::<u128>(seed, 100, k, extra.map(|e| k + e), split);
        }

        #[test]
        fn exact_256(seed: u64, k in 0u32..11, extra in proptest::option::of(0u32..4), split: bool) {
            check_exact::<Bits256>(seed, 80, k, extra.map(|e| k + e), split);
        }

        #[test]
        fn cross_u64(seed: u64, k in 0u32..9, extra in proptest::option::of(0u32..5)) {
            check_cross::<u64>(seed, 120, k, extra.map(|e| k + e));
        }

        #[test]
        fn cross_256(seed: u64, k in 0u32..11, extra in proptest::option::of(0u32..4)) {
            check_cross::<Bits256>(seed, 100, k, extra.map(|e| k + e));
        }
    }

    #[test]
    fn heavy_runs_are_split() {
        let fps: Vec<u64> = dataset(11, 200, 4);
        let (got, stats) = search_with(&fps, 4, Some(6), true, &());
        assert_eq!(got, brute::search(&fps, 4, &()));
        assert!(stats.subtables > 0, "{stats:?}");
    }

    /// Skewed input: half of 20k items are copies of a few values, the other half share
    /// 44 constant bits, so three of the four top-level tables hold one run of 10^4 values.
    /// Comparing inside that run would cost 5 * 10^7 candidates per table; sub-tables keep
    /// leaf runs to a few dozen values, so candidates stay linear in the distinct values
    /// (a bounded number per value and table) plus a small factor of the pairs found.
    #[test]
    fn skewed_input_stays_near_linear_in_output() {
        let mut rng = SplitMix64::new(42);
        let mut fps: Vec<u64> = Vec::new();
        let one: u64 = uniform(&mut rng);
        fps.extend(std::iter::repeat_n(one, 500));
        for _ in 0..950 {
            let v: u64 = uniform(&mut rng);
            fps.extend(std::iter::repeat_n(v, 10));
        }
        let constant = uniform::<u64>(&mut rng) & !0xf_ffff;
        fps.extend((0..10_000).map(|_| constant | rng.next_u64() & 0xf_ffff));
        let k = 3;
        let (pairs, stats) = search(&fps, k, None, &());
        eprintln!("{stats:?}");
        assert_eq!(stats.pairs, pairs.len() as u64);
        let bound = 500 * stats.unique + 10 * stats.unique_pairs;
        assert!(stats.candidates <= bound, "{stats:?}");
        // Spot-check against brute force on a slice of the input.
        let part = &fps[9_000..11_000];
        assert_eq!(search(part, k, None, &()).0, brute::search(part, k, &()));
    }

    #[test]
    fn same_output_for_any_thread_count() {
        let fps: Vec<u64> = dataset(9, 800, 5);
        let with = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let (pairs, stats) = search(&fps, 5, Some(7), &());
                let (cross, _) = cross_search(&fps[..500], &fps[500..], 5, None, &());
                (pairs, stats, cross)
            })
        };
        assert_eq!(with(1), with(2));
    }

    #[test]
    fn degenerate_inputs() {
        let none: Vec<u64> = Vec::new();
        assert!(search(&none, 3, None, &()).0.is_empty());
        assert!(search(&[5u64], 3, None, &()).0.is_empty());
        assert_eq!(search(&[5u64, 5], 0, None, &()).0, vec![Pair::new(0, 1, 0)]);
        // A distance covering every bit: every pair, whatever the block count asked for.
        let fps: Vec<u32> = dataset(3, 40, 32);
        for blocks in [None, Some(8), Some(64)] {
            assert_eq!(
                search(&fps, 32, blocks, &()).0,
                brute::search(&fps, 32, &())
            );
        }
    }

    #[test]
    fn combinations_are_lexicographic() {
        assert_eq!(
            combinations(4, 2),
            vec![0b11, 0b101, 0b1001, 0b110, 0b1010, 0b1100]
        );
        assert_eq!(combinations(3, 3), vec![0b111]);
        assert_eq!(combinations(5, 1).len(), 5);
        assert_eq!(combinations(10, 3).len(), 120);
    }

    #[test]
    fn split_is_even_and_covers() {
        let blocks = split(&[(0, 64)], 5);
        let widths: Vec<u32> = blocks.iter().map(|b| b.iter().map(|s| s.1).sum()).collect();
        assert_eq!(widths, vec![13, 13, 13, 13, 12]);
        let blocks = split(&[(0, 256)], 3);
        assert_eq!(blocks[0], vec![(0, 64), (64, 22)]);
        let blocks = split(&[(0, 4), (10, 4)], 3);
        assert_eq!(
            blocks,
            vec![vec![(0, 3)], vec![(3, 1), (10, 2)], vec![(12, 2)]]
        );
    }

    #[test]
    fn exactly_one_table_reports_each_agreement() {
        // For every agreement set with at least m blocks, exactly one m-subset reports it.
        let (b, m) = (6, 3);
        let tables = combinations(b, m);
        for agree in 0u64..1 << b {
            let n = tables
                .iter()
                .filter(|&&sel| Layout::first_agreeing(sel, agree))
                .count();
            assert_eq!(n, usize::from(agree.count_ones() >= m), "agree={agree:b}");
        }
    }

    #[test]
    fn entries_group_by_key() {
        let mut x = 0x1234_5678_u64;
        let mut v: Vec<Entry> = (0..5000u64)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 50) << 32 | i
            })
            .collect();
        let mut expect = v.clone();
        expect.sort_unstable();
        sort_entries(&mut v, 14);
        // Keys in order, each key's entries together (the same ones).
        assert!(v.windows(2).all(|w| w[0] >> 32 <= w[1] >> 32));
        let mut by_key = v.clone();
        by_key.sort_unstable();
        assert_eq!(by_key, expect);
        let mut small = expect[..40].to_vec();
        small.reverse();
        sort_entries(&mut small, 14);
        assert_eq!(small, expect[..40]);
    }

    #[test]
    fn plan_prefers_brute_for_tiny_sets() {
        assert_eq!(plan(10, 45.0, 64, 3, 64), Plan::Brute);
        assert!(matches!(plan(1_000_000, 5e11, 64, 3, 64), Plan::Blocks(_)));
        // No split exists when the distance covers every bit.
        assert_eq!(plan(1_000_000, 5e11, 8, 8, 64), Plan::Brute);
    }
}
