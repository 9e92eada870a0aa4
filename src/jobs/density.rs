//! Density jobs: every record's mean similarity to its nearest neighbours
//! ([`text_densities`], [`vector_densities`]), and from the scores SemHash's outliers (the
//! least dense) and representatives (dense and diverse, by maximal marginal relevance).

use rayon::prelude::*;

use crate::error::{Error, Report};
use crate::fingerprint::Fingerprint;
use crate::ops::semantic::{self, Cosine, FieldSets, ShingleSets, Similarity};
use crate::progress::Progress;
use crate::text::simhash::TextConfig;
use crate::text::texts::{DocStats, Joined, TextSource, Texts};
use crate::vectors::npy::{Scan, Vectors};

use super::{VectorJob, check_vector_bits};

/// An exact similarity of two scored records, by their index in the scores.
type ScoreSimilarity<'a> = Box<dyn Fn(u32, u32) -> f64 + Sync + 'a>;

/// Density scores of the records that could be scored, and an exact similarity between
/// them.
pub struct Densities<'a> {
    /// `scores[i]`: mean exact similarity of record `records[i]` to its nearest neighbours.
    pub scores: Vec<f64>,
    /// The record each score belongs to (non-finite and zero vectors are left out).
    pub records: Vec<u32>,
    /// Similarity of two scored records, by their index in `scores`.
    sim: ScoreSimilarity<'a>,
}

struct ByScore<'s, 'a>(&'s Densities<'a>);

impl Similarity for ByScore<'_, '_> {
    fn similarity(&self, a: u32, b: u32) -> f64 {
        (self.0.sim)(a, b)
    }
}

impl Densities<'_> {
    /// The least dense `fraction` of the records (rounded up, as SemHash does), as
    /// (record, score), least dense first.
    pub fn outliers(&self, fraction: f64) -> Vec<(u32, f64)> {
        semantic::outliers(&self.scores, fraction)
            .into_iter()
            .map(|(i, s)| (self.records[i as usize], s))
            .collect()
    }

    /// `count` representatives, as (record, density) in selection order: the `limit`
    /// densest records are candidates (`None`: SemHash's automatic limit,
    /// [`semantic::candidate_limit`]), chosen by maximal marginal relevance with weight
    /// `diversity` on dissimilarity to those already chosen.
    pub fn representatives(
        &self,
        count: usize,
        diversity: f64,
        limit: Option<usize>,
    ) -> Vec<(u32, f64)> {
        let n = self.scores.len();
        let limit = limit
            .unwrap_or_else(|| semantic::candidate_limit(n, count))
            .min(n);
        let items: Vec<u32> = (0..n as u32).collect();
        semantic::representatives(
            &self.scores,
            &items,
            &ByScore(self),
            count,
            diversity,
            limit,
        )
        .into_iter()
        .map(|(i, s)| (self.records[i as usize], s))
        .collect()
    }
}

/// Densities of texts: neighbours from the SimHash fingerprints, scored by exact Jaccard
/// (the smallest per-field Jaccard for records). Texts that cannot be read again are
/// reported and score against nothing.
pub fn text_densities<F: Fingerprint, D: DocStats>(
    texts: Texts<'_, F, D>,
    config: &TextConfig,
    k: usize,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Densities<'static> {
    let sets: Vec<Vec<u64>> = (0..texts.len())
        .into_par_iter()
        .map(|i| match texts.source.shingle_set(i, config) {
            Ok((shingles, _)) => shingles,
            Err(e) => {
                report.report(e);
                Vec::new()
            }
        })
        .collect();
    let records: Vec<u32> = (0..texts.len() as u32).collect();
    let (scores, sim): (Vec<f64>, ScoreSimilarity) = if texts.source.separator().is_some() {
        let sets = FieldSets(sets);
        let scores = semantic::density(texts.fingerprints, &records, &sets, k, progress);
        (scores, Box::new(move |a, b| sets.similarity(a, b)))
    } else {
        let sets = ShingleSets(sets);
        let scores = semantic::density(texts.fingerprints, &records, &sets, k, progress);
        (scores, Box::new(move |a, b| sets.similarity(a, b)))
    };
    Densities {
        scores,
        records,
        sim,
    }
}

