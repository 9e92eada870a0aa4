//! Synthetic fingerprints for tests and benchmarks: a small deterministic generator
//! (splitmix64), uniform fingerprints, and partners planted at chosen distances.

use crate::fingerprint::Fingerprint;

/// The splitmix64 generator: deterministic, 8 bytes of state, good enough for test data.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), with negligible bias for small `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// A uniformly random fingerprint.
pub fn uniform<F: Fingerprint>(rng: &mut SplitMix64) -> F {
    let mut fp = F::zero();
    let mut word = 0;
    for i in 0..F::BITS {
        if i % 64 == 0 {
            word = rng.next_u64();
        }
        if word >> (i % 64) & 1 == 1 {
            fp.set_bit(i);
        }
    }
    fp
}

/// `fp` with `d` distinct random bits flipped (`d <= BITS`): at distance exactly `d`.
pub fn flip<F: Fingerprint>(fp: F, d: u32, rng: &mut SplitMix64) -> F {
    let mut out = fp;
    let mut flipped = 0;
    while flipped < d {
        let i = rng.below(u64::from(F::BITS)) as u32;
        if out.bit(i) == fp.bit(i) {
            out = toggle(out, i);
            flipped += 1;
        }
    }
    out
}

/// `fp` with bit `i` inverted (O(BITS) when the bit is set; meant for test data).
pub fn toggle<F: Fingerprint>(fp: F, i: u32) -> F {
    if !fp.bit(i) {
        let mut out = fp;
        out.set_bit(i);
        return out;
    }
    let mut out = F::zero();
    for j in 0..F::BITS {
        if j != i && fp.bit(j) {
            out.set_bit(j);
        }
    }
    out
}

/// `n` fingerprints: uniform ones, and for a `rate` fraction of them a partner at a random
/// distance in `0..=k`, appended after the uniform ones. Returns the fingerprints and the
/// planted pairs `(a, b, distance)` with `a < b`.
pub fn planted<F: Fingerprint>(
    n: usize,
    k: u32,
    rate: f64,
    seed: u64,
) -> (Vec<F>, Vec<(u32, u32, u32)>) {
    let mut rng = SplitMix64::new(seed);
    let partners = ((n as f64 * rate) as usize).min(n / 2);
    let base = n - partners;
    let mut fps: Vec<F> = (0..base).map(|_| uniform(&mut rng)).collect();
    let mut pairs = Vec::with_capacity(partners);
    for j in 0..partners {
        let i = rng.below(base as u64) as usize;
        let d = rng.below(u64::from(k) + 1) as u32;
        fps.push(flip(fps[i], d, &mut rng));
        pairs.push((i as u32, (base + j) as u32, d));
    }
    (fps, pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flip_gives_the_distance() {
        let mut rng = SplitMix64::new(7);
        for d in [0, 1, 5, 64] {
            let a: u64 = uniform(&mut rng);
            assert_eq!(a.distance(&flip(a, d, &mut rng)), d);
        }
        let w: crate::Bits256 = uniform(&mut rng);
        assert_eq!(w.distance(&flip(w, 9, &mut rng)), 9);
    }

    #[test]
    fn planted_pairs_are_at_their_distance() {
        let (fps, pairs) = planted::<u64>(1000, 3, 0.1, 1);
        assert_eq!(fps.len(), 1000);
        assert_eq!(pairs.len(), 100);
        for &(a, b, d) in &pairs {
            assert_eq!(fps[a as usize].distance(&fps[b as usize]), d);
        }
    }
}
