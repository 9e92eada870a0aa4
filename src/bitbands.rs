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
use crate::hyperplane::{Rng, binomial_pmf, cosine_radius};
use crate::minhash::{BandKeys, mix64};

/// Most bands the solver considers: the keys take `4 * bands` bytes per row.
pub const MAX_BANDS: u32 = 400;

/// Most bits per band the solver considers.
pub const MAX_ROWS: u32 = 48;

/// Cost of a table entry (a band key computed, stored and sorted), the unit of the cost
/// model: about 40 ns on the 2-core test machine.
const ENTRY_COST: f64 = 1.0;

/// Cost of a pair that collides in a band (its fingerprints compared): about 4 ns.
const COLLISION_COST: f64 = 0.1;

/// The shape of a bit-sampling band search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BitBandParams {
    /// Fingerprint width K (hyperplanes per row).
    pub bits: u32,
    /// Bits per band (r).
    pub rows: u32,
    /// Number of bands (L), one table each.
    pub bands: u32,
    /// Candidates must also be within this Hamming distance.
    pub radius: u32,
}

/// Sampled similarities of the data in hashed space (centred cosines of pairs of a sample
/// of rows), binned: what spurious collisions a shape would cost.
#[derive(Clone, Debug, Default)]
pub struct Background {
    /// Bin `i` counts sampled pairs at angle about `(i + 0.5) / BINS * π`.
    bins: Vec<u64>,
    /// Pairs sampled.
    pairs: u64,
}

const BINS: usize = 128;

impl Background {
    /// The background of `cosines` (sampled pairs, in the space that is hashed).
    pub fn new(cosines: impl IntoIterator<Item = f64>) -> Background {
        let mut bins = vec![0u64; BINS];
        let mut pairs = 0;
        for c in cosines {
            let theta = c.clamp(-1.0, 1.0).acos() / std::f64::consts::PI;
            bins[((theta * BINS as f64) as usize).min(BINS - 1)] += 1;
            pairs += 1;
        }
        Background { bins, pairs }
    }

    /// Strangers only: every pair at cosine 0 (the model when there is no sample).
    pub fn orthogonal() -> Background {
        Background::new([0.0])
    }

    /// Pairs sampled.
    pub fn pairs(&self) -> u64 {
        self.pairs
    }

    /// The mean of `f(d)` over the Hamming distances of `bits`-bit fingerprints of the
    /// sampled pairs whose angle fraction is above `max_theta` (pairs below the bar).
    pub fn mean(&self, bits: u32, max_theta: f64, f: &[f64]) -> f64 {
        if self.pairs == 0 {
            return 0.0;
        }
        let mut total = 0.0;
        for (i, &count) in self.bins.iter().enumerate() {
            let theta = (i as f64 + 0.5) / BINS as f64;
            if count == 0 || theta <= max_theta {
                continue;
            }
            let e: f64 = (0..=bits as i64)
                .map(|d| binomial_pmf(bits as i64, d, theta) * f[d as usize])
                .sum();
            total += count as f64 * e;
        }
        total / self.pairs as f64
    }
}

