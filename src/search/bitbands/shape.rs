//! The band shape: bands and bits per band solved for the recall at the radius, over a
//! background sample of pair distances, by the cost model.

use super::*;

/// Most bands the solver considers: the keys take `4 * bands` bytes per row where they are
/// stored ([`BitBands::keys`]; [`BitBands::search`] stores none).
pub const MAX_BANDS: u32 = 400;

/// Most bits per band the solver considers.
pub const MAX_ROWS: u32 = 48;

/// Cost of a table entry (a band key computed, stored and sorted), the unit of the cost
/// model: about [`ENTRY_NANOS`] on the 2-core test machine.
pub(super) const ENTRY_COST: f64 = 1.0;

/// Nanoseconds of a table entry ([`ENTRY_COST`]), to weigh other searches' estimates in
/// nanoseconds against the band search's.
pub const ENTRY_NANOS: f64 = 40.0;

/// Cost of a pair that collides in a band (fingerprints compared; for pairs near the bar,
/// also their pair radius and earlier bands): measured at about half a table entry.
pub(super) const COLLISION_COST: f64 = 0.5;

/// The shape of a bit-sampling band search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BitBandParams {
    /// Fingerprint width K (hyperplanes per row).
    pub bits: u32,
    /// Bits per band (r).
    pub rows: u32,
    /// Number of bands (L), one table each.
    pub bands: u32,
    /// Candidates must also be within this Hamming distance (at the bar solved for; see
    /// [`BitBandParams::radius_at`] for other bars).
    pub radius: u32,
    /// The recall solved for: the Hamming filter keeps a pair at its bar with probability
    /// `1 - (1 - recall) / 10`, the bands catch it with probability `1 - 0.9 (1 - recall)`.
    pub recall: f64,
}

/// The share of the miss budget `1 - recall` given to the Hamming filter.
pub(super) const FILTER_SHARE: f64 = 0.1;

/// The probability with which the Hamming filter keeps a pair at its bar.
pub(super) fn filter_recall(recall: f64) -> f64 {
    1.0 - (1.0 - recall) * FILTER_SHARE
}

/// Sampled similarities of the data in hashed space (centred cosines of pairs of a sample
/// of rows), binned: what spurious collisions a shape would cost.
#[derive(Clone, Debug, Default)]
pub struct Background {
    /// Bin `i` counts sampled pairs at angle about `(i + 0.5) / BINS * π`.
    pub(super) bins: Vec<u64>,
    /// Pairs sampled.
    pub(super) pairs: u64,
}

pub(super) const BINS: usize = 128;

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

    /// The share of sampled pairs at cosine `bar` or above (to the bins' resolution).
    pub fn share_at_least(&self, bar: f64) -> f64 {
        let bar_theta = bar.clamp(-1.0, 1.0).acos() / std::f64::consts::PI;
        let near: u64 = (self.bins.iter().enumerate())
            .filter(|&(i, _)| (i as f64 + 0.5) / BINS as f64 <= bar_theta)
            .map(|(_, &c)| c)
            .sum();
        near as f64 / self.pairs.max(1) as f64
    }

    /// The share of sampled pairs below cosine `bar` whose `bits`-bit fingerprints are at
    /// distance `d`, for each `d` (expected over the planes): `f(d)` weighted by this and
    /// summed is its mean over the spurious pairs of the sample, all pairs counted.
    pub fn weights(&self, bits: u32, bar: f64) -> Vec<f64> {
        let bar_theta = bar.clamp(-1.0, 1.0).acos() / std::f64::consts::PI;
        let mut w = vec![0.0; bits as usize + 1];
        if self.pairs == 0 {
            return w;
        }
        for (i, &count) in self.bins.iter().enumerate() {
            let theta = (i as f64 + 0.5) / BINS as f64;
            if count == 0 || theta <= bar_theta {
                continue;
            }
            let share = count as f64 / self.pairs as f64;
            for (x, p) in w.iter_mut().zip(binomial(bits, theta)) {
                *x += share * p;
            }
        }
        w
    }
}

