//! Random-hyperplane SimHash for dense vectors (Charikar): bit `b` of a row's fingerprint is
//! the sign of its dot product with Gaussian plane `b`, so two rows at angle θ differ in
//! each bit with probability θ/π. Planes come from our own PRNG and Gaussian sampler, built
//! from IEEE-754 `+ - * / sqrt` only, so a seed gives the same planes on every platform.
//! Also here: the binomial rule that turns a cosine bar into a Hamming candidate radius.

use rayon::prelude::*;

use crate::fingerprint::Fingerprint;
use crate::progress::Progress;
use crate::vectors::npy::{Vectors, dot};

/// The default `--seed` of the planes.
pub const DEFAULT_SEED: u64 = 0x5eed_da7a_0000_0001;

/// xoshiro256** (Blackman and Vigna, 2018), state seeded by four splitmix64 outputs.
/// Integer arithmetic only: identical sequences everywhere.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose state is four consecutive splitmix64 outputs from `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut splitmix = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng {
            s: [splitmix(), splitmix(), splitmix(), splitmix()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [-1, 1), a multiple of 2^-52.
    fn symmetric(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 52) as f64) - 1.0
    }

    /// A standard normal deviate by Marsaglia's polar method: draw (u, v) uniform in the
    /// square until 0 < s = u² + v² < 1, return u·sqrt(-2 ln s / s). The second deviate of
    /// each accepted pair is discarded, so the stream has no hidden state. `ln` is
    /// [`portable_ln`], so the value is the same on every platform.
    pub fn gaussian(&mut self) -> f64 {
        loop {
            let u = self.symmetric();
            let v = self.symmetric();
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * portable_ln(s) / s).sqrt();
            }
        }
    }
}

/// Natural logarithm of a positive normal `x` from `+ - * /` only (no platform libm):
/// x = m·2^e with m in [√½, √2), ln m = 2·atanh((m-1)/(m+1)) by its series to the 23rd
/// power (error below 1e-18 relative), plus e·ln 2.
pub fn portable_ln(x: f64) -> f64 {
    debug_assert!(x.is_normal() && x > 0.0);
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    for k in 0..12 {
        sum += term / (2 * k + 1) as f64;
        term *= s2;
    }
    2.0 * sum + e as f64 * std::f64::consts::LN_2
}

/// `bits` Gaussian hyperplanes in `dim` dimensions, optionally offset for mean-centring.
#[derive(Clone, Debug)]
pub struct Projector {
    bits: usize,
    dim: usize,
    /// Plane components, dimension-major: `planes[d * bits + b]` is component `d` of plane
    /// `b`, so one row update touches a contiguous run of `bits` values.
    planes: Vec<f32>,
    /// `offset[b]` = plane b · mean; zero without centring.
    offset: Vec<f32>,
}

impl Projector {
    /// The planes of `seed`: plane b's components are the Gaussian deviates number
    /// `b·dim .. (b+1)·dim` of the stream, so fewer bits are a prefix of more bits.
    pub fn new(dim: usize, bits: usize, seed: u64) -> Projector {
        let mut rng = Rng::new(seed);
        let mut planes = vec![0f32; dim * bits];
        for b in 0..bits {
            for d in 0..dim {
                planes[d * bits + b] = rng.gaussian() as f32;
            }
        }
        Projector {
            bits,
            dim,
            planes,
            offset: vec![0.0; bits],
        }
    }

    /// Centres on `mean` (of the unit-length rows): a row x then hashes as x/|x| - mean.
    pub fn center(&mut self, mean: &[f64]) {
        assert_eq!(mean.len(), self.dim);
        for b in 0..self.bits {
            self.offset[b] = (0..self.dim)
                .map(|d| self.planes[d * self.bits + b] as f64 * mean[d])
                .sum::<f64>() as f32;
        }
    }

