//! The semantic operations (SemHash's): self-deduplication, deduplication against a
//! reference set, outliers and representatives. Fingerprints propose candidates (Hamming
//! radius or Hamming nearest neighbours); an exact similarity decides: cosine of the
//! original vectors, or, for text, Jaccard of the shingle sets ([`Similarity`]).

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Report};
use crate::fingerprint::Fingerprint;
use crate::ops::dedup::{Dedup, ExactGroups, Grouping, assign_groups, verify_band_candidates};
use crate::progress::Progress;
use crate::search::bitbands::{Background, BitBandParams, BitBands, ENTRY_NANOS, PairTest};
use crate::search::{self, Method, Pair, SearchOptions};
use crate::text::simhash::TextConfig;
use crate::text::texts::{DocStats, Joined, Texts};
use crate::vectors::hyperplane::{self, Projector};
use crate::vectors::npy::{Codes, Scan, Vectors, dot};
use crate::verify::ScoredPair;
use crate::verify::{Verifier, verify_pairs};

/// The candidate recall the automatic radius guarantees for pairs right at the threshold.
pub const CANDIDATE_RECALL: f64 = 0.99;

/// An exact similarity between two records, by index (cosine, Jaccard, ...).
pub trait Similarity: Sync {
    /// Similarity of records `a` and `b`, symmetric, at most 1.
    fn similarity(&self, a: u32, b: u32) -> f64;
}

/// Cosine between rows of one or two memory-mapped files: record `i < split` is row `i` of
/// `first`, record `i >= split` is row `i - split` of `second` (for a reference set).
pub struct Cosine<'a> {
    first: (&'a Vectors, &'a [f64]),
    second: Option<(&'a Vectors, &'a [f64])>,
    split: u32,
}

impl<'a> Cosine<'a> {
    /// Cosine between the rows of `v` (`norms` from [`Vectors::scan`]).
    pub fn new(v: &'a Vectors, norms: &'a [f64]) -> Cosine<'a> {
        Cosine {
            first: (v, norms),
            second: None,
            split: u32::MAX,
        }
    }

    /// Cosine over `first`'s rows followed by `second`'s.
    pub fn pair(first: (&'a Vectors, &'a [f64]), second: (&'a Vectors, &'a [f64])) -> Self {
        Cosine {
            first,
            second: Some(second),
            split: first.0.rows() as u32,
        }
    }

    fn locate(&self, i: u32) -> (&'a Vectors, &'a [f64], usize) {
        match self.second {
            Some((v, n)) if i >= self.split => (v, n, (i - self.split) as usize),
            _ => (self.first.0, self.first.1, i as usize),
        }
    }
}

impl Similarity for Cosine<'_> {
    /// Exact cosine of the two rows; 0 when either is a zero vector.
    fn similarity(&self, a: u32, b: u32) -> f64 {
        let (va, na, ra) = self.locate(a);
        let (vb, nb, rb) = self.locate(b);
        let (norm_a, norm_b) = (na[ra], nb[rb]);
        if norm_a == 0.0 || norm_b == 0.0 {
            return 0.0;
        }
        let d = match (va.borrowed_row(ra), vb.borrowed_row(rb)) {
            (Some(x), Some(y)) => dot(x, y),
            _ => {
                let (mut ba, mut bb) = (vec![0f32; va.dim()], vec![0f32; vb.dim()]);
                dot(va.row(ra, &mut ba), vb.row(rb, &mut bb))
            }
        };
        (d / (norm_a * norm_b)).clamp(-1.0, 1.0)
    }
}

/// How the fingerprints and the candidate radius were chosen, for the summary.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// Fingerprint width.
    pub bits: u32,
    /// Candidate pairs are fingerprints within this Hamming distance (and, with bands,
    /// share a band key).
    pub radius: u32,
    /// The band shape, when the band search ran.
    pub bands: Option<BitBandParams>,
    /// The band search visited rows in order against the rows kept so far.
    pub keep_first: bool,
    /// The cosine bar (in centred space if centred) the radius is computed for.
    pub hashed_bar: f64,
    /// The low quantile of centred norms used for `hashed_bar` (1 without centring).
    pub low_norm: f64,
}

impl Plan {
    /// The plan of a band search of `shape` over `F`'s fingerprints (its width).
    fn use_bands<F: Fingerprint>(&mut self, shape: BitBandParams) {
        assert_eq!(
            shape.bits,
            F::BITS,
            "band width and fingerprint width differ"
        );
        self.radius = shape.radius;
        self.bands = Some(shape);
    }
}

/// Settings of the vector operations.
#[derive(Clone, Copy, Debug)]
pub struct VectorOptions {
    /// Plane seed.
    pub seed: u64,
    /// Mean-centre the unit rows before hashing.
    pub center: bool,
    /// Cosine bar of a duplicate.
    pub threshold: f64,
    /// Candidate radius; `None` = from the binomial model at [`CANDIDATE_RECALL`].
    pub max_distance: Option<u32>,
}

/// The rows of a file that can be hashed and compared: finite and not all zero.
pub fn usable_rows(scan: &Scan) -> Vec<u32> {
    (0..scan.norms.len() as u32)
        .filter(|&i| scan.norms[i as usize] > 0.0)
        .collect()
}

/// Reports every non-finite row of a file (they are skipped) through `report`.
pub fn report_non_finite(v: &Vectors, scan: &Scan, ids: &[String], report: &dyn Report) {
    for &(row, what) in &scan.non_finite {
        report.report(Error::BadRow {
            path: v.path().to_path_buf(),
            row,
            id: ids[row].clone(),
            what,
        });
    }
}

/// Where the rows are hashed from: the mean of the unit rows subtracted (or not), and the
/// cosine bar mapped into that space.
#[derive(Clone, Debug, PartialEq)]
pub struct Centring {
    /// The mean of the unit rows, `None` without centring.
    pub mean: Option<Vec<f64>>,
    /// The cosine bar in hashed space (see [`hyperplane::centred_threshold`]).
    pub bar: f64,
    /// The low quantile of centred norms the bar is computed for (1 without centring).
    pub low_norm: f64,
}

impl Centring {
    /// The centring of `sources` under `opts`: two passes over the rows when centring.
    pub fn of(sources: &[(&Vectors, &[u32], &[f64])], opts: &VectorOptions) -> Centring {
        if !opts.center {
            return Centring {
                mean: None,
                bar: opts.threshold,
                low_norm: 1.0,
            };
        }
        let mean = hyperplane::unit_mean(sources);
        let (bar, low_norm) = hyperplane::centred_threshold(opts.threshold, sources, &mean);
        Centring {
            mean: Some(mean),
            bar,
            low_norm,
        }
    }

    /// For each of `rows`: `(μ·x, |x - μ|)` for its unit row x and the mean μ, so that the
    /// cosine of rows a and b is `|ca||cb| cos_c + μ·xa + μ·xb - |μ|²`, where `cos_c` is
    /// their cosine in hashed space. `(0, 1)` without centring.
    pub fn row_terms(&self, v: &Vectors, rows: &[u32], norms: &[f64]) -> Vec<(f32, f32)> {
        let Some(mean) = &self.mean else {
            return vec![(0.0, 1.0); rows.len()];
        };
        let mm: f64 = mean.iter().map(|m| m * m).sum();
        let mean32: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
        rows.par_iter()
            .map_init(
                || vec![0f32; v.dim()],
                |buf, &r| {
                    let row = v.row(r as usize, buf);
                    let xm = dot(row, &mean32) / norms[r as usize];
                    (xm as f32, (1.0 - 2.0 * xm + mm).max(0.0).sqrt() as f32)
                },
            )
            .collect()
    }

