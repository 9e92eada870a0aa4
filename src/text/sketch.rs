//! The similarity sketch that verification compares before it reads two documents again:
//! 128 one-byte slots of one-permutation MinHash and the count of distinct shingles, built
//! in the fingerprinting pass from the same 64-bit shingle hashes as the band keys.
//!
//! A slot keeps the byte of its smallest hash, 0 when no hash fell in it (empty slots are
//! marked, not densified). That makes the count of matching slots exactly hypergeometric:
//! of the `m` slots filled in either document, each holds the smallest element of the union
//! that falls in it, and those `m` elements are a uniform sample of the union without
//! replacement, so the matches (slots whose smallest union element is shared) count the
//! shared elements of a sample of `m` of the union's `|A ∪ B|`. [`SketchFilter`] rejects a
//! pair only when a pair at the bar would show so few matches with probability at most
//! `miss` (exact hypergeometric tail when both distinct counts are known, a Chernoff bound
//! otherwise), for any set sizes. A byte that matches by chance only adds matches, so it can
//! cost filtering power but never recall.
//!
//! The slots use the low 32 bits of each hash (slot and order), the band keys its high bits
//! ([`crate::text::minhash`]), so whether a pair became a candidate says nothing about its
//! sketch (up to ties in 32 bits).

/// Slots in a sketch (one byte each).
pub const SLOTS: usize = 128;

/// Distinct shingles counted exactly per document; a larger document's count is
/// [`UNCOUNTED`] (its pairs get the Chernoff bound, which is tight when sets are large).
const DISTINCT_CAP: usize = 4096;

/// The distinct count of a document with more than [`DISTINCT_CAP`] distinct shingles.
pub const UNCOUNTED: u32 = u32::MAX;

/// The default share of pairs at the bar the sketch may reject: a hundredth of the band
/// search's default miss budget (1%).
pub const MISS: f64 = 1e-4;

/// Builds the sketch of one document at a time from its shingle hashes (well-mixed 64-bit
/// values, repeats allowed). Reuse one per thread: [`SlotSketcher::finish`] resets it.
#[derive(Clone, Debug)]
pub struct SlotSketcher {
    /// Per slot, the smallest `hash.rotate_left(32)` (`u64::MAX`: empty).
    mins: Vec<u64>,
    /// Hashes seen, deduplicated now and then; cleared and abandoned past the cap.
    distinct: Vec<u64>,
    overflow: bool,
}

impl Default for SlotSketcher {
    fn default() -> Self {
        SlotSketcher::new()
    }
}

impl SlotSketcher {
    pub fn new() -> SlotSketcher {
        SlotSketcher {
            mins: vec![u64::MAX; SLOTS],
            distinct: Vec::new(),
            overflow: false,
        }
    }

    /// Adds one shingle hash.
    #[inline]
    pub fn add(&mut self, hash: u64) {
        // The low 32 bits choose the slot (their top 7) and order it.
        let key = hash.rotate_left(32);
        let slot = (key >> (64 - SLOTS.trailing_zeros())) as usize;
        let min = &mut self.mins[slot];
        *min = (*min).min(key);
        if !self.overflow {
            self.distinct.push(hash);
            if self.distinct.len() >= 2 * DISTINCT_CAP {
                self.compact();
            }
        }
    }

    fn compact(&mut self) {
        self.distinct.sort_unstable();
        self.distinct.dedup();
        if self.distinct.len() > DISTINCT_CAP {
            self.overflow = true;
            self.distinct = Vec::new();
        }
    }

    /// Writes the document's slots to `out` ([`SLOTS`] bytes) and returns its count of
    /// distinct hashes ([`UNCOUNTED`] above the cap); resets for the next document.
    pub fn finish(&mut self, out: &mut [u8]) -> u32 {
        debug_assert_eq!(out.len(), SLOTS);
        for (o, &min) in out.iter_mut().zip(&self.mins) {
            // The byte is bits 0-7 of the hash (the low end of the order, near uniform);
            // 0 marks an empty slot, so a filled slot's byte is 1-255.
            *o = if min == u64::MAX {
                0
            } else {
                ((min >> 32) as u8).max(1)
            };
        }
        let count = if self.overflow {
            UNCOUNTED
        } else {
            self.compact();
            if self.overflow {
                UNCOUNTED
            } else {
                self.distinct.len() as u32
            }
        };
        self.clear();
        count
    }

