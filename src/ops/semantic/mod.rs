//! The semantic operations (SemHash's): self-deduplication, deduplication against a
//! reference set, outliers and representatives. Fingerprints propose candidates (Hamming
//! radius or Hamming nearest neighbours); an exact similarity decides: cosine of the
//! original vectors, or, for text, Jaccard of the shingle sets ([`Similarity`]).

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Report};
use crate::fingerprint::Fingerprint;
use crate::ops::dedup::{
    Dedup, ExactGroups, Grouping, assign_groups, assign_nodes, verify_band_candidates,
};
use crate::progress::Progress;
use crate::search::bitbands::{Background, BitBandParams, BitBands, ENTRY_NANOS, PairTest};
use crate::search::{self, Method, Pair, SearchOptions};
use crate::text::simhash::TextConfig;
use crate::text::texts::{DocStats, Joined, Texts};
use crate::vectors::hyperplane::{self, Projector};
use crate::vectors::npy::{Codes, Scan, Vectors, dot};
use crate::verify::ScoredPair;
use crate::verify::{Verifier, verify_pairs};

mod search_choice;
mod dedup;
mod leakage;
mod density;

pub use dedup::*;
pub use density::*;
pub use leakage::*;
pub use search_choice::*;

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
        self.rethresholder().at(threshold, grouping)
    }

    /// The decisions at any number of thresholds, the exact groups built once.
    pub fn rethresholder(&self) -> Rethreshold<'_> {
        Rethreshold::new(self.ids.len(), &self.skipped, &self.pairs)
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
    Rethreshold::new(n, skipped, pairs).at(threshold, grouping)
}

/// [`rethreshold`] at several thresholds: the exact-duplicate groups, which no threshold
/// changes, are built once ([`Rethreshold::new`]), then each [`Rethreshold::at`] decides
/// from the near pairs at or above its threshold.
pub struct Rethreshold<'a> {
    n: usize,
    pairs: &'a [(u32, u32, f64, bool)],
    /// Each record's exact group is led by its smallest member.
    leader: Vec<u32>,
    groups: ExactGroups,
    /// Each representative's group (its place in keep order); `u32::MAX` for the others.
    group_of: Vec<u32>,
    /// Records that are exact copies of their group's first (removed at any threshold).
    copies: usize,
}

impl<'a> Rethreshold<'a> {
    pub fn new(n: usize, skipped: &[u32], pairs: &'a [(u32, u32, f64, bool)]) -> Self {
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
        let mut group_of = vec![u32::MAX; n];
        let mut copies = 0;
        for (g, members) in groups.iter().enumerate() {
            group_of[members[0] as usize] = g as u32;
            copies += members.len() - 1;
        }
        Rethreshold {
            n,
            pairs,
            leader,
            groups,
            group_of,
            copies,
        }
    }

    /// The near pairs between group representatives at or above `threshold`.
    fn near(&self, threshold: f64) -> Vec<ScoredPair> {
        let leader = &self.leader;
        self.pairs
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
            .collect()
    }

    /// How many records [`Rethreshold::at`] removes at `threshold`, in time linear in the
    /// near pairs, not the records: every copy is removed, and of the groups with a near
    /// pair, those the grouping removes.
    pub fn removed_at(&self, threshold: f64, grouping: Grouping) -> usize {
        let near = self.near(threshold);
        let mut reps: Vec<u32> = near.iter().flat_map(|p| [p.a, p.b]).collect();
        reps.sort_unstable_by_key(|&r| self.group_of[r as usize]);
        reps.dedup();
        let node = |r: u32| {
            let g = self.group_of[r as usize];
            reps.binary_search_by_key(&g, |&x| self.group_of[x as usize])
                .expect("listed") as u32
        };
        self.copies + assign_nodes(reps.len(), &near, node, grouping).removed()
    }

    /// The decisions at `threshold`.
    pub fn at(&self, threshold: f64, grouping: Grouping) -> Dedup {
        let near = self.near(threshold);
        let (pairs, assignment) = assign_groups(self.n, &self.groups, &near, grouping);
        Dedup {
            pairs,
            assignment,
            candidates: 0,
            read: 0,
            documents_read: 0,
        }
    }
}

#[cfg(test)]
mod tests;