    /// The squared norm of the mean (0 without centring).
    fn mean_norm2(&self) -> f64 {
        self.mean
            .as_ref()
            .map_or(0.0, |m| m.iter().map(|x| x * x).sum())
    }

    /// Row `i` of `v` (norm `norm`) as hashed, scaled to unit length; `None` when it is
    /// the mean itself.
    fn unit_row(&self, v: &Vectors, i: usize, norm: f64) -> Option<Vec<f64>> {
        let mut buf = vec![0f32; v.dim()];
        let row = v.row(i, &mut buf);
        let mut x: Vec<f64> = row.iter().map(|&a| a as f64 / norm).collect();
        if let Some(mean) = &self.mean {
            x.iter_mut().zip(mean).for_each(|(a, m)| *a -= m);
        }
        let len = x.iter().map(|a| a * a).sum::<f64>().sqrt();
        (len > 0.0).then(|| x.into_iter().map(|a| a / len).collect())
    }
}

/// Fingerprints of `rows` of each source, all with the same planes (and centring on the
/// mean of all of them), and the plan: the radius for the threshold.
pub fn embed<F: Fingerprint>(
    sources: &[(&Vectors, &[u32], &[f64])],
    opts: &VectorOptions,
    progress: &dyn Progress,
) -> (Vec<Vec<F>>, Plan) {
    embed_centred(sources, opts, &Centring::of(sources, opts), progress)
}

/// [`embed`] with the centring computed already.
pub fn embed_centred<F: Fingerprint>(
    sources: &[(&Vectors, &[u32], &[f64])],
    opts: &VectorOptions,
    centring: &Centring,
    progress: &dyn Progress,
) -> (Vec<Vec<F>>, Plan) {
    let dim = sources[0].0.dim();
    let mut projector = Projector::new(dim, F::BITS as usize, opts.seed);
    if let Some(mean) = &centring.mean {
        projector.center(mean);
    }
    let (bar, low_norm) = (centring.bar, centring.low_norm);
    let radius = opts
        .max_distance
        .unwrap_or_else(|| hyperplane::cosine_radius(F::BITS, bar, CANDIDATE_RECALL))
        .min(F::BITS);
    let fps = sources
        .iter()
        .map(|&(v, rows, norms)| projector.fingerprints(v, rows, norms, progress))
        .collect();
    let plan = Plan {
        bits: F::BITS,
        radius,
        bands: None,
        keep_first: false,
        hashed_bar: bar,
        low_norm,
    };
    (fps, plan)
}

/// The digest by which [`exact_groups`] groups rows: CityHash128 of the row's bytes as
/// stored (little-endian float32 for a dataset's embedding column).
pub fn row_digest(bytes: &[u8]) -> u128 {
    cityhash_rs::cityhash_110_128(bytes)
}

/// Rows grouped by identical bytes, in input order; each group listed by first member.
/// Non-finite rows (norm 0 and listed in `scan.non_finite`) are left out.
pub fn exact_groups(v: &Vectors, scan: &Scan) -> ExactGroups {
    let skip: std::collections::HashSet<usize> = scan.non_finite.iter().map(|x| x.0).collect();
    let digests: Vec<u128> = (0..v.rows())
        .into_par_iter()
        .map(|i| row_digest(v.raw_row(i)))
        .collect();
    let order = (0..v.rows() as u32)
        .filter(|&i| !skip.contains(&(i as usize)))
        .collect();
    ExactGroups::by_key(order, |i| digests[i as usize])
}

/// Verifies candidate pairs (record indexes) with the exact similarity, keeping those at or
/// above `threshold`, sorted by (a, b).
pub fn verify<S: Similarity>(candidates: &[Pair], sim: &S, threshold: f64) -> Vec<ScoredPair> {
    let mut out: Vec<ScoredPair> = candidates
        .par_iter()
        .filter_map(|p| {
            let score = sim.similarity(p.a, p.b);
            (score >= threshold).then_some(ScoredPair {
                a: p.a,
                b: p.b,
                distance: p.distance,
                score,
                exact: false,
            })
        })
        .collect();
    out.sort_unstable_by_key(|p| (p.a, p.b));
    out
}

/// How candidate pairs of vectors are found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VectorSearch {
    /// Every pair within the plan's Hamming radius, by this method (exact tables or brute
    /// force): guaranteed, but quadratic when the radius is wide.
    Hamming(Method),
    /// Bit-sampling bands of this shape ([`crate::search::bitbands`]), candidates verified group by
    /// group: near-linear, with the shape's recall at the bar.
    Bands(BitBandParams),
    /// The same bands visited row by row against the rows kept so far
    /// ([`BitBands::greedy`]): the same decisions, without the pairs between removed rows
    /// (so only for [`Grouping::Greedy`] with [`crate::ops::dedup::PairSet::Deciding`]); it pays when most
    /// rows have near duplicates.
    KeepFirst(BitBandParams),
}

/// What the caller asked of the vector search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchRequest {
    /// The method (`--method`).
    pub method: VectorMethod,
    /// The fingerprint width asked for (`--bits`), if any.
    pub bits: Option<u32>,
    /// The band search's recall at the bar (`--recall`).
    pub recall: f64,
    /// Only the pairs that decide a greedy assignment are needed ([`crate::ops::dedup::PairSet::Deciding`]
    /// with [`Grouping::Greedy`]), so the keep-first search may run.
    pub deciding: bool,
}

/// What `--method` asked for with vectors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VectorMethod {
    /// The cost model chooses ([`choose_search`]).
    Auto,
    /// The band search, shape solved for the recall.
    Bands,
    /// A Hamming search over the radius.
    Hamming(Method),
}

/// Rows whose pairs [`choose_search`] samples for the background.
pub const SAMPLE_ROWS: usize = 1000;

/// Below this many rows the cost model keeps the exact search: it takes well under a
/// second there and is guaranteed.
pub const MIN_BAND_ROWS: usize = 20_000;

/// Cost of a pair within the Hamming radius in the exact search, in band table entries:
/// found by the block tables, held, verified. Measured on 1M clustered rows (164 million
/// pairs within distance 39 of 128 bits: 512 s of CPU) at about 3 µs a pair, against
/// about 40 ns a table entry; the model takes 50 entries, erring toward the exact search.
const HAMMING_PAIR_COST: f64 = 50.0;

/// Fingerprint width of the band search unless `--bits` says otherwise: at 512 bits the
/// Hamming filter separates a cluster's rows from pairs at the bar much better than at
/// 256 (fewer pairs read the 8-bit codes), and a row's fingerprint is one cache line.
pub const BAND_BITS: u32 = 512;

/// The fingerprint of [`BAND_BITS`] bits.
pub type BandFingerprint = crate::fingerprint::Wide<{ BAND_BITS as usize / 64 }>;

/// The keep-first search runs when the sample says a row has at least this many near
/// duplicates on average (its sequential visit then skips most of the work) ...
const KEEP_FIRST_NEIGHBOURS: f64 = 1.0;

/// ... and its tables fit in this many bytes ([`BitBandParams::greedy_bytes`]).
const KEEP_FIRST_BYTES: u64 = 1 << 30;