    /// Fingerprints of `rows` of `v` (whose norms are `norms[row]`, non-zero), in parallel
    /// over blocks of rows: a blocked dense product, each plane row loaded once per block.
    pub fn fingerprints<F: Fingerprint>(
        &self,
        v: &Vectors,
        rows: &[u32],
        norms: &[f64],
        progress: &dyn Progress,
    ) -> Vec<F> {
        assert_eq!(
            F::BITS as usize,
            self.bits,
            "fingerprint width and planes differ"
        );
        assert_eq!(v.dim(), self.dim, "vector dimension and planes differ");
        const BLOCK: usize = 16;
        let (bits, dim) = (self.bits, self.dim);
        let kernel = Kernel::detect();
        progress.start("projecting", rows.len() as u64, "rows");
        let out: Vec<Vec<F>> = rows
            .par_chunks(BLOCK)
            .map_init(
                || {
                    let xs = vec![0f32; BLOCK * dim];
                    (xs, vec![0f32; BLOCK * bits], vec![0f32; dim])
                },
                |(xs, acc, tmp), block| {
                    let n = block.len();
                    for (k, &r) in block.iter().enumerate() {
                        let row = v.row(r as usize, tmp);
                        xs[k * dim..(k + 1) * dim].copy_from_slice(row);
                    }
                    // Rows past the end of a short block project zeros, unread.
                    xs[n * dim..].fill(0.0);
                    project(kernel, xs, dim, &self.planes, bits, acc);
                    let fps: Vec<F> = (0..n)
                        .map(|k| {
                            let scale = norms[block[k] as usize] as f32;
                            let mut fp = F::zero();
                            let row = &acc[k * bits..(k + 1) * bits];
                            for (w, (acc, offset)) in
                                row.chunks(64).zip(self.offset.chunks(64)).enumerate()
                            {
                                fp.or_word(64 * w as u32, sign_word(kernel, acc, offset, scale));
                            }
                            fp
                        })
                        .collect();
                    progress.inc(n as u64);
                    fps
                },
            )
            .collect();
        progress.finish();
        out.into_iter().flatten().collect()
    }
}

/// How [`project`] runs on this processor: the widest vectors it has. Every kernel gives
/// the same bits, see [`project`].
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kernel {
    /// 16 lanes (AVX-512).
    Wide,
    /// 8 lanes (AVX2).
    Middle,
    /// What the build targets (SSE on x86-64).
    Base,
}

impl Kernel {
    fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Kernel::Wide;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Kernel::Middle;
            }
        }
        Kernel::Base
    }
}

