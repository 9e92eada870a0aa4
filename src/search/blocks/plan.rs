//! The cost model that chooses a search: brute force, or block tables and how many blocks,
//! from the item count, the expected pairs and the free bits.

use super::*;

/// Cost model constants, in nanoseconds on one core of the 2-core development machine
/// (under load from other jobs), fitted to `examples/search_bench.rs` runs with forced
/// block counts: 1M 64-bit fingerprints, k = 8, b = 10, 11 and 12 (see [`plan`]).
pub(super) mod cost {
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

/// How to search a set of values: compare every pair, or build tables on `b` blocks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Plan {
    Brute,
    Blocks(u32),
}

/// `n choose r` as a float (exact up to 2^53).
pub(super) fn binomial(n: u32, r: u32) -> f64 {
    let r = r.min(n - r);
    (0..r).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

/// Estimated cost in nanoseconds of comparing every one of `pairs` pairs.
pub(super) fn brute_cost(pairs: f64, words: f64) -> f64 {
    pairs * cost::PAIR * words
}

/// Estimated cost in nanoseconds of `b` blocks over `free_bits` bits, for `n` values of
/// which `pairs` pairs are wanted: per table, building and radix-sorting `n` keys, plus
/// `pairs * 2^-keybits` candidates (uniform values assumed; skew is handled by sub-tables),
/// plus fetching the fingerprints of the entries in runs.
/// `None` when the split is impossible or has too many tables.
pub(super) fn blocks_cost(
    n: f64,
    pairs: f64,
    free_bits: u32,
    k: u32,
    b: u32,
    words: f64,
) -> Option<f64> {
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
pub(super) fn plan_with(
    n: usize,
    pairs: f64,
    free_bits: u32,
    k: u32,
    bits: u32,
    brute: bool,
) -> Plan {
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