/// The search for a self-deduplication of `rows` of `v`, and the fingerprint width it
/// needs: the width asked for, else 128 for the Hamming search and [`BAND_BITS`] for
/// bands. With [`VectorMethod::Auto`] the cost model compares the
/// Hamming search (pairs within its radius, each verified and held in memory) with the
/// band search (table entries and band collisions), both estimated from all pairs of
/// [`SAMPLE_ROWS`] sampled rows; below [`MIN_BAND_ROWS`] rows, or with a radius given
/// (`opts.max_distance`), the Hamming search runs. Falls back to the Hamming search when
/// no band shape reaches `recall`.
pub fn choose_search(
    v: &Vectors,
    rows: &[u32],
    norms: &[f64],
    opts: &VectorOptions,
    centring: &Centring,
    request: SearchRequest,
) -> (VectorSearch, u32) {
    choose_search_for(
        rows.len(),
        || background(v, rows, norms, centring),
        opts,
        centring,
        request,
    )
}

/// [`choose_search`] for `n` rows whose background (see [`background`]) `background`
/// computes, called only when the cost model needs it: for a caller that holds only the
/// sampled rows ([`sample_positions`]), such as the Spark job's driver.
pub fn choose_search_for(
    n: usize,
    background: impl FnOnce() -> Background,
    opts: &VectorOptions,
    centring: &Centring,
    request: SearchRequest,
) -> (VectorSearch, u32) {
    let SearchRequest {
        method,
        bits,
        recall,
        deciding,
    } = request;
    let exact = (
        VectorSearch::Hamming(Method::default()),
        bits.unwrap_or(128),
    );
    let auto = match method {
        VectorMethod::Hamming(m) => return (VectorSearch::Hamming(m), exact.1),
        VectorMethod::Auto if n < MIN_BAND_ROWS || opts.max_distance.is_some() => {
            return exact;
        }
        VectorMethod::Auto => true,
        VectorMethod::Bands => false,
    };
    let background = background();
    let band_bits = bits.unwrap_or(BAND_BITS);
    let Some(shape) = BitBandParams::solve(band_bits, centring.bar, recall, n, &background) else {
        return exact;
    };
    let rows = n;
    if auto {
        let n = n as f64;
        let radius = hyperplane::cosine_radius(exact.1, centring.bar, CANDIDATE_RECALL);
        let within: f64 = background.weights(exact.1, 1.0)[..=radius as usize]
            .iter()
            .sum();
        // The pairs found, and every pair compared where the radius is too wide for block
        // tables (at 256 bits and more: radius 71 and up). The block tables' own work is
        // left to the pair cost, as measured (adding their model's estimate moved 30,000
        // rows at 128 bits to the bands, which measured slower: 1.8-2.3 s against 0.7 s).
        let brute = search::exact_brute_nanos(rows, exact.1, radius).unwrap_or(0.0);
        let hamming = HAMMING_PAIR_COST * n * n / 2.0 * within + brute / ENTRY_NANOS;
        if hamming < shape.cost(rows, centring.bar, &background) {
            return exact;
        }
    }
    let neighbours = background.share_at_least(centring.bar) * rows.saturating_sub(1) as f64;
    let bytes = shape.greedy_bytes(rows);
    if deciding && neighbours >= KEEP_FIRST_NEIGHBOURS && bytes <= KEEP_FIRST_BYTES {
        return (VectorSearch::KeepFirst(shape), band_bits);
    }
    (VectorSearch::Bands(shape), band_bits)
}

/// The cosines, in hashed space, of all pairs of up to [`SAMPLE_ROWS`] rows spread evenly
/// over `rows`.
pub fn background(v: &Vectors, rows: &[u32], norms: &[f64], centring: &Centring) -> Background {
    background_of(&[(v, rows, norms)], centring)
}

/// [`background`] of the rows of several sources numbered one after the other (queries,
/// then the reference): the sample is spread over all of them.
pub fn background_of(sources: &[(&Vectors, &[u32], &[f64])], centring: &Centring) -> Background {
    let total: usize = sources.iter().map(|s| s.1.len()).sum();
    let sample: Vec<Vec<f64>> = sample_positions(total)
        .into_iter()
        .filter_map(|mut i| {
            let &(v, rows, norms) = sources.iter().find(|s| {
                let inside = i < s.1.len();
                if !inside {
                    i -= s.1.len();
                }
                inside
            })?;
            let r = rows[i] as usize;
            centring.unit_row(v, r, norms[r])
        })
        .collect();
    let cosines: Vec<f64> = (0..sample.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            let sample = &sample;
            (i + 1..sample.len()).map(move |j| {
                sample[i]
                    .iter()
                    .zip(&sample[j])
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
            })
        })
        .collect();
    Background::new(cosines)
}

/// The positions among `n` rows of the rows [`background`] samples: up to [`SAMPLE_ROWS`],
/// spread evenly, ascending. Given just those rows (in order), [`background`] computes the
/// same background.
pub fn sample_positions(n: usize) -> Vec<usize> {
    let m = n.min(SAMPLE_ROWS);
    (0..m).map(|i| i * n / m).collect()
}

/// The Hamming filter of the band search, pair by pair: a pair at raw cosine t has cosine
/// `(t - μ·xa - μ·xb + |μ|²) / (|ca||cb|)` in hashed space ([`Centring::row_terms`]), its
/// own bar, usually above the worst case the shape is solved for; the pair's radius is
/// that bar's, for the same filter recall ([`BitBandParams::radius_at`]), so the recall
/// guarantee holds pair by pair (and the filter is tighter for most pairs). Pairs whose
/// bar is below the worst case (rows under the low quantile of centred norms) keep the
/// shape's radius, as the exact search keeps its radius for them.
pub struct PairRadius {
    /// `(μ·x, |x - μ|)` per searched row.
    pub terms: Vec<(f32, f32)>,
    threshold: f64,
    mean_norm2: f64,
    /// The shape's radius, a bound for every pair.
    radius: u32,
    /// `radii[i]`: the radius for a bar in `[-1 + i / STEPS, -1 + (i + 1) / STEPS)`.
    radii: Vec<u32>,
}

/// Steps per unit of cosine in [`PairRadius`]'s table.
const STEPS: f64 = 256.0;

impl PairRadius {
    fn new(
        v: &Vectors,
        reps: &[u32],
        norms: &[f64],
        opts: &VectorOptions,
        centring: &Centring,
        shape: BitBandParams,
    ) -> PairRadius {
        let terms = centring.row_terms(v, reps, norms);
        PairRadius::from_terms(terms, opts.threshold, centring, shape)
    }

    /// The filter for rows whose terms are `terms` ([`Centring::row_terms`]), at
    /// `threshold` (raw cosine), with `centring` and the band `shape`.
    pub fn from_terms(
        terms: Vec<(f32, f32)>,
        threshold: f64,
        centring: &Centring,
        shape: BitBandParams,
    ) -> PairRadius {
        let radii = (0..=2 * STEPS as usize)
            .map(|i| shape.radius_at(-1.0 + i as f64 / STEPS).min(shape.radius))
            .collect();
        PairRadius {
            terms,
            threshold,
            mean_norm2: centring.mean_norm2(),
            radius: shape.radius,
            radii,
        }
    }

    /// Whether rows with terms `ta` and `tb` whose fingerprints are at distance `d` pass
    /// the band search's Hamming filter: within the shape's radius and the pair's own.
    #[inline]
    pub fn within(&self, ta: (f32, f32), tb: (f32, f32), d: u32) -> bool {
        d <= self.radius && d <= self.radius_of(ta, tb)
    }

    /// The radius for rows whose terms are `(ma, ca)` and `(mb, cb)`.
    #[inline]
    pub fn radius_of(&self, (ma, ca): (f32, f32), (mb, cb): (f32, f32)) -> u32 {
        let bar = (self.threshold - ma as f64 - mb as f64 + self.mean_norm2)
            / (ca as f64 * cb as f64).max(1e-12);
        let i = ((bar.clamp(-1.0, 1.0) + 1.0) * STEPS) as usize;
        self.radii[i.min(self.radii.len() - 1)]
    }
}