impl BitBandParams {
    /// The cheapest shape over `bits`-bit fingerprints that finds a pair at cosine `bar`
    /// (in hashed space) with probability at least `recall`, for `n` rows whose background
    /// is `background`: for each `rows`, the fewest bands that reach the recall (at most
    /// [`MAX_BANDS`]), then the least expected work (table entries plus spurious
    /// collisions). The Hamming filter keeps a pair at the bar with probability
    /// `1 - (1 - recall) / 10`. `None` when no shape reaches the recall.
    pub fn solve(
        bits: u32,
        bar: f64,
        recall: f64,
        n: usize,
        background: &Background,
    ) -> Option<BitBandParams> {
        let recall = recall.clamp(0.5, 0.999_999);
        let radius = cosine_radius(bits, bar, 1.0 - (1.0 - recall) / 10.0);
        let n = n.max(2);
        let mut best: Option<(f64, BitBandParams)> = None;
        for rows in 1..=MAX_ROWS.min(bits) {
            let at = |bands| BitBandParams {
                bits,
                rows,
                bands,
                radius,
            };
            if at(MAX_BANDS).recall_at(bar) < recall {
                continue;
            }
            // The fewest bands: the recall grows with the bands.
            let (mut lo, mut hi) = (1, MAX_BANDS);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if at(mid).recall_at(bar) >= recall {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            let shape = at(lo);
            let cost = shape.cost(n, bar, background);
            if best.is_none_or(|(c, _)| cost < c) {
                best = Some((cost, shape));
            }
        }
        best.map(|(_, shape)| shape)
    }

    /// Expected work over `n` rows with `background`, in table entries: `n * bands`
    /// entries plus a tenth of an entry for each band collision of a pair below the
    /// cosine `bar` (in hashed space).
    pub fn cost(&self, n: usize, bar: f64, background: &Background) -> f64 {
        let n = n as f64;
        let collisions: Vec<f64> = (0..=self.bits).map(|d| self.collision(d)).collect();
        let bar_theta = bar.clamp(-1.0, 1.0).acos() / std::f64::consts::PI;
        ENTRY_COST * n * self.bands as f64
            + COLLISION_COST * n * n / 2.0 * background.mean(self.bits, bar_theta, &collisions)
    }

    /// The probability that one band agrees for fingerprints at Hamming distance `d`:
    /// its `rows` positions all avoid the `d` differing bits, `C(bits - d, rows) / C(bits, rows)`.
    pub fn band_agreement(&self, d: u32) -> f64 {
        let (k, r) = (self.bits as f64, self.rows);
        if d + r > self.bits {
            return 0.0;
        }
        (0..r)
            .map(|i| (k - d as f64 - i as f64) / (k - i as f64))
            .product()
    }

    /// The probability that fingerprints at distance `d` share some band key (ignoring the
    /// radius): `1 - (1 - a(d))^bands`.
    pub fn collision(&self, d: u32) -> f64 {
        1.0 - (1.0 - self.band_agreement(d)).powi(self.bands as i32)
    }

    /// The S-curve: the probability that vectors at cosine `cosine` (in hashed space) are a
    /// candidate, over the random planes and band positions: the sum over distances
    /// `d <= radius` of Binomial(bits, θ/π) at `d` times [`BitBandParams::collision`].
    pub fn recall_at(&self, cosine: f64) -> f64 {
        let p = cosine.clamp(-1.0, 1.0).acos() / std::f64::consts::PI;
        (0..=self.radius.min(self.bits))
            .map(|d| binomial_pmf(self.bits as i64, d as i64, p) * self.collision(d))
            .sum()
    }
}

/// The band positions of a shape, drawn from a seed, and the keys they give.
#[derive(Clone, Debug)]
pub struct BitBands {
    params: BitBandParams,
    /// Per band, the fingerprint words it reads with the mask of its bits in each.
    masks: Vec<Vec<(u16, u64)>>,
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
        let masks = (0..params.bands)
            .map(|_| {
                let mut mask = vec![0u64; words];
                let mut chosen = 0;
                while chosen < params.rows {
                    let bit = ((rng.next_u64() as u128 * params.bits as u128) >> 64) as usize;
                    if mask[bit / 64] >> (bit % 64) & 1 == 0 {
                        mask[bit / 64] |= 1 << (bit % 64);
                        chosen += 1;
                    }
                }
                mask.iter()
                    .enumerate()
                    .filter(|&(_, &m)| m != 0)
                    .map(|(w, &m)| (w as u16, m))
                    .collect()
            })
            .collect();
        BitBands { params, masks }
    }

    /// The shape.
    pub fn params(&self) -> BitBandParams {
        self.params
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
        for (b, (key, mask)) in out.iter_mut().zip(&self.masks).enumerate() {
            let mut acc = 0x243f_6a88_85a3_08d3 ^ (b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for &(w, m) in mask {
                acc = mix64(acc ^ (words[w as usize] & m)).wrapping_add(w as u64);
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
mod tests {
    use super::*;

    #[test]
    fn agreement_counts_positions_that_avoid_the_differences() {
        let p = BitBandParams {
            bits: 8,
            rows: 2,
            bands: 1,
            radius: 8,
        };
        // C(6, 2) / C(8, 2) = 15 / 28.
        assert!((p.band_agreement(2) - 15.0 / 28.0).abs() < 1e-12);
        assert_eq!(p.band_agreement(7), 0.0);
        assert_eq!(p.band_agreement(0), 1.0);
    }

    #[test]
    fn solved_shapes_reach_the_recall() {
        for bar in [0.7, 0.8, 0.9, 0.95] {
            for n in [10_000, 1_000_000] {
                let p = BitBandParams::solve(256, bar, 0.99, n, &Background::orthogonal())
                    .expect("a shape");
                assert!(p.recall_at(bar) >= 0.99, "{bar} {n}: {p:?}");
                assert!(p.recall_at(bar + 0.03) > p.recall_at(bar));
                assert!(p.recall_at(0.0) < 1e-3, "{p:?}");
            }
        }
    }

    #[test]
    fn a_closer_background_asks_for_longer_bands() {
        let quiet = Background::new(vec![0.0; 1000]);
        let noisy = Background::new(vec![0.6; 1000]);
        let a = BitBandParams::solve(256, 0.85, 0.99, 1_000_000, &quiet).unwrap();
        let b = BitBandParams::solve(256, 0.85, 0.99, 1_000_000, &noisy).unwrap();
        assert!(a.rows < b.rows, "{a:?} {b:?}");
    }

    #[test]
    fn keys_agree_exactly_when_the_band_bits_agree() {
        let params = BitBandParams {
            bits: 128,
            rows: 6,
            bands: 40,
            radius: 128,
        };
        let bands = BitBands::new(params, 7);
        let a: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        for flip in 0..128 {
            let b = a ^ (1u128 << flip);
            let (mut ka, mut kb) = (vec![0; 40], vec![0; 40]);
            bands.keys_of(&a, &mut ka);
            bands.keys_of(&b, &mut kb);
            for (m, (x, y)) in bands.masks.iter().zip(ka.iter().zip(&kb)) {
                let touched = m
                    .iter()
                    .any(|&(w, mask)| flip / 64 == w as u32 && mask >> (flip % 64) & 1 == 1);
                assert_eq!(x == y, !touched, "bit {flip}");
            }
        }
        assert!(
            bands
                .masks
                .iter()
                .all(|m| m.iter().map(|&(_, mask)| mask.count_ones()).sum::<u32>() == 6)
        );
    }
}
