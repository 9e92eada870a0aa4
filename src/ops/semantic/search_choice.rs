//! The choice of search for vectors (exact Hamming radius or bit-sampling bands), made by a
//! cost model over a background sample, and the radius a pair must pass.

use super::*;

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
/// duplicates on average per band of the shape (its sequential visit then skips more work
/// than it costs) ... The keep-first visit reads every row's run in every band, one row
/// after the other: 67-105 ns a row and band, measured; the full search verifies every
/// candidate, about n × neighbours / 2 of them, at about 1.5 µs each. On 100k licence
/// sentences (136 neighbours a row, 190 bands) keep-first took 2.4 s against 7.6 s; on
/// 62k verses and quotations (3.8 neighbours, 300 bands) 1.55 s against 0.80 s.
const KEEP_FIRST_NEIGHBOURS_PER_BAND: f64 = 0.1;

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
    let pays =
        neighbours >= 1.0 && neighbours >= shape.bands as f64 * KEEP_FIRST_NEIGHBOURS_PER_BAND;
    if deciding && pays && bytes <= KEEP_FIRST_BYTES {
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
    pub(super) fn new(
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
pub(super) struct CodeBound<'a> {
    pub(super) codes: &'a Codes,
    pub(super) threshold: f64,
}

impl PairTest for CodeBound<'_> {
    fn keep(&self, a: u32, b: u32) -> bool {
        self.codes.may_reach(a, b, self.threshold)
    }

    fn prefetch(&self, x: u32) {
        self.codes.prefetch(x);
    }
}