/// The band search's last filter before a pair's exact cosine: the 8-bit codes, which rule
/// out pairs they prove below the threshold (their rows prefetched ahead of the test).
struct CodeBound<'a> {
    codes: &'a Codes,
    threshold: f64,
}

impl PairTest for CodeBound<'_> {
    fn keep(&self, a: u32, b: u32) -> bool {
        self.codes.may_reach(a, b, self.threshold)
    }

    fn prefetch(&self, x: u32) {
        self.codes.prefetch(x);
    }
}

/// Self-deduplication of a vector file with SemHash's semantics: exact duplicate rows
/// first; then, in input order, a row is removed when its cosine to an already kept row is
/// at or above the threshold, naming the most similar kept row. Non-finite rows take no
/// part (they are kept in the assignment; callers leave them out of the output); zero rows
/// match only exact copies of themselves. Candidates come from `search` over `F::BITS`-bit
/// fingerprints (for bands, `F::BITS` must be the shape's width); with bands they are
/// verified group by group, never all held at once.
pub fn dedup_vectors<F: Fingerprint>(
    v: &Vectors,
    scan: &Scan,
    opts: &VectorOptions,
    centring: &Centring,
    search: VectorSearch,
    grouping: Grouping,
    progress: &dyn Progress,
) -> (Dedup, Plan) {
    let groups = exact_groups(v, scan);
    let reps: Vec<u32> = groups
        .iter()
        .map(|g| g[0])
        .filter(|&r| scan.norms[r as usize] > 0.0)
        .collect();
    let (mut fps, mut plan) =
        embed_centred::<F>(&[(v, &reps, &scan.norms)], opts, centring, progress);
    let fps = fps.pop().expect("one source");
    let sim = Cosine::new(v, &scan.norms);
    let codes = Codes::new(v, &reps, &scan.norms);
    let (near, candidates) = match search {
        VectorSearch::Hamming(method) => {
            let search = SearchOptions {
                method,
                max_distance: plan.radius,
            };
            let found = search::find_pairs(&fps, &search, progress);
            // Pairs the 8-bit codes prove below the threshold are not read again.
            let candidates: Vec<Pair> = found
                .par_iter()
                .filter(|p| codes.may_reach(p.a, p.b, opts.threshold))
                .map(|p| Pair::new(reps[p.a as usize], reps[p.b as usize], p.distance))
                .collect();
            let near = verify(&candidates, &sim, opts.threshold);
            (near, found.len())
        }
        VectorSearch::Bands(shape) | VectorSearch::KeepFirst(shape) => {
            plan.use_bands::<F>(shape);
            let bands = BitBands::new(shape, opts.seed);
            let filter = PairRadius::new(v, &reps, &scan.norms, opts, centring, shape);
            // The distance, then the pair's own radius from the rows' terms (copied with
            // the run), then the 8-bit codes: the pairs they prove below the threshold are
            // not read again (the band search then checks that no earlier band has the pair).
            let within = |&ta: &(f32, f32), &tb: &(f32, f32), d: u32| filter.within(ta, tb, d);
            let keep = CodeBound {
                codes: &codes,
                threshold: opts.threshold,
            };
            let mut near = Vec::new();
            let keep_first = matches!(search, VectorSearch::KeepFirst(_));
            assert!(
                !keep_first || grouping == Grouping::Greedy,
                "the keep-first search makes greedy decisions only"
            );
            plan.keep_first = keep_first;
            let stats = if keep_first {
                // Each row against the rows kept before it: the first reaching the
                // threshold removes it, and pairs among removed rows are never formed.
                bands.greedy(
                    &fps,
                    &filter.terms,
                    &within,
                    &keep,
                    progress,
                    &mut |x, found| {
                        let before = near.len();
                        let b = reps[x as usize];
                        near.extend(found.iter().filter_map(|p| {
                            let a = reps[p.a as usize];
                            let score = sim.similarity(a, b);
                            (score >= opts.threshold).then_some(ScoredPair {
                                a,
                                b,
                                distance: p.distance,
                                score,
                                exact: false,
                            })
                        }));
                        near.len() == before
                    },
                )
            } else {
                bands.search(
                    &fps,
                    &filter.terms,
                    &within,
                    &keep,
                    progress,
                    &mut |mut group| {
                        for p in &mut group {
                            *p = Pair::new(reps[p.a as usize], reps[p.b as usize], p.distance);
                        }
                        near.extend(verify(&group, &sim, opts.threshold));
                    },
                )
            };
            near.sort_unstable_by_key(|p: &ScoredPair| (p.a, p.b));
            (near, stats.candidates as usize)
        }
    };
    let (pairs, assignment) = assign_groups(v.rows(), &groups, &near, grouping);
    let dedup = Dedup {
        pairs,
        assignment,
        candidates,
    };
    (dedup, plan)
}

/// A query record that duplicates a reference record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Leak {
    /// Index of the query record.
    pub query: u32,
    /// The most similar reference record (ties: the lowest index).
    pub reference: u32,
    /// Exact similarity of the two records.
    pub score: f64,
}

/// For each query, the most similar reference record among the `candidates` (query index,
/// reference index) with similarity at or above `threshold`; sorted by query.
pub fn best_matches(
    candidates: &[(u32, u32, u32)],
    score: impl Fn(u32, u32) -> f64 + Sync,
    threshold: f64,
) -> Vec<Leak> {
    let scored: Vec<Leak> = candidates
        .par_iter()
        .filter_map(|&(q, r, _)| {
            let s = score(q, r);
            (s >= threshold).then_some(Leak {
                query: q,
                reference: r,
                score: s,
            })
        })
        .collect();
    let mut best: HashMap<u32, Leak> = HashMap::new();
    for l in scored {
        best.entry(l.query)
            .and_modify(|b| {
                if l.score > b.score || (l.score == b.score && l.reference < b.reference) {
                    *b = l;
                }
            })
            .or_insert(l);
    }
    let mut out: Vec<Leak> = best.into_values().collect();
    out.sort_unstable_by_key(|l| l.query);
    out
}