/// Densities of the rows of `v` by cosine: neighbours from hyperplane fingerprints of the
/// job's width (128 unless given). Non-finite and zero rows are not scored.
pub fn vector_densities<'a>(
    v: &'a Vectors,
    scan: &'a Scan,
    job: &VectorJob,
    k: usize,
    progress: &dyn Progress,
) -> Result<Densities<'a>, Error> {
    let bits = job.bits.unwrap_or(128);
    check_vector_bits(bits)?;
    let rows = semantic::usable_rows(scan);
    let opts = job.options();
    let scores = crate::with_width!(bits, F => {
        let (fps, _) = semantic::embed::<F>(&[(v, &rows, &scan.norms)], &opts, progress);
        semantic::density(&fps[0], &rows, &Cosine::new(v, &scan.norms), k, progress)
    });
    let sim_rows = rows.clone();
    let sim = Cosine::new(v, &scan.norms);
    Ok(Densities {
        scores,
        records: rows,
        sim: Box::new(move |a, b| sim.similarity(sim_rows[a as usize], sim_rows[b as usize])),
    })
}

/// Densities of query texts against reference texts ([`semantic::density_against`]):
/// each query's mean Jaccard to its nearest reference texts. The similarity kept for
/// representatives is between queries.
pub fn text_densities_against<F: Fingerprint, D: DocStats>(
    queries: Texts<'_, F, D>,
    reference: Texts<'_, F, D>,
    config: &TextConfig,
    k: usize,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Densities<'static> {
    let source = Joined {
        first: queries.source,
        second: reference.source,
        split: queries.len(),
    };
    let n = queries.len() + reference.len();
    let sets: Vec<Vec<u64>> = (0..n)
        .into_par_iter()
        .map(|i| match source.shingle_set(i, config) {
            Ok((shingles, _)) => shingles,
            Err(e) => {
                report.report(e);
                Vec::new()
            }
        })
        .collect();
    let fps: Vec<F> = queries
        .fingerprints
        .iter()
        .chain(reference.fingerprints)
        .copied()
        .collect();
    let items: Vec<u32> = (0..n as u32).collect();
    let split = queries.len();
    let (scores, sim): (Vec<f64>, ScoreSimilarity) = if source.separator().is_some() {
        let sets = FieldSets(sets);
        let scores = semantic::density_against(&fps, &items, split, &sets, k, progress);
        (scores, Box::new(move |a, b| sets.similarity(a, b)))
    } else {
        let sets = ShingleSets(sets);
        let scores = semantic::density_against(&fps, &items, split, &sets, k, progress);
        (scores, Box::new(move |a, b| sets.similarity(a, b)))
    };
    Densities {
        scores,
        records: (0..split as u32).collect(),
        sim,
    }
}

/// Densities of the rows of `queries` against the rows of `reference` by cosine (planes
/// and centring shared): each query row's mean cosine to its nearest reference rows.
/// Non-finite and zero rows are not scored.
pub fn vector_densities_against<'a>(
    queries: (&'a Vectors, &'a Scan),
    reference: (&'a Vectors, &'a Scan),
    job: &VectorJob,
    k: usize,
    progress: &dyn Progress,
) -> Result<Densities<'a>, Error> {
    let bits = job.bits.unwrap_or(128);
    check_vector_bits(bits)?;
    let ((q, qs), (r, rs)) = (queries, reference);
    let (q_rows, r_rows) = (semantic::usable_rows(qs), semantic::usable_rows(rs));
    let opts = job.options();
    let split = q.rows() as u32;
    let items: Vec<u32> = q_rows
        .iter()
        .copied()
        .chain(r_rows.iter().map(|&i| split + i))
        .collect();
    let sim = Cosine::pair((q, &qs.norms), (r, &rs.norms));
    let scores = crate::with_width!(bits, F => {
        let (fps, _) = semantic::embed::<F>(
            &[(q, &q_rows, &qs.norms), (r, &r_rows, &rs.norms)],
            &opts,
            progress,
        );
        let all: Vec<F> = fps.concat();
        semantic::density_against(&all, &items, q_rows.len(), &sim, k, progress)
    });
    let sim_rows = q_rows.clone();
    let sim = Cosine::new(q, &qs.norms);
    Ok(Densities {
        scores,
        records: q_rows,
        sim: Box::new(move |a, b| sim.similarity(sim_rows[a as usize], sim_rows[b as usize])),
    })
}