    /// Forgets the hashes added since the last finish.
    pub fn clear(&mut self) {
        self.mins.fill(u64::MAX);
        self.distinct.clear();
        self.overflow = false;
    }
}

/// One document's sketch, borrowed from [`Sketches`].
#[derive(Clone, Copy, Debug)]
pub struct Sketch<'a> {
    /// [`SLOTS`] bytes, 0 = empty slot.
    pub slots: &'a [u8],
    /// Distinct shingles, or [`UNCOUNTED`].
    pub distinct: u32,
}

/// The sketches of many documents: [`SLOTS`] + 4 bytes each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sketches {
    slots: Vec<u8>,
    distinct: Vec<u32>,
}

impl Sketches {
    pub fn new() -> Sketches {
        Sketches::default()
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.distinct.len()
    }

    pub fn is_empty(&self) -> bool {
        self.distinct.is_empty()
    }

    /// Appends one document's sketch.
    pub fn push(&mut self, slots: &[u8], distinct: u32) {
        assert_eq!(slots.len(), SLOTS, "one byte per slot");
        self.slots.extend_from_slice(slots);
        self.distinct.push(distinct);
    }

    /// Reserves room for `n` more documents.
    pub fn reserve(&mut self, n: usize) {
        self.slots.reserve(n * SLOTS);
        self.distinct.reserve(n);
    }

    pub fn shrink_to_fit(&mut self) {
        self.slots.shrink_to_fit();
        self.distinct.shrink_to_fit();
    }

    /// The sketch of document `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Sketch<'_> {
        Sketch {
            slots: &self.slots[i * SLOTS..(i + 1) * SLOTS],
            distinct: self.distinct[i],
        }
    }
}

/// Slots filled in either sketch, and slots filled in both with the same byte.
#[inline]
pub fn slot_counts(a: &[u8], b: &[u8]) -> (u32, u32) {
    let (mut union, mut matches) = (0u32, 0u32);
    // Byte lanes, so that the loop vectorises.
    for (&x, &y) in a.iter().zip(b) {
        union += u32::from(x | y != 0);
        matches += u32::from(x == y && x != 0);
    }
    (union, matches)
}

/// Rejects candidate pairs whose sketches show, with error at most `miss`, that they are
/// below the bar.
#[derive(Clone, Copy, Debug)]
pub struct SketchFilter {
    bar: f64,
    miss: f64,
}

impl SketchFilter {
    /// A filter for Jaccard similarity `bar` that rejects at most a share `miss` of the
    /// pairs at the bar (fewer above it).
    pub fn new(bar: f64, miss: f64) -> SketchFilter {
        SketchFilter { bar, miss }
    }

    /// Whether a pair with these sketches may reach the bar: `false` only when a pair at
    /// the bar shows as few matching slots with probability at most `miss`.
    pub fn may_reach(&self, a: Sketch, b: Sketch) -> bool {
        let (m, matches) = slot_counts(a.slots, b.slots);
        self.tail(m, matches, a.distinct, b.distinct) > self.miss
    }

    /// The probability (or a bound on it) that a pair at the bar with distinct counts `da`,
    /// `db` shows at most `matches` matching slots of `m` filled; a pair above the bar
    /// shows fewer with at most this probability.
    pub fn tail(&self, m: u32, matches: u32, da: u32, db: u32) -> f64 {
        if m == 0 || self.bar <= 0.0 {
            return 1.0;
        }
        if da != UNCOUNTED
            && db != UNCOUNTED
            && let Some(p) = hypergeometric_tail(self.bar, m, matches, da, db)
        {
            return p;
        }
        chernoff_tail(self.bar, m, matches)
    }
}

/// `ln i!` for `i` in `0..=2 * DISTINCT_CAP` (the largest union of two counted sets), summed
/// once: the hypergeometric tail takes three per candidate.
fn ln_factorials() -> &'static [f64] {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut f = Vec::with_capacity(2 * DISTINCT_CAP + 1);
        let mut sum = 0.0;
        f.push(0.0);
        for i in 1..=2 * DISTINCT_CAP {
            sum += (i as f64).ln();
            f.push(sum);
        }
        f
    })
}