/// Deduplicates the rows of `queries` against `reference` (test-vs-train leakage): every
/// query row with cosine at or above the threshold to some reference row, naming the
/// closest. Planes and `centring` ([`Centring::of`] both files' usable rows) are shared by
/// both files; candidates come from `search` over `F::BITS`-bit fingerprints (for bands,
/// the shape's width): the cross pairs within the plan's radius, or the band search
/// across the two files ([`BitBands::cross_search`], verified group by group, never all
/// held at once). Also returns the plan and the number of candidate pairs verified.
pub fn against_vectors<F: Fingerprint>(
    queries: (&Vectors, &Scan),
    reference: (&Vectors, &Scan),
    opts: &VectorOptions,
    centring: &Centring,
    search: VectorSearch,
    progress: &dyn Progress,
) -> (Vec<Leak>, Plan, usize) {
    let (q, qs) = queries;
    let (r, rs) = reference;
    let q_rows = usable_rows(qs);
    let r_rows = usable_rows(rs);
    let sources = [
        (q, &q_rows[..], &qs.norms[..]),
        (r, &r_rows[..], &rs.norms[..]),
    ];
    let (fps, mut plan) = embed_centred::<F>(&sources, opts, centring, progress);
    let sim = Cosine::pair((q, &qs.norms), (r, &rs.norms));
    let split = q.rows() as u32;
    let score = |a: u32, b: u32| sim.similarity(a, split + b);
    let shape = match search {
        VectorSearch::Bands(shape) | VectorSearch::KeepFirst(shape) => shape,
        VectorSearch::Hamming(_) => {
            let cross = cross_pairs(&fps[0], &fps[1], plan.radius);
            let candidates: Vec<(u32, u32, u32)> = cross
                .into_iter()
                .map(|(a, b, d)| (q_rows[a as usize], r_rows[b as usize], d))
                .collect();
            let leaks = best_matches(&candidates, score, opts.threshold);
            return (leaks, plan, candidates.len());
        }
    };
    plan.use_bands::<F>(shape);
    let nq = q_rows.len();
    let mut all = fps.into_iter();
    let mut joined = all.next().expect("queries");
    joined.extend(all.next().expect("reference"));
    let mut terms = centring.row_terms(q, &q_rows, &qs.norms);
    terms.extend(centring.row_terms(r, &r_rows, &rs.norms));
    let filter = PairRadius::from_terms(terms, opts.threshold, centring, shape);
    let within = |&ta: &(f32, f32), &tb: &(f32, f32), d: u32| filter.within(ta, tb, d);
    let codes = Codes::of(&sources);
    let keep = CodeBound {
        codes: &codes,
        threshold: opts.threshold,
    };
    let row = |x: u32| match (x as usize).checked_sub(nq) {
        None => q_rows[x as usize],
        Some(y) => r_rows[y],
    };
    let mut leaks = Vec::new();
    let stats = BitBands::new(shape, opts.seed).cross_search(
        &joined,
        nq,
        &filter.terms,
        &within,
        &keep,
        progress,
        &mut |group| {
            let candidates: Vec<(u32, u32, u32)> = group
                .iter()
                .map(|p| (row(p.a), row(p.b), p.distance))
                .collect();
            leaks.extend(best_matches(&candidates, score, opts.threshold));
        },
    );
    (closest_leaks(leaks), plan, stats.candidates as usize)
}

/// The closest leak of each query among `leaks` (several per query when they come from
/// several groups of candidates), sorted by query: the highest score, ties to the lowest
/// reference, as [`best_matches`] picks.
fn closest_leaks(mut leaks: Vec<Leak>) -> Vec<Leak> {
    leaks.sort_unstable_by(|x, y| {
        (x.query.cmp(&y.query))
            .then(y.score.total_cmp(&x.score))
            .then(x.reference.cmp(&y.reference))
    });
    leaks.dedup_by_key(|l| l.query);
    leaks
}

/// Text leakage: every query text whose shingle-set Jaccard similarity (per-field for
/// records) to some reference text reaches `threshold`, naming the most similar. With band
/// keys of one shape on both sides the candidates come from the band search; otherwise they
/// are the cross pairs within Hamming distance `k`. Both sides must use `config`. The
/// reference texts are indexed from 0 in the result. Also returns the number of candidates.
pub fn against_texts<F: Fingerprint, D: DocStats>(
    queries: Texts<'_, F, D>,
    reference: Texts<'_, F, D>,
    config: &TextConfig,
    threshold: f64,
    k: u32,
    progress: &dyn Progress,
    report: &dyn Report,
) -> (Vec<Leak>, usize) {
    let nq = queries.len() as u32;
    // One numbering, queries first, so the search and the verifier see both sets alike.
    let source = Joined {
        first: queries.source,
        second: reference.source,
        split: queries.len(),
    };
    let doc = |i: usize| -> &D {
        match i.checked_sub(nq as usize) {
            None => &queries.docs[i],
            Some(j) => &reference.docs[j],
        }
    };
    let digest = |i: usize| doc(i).digest();
    let keys = match (queries.bands, reference.bands) {
        (Some(q), Some(r)) if q.bands() == r.bands() => {
            let mut keys = q.clone();
            keys.extend(r);
            Some(keys)
        }
        _ => None,
    };
    let (verified, candidates) = match keys {
        None => {
            let cross = cross_pairs(queries.fingerprints, reference.fingerprints, k);
            let candidates: Vec<Pair> = cross
                .iter()
                .map(|&(q, r, d)| Pair::new(q, nq + r, d))
                .collect();
            let verified = verify_pairs(
                &candidates,
                &source,
                config,
                &digest,
                threshold,
                progress,
                report,
            );
            (verified, candidates.len())
        }
        Some(keys) => {
            let fingerprints: Vec<F> = queries
                .fingerprints
                .iter()
                .chain(reference.fingerprints)
                .copied()
                .collect();
            let n = fingerprints.len() as u32;
            // Texts without shingles are exact duplicates at most: not searched.
            let ids: Vec<u32> = (0..n).filter(|&i| doc(i as usize).shingles() > 0).collect();
            let split = ids.partition_point(|&i| i < nq);
            let mut verifier = Verifier::new(&source, config, &digest, threshold, report);
            let (mut verified, candidates) =
                verify_band_candidates(&ids, &fingerprints, &mut verifier, |sink| {
                    search::bands::cross_search(&keys, &ids, split, progress, sink)
                });
            // Texts too short for a shingle match as exact duplicates only: by digest.
            let mut short: HashMap<u128, Vec<u32>> = HashMap::new();
            for i in nq..n {
                let d = doc(i as usize);
                if d.shingles() == 0 {
                    short.entry(d.digest()).or_default().push(i);
                }
            }
            let exact: Vec<Pair> = (0..nq)
                .filter(|&q| doc(q as usize).shingles() == 0)
                .flat_map(|q| {
                    let refs = short.get(&doc(q as usize).digest());
                    refs.into_iter().flatten().map(move |&r| Pair::new(q, r, 0))
                })
                .collect();
            verified.extend(verifier.verify(&exact, &()));
            verified.sort_unstable_by_key(|p| (p.a, p.b));
            (verified, candidates + exact.len())
        }
    };
    let score_of: HashMap<(u32, u32), f64> = verified
        .iter()
        .map(|p| ((p.a, p.b - nq), p.score))
        .collect();
    let scored: Vec<(u32, u32, u32)> = score_of.keys().map(|&(q, r)| (q, r, 0)).collect();
    let leaks = best_matches(&scored, |q, r| score_of[&(q, r)], threshold);
    (leaks, candidates)
}

/// Every (query, reference, distance) with Hamming distance at most `k`, sorted.
fn cross_pairs<F: Fingerprint>(queries: &[F], reference: &[F], k: u32) -> Vec<(u32, u32, u32)> {
    search::find_cross_pairs(queries, reference, k, None, &())
        .0
        .into_iter()
        .map(|p| (p.query, p.reference, p.distance))
        .collect()
}

/// Above this many items, neighbours are found by [`search::knn::approximate_knn`]
/// (bounded work) instead of the exact search (quadratic when neighbours are far).
pub const EXACT_KNN_MAX: usize = 20_000;

/// The `k` nearest fingerprints of every item by Hamming distance (self excluded; ties by
/// index), as (index, distance): exact up to [`EXACT_KNN_MAX`] items, approximate above.
fn knn<F: Fingerprint>(fps: &[F], k: usize) -> Vec<Vec<(u32, u32)>> {
    let found = if fps.len() <= EXACT_KNN_MAX {
        search::knn::knn(fps, k, &())
    } else {
        search::knn::approximate_knn(fps, k, &())
    };
    (0..fps.len())
        .map(|i| {
            found
                .neighbors(i)
                .iter()
                .map(|n| (n.index, n.distance))
                .collect()
        })
        .collect()
}

