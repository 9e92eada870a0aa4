//! The comparison loops: distances from one fingerprint to a run of others, portable and
//! compiled with the popcount instruction where the CPU has it.

use super::*;

/// Whether a pair of colours (see [`Searcher::colors`]) joins a query and a reference.
#[inline(always)]
pub(super) fn joins(cu: u8, cv: u8) -> bool {
    (cu & (cv >> 1) | (cu >> 1) & cv) & 1 == 1
}

/// Compares `a` with every value of `rest`, pushing `(at, at + 1 + j, d)` for `d <= k`.
/// With colours (`ca` for `a`, `crest` for `rest`), only query-reference pairs. Returns the
/// number of distances computed.
#[inline(always)]
pub(super) fn compare_row_portable<F: Fingerprint>(
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
pub(super) fn compare_all_portable<F: Fingerprint>(
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
pub(super) mod popcnt {
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
pub(super) fn distances_portable<F: Fingerprint>(a: &F, all: &[F], out: &mut [u32]) {
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
pub(super) fn has_popcnt() -> bool {
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
pub(super) fn compare_all<F: Fingerprint>(
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
pub(super) fn compare_row<F: Fingerprint>(
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
