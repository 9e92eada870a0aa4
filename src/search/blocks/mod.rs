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

mod plan;
mod compare;

pub(crate) use compare::*;
pub(crate) use plan::*;

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
pub(crate) mod tests;