/// Density scores: for every item, the mean exact similarity to its `k` nearest
/// neighbours (self excluded). Neighbours are found in Hamming space: the `2k` nearest
/// fingerprints are scored exactly and the `k` most similar kept, so a score is exact for
/// the neighbours found and close to the true k-NN mean (it can only be lower).
/// `items[i]` is the record index of fingerprint `i`.
pub fn density<F: Fingerprint, S: Similarity>(
    fps: &[F],
    items: &[u32],
    sim: &S,
    k: usize,
    progress: &dyn Progress,
) -> Vec<f64> {
    let neighbours = knn(fps, 2 * k);
    score_neighbours(&neighbours, items, sim, k, &|_| true, progress)
}

/// For each list of `neighbours` (item `i`'s), the mean of the `k` highest exact
/// similarities to the neighbours `keep` accepts (0 when none is), in parallel.
fn score_neighbours<S: Similarity>(
    neighbours: &[Vec<(u32, u32)>],
    items: &[u32],
    sim: &S,
    k: usize,
    keep: &(dyn Fn(usize) -> bool + Sync),
    progress: &dyn Progress,
) -> Vec<f64> {
    progress.start("scoring neighbours", neighbours.len() as u64, "records");
    let scores = neighbours
        .par_iter()
        .enumerate()
        .map(|(i, list)| {
            let mut s: Vec<f64> = list
                .iter()
                .filter(|&&(j, _)| keep(j as usize))
                .map(|&(j, _)| sim.similarity(items[i], items[j as usize]))
                .collect();
            s.sort_unstable_by(|a, b| b.total_cmp(a));
            s.truncate(k);
            progress.inc(1);
            if s.is_empty() {
                0.0
            } else {
                s.iter().sum::<f64>() / s.len() as f64
            }
        })
        .collect();
    progress.finish();
    scores
}

/// Density against a reference: for each of the first `split` items (the queries), the
/// mean exact similarity to its `k` most similar items among the rest (the reference).
/// Neighbours are found in Hamming space over all items together, `4k` per item, and only
/// reference ones are scored, so a query in a tight cluster of other queries may find fewer
/// than `k` reference neighbours (its mean is then over those found; 0 when none).
/// `items[i]` is the record index of fingerprint `i` in `sim`'s numbering.
pub fn density_against<F: Fingerprint, S: Similarity>(
    fps: &[F],
    items: &[u32],
    split: usize,
    sim: &S,
    k: usize,
    progress: &dyn Progress,
) -> Vec<f64> {
    let neighbours = knn(fps, 4 * k);
    score_neighbours(
        &neighbours[..split],
        items,
        sim,
        k,
        &|j| j >= split,
        progress,
    )
}

/// The lowest `fraction` of `scores` (rounded up, as SemHash does), as (index, score),
/// lowest first; ties by index.
pub fn outliers(scores: &[f64], fraction: f64) -> Vec<(u32, f64)> {
    let mut ranked: Vec<(u32, f64)> = scores
        .iter()
        .enumerate()
        .map(|(i, &s)| (i as u32, s))
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let count = ((scores.len() as f64) * fraction.clamp(0.0, 1.0)).ceil() as usize;
    ranked.truncate(count);
    ranked
}

/// SemHash's automatic candidate limit for representatives: 10% of the records, at least
/// the selection size and 100, at most 1000 and the record count.
pub fn candidate_limit(total: usize, count: usize) -> usize {
    (total / 10).max(count).clamp(100, 1000).min(total)
}

/// Representatives: the `limit` densest items are candidates; `count` of them are chosen by
/// maximal marginal relevance, each time the candidate maximising
/// (1 - diversity)·density - diversity·(max similarity to those chosen). Returns (index,
/// density) in selection order. `items[i]` is the record index of score `i`.
pub fn representatives<S: Similarity>(
    scores: &[f64],
    items: &[u32],
    sim: &S,
    count: usize,
    diversity: f64,
    limit: usize,
) -> Vec<(u32, f64)> {
    let mut ranked: Vec<u32> = (0..scores.len() as u32).collect();
    ranked.sort_by(|&a, &b| {
        scores[b as usize]
            .total_cmp(&scores[a as usize])
            .then(a.cmp(&b))
    });
    ranked.truncate(limit);
    let mut closest = vec![f64::NEG_INFINITY; ranked.len()];
    let mut taken = vec![false; ranked.len()];
    let mut chosen = Vec::new();
    while chosen.len() < count.min(ranked.len()) {
        let mut best: Option<(usize, f64)> = None;
        for (c, &i) in ranked.iter().enumerate() {
            if taken[c] {
                continue;
            }
            let penalty = if chosen.is_empty() { 0.0 } else { closest[c] };
            let mmr = (1.0 - diversity) * scores[i as usize] - diversity * penalty;
            if best.is_none_or(|(_, b)| mmr > b) {
                best = Some((c, mmr));
            }
        }
        let (c, _) = best.expect("a candidate is left");
        taken[c] = true;
        let pick = ranked[c];
        chosen.push((pick, scores[pick as usize]));
        let updates: Vec<(usize, f64)> = ranked
            .par_iter()
            .enumerate()
            .filter(|&(x, _)| !taken[x])
            .map(|(x, &j)| (x, sim.similarity(items[pick as usize], items[j as usize])))
            .collect();
        for (x, s) in updates {
            closest[x] = closest[x].max(s);
        }
    }
    chosen
}

/// Jaccard similarity of texts' shingle sets, held in memory (for outliers and
/// representatives over text, where every record is compared with its neighbours).
pub struct ShingleSets(pub Vec<Vec<u64>>);

impl Similarity for ShingleSets {
    fn similarity(&self, a: u32, b: u32) -> f64 {
        crate::text::texts::jaccard(&self.0[a as usize], &self.0[b as usize])
    }
}

/// Tagged shingle sets of dataset rows: similarity is the smallest per-column Jaccard
/// ([`crate::text::texts::field_jaccard`]), as in record deduplication.
pub struct FieldSets(pub Vec<Vec<u64>>);

impl FieldSets {
    /// The smallest per-column Jaccard of two tagged sets.
    pub fn score(a: &[u64], b: &[u64]) -> f64 {
        crate::text::texts::field_jaccard(a, b)
    }
}

impl Similarity for FieldSets {
    fn similarity(&self, a: u32, b: u32) -> f64 {
        FieldSets::score(&self.0[a as usize], &self.0[b as usize])
    }
}

/// A saved dedup result, re-filtered by `rethreshold` at a stricter threshold without
/// recomputing: every pair at or above the original threshold, with its score.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedResult {
    /// "cosine" or "jaccard".
    pub similarity: String,
    /// The threshold of the run: pairs below it were not kept.
    pub threshold: f64,
    /// Record ids, in input (keep) order.
    pub ids: Vec<String>,
    /// Records that took no part (non-finite rows).
    pub skipped: Vec<u32>,
    /// (a, b, score, exact) for every pair at or above `threshold`.
    pub pairs: Vec<(u32, u32, f64, bool)>,
}

impl SavedResult {
    /// The decisions at `threshold` (at least the saved one): see [`rethreshold`].
    pub fn rethreshold(&self, threshold: f64, grouping: Grouping) -> Dedup {
        rethreshold(
            self.ids.len(),
            &self.skipped,
            &self.pairs,
            threshold,
            grouping,
        )
    }
}