/// `acc[k * bits + b] = Σ_d xs[k * dim + d] * planes[d * bits + b]` for the 16 rows of `xs`
/// (`16 * dim` values), each sum taken in order of `d` with a rounded product and a rounded
/// sum per term (no fused multiply-add), so every kernel and the plain loop give the same
/// bits on every processor. `bits` is a multiple of 64.
fn project(kernel: Kernel, xs: &[f32], dim: usize, planes: &[f32], bits: usize, acc: &mut [f32]) {
    assert!(bits.is_multiple_of(64) && xs.len() == 16 * dim && acc.len() >= 16 * bits);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Kernel::detect` found the feature on this processor.
        Kernel::Wide => unsafe { project_avx512(xs, dim, planes, bits, acc) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Kernel::Middle => unsafe { project_avx2(xs, dim, planes, bits, acc) },
        _ => project_tiles::<2, 16>(xs, dim, planes, bits, acc),
    }
}

/// The signs of 64 projections as a word: bit `j` is `acc[j] > scale * offset[j]` (the
/// same comparison of the same products in every kernel). `acc` and `offset` hold 64 values.
fn sign_word(kernel: Kernel, acc: &[f32], offset: &[f32], scale: f32) -> u64 {
    assert!(acc.len() == 64 && offset.len() == 64);
    #[cfg(target_arch = "x86_64")]
    if kernel == Kernel::Wide {
        // SAFETY: `Kernel::detect` found AVX-512F on this processor, and both slices hold
        // 64 values (asserted), four loads of 16.
        return unsafe { sign_word_avx512(acc, offset, scale) };
    }
    let _ = kernel;
    let mut word = 0u64;
    for (j, (&a, &o)) in acc.iter().zip(offset).enumerate() {
        word |= ((a > scale * o) as u64) << j;
    }
    word
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sign_word_avx512(acc: &[f32], offset: &[f32], scale: f32) -> u64 {
    use std::arch::x86_64::*;
    let scale = _mm512_set1_ps(scale);
    let mut word = 0u64;
    for q in 0..4 {
        // SAFETY: 16 values from 16 * q, within the 64 the caller guarantees.
        let (a, o) = unsafe {
            (
                _mm512_loadu_ps(acc.as_ptr().add(16 * q)),
                _mm512_loadu_ps(offset.as_ptr().add(16 * q)),
            )
        };
        let greater = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(a, _mm512_mul_ps(scale, o));
        word |= (greater as u64) << (16 * q);
    }
    word
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn project_avx512(xs: &[f32], dim: usize, planes: &[f32], bits: usize, acc: &mut [f32]) {
    project_tiles::<4, 64>(xs, dim, planes, bits, acc);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn project_avx2(xs: &[f32], dim: usize, planes: &[f32], bits: usize, acc: &mut [f32]) {
    project_tiles::<3, 32>(xs, dim, planes, bits, acc);
}

/// [`project`] in tiles of `R` rows by `C` planes, whose sums stay in registers while the
/// planes' components stream by. The last tile of rows may hang over the 16: those rows
/// are not computed.
#[inline(always)]
fn project_tiles<const R: usize, const C: usize>(
    xs: &[f32],
    dim: usize,
    planes: &[f32],
    bits: usize,
    acc: &mut [f32],
) {
    for r0 in (0..16).step_by(R) {
        let rows = R.min(16 - r0);
        let x: [&[f32]; R] = std::array::from_fn(|r| &xs[(r0 + r.min(rows - 1)) * dim..][..dim]);
        for c0 in (0..bits).step_by(C) {
            let mut sums = [[0f32; C]; R];
            for d in 0..dim {
                let p: &[f32; C] = planes[d * bits + c0..][..C].try_into().expect("C planes");
                for (sum, x) in sums.iter_mut().zip(&x) {
                    let x = x[d];
                    for (s, p) in sum.iter_mut().zip(p) {
                        *s += x * p;
                    }
                }
            }
            for (r, sum) in sums.iter().enumerate().take(rows) {
                acc[(r0 + r) * bits + c0..][..C].copy_from_slice(sum);
            }
        }
    }
}

/// The mean of the unit-length `rows` of `v` (norms in `norms`, non-zero), in f64: the
/// exact [`UnitSum`] of the rows, rounded once, so the same rows give the same bits in any
/// order and however they are split (threads, Spark partitions).
pub fn unit_mean(sources: &[(&Vectors, &[u32], &[f64])]) -> Vec<f64> {
    let dim = sources[0].0.dim();
    let mut total = UnitSum::new(dim);
    for &(v, rows, norms) in sources {
        let sum = rows
            .par_iter()
            .fold(
                || (UnitSum::new(dim), vec![0f32; dim]),
                |(mut s, mut buf), &r| {
                    s.add(v.row(r as usize, &mut buf), norms[r as usize]);
                    (s, buf)
                },
            )
            .map(|(s, _)| s)
            .reduce(
                || UnitSum::new(dim),
                |mut a, b| {
                    a.merge(&b);
                    a
                },
            );
        total.merge(&sum);
    }
    total.mean()
}

/// A sum of unit rows `x/|x|` kept exactly, so that it does not depend on the order of the
/// rows or on how they are split: each component `x_d / |x|` (in `[-1, 1]`, computed in
/// f64 as `x_d as f64 * (1 / |x|)`) is rounded to a multiple of 2^-[`UnitSum::FRACTION`]
/// and added as an integer. Partial sums [`merge`](UnitSum::merge) exactly; the mean is
/// rounded once at the end. Holds up to 2^56 rows.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitSum {
    /// Per component, the sum in units of 2^-FRACTION.
    pub sums: Vec<i128>,
    /// Rows added.
    pub count: u64,
}

impl UnitSum {
    /// Fraction bits of the fixed point: components are kept to 2^-70 (about 1e-21).
    pub const FRACTION: i32 = 70;

    /// An empty sum of `dim` components.
    pub fn new(dim: usize) -> UnitSum {
        UnitSum {
            sums: vec![0; dim],
            count: 0,
        }
    }

    /// Adds the unit row of `row` (whose norm is `norm`, non-zero).
    pub fn add(&mut self, row: &[f32], norm: f64) {
        let inv = 1.0 / norm;
        let scale = (2f64).powi(Self::FRACTION);
        for (s, &x) in self.sums.iter_mut().zip(row) {
            // |x inv| <= 1 (1 + 1e-15), so the product is below 2^71: exact in i128.
            *s += integer_to_i128((x as f64 * inv * scale).round());
        }
        self.count += 1;
    }

    /// Adds another partial sum (of as many components).
    pub fn merge(&mut self, other: &UnitSum) {
        assert_eq!(
            self.sums.len(),
            other.sums.len(),
            "sums of different widths"
        );
        self.sums
            .iter_mut()
            .zip(&other.sums)
            .for_each(|(a, b)| *a += b);
        self.count += other.count;
    }

    /// The mean of the rows added (zeros when none were).
    pub fn mean(&self) -> Vec<f64> {
        let n = self.count.max(1) as f64;
        let unit = (2f64).powi(-Self::FRACTION);
        // One rounding to f64 (the power of two is exact), one division.
        self.sums.iter().map(|&s| s as f64 * unit / n).collect()
    }
}

/// The position, in the sorted centred norms of `n` rows (n >= 1), of the
/// [`LOW_NORM_QUANTILE`] quantile that [`centred_threshold`] takes.
pub fn low_norm_index(n: usize) -> usize {
    ((n.max(1) - 1) as f64 * LOW_NORM_QUANTILE) as usize
}

/// The centred bar for raw cosine `t` when the low quantile of the centred norms is `q`
/// (see [`centred_threshold`]): `(bar, q)`, `q` floored at 1e-9.
pub fn centred_bar(t: f64, q: f64) -> (f64, f64) {
    let q = q.max(1e-9);
    ((1.0 - (1.0 - t) / (q * q)).max(-1.0), q)
}

/// The fraction of rows whose centred norm may fall below the bound used by
/// [`centred_threshold`]: pairs involving them have a weaker recall guarantee.
pub const LOW_NORM_QUANTILE: f64 = 0.01;

/// The cosine bar in centred space that every pair at raw cosine `t` clears when both rows
/// have centred norm at least r: 1 - (1 - t)/r² (the chord between unit rows, at most
/// √(2 - 2t), is unchanged by centring). r is the [`LOW_NORM_QUANTILE`] quantile of the
/// centred norms |x/|x| - mean| of the rows. Returns (bar, r).
pub fn centred_threshold(
    t: f64,
    sources: &[(&Vectors, &[u32], &[f64])],
    mean: &[f64],
) -> (f64, f64) {
    let mut r = centred_norms(sources, mean);
    if r.is_empty() {
        return (t, 1.0);
    }
    r.sort_unstable_by(|a, b| a.total_cmp(b));
    centred_bar(t, r[low_norm_index(r.len())])
}

/// The centred norms |x/|x| - mean| of the `rows` of each source, in order (the values
/// whose low quantile [`centred_threshold`] takes).
pub fn centred_norms(sources: &[(&Vectors, &[u32], &[f64])], mean: &[f64]) -> Vec<f64> {
    let mm: f64 = mean.iter().map(|x| x * x).sum();
    let mean32: Vec<f32> = mean.iter().map(|&x| x as f32).collect();
    let mut r: Vec<f64> = Vec::new();
    for &(v, rows, norms) in sources {
        let part: Vec<f64> = rows
            .par_iter()
            .map_init(
                || vec![0f32; v.dim()],
                |buf, &i| {
                    let row = v.row(i as usize, buf);
                    let xm = dot(row, &mean32) / norms[i as usize];
                    (1.0 - 2.0 * xm + mm).max(0.0).sqrt()
                },
            )
            .collect();
        r.extend(part);
    }
    r
}

/// `v as i128` for an integer-valued `v` below 2^71 in magnitude, exactly, without the
/// slow library conversion: through i64, after dividing by 256 (exact: above 2^63 a double
/// is a multiple of 2^11) where `v` is too large for it.
#[inline]
fn integer_to_i128(v: f64) -> i128 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if v.abs() < TWO_63 {
        v as i64 as i128
    } else {
        ((v * (1.0 / 256.0)) as i64 as i128) << 8
    }
}

/// The Hamming radius within which two fingerprints of `bits` hyperplane bits whose
/// vectors have cosine `cosine` fall with probability at least `recall`: each bit differs
/// independently with probability p = arccos(cosine)/π, so the radius is the `recall`
/// quantile of Binomial(bits, p). Pairs more similar than `cosine` are caught more often.
pub fn cosine_radius(bits: u32, cosine: f64, recall: f64) -> u32 {
    let mut cdf = 0.0;
    for (k, pk) in binomial(bits, bit_flip(cosine)).into_iter().enumerate() {
        cdf += pk;
        if cdf >= recall {
            return k as u32;
        }
    }
    bits
}

/// The probability that two vectors at cosine `cosine` fall within Hamming distance
/// `radius` of each other's `bits`-bit fingerprints, under the model of [`cosine_radius`].
pub fn within_radius(bits: u32, cosine: f64, radius: u32) -> f64 {
    let pmf = binomial(bits, bit_flip(cosine));
    pmf.iter().take(radius as usize + 1).sum::<f64>().min(1.0)
}

/// The chance that one bit differs between the fingerprints of vectors at cosine `cosine`.
fn bit_flip(cosine: f64) -> f64 {
    cosine.clamp(-1.0, 1.0).acos() / std::f64::consts::PI
}

/// The distribution of Binomial(n, p), `n + 1` values, from a table of ln k! summed once.
pub fn binomial(n: u32, p: f64) -> Vec<f64> {
    let mut ln_fact = vec![0.0f64; n as usize + 1];
    for k in 1..=n as usize {
        ln_fact[k] = ln_fact[k - 1] + (k as f64).ln();
    }
    (0..=n as usize)
        .map(|k| {
            if p <= 0.0 {
                return (k == 0) as u8 as f64;
            }
            if p >= 1.0 {
                return (k == n as usize) as u8 as f64;
            }
            let ln = ln_fact[n as usize] - ln_fact[k] - ln_fact[n as usize - k]
                + k as f64 * p.ln()
                + (n as usize - k) as f64 * (1.0 - p).ln();
            ln.exp()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast conversion is `as i128` for integer-valued doubles up to 2^71: around
    /// 2^63 on both sides, at the ends of the range, and for random rounded products.
    #[test]
    fn integers_convert_to_i128_exactly() {
        let two = |e: i32| 2f64.powi(e);
        let mut values = vec![0.0, 1.0, -1.0, two(52), two(53) + 2.0];
        for e in [62, 63, 64, 70] {
            for v in [two(e), two(e) - two(e - 53), two(e) + two(e - 52)] {
                values.extend([v, -v]);
            }
        }
        values.extend([two(71) - two(18), -(two(71) - two(18))]);
        let mut rng = Rng::new(5);
        for _ in 0..100_000 {
            let x = rng.gaussian() / 16.0;
            values.push((x * two(UnitSum::FRACTION)).round());
        }
        for v in values {
            assert_eq!(integer_to_i128(v), v as i128, "{v}");
        }
    }

    /// The radius is the `recall` quantile of Binomial(bits, p), each term computed here
    /// from its own sums of logarithms (the definition, term by term).
    #[test]
    fn the_radius_is_the_binomial_quantile() {
        let ln_factorial = |m: i64| (2..=m).map(|i| (i as f64).ln()).sum::<f64>();
        for bits in [64, 128, 512, 1024] {
            for cosine in [0.5, 0.7759, 0.9, 0.99] {
                for recall in [0.9, 0.99, 0.999] {
                    let p = f64::acos(cosine) / std::f64::consts::PI;
                    let n = bits as i64;
                    let pmf = |k: i64| {
                        let ln_choose = ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k);
                        (ln_choose + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp()
                    };
                    let mut cdf = 0.0;
                    let expected = (0..=n)
                        .find(|&k| {
                            cdf += pmf(k);
                            cdf >= recall
                        })
                        .map_or(bits, |k| k as u32);
                    assert_eq!(cosine_radius(bits, cosine, recall), expected);
                }
            }
        }
    }

    /// Every projection kernel this processor runs gives the plain loop's sums bit for
    /// bit (products and sums rounded one at a time, in order of dimension).
    #[test]
    fn kernels_give_the_plain_sums_bit_for_bit() {
        let (dim, bits) = (37, 128);
        let mut rng = Rng::new(9);
        let xs: Vec<f32> = (0..16 * dim).map(|_| rng.gaussian() as f32).collect();
        let planes: Vec<f32> = (0..dim * bits).map(|_| rng.gaussian() as f32).collect();
        let mut plain = vec![0f32; 16 * bits];
        for k in 0..16 {
            for b in 0..bits {
                let mut s = 0f32;
                for d in 0..dim {
                    s += xs[k * dim + d] * planes[d * bits + b];
                }
                plain[k * bits + b] = s;
            }
        }
        let mut kernels = vec![Kernel::Base];
        let best = Kernel::detect();
        if best == Kernel::Wide {
            kernels.push(Kernel::Middle);
        }
        kernels.push(best);
        for kernel in kernels {
            let mut acc = vec![f32::NAN; 16 * bits];
            project(kernel, &xs, dim, &planes, bits, &mut acc);
            let same = acc
                .iter()
                .zip(&plain)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{kernel:?} differs from the plain sums");
        }
    }

    #[test]
    fn sign_words_agree_with_the_plain_comparison() {
        let mut rng = Rng::new(5);
        let offset: Vec<f32> = (0..64).map(|_| rng.gaussian() as f32).collect();
        let scale = 0.75f32;
        // Random sums, with ties (equal to the threshold: not set) and signed zeros.
        let mut acc: Vec<f32> = (0..64).map(|_| rng.gaussian() as f32).collect();
        acc[3] = scale * offset[3];
        acc[40] = -0.0;
        let plain = (0..64).fold(0u64, |w, j| w | ((acc[j] > scale * offset[j]) as u64) << j);
        assert_eq!(plain >> 3 & 1, 0, "a tie is not above");
        for kernel in [Kernel::Base, Kernel::detect()] {
            assert_eq!(sign_word(kernel, &acc, &offset, scale), plain, "{kernel:?}");
        }
    }

    #[test]
    fn prng_and_gaussian_golden_values() {
        // Fixed here so that any change to the generator or the sampler (which would change
        // every user's fingerprints) fails this test.
        let mut rng = Rng::new(1);
        let words: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(words, GOLDEN_U64);
        let mut rng = Rng::new(DEFAULT_SEED);
        let g: Vec<f64> = (0..4).map(|_| rng.gaussian()).collect();
        assert_eq!(g, GOLDEN_GAUSS);
    }

    // Cross-checked with an independent Python implementation (integer xoshiro256**, the
    // polar method with math.log): the Gaussians agree within one ulp (libm log vs ours).
    const GOLDEN_U64: [u64; 3] = [
        12966619160104079557,
        9600361134598540522,
        10590380919521690900,
    ];
    const GOLDEN_GAUSS: [f64; 4] = [
        1.5878106795193647,
        0.6734029179376355,
        0.22561947466423873,
        0.7494094820304144,
    ];

    #[test]
    fn gaussian_moments() {
        let mut rng = Rng::new(7);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.gaussian()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        let tail = xs.iter().filter(|x| x.abs() > 1.96).count() as f64 / n as f64;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.01, "{var}");
        assert!((tail - 0.05).abs() < 0.003, "{tail}");
    }

    #[test]
    fn portable_ln_matches_libm() {
        for &x in &[
            1e-300, 1e-10, 0.1, 0.5, 0.75, 0.99999, 1.0, 1.41, 1.5, 2.0, 1e10,
        ] {
            let (a, b) = (portable_ln(x), x.ln());
            assert!(
                (a - b).abs() <= 4.0 * f64::EPSILON * b.abs().max(1.0),
                "{x}: {a} {b}"
            );
        }
    }

    #[test]
    fn unit_sum_is_exact_in_any_order_and_split() {
        let mut rng = Rng::new(3);
        let dim = 7;
        let rows: Vec<Vec<f32>> = (0..500)
            .map(|i| {
                (0..dim)
                    .map(|_| (rng.gaussian() * 10f64.powi(i % 9 - 4)) as f32)
                    .collect()
            })
            .collect();
        let norms: Vec<f64> = rows.iter().map(|r| crate::vectors::npy::norm(r)).collect();
        let sum_of = |order: &mut dyn Iterator<Item = usize>| {
            let mut s = UnitSum::new(dim);
            order.for_each(|i| s.add(&rows[i], norms[i]));
            s
        };
        let forward = sum_of(&mut (0..500));
        let backward = sum_of(&mut (0..500).rev());
        let mut split = sum_of(&mut (0..500).filter(|i| i % 3 == 0));
        split.merge(&sum_of(&mut (0..500).filter(|i| i % 3 != 0)));
        assert_eq!(forward, backward);
        assert_eq!(forward, split);
        assert_eq!(forward.count, 500);
        // Within rounding of the naive f64 mean.
        let mean = forward.mean();
        for (d, &m) in mean.iter().enumerate() {
            let naive = (0..500).map(|i| rows[i][d] as f64 / norms[i]).sum::<f64>() / 500.0;
            assert!((m - naive).abs() < 1e-14, "{d}: {m} {naive}");
        }
        // The library's mean over a vector file is this sum's, whatever the threads do.
        let values: Vec<f32> = rows.iter().flatten().copied().collect();
        let v = Vectors::from_values(std::path::Path::new("t"), values, dim).unwrap();
        let all: Vec<u32> = (0..500).collect();
        assert_eq!(unit_mean(&[(&v, &all, &norms)]), mean);
        assert_eq!(UnitSum::new(3).mean(), vec![0.0; 3]);
    }

    #[test]
    fn centred_bar_and_quantile() {
        assert_eq!(low_norm_index(1), 0);
        assert_eq!(low_norm_index(101), 1);
        assert_eq!(low_norm_index(100), 0);
        assert_eq!(centred_bar(0.9, 1.0), (0.9, 1.0));
        let (bar, q) = centred_bar(0.9, 0.5);
        assert!((bar - 0.6).abs() < 1e-12 && q == 0.5);
        assert_eq!(centred_bar(0.9, 0.0).0, -1.0);
        let v =
            Vectors::from_values(std::path::Path::new("t"), vec![2.0, 0.0, 0.0, 3.0], 2).unwrap();
        let r = centred_norms(&[(&v, &[1, 0], &[2.0, 3.0])], &[0.0, 0.0]);
        assert_eq!(r, vec![1.0, 1.0]);
        let r = centred_norms(&[(&v, &[0], &[2.0, 3.0])], &[1.0, 0.0]);
        assert_eq!(r, vec![0.0]);
    }

    #[test]
    fn radius_is_monotone() {
        assert_eq!(cosine_radius(256, 1.0, 0.99), 0);
        let mut last = 0;
        for t in [0.99, 0.95, 0.9, 0.8, 0.5, 0.0] {
            let r = cosine_radius(256, t, 0.99);
            assert!(r >= last, "{t}: {r} < {last}");
            last = r;
        }
        for bits in [64, 128, 256, 512, 1024] {
            let r = cosine_radius(bits, 0.9, 0.99);
            // Mean bits·0.1436 plus about 2.33 standard deviations.
            let p = 0.9f64.acos() / std::f64::consts::PI;
            let (mu, sd) = (bits as f64 * p, (bits as f64 * p * (1.0 - p)).sqrt());
            assert!((r as f64 - mu - 2.33 * sd).abs() < 2.0, "{bits}: {r}");
            assert!(cosine_radius(bits, 0.9, 0.5) < r);
        }
    }
}