/// `P(X <= matches)` for the matching slots X of a pair at Jaccard `bar` with `da` and `db`
/// distinct shingles and `m` filled slots: X is hypergeometric, `m` drawn from the union of
/// `N = da + db - K` elements of which `K` are shared, `K = ⌈bar (da + db) / (1 + bar)⌉`
/// (the fewest shared elements at or above the bar; more shared elements only make X
/// larger). `None` when `m` exceeds `N` (hash collisions made the counts disagree).
fn hypergeometric_tail(bar: f64, m: u32, matches: u32, da: u32, db: u32) -> Option<f64> {
    let s = f64::from(da) + f64::from(db);
    let k = (bar * s / (1.0 + bar) - 1e-9).ceil().max(0.0);
    let n = s - k;
    let (m, x) = (f64::from(m), f64::from(matches));
    if m > n || k > n {
        return None;
    }
    // Fewest matches possible at the bar: every element outside the intersection drawn.
    let lowest = (m - (n - k)).max(0.0);
    if x < lowest {
        return Some(0.0);
    }
    if x >= m * k / n {
        return Some(1.0);
    }
    let ln_choose = |a: f64, b: f64| -> f64 {
        // ln C(a, b) from a table of ln i! (a is at most twice DISTINCT_CAP).
        let f = ln_factorials();
        f[a as usize] - f[b as usize] - f[(a - b) as usize]
    };
    let mut p = (ln_choose(k, x) + ln_choose(n - k, m - x) - ln_choose(n, m)).exp();
    let mut sum = p;
    // pmf(x - 1) = pmf(x) * x (N - K - m + x) / ((K - x + 1) (m - x + 1)).
    let mut i = x;
    while i > lowest && p > 0.0 {
        p *= i * (n - k - m + i) / ((k - i + 1.0) * (m - i + 1.0));
        sum += p;
        i -= 1.0;
    }
    Some(sum.min(1.0))
}