impl BitBandParams {
    /// The cheapest shape over `bits`-bit fingerprints that finds a pair at cosine `bar`
    /// (in hashed space) with probability at least `recall`, for `n` rows whose background
    /// is `background`: for each `rows`, the fewest bands (at most [`MAX_BANDS`]) that
    /// collide at the bar with probability `1 - 0.9 (1 - recall)`, then the least expected
    /// work (table entries plus spurious collisions). The Hamming filter keeps a pair at the
    /// bar with probability `1 - (1 - recall) / 10`, so by the union bound a pair at or
    /// above the bar is found with probability at least `recall`, also with the radius of
    /// its own bar ([`BitBandParams::radius_at`]). `None` when no shape reaches the recall.
    pub fn solve(
        bits: u32,
        bar: f64,
        recall: f64,
        n: usize,
        background: &Background,
    ) -> Option<BitBandParams> {
        let recall = recall.clamp(0.5, 0.999_999);
        let radius = cosine_radius(bits, bar, filter_recall(recall));
        let collide = 1.0 - (1.0 - recall) * (1.0 - FILTER_SHARE);
        let n = n.max(2);
        // Work counts every collision, duplicates' included: a tight cluster collides in
        // nearly every band, and each of those collisions is examined.
        let weights = background.weights(bits, 1.0);
        let mut best: Option<(f64, BitBandParams)> = None;
        for rows in 1..=MAX_ROWS.min(bits) {
            let at = |bands| BitBandParams {
                bits,
                rows,
                bands,
                radius,
                recall,
            };
            if at(MAX_BANDS).collision_at(bar) < collide {
                continue;
            }
            // The fewest bands: the recall grows with the bands.
            let (mut lo, mut hi) = (1, MAX_BANDS);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if at(mid).collision_at(bar) >= collide {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            let shape = at(lo);
            let cost = shape.cost_with(n, &weights);
            if best.is_none_or(|(c, _)| cost < c) {
                best = Some((cost, shape));
            }
        }
        best.map(|(_, shape)| shape)
    }

    /// The Hamming radius that keeps a pair at cosine `bar` (hashed space) with the same
    /// probability as [`BitBandParams::radius`] keeps a pair at the bar solved for: for
    /// pairs whose own bar is higher, a tighter filter with the same guarantee.
    pub fn radius_at(&self, bar: f64) -> u32 {
        cosine_radius(self.bits, bar, filter_recall(self.recall))
    }

    /// Bytes [`BitBands::greedy`] holds for `rows` rows at most: a run position and a slot
    /// per row and band, and a count per run.
    pub fn greedy_bytes(&self, rows: usize) -> u64 {
        12 * rows as u64 * self.bands as u64
    }

    /// Expected work over `n` rows with `background`, in table entries: `n * bands`
    /// entries plus [`COLLISION_COST`] for each band in which a pair collides, for every
    /// pair of the sample (near duplicates collide in many bands, and each collision is
    /// examined). `_bar` is kept for the callers: the work does not depend on it.
    pub fn cost(&self, n: usize, _bar: f64, background: &Background) -> f64 {
        self.cost_with(n, &background.weights(self.bits, 1.0))
    }

    /// [`BitBandParams::cost`] from [`Background::weights`].
    pub(super) fn cost_with(&self, n: usize, weights: &[f64]) -> f64 {
        let n = n as f64;
        let collisions: f64 = weights
            .iter()
            .enumerate()
            .map(|(d, w)| w * self.bands as f64 * self.band_agreement(d as u32))
            .sum();
        ENTRY_COST * n * self.bands as f64 + COLLISION_COST * n * n / 2.0 * collisions
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

    /// The probability that vectors at cosine `cosine` (in hashed space) share some band
    /// key, over the random planes and band positions (no radius).
    pub fn collision_at(&self, cosine: f64) -> f64 {
        let p = cosine.clamp(-1.0, 1.0).acos() / std::f64::consts::PI;
        binomial(self.bits, p)
            .iter()
            .enumerate()
            .map(|(d, pd)| pd * self.collision(d as u32))
            .sum()
    }

    /// The S-curve: the probability that vectors at cosine `cosine` (in hashed space) are a
    /// candidate, over the random planes and band positions: the sum over distances
    /// `d <= radius` of Binomial(bits, θ/π) at `d` times [`BitBandParams::collision`].
    pub fn recall_at(&self, cosine: f64) -> f64 {
        let p = cosine.clamp(-1.0, 1.0).acos() / std::f64::consts::PI;
        binomial(self.bits, p)
            .iter()
            .take(self.radius as usize + 1)
            .enumerate()
            .map(|(d, pd)| pd * self.collision(d as u32))
            .sum()
    }
}