/// The decisions over `n` records (`skipped` take no part) from the verified `pairs`
/// (a, b, score, exact) of a run, at `threshold` (at least the run's): pairs below it are
/// dropped, exact-duplicate groups rebuilt from the exact pairs, then assigned in input
/// order as in the run. `simdedup rethreshold` and the report's threshold table
/// ([`crate::output::report`]) both use it.
pub fn rethreshold(
    n: usize,
    skipped: &[u32],
    pairs: &[(u32, u32, f64, bool)],
    threshold: f64,
    grouping: Grouping,
) -> Dedup {
    // Exact pairs form cliques: each record's group is led by its smallest member.
    let mut leader: Vec<u32> = (0..n as u32).collect();
    for &(a, b, _, exact) in pairs {
        if exact {
            leader[b as usize] = leader[b as usize].min(a);
        }
    }
    let skipped: std::collections::HashSet<u32> = skipped.iter().copied().collect();
    let order = (0..n as u32).filter(|i| !skipped.contains(i)).collect();
    let groups = ExactGroups::by_key(order, |i| leader[i as usize]);
    let near: Vec<ScoredPair> = pairs
        .iter()
        .filter(|p| !p.3 && p.2 >= threshold)
        .filter(|p| leader[p.0 as usize] == p.0 && leader[p.1 as usize] == p.1)
        .map(|&(a, b, score, exact)| ScoredPair {
            a,
            b,
            distance: 0,
            score,
            exact,
        })
        .collect();
    let (pairs, assignment) = assign_groups(n, &groups, &near, grouping);
    Dedup {
        pairs,
        assignment,
        candidates: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Table(Vec<Vec<f64>>);
    impl Similarity for Table {
        fn similarity(&self, a: u32, b: u32) -> f64 {
            self.0[a as usize][b as usize]
        }
    }

    /// Writes `rows` (each `dim` long) as a float32 `.npy` file.
    fn write_npy(path: &std::path::Path, rows: &[Vec<f32>], dim: usize) {
        let mut out = Vec::new();
        crate::vectors::npy::write_npy(&mut out, dim, &rows.concat()).unwrap();
        std::fs::write(path, out).unwrap();
    }

    fn unit(v: Vec<f64>) -> Vec<f64> {
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    }

    /// A fingerprint width asked for whose radius leaves the exact search no block tables
    /// (brute force over every pair) is not chosen over the bands at 1M rows, however few
    /// pairs lie within the radius: at 256 and 1,024 bits (radius 71 and 254 at cosine
    /// 0.776) the bands run; below [`MIN_BAND_ROWS`], the exact search still does.
    #[test]
    fn a_radius_too_wide_for_block_tables_leaves_the_choice_to_the_bands() {
        let opts = VectorOptions {
            seed: 3,
            center: true,
            threshold: 0.9,
            max_distance: None,
        };
        let centring = Centring {
            mean: None,
            bar: 0.776,
            low_norm: 0.668,
        };
        let request = |bits| SearchRequest {
            method: VectorMethod::Auto,
            bits,
            recall: CANDIDATE_RECALL,
            deciding: false,
        };
        for bits in [256, 1024] {
            let chosen = choose_search_for(
                1_000_000,
                Background::orthogonal,
                &opts,
                &centring,
                request(Some(bits)),
            );
            assert!(
                matches!(chosen.0, VectorSearch::Bands(_)),
                "{bits}: {chosen:?}"
            );
            assert_eq!(chosen.1, bits);
            // The exact search's own model plans brute force here.
            let radius = hyperplane::cosine_radius(bits, centring.bar, CANDIDATE_RECALL);
            let pairs = 1e6 * (1e6 - 1.0) / 2.0;
            let brute = search::exact_brute_nanos(1_000_000, bits, radius);
            assert!(brute.is_some_and(|ns| ns >= pairs), "{bits}: {brute:?}");
        }
        // At 128 bits (radius 43 at 0.776) the block tables serve, asked for or not.
        let radius = hyperplane::cosine_radius(128, centring.bar, CANDIDATE_RECALL);
        assert_eq!(search::exact_brute_nanos(1_000_000, 128, radius), None);
        // Below the band search's floor the exact search stays, at any width.
        let chosen = choose_search_for(
            MIN_BAND_ROWS - 1,
            Background::orthogonal,
            &opts,
            &centring,
            request(Some(1024)),
        );
        assert!(matches!(chosen.0, VectorSearch::Hamming(_)), "{chosen:?}");
    }

    /// The choice of search from the sampled rows alone (as the Spark driver makes it) is
    /// the choice from all rows: 20,600 rows in 2,000 tight clusters, zero rows among
    /// them (not usable: they shift the sampled positions), for which bands are chosen.
    #[test]
    fn the_sampled_rows_alone_give_the_same_choice() {
        let (dim, n) = (16, 20_600);
        let mut rng = hyperplane::Rng::new(7);
        let centres: Vec<Vec<f64>> = (0..2000)
            .map(|_| (0..dim).map(|_| rng.gaussian()).collect())
            .collect();
        let mut values = Vec::with_capacity(n * dim);
        for i in 0..n {
            if i % 5000 == 17 {
                values.extend(std::iter::repeat_n(0f32, dim));
                continue;
            }
            let c = &centres[(rng.next_u64() % 2000) as usize];
            values.extend(c.iter().map(|x| (x + 0.1 * rng.gaussian()) as f32));
        }
        let path = std::path::Path::new("clusters");
        let v = Vectors::from_values(path, values, dim).unwrap();
        let scan = v.scan();
        let rows = usable_rows(&scan);
        assert!(rows.len() < n && rows.len() >= MIN_BAND_ROWS);
        let opts = VectorOptions {
            seed: 3,
            center: true,
            threshold: 0.9,
            max_distance: None,
        };
        let centring = Centring::of(&[(&v, &rows, &scan.norms)], &opts);
        let request = SearchRequest {
            method: VectorMethod::Auto,
            bits: None,
            recall: CANDIDATE_RECALL,
            deciding: true,
        };
        let local = choose_search(&v, &rows, &scan.norms, &opts, &centring, request);
        assert!(matches!(local.0, VectorSearch::KeepFirst(_)), "{local:?}");
        // Only the sampled rows, in order, as a set of their own.
        let picked: Vec<usize> = sample_positions(rows.len())
            .into_iter()
            .map(|i| rows[i] as usize)
            .collect();
        let mut buf = vec![0f32; dim];
        let sample: Vec<f32> = (picked.iter())
            .flat_map(|&r| v.row(r, &mut buf).to_vec())
            .collect();
        let norms: Vec<f64> = picked.iter().map(|&r| scan.norms[r]).collect();
        let sv = Vectors::from_values(path, sample, dim).unwrap();
        let ids: Vec<u32> = (0..picked.len() as u32).collect();
        let sampled = choose_search_for(
            rows.len(),
            || background(&sv, &ids, &norms, &centring),
            &opts,
            &centring,
            request,
        );
        assert_eq!(sampled, local);
    }

    #[test]
    fn measured_candidate_recall_at_the_threshold_is_at_least_the_stated_one() {
        // Anisotropic unit vectors (a shared offset), each with a partner at cosine exactly
        // 0.9: the automatic radius must catch at least ~99% of these pairs, centred or not.
        let (dim, n, t) = (48, 1500, 0.9);
        let mut rng = hyperplane::Rng::new(42);
        let offset: Vec<f64> = (0..dim).map(|_| rng.gaussian() * 0.25).collect();
        let mut rows = Vec::new();
        for _ in 0..n {
            let x = unit(
                (0..dim)
                    .map(|d| rng.gaussian() * 0.15 + offset[d])
                    .collect(),
            );
            let r: Vec<f64> = (0..dim).map(|_| rng.gaussian()).collect();
            let along: f64 = r.iter().zip(&x).map(|(a, b)| a * b).sum();
            let r = unit(r.iter().zip(&x).map(|(a, b)| a - along * b).collect());
            let y: Vec<f64> = (0..dim)
                .map(|d| t * x[d] + (1.0f64 - t * t).sqrt() * r[d])
                .collect();
            rows.push(x.iter().map(|&v| v as f32).collect::<Vec<f32>>());
            rows.push(y.iter().map(|&v| v as f32).collect::<Vec<f32>>());
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pairs.npy");
        write_npy(&path, &rows, dim);
        let v = Vectors::open(&path).unwrap();
        let scan = v.scan();
        let all = usable_rows(&scan);
        for center in [true, false] {
            let opts = VectorOptions {
                seed: 3,
                center,
                threshold: t,
                max_distance: None,
            };
            let (fps, plan) = embed::<u128>(&[(&v, &all, &scan.norms)], &opts, &());
            let caught = (0..n)
                .filter(|&i| fps[0][2 * i].distance(&fps[0][2 * i + 1]) <= plan.radius)
                .count();
            let recall = caught as f64 / n as f64;
            assert!(
                recall >= 0.985,
                "center={center}: recall {recall}, {plan:?}"
            );
        }
    }

    #[test]
    fn outliers_round_up_and_rank_lowest_first() {
        let scores = [0.9, 0.1, 0.5, 0.1, 0.8];
        assert_eq!(outliers(&scores, 0.3), [(1, 0.1), (3, 0.1)]);
        assert_eq!(outliers(&scores, 0.0), []);
    }

    #[test]
    fn mmr_trades_density_for_diversity() {
        // 0 and 1 are near copies, both dense; 2 is less dense but different.
        let sim = Table(vec![
            vec![1.0, 0.99, 0.1],
            vec![0.99, 1.0, 0.1],
            vec![0.1, 0.1, 1.0],
        ]);
        let scores = [0.9, 0.89, 0.6];
        let items = [0, 1, 2];
        let pure = representatives(&scores, &items, &sim, 2, 0.0, 3);
        assert_eq!(pure.iter().map(|x| x.0).collect::<Vec<_>>(), [0, 1]);
        let diverse = representatives(&scores, &items, &sim, 2, 0.5, 3);
        assert_eq!(diverse.iter().map(|x| x.0).collect::<Vec<_>>(), [0, 2]);
    }

    #[test]
    fn candidate_limit_follows_semhash() {
        assert_eq!(candidate_limit(50, 10), 50);
        assert_eq!(candidate_limit(5000, 10), 500);
        assert_eq!(candidate_limit(100_000, 10), 1000);
        assert_eq!(candidate_limit(500, 300), 300);
    }

    #[test]
    fn knn_excludes_self_and_orders_by_distance() {
        let fps: [u64; 4] = [0b0000, 0b0001, 0b0111, 0b1111];
        let nn = knn(&fps, 2);
        assert_eq!(nn[0], [(1, 1), (2, 3)]);
        assert_eq!(nn[3], [(2, 1), (1, 3)]);
    }

    #[test]
    fn rethreshold_drops_weaker_pairs_and_keeps_exact_groups() {
        let saved = SavedResult {
            similarity: "cosine".into(),
            threshold: 0.9,
            ids: (0..4).map(|i| i.to_string()).collect(),
            skipped: vec![],
            pairs: vec![(0, 1, 1.0, true), (0, 2, 0.95, false), (1, 2, 0.95, false)],
        };
        let at_90 = saved.rethreshold(0.9, Grouping::Greedy);
        assert_eq!(at_90.assignment.removed(), 2);
        let at_97 = saved.rethreshold(0.97, Grouping::Greedy);
        assert_eq!(at_97.assignment.removed(), 1);
        assert!(at_97.assignment.duplicate_of[1].unwrap().exact);
    }

    /// The band search across two files against brute force: 400 queries (half of them
    /// near copies, cosine 0.91 to 0.99, of rows of a 3,000-row reference in 300 clusters):
    /// every leak it reports is a real one with its exact cosine, no closer than the brute
    /// force's closest, nearly every real leak is found, and the result is the same with
    /// one thread and two.
    #[test]
    fn band_leaks_against_brute_force() {
        let (dim, nr, nq) = (32, 3000, 400);
        let mut rng = hyperplane::Rng::new(17);
        let centres: Vec<Vec<f64>> = (0..300)
            .map(|_| (0..dim).map(|_| rng.gaussian()).collect())
            .collect();
        let member = |rng: &mut hyperplane::Rng| -> Vec<f64> {
            let c = &centres[(rng.next_u64() % 300) as usize];
            unit(c.iter().map(|x| x + 0.6 * rng.gaussian()).collect())
        };
        let reference: Vec<Vec<f64>> = (0..nr).map(|_| member(&mut rng)).collect();
        let queries: Vec<Vec<f64>> = (0..nq)
            .map(|i| {
                if i % 2 == 1 {
                    return member(&mut rng);
                }
                let x = &reference[(rng.next_u64() % nr as u64) as usize];
                let t = 0.91 + 0.08 * (rng.next_u64() % 1000) as f64 / 1000.0;
                let r: Vec<f64> = (0..dim).map(|_| rng.gaussian()).collect();
                let along: f64 = r.iter().zip(x).map(|(a, b)| a * b).sum();
                let r = unit(r.iter().zip(x).map(|(a, b)| a - along * b).collect());
                (0..dim)
                    .map(|d| t * x[d] + (1.0f64 - t * t).sqrt() * r[d])
                    .collect()
            })
            .collect();
        let values =
            |rows: &[Vec<f64>]| -> Vec<f32> { rows.iter().flatten().map(|&x| x as f32).collect() };
        let path = std::path::Path::new("mem");
        let q = Vectors::from_values(path, values(&queries), dim).unwrap();
        let r = Vectors::from_values(path, values(&reference), dim).unwrap();
        let (qs, rs) = (q.scan(), r.scan());
        let opts = VectorOptions {
            seed: 5,
            center: true,
            threshold: 0.9,
            max_distance: None,
        };
        let (q_rows, r_rows) = (usable_rows(&qs), usable_rows(&rs));
        let sources = [
            (&q, &q_rows[..], &qs.norms[..]),
            (&r, &r_rows[..], &rs.norms[..]),
        ];
        let centring = Centring::of(&sources, &opts);
        let request = SearchRequest {
            method: VectorMethod::Bands,
            bits: None,
            recall: CANDIDATE_RECALL,
            deciding: false,
        };
        let (search, bits) = choose_search_for(
            nq + nr,
            || background_of(&sources, &centring),
            &opts,
            &centring,
            request,
        );
        assert!(matches!(search, VectorSearch::Bands(_)), "{search:?}");
        assert_eq!(bits, BAND_BITS);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                against_vectors::<BandFingerprint>(
                    (&q, &qs),
                    (&r, &rs),
                    &opts,
                    &centring,
                    search,
                    &(),
                )
            })
        };
        let (leaks, plan, _) = run(2);
        assert_eq!(
            plan.bands,
            Some(match search {
                VectorSearch::Bands(shape) => shape,
                _ => unreachable!(),
            })
        );
        assert_eq!(run(1).0, leaks);
        let cosine = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let mut leaking = 0;
        for (i, query) in queries.iter().enumerate() {
            let best = (reference.iter().map(|x| cosine(query, x))).fold(f64::MIN, f64::max);
            leaking += (best >= 0.9) as usize;
            let Some(leak) = leaks.iter().find(|l| l.query == i as u32) else {
                continue;
            };
            let exact = cosine(query, &reference[leak.reference as usize]);
            assert!((leak.score - exact).abs() < 1e-6, "query {i}");
            assert!(leak.score >= 0.9 && leak.score <= best + 1e-6, "query {i}");
        }
        assert!(leaking >= nq / 2, "{leaking} leaking queries");
        assert!(
            leaks.len() as f64 >= 0.97 * leaking as f64,
            "{} of {leaking}",
            leaks.len()
        );
    }
}