/// Chernoff's bound `exp(-m D(x/m || bar))` on `P(X <= matches)` for X a sample of `m`
/// drawn without replacement (or with) at success rate `bar`: Hoeffding (1963) shows the
/// bound for the binomial also holds for sampling without replacement.
fn chernoff_tail(bar: f64, m: u32, matches: u32) -> f64 {
    let q = f64::from(matches) / f64::from(m);
    if q >= bar {
        return 1.0;
    }
    let term = |a: f64, b: f64| if a == 0.0 { 0.0 } else { a * (a / b).ln() };
    let divergence = term(q, bar) + term(1.0 - q, 1.0 - bar);
    (-f64::from(m) * divergence).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::minhash::mix64;

    fn sketch_of(set: &[u64]) -> (Vec<u8>, u32) {
        let mut s = SlotSketcher::new();
        for &h in set {
            s.add(mix64(h));
            s.add(mix64(h)); // repeats change nothing
        }
        let mut out = vec![0; SLOTS];
        let d = s.finish(&mut out);
        (out, d)
    }

    /// Exact lower tail of the hypergeometric by direct sums of binomial coefficients.
    fn direct_tail(n: u64, k: u64, m: u64, x: u64) -> f64 {
        fn choose(a: u64, b: u64) -> f64 {
            if b > a {
                return 0.0;
            }
            (0..b).map(|i| (a - i) as f64 / (b - i) as f64).product()
        }
        (0..=x)
            .map(|i| choose(k, i) * choose(n - k, m.saturating_sub(i)) * f64::from(i <= m))
            .sum::<f64>()
            / choose(n, m)
    }

    #[test]
    fn the_hypergeometric_tail_matches_direct_sums() {
        // da = db = 30 at bar 0.5: K = 20, N = 40.
        for m in [5u32, 17, 30, 40] {
            for x in 0..=m {
                let got = hypergeometric_tail(0.5, m, x, 30, 30).unwrap();
                let want = if f64::from(x) >= f64::from(m) * 20.0 / 40.0 {
                    1.0
                } else {
                    direct_tail(40, 20, u64::from(m), u64::from(x))
                };
                assert!(
                    (got - want).abs() < 1e-9 * want.max(1e-300),
                    "m {m} x {x}: {got} {want}"
                );
            }
        }
        // More filled slots than union elements: the counts disagree, no answer.
        assert_eq!(hypergeometric_tail(0.5, 41, 3, 30, 30), None);
    }

    #[test]
    fn counts_and_identity() {
        let set: Vec<u64> = (0..50).collect();
        let (a, da) = sketch_of(&set);
        assert_eq!(da, 50);
        let (m, x) = slot_counts(&a, &a);
        assert_eq!(m, x);
        assert!(m > 30 && m <= 50, "{m}");
        let f = SketchFilter::new(0.9, MISS);
        let s = Sketch {
            slots: &a,
            distinct: da,
        };
        assert!(f.may_reach(s, s));
        // A disjoint set of the same size: far below the bar, rejected.
        let other: Vec<u64> = (1000..1050).collect();
        let (b, db) = sketch_of(&other);
        let t = Sketch {
            slots: &b,
            distinct: db,
        };
        assert!(!SketchFilter::new(0.5, MISS).may_reach(s, t));
        // Past the cap the count is unknown and the Chernoff bound decides.
        let big: Vec<u64> = (0..(DISTINCT_CAP as u64 + 1)).collect();
        assert_eq!(sketch_of(&big).1, UNCOUNTED);
        assert_eq!(sketch_of(&big[..DISTINCT_CAP]).1, DISTINCT_CAP as u32);
    }

    /// Two sets of sizes `na`, `nb` (distinct values) sharing `shared`, from `seed`.
    fn pair(na: u64, nb: u64, shared: u64, seed: u64) -> (Vec<u64>, Vec<u64>) {
        let base = mix64(seed) & !((1 << 34) - 1);
        let a: Vec<u64> = (0..na).map(|i| base + i).collect();
        let b: Vec<u64> = (0..shared)
            .map(|i| base + i)
            .chain((0..nb - shared).map(|i| base + (1 << 33) + i))
            .collect();
        (a, b)
    }

    /// The shared count that puts two sets of sizes `na`, `nb` at the least Jaccard at or
    /// above `bar`.
    fn shared_at(na: u64, nb: u64, bar: f64) -> u64 {
        let s = (na + nb) as f64;
        let k = (bar * s / (1.0 + bar) - 1e-9).ceil() as u64;
        k.min(na.min(nb))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// A pair at or above the bar is rejected by a filter at miss 0.05 no more often
        /// than 5% (plus four binomial standard errors over 400 pairs), across set sizes
        /// from 1 to 100,000 and unequal sizes.
        #[test]
        fn pairs_at_the_bar_are_rarely_rejected(
            na in 1u64..100_000,
            ratio in 0.5f64..1.0,
            bar in 0.3f64..0.95,
            above in 0.0f64..0.05,
            seed in 0u64..1 << 20,
        ) {
            let nb = ((na as f64 * ratio).round() as u64).max(1);
            let j = (bar + above).min(1.0);
            let shared = shared_at(na, nb, j);
            let (na, nb) = if (shared as f64) / ((na + nb - shared) as f64) < bar {
                (na, na) // unequal sizes cannot reach the bar: equal ones
            } else {
                (na, nb)
            };
            let shared = shared_at(na, nb, j);
            let filter = SketchFilter::new(bar, 0.05);
            let trials = if na > 5_000 { 40 } else { 400 };
            let mut rejected = 0;
            for t in 0..trials {
                let (a, b) = pair(na, nb, shared, seed * 1000 + t);
                let (sa, da) = sketch_of(&a);
                let (sb, db) = sketch_of(&b);
                let x = Sketch { slots: &sa, distinct: da };
                let y = Sketch { slots: &sb, distinct: db };
                rejected += u32::from(!filter.may_reach(x, y));
            }
            let rate = f64::from(rejected) / trials as f64;
            let limit = 0.05 + 4.0 * (0.05f64 * 0.95 / trials as f64).sqrt();
            proptest::prop_assert!(rate <= limit, "{na} {nb} {shared} bar {bar}: {rate}");
        }
    }
}
