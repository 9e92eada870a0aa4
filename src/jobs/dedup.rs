//! Deduplication jobs. Texts are loaded with the band shape their job needs (the keys are
//! computed in the fingerprinting pass), then deduplicated by themselves
//! ([`dedup_texts`]) or against a reference ([`against_texts`]); vectors likewise
//! ([`dedup_vectors`], [`against_vectors`]). Results are SemHash's: every verified pair,
//! and which record is kept and which duplicates which; [`to_target_size`] finds the
//! threshold that keeps a given number of records from one search's pairs.

use std::path::Path;

use crate::error::{Error, Report};
use crate::fingerprint::Fingerprint;
use crate::input::PathList;
use crate::ops::cluster::Assignment;
use crate::ops::dedup::{self, Candidates, Dedup, DedupOptions, Grouping, PairSet};
use crate::ops::semantic::{self, Centring, Leak, Plan, SearchRequest};
use crate::output::records::RemovedAs;
use crate::progress::Progress;
use crate::records::{RecordOptions, RecordSet, read_records};
use crate::search::SearchOptions;
use crate::text::batch::{self, TextBatch, TextColumn};
use crate::text::corpus::{self, Corpus, fingerprint_files};
use crate::text::minhash::{BandGoal, BandParams, KeyStore};
use crate::text::simhash::CityHash;
use crate::text::texts::DocStats;
use crate::vectors::npy::{Scan, Vectors};

use super::{TextJob, TextSearch, Texts, VectorJob, check_vector_bits};

/// Reads and fingerprints `files` for `job`: with the band search, the shape is solved for
/// their number and a sampled background ([`corpus::band_shape`]) and the keys computed in
/// the same pass. Returns the corpus and the shape.
pub fn load_files<F: CityHash>(
    files: PathList,
    allow_binary: bool,
    job: &TextJob,
    progress: &dyn Progress,
    report: &dyn Report,
) -> (Corpus<F>, Option<BandParams>) {
    let bands = job
        .band_recall()
        .map(|recall| corpus::band_shape(&files, &job.text, job.threshold, recall));
    let corpus = fingerprint_files::<F>(files, &job.text, bands, allow_binary, progress, report);
    (corpus, bands)
}

/// Reads one dataset file for `job` (`opts.bands` is set here). The row count is not known
/// before the single pass, so the band shape is solved once the first rows are read: for
/// the count their mean size predicts and the background of a sample of them
/// ([`crate::records::RecordSet::shape`]).
pub fn load_dataset<F: CityHash>(
    path: &Path,
    opts: &RecordOptions,
    job: &TextJob,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Result<(RecordSet<F>, Option<BandParams>), Error> {
    let opts = RecordOptions {
        bands: job.band_recall().map(|recall| BandGoal {
            bar: job.threshold,
            recall,
        }),
        ..opts.clone()
    };
    let set = read_records::<F>(path, &opts, &job.text, progress, report)?;
    let bands = set.shape;
    Ok((set, bands))
}

/// Fingerprints texts held in memory for `job` (records of several fields with `fields`;
/// see [`batch::join_fields`]); the band shape from a sampled background.
pub fn load_batch<F: CityHash>(
    texts: impl Into<TextColumn>,
    fields: bool,
    job: &TextJob,
    progress: &dyn Progress,
) -> (TextBatch<F>, Option<BandParams>) {
    let texts = texts.into();
    let bands = job
        .band_recall()
        .map(|recall| batch::band_shape(&texts, &job.text, job.threshold, recall));
    (
        TextBatch::new(texts, fields, &job.text, bands, progress),
        bands,
    )
}

/// Self-deduplication of `texts`: exact duplicates by digest, then candidates from the
/// band `keys` (the texts' MinHash band keys, taken so that the search frees them before
/// verification allocates: see [`dedup::dedup_with_keys`]) or, without keys, the Hamming
/// search; verified by exact Jaccard (the smallest per-field Jaccard for records) at the
/// job's threshold, and assigned in keep order. `texts.fingerprints` may be empty with
/// keys (the pairs' distances are then 0). Fails only if spilled keys cannot be read back.
pub fn dedup_texts<F: Fingerprint, D: DocStats>(
    texts: Texts<'_, F, D>,
    keys: Option<KeyStore>,
    job: &TextJob,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Result<Dedup, Error> {
    let k = job.radius(F::BITS);
    let search = match (&keys, job.search) {
        (None, TextSearch::Hamming { method, .. }) => SearchOptions {
            method,
            max_distance: k,
        },
        _ => SearchOptions::exact(k),
    };
    let opts = DedupOptions {
        search,
        min_similarity: job.threshold,
        keep: job.keep,
        grouping: job.grouping,
    };
    match keys {
        Some(keys) => dedup::dedup_with_keys(
            texts.fingerprints,
            texts.docs,
            keys,
            texts.source,
            &job.text,
            &opts,
            progress,
            report,
        ),
        None => Ok(dedup::dedup(
            texts.fingerprints,
            texts.docs,
            Candidates::Hamming,
            texts.source,
            &job.text,
            &opts,
            progress,
            report,
        )),
    }
}

/// Leakage: every query text whose Jaccard similarity to some reference text reaches the
/// job's threshold, naming the most similar (reference texts numbered from 0). Both sides
/// must be fingerprinted alike; the band search runs when both have band keys of the same
/// shape, the Hamming search within the job's radius otherwise. Also returns the number of
/// candidate pairs verified.
pub fn against_texts<F: Fingerprint, D: DocStats>(
    queries: Texts<'_, F, D>,
    reference: Texts<'_, F, D>,
    job: &TextJob,
    progress: &dyn Progress,
    report: &dyn Report,
) -> (Vec<Leak>, usize) {
    semantic::against_texts(
        queries,
        reference,
        &job.text,
        job.threshold,
        job.radius(F::BITS),
        progress,
        report,
    )
}

/// The fingerprint width `job` runs with for a self-deduplication of `rows` of `v`, and the
/// search ([`semantic::choose_search`]).
fn plan_search(
    v: &Vectors,
    scan: &Scan,
    job: &VectorJob,
) -> (semantic::VectorSearch, u32, Centring) {
    let opts = job.options();
    let rows = semantic::usable_rows(scan);
    let centring = Centring::of(&[(v, &rows, &scan.norms)], &opts);
    let request = SearchRequest {
        method: job.method,
        bits: job.bits,
        recall: job.recall,
        deciding: job.pairs == PairSet::Deciding && job.grouping == Grouping::Greedy,
    };
    let (search, bits) = semantic::choose_search(v, &rows, &scan.norms, &opts, &centring, request);
    (search, bits, centring)
}

/// Self-deduplication of the rows of `v` by cosine (SemHash's semantics; see
/// [`semantic::dedup_vectors`]), with the search the job asks for or the cost model picks.
/// Non-finite rows (in `scan`) take no part. Returns the result and the plan that ran.
pub fn dedup_vectors(
    v: &Vectors,
    scan: &Scan,
    job: &VectorJob,
    progress: &dyn Progress,
) -> Result<(Dedup, Plan), Error> {
    if let Some(bits) = job.bits {
        check_vector_bits(bits)?;
    }
    let (search, bits, centring) = plan_search(v, scan, job);
    let opts = job.options();
    crate::with_width!(bits, F => Ok(semantic::dedup_vectors::<F>(
        v, scan, &opts, &centring, search, job.grouping, progress
    )))
}

/// Vector leakage: every query row whose cosine to some reference row reaches the job's
/// threshold, naming the closest; planes and centring shared by both. Returns the leaks,
/// the plan and the number of candidates verified.
pub fn against_vectors(
    queries: (&Vectors, &Scan),
    reference: (&Vectors, &Scan),
    job: &VectorJob,
    progress: &dyn Progress,
) -> Result<(Vec<Leak>, Plan, usize), Error> {
    if queries.0.dim() != reference.0.dim() {
        return Err(Error::Setting {
            message: format!(
                "{} has {} dimensions, {} has {}",
                queries.0.path().display(),
                queries.0.dim(),
                reference.0.path().display(),
                reference.0.dim()
            ),
        });
    }
    if let Some(bits) = job.bits {
        check_vector_bits(bits)?;
    }
    let opts = job.options();
    let (q, qs) = queries;
    let (r, rs) = reference;
    let (q_rows, r_rows) = (semantic::usable_rows(qs), semantic::usable_rows(rs));
    let sources = [
        (q, &q_rows[..], &qs.norms[..]),
        (r, &r_rows[..], &rs.norms[..]),
    ];
    let centring = Centring::of(&sources, &opts);
    // The cost model sees both files as one set: it overestimates the pairs to search
    // (those within each file are skipped), alike for both methods.
    let request = SearchRequest {
        method: job.method,
        bits: job.bits,
        recall: job.recall,
        deciding: false,
    };
    let (search, bits) = semantic::choose_search_for(
        q_rows.len() + r_rows.len(),
        || semantic::background_of(&sources, &centring),
        &opts,
        &centring,
        request,
    );
    crate::with_width!(bits, F => Ok(semantic::against_vectors::<F>(
        queries, reference, &opts, &centring, search, progress
    )))
}

/// A dedup's decisions as the dataset writer takes them
/// ([`crate::output::records::write_records`]): for row `i`, `None` when kept, else the kept
/// row it duplicates and the score.
pub fn removed_as(assignment: &Assignment) -> impl Fn(usize) -> Option<RemovedAs> + '_ {
    |i| {
        assignment.duplicate_of[i].map(|d| RemovedAs {
            kept: d.kept,
            score: d.score,
        })
    }
}

/// The threshold whose decisions keep the number of records closest to `target`, and those
/// decisions, from the pairs of one search at `saved.threshold` (the lowest threshold
/// considered): a bisection over the distinct pair scores, each step deciding again from
/// the pairs in memory ([`semantic::SavedResult::rethreshold`], linear in the pairs), so
/// `O(P log P)` in all and no search again. Raising the threshold only drops pairs, so the
/// kept count grows with it; the candidates are the pair scores and, above them all, the
/// smallest threshold no near pair reaches (exact copies are removed at any threshold).
pub fn to_target_size(
    saved: &semantic::SavedResult,
    target: usize,
    grouping: Grouping,
) -> (f64, Dedup) {
    let mut scores: Vec<f64> = saved
        .pairs
        .iter()
        .filter(|p| !p.3 && p.2 >= saved.threshold)
        .map(|p| p.2)
        .collect();
    scores.push(saved.threshold);
    scores.sort_by(f64::total_cmp);
    scores.dedup();
    let above = scores.last().expect("one score at least").next_up();
    let candidate = |i: usize| scores.get(i).copied().unwrap_or(above);
    let n = saved.ids.len() - saved.skipped.len();
    let decisions = saved.rethresholder();
    let decide = |i: usize| {
        let d = decisions.at(candidate(i), grouping);
        (n - d.assignment.removed(), d)
    };
    // The first candidate keeping at least `target` (the last one when none does).
    let (mut lo, mut hi) = (0, scores.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if decide(mid).0 >= target {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let (kept, d) = decide(lo);
    if lo > 0 {
        let (below, d_below) = decide(lo - 1);
        if target.abs_diff(below) < target.abs_diff(kept) {
            return (candidate(lo - 1), d_below);
        }
    }
    (candidate(lo), d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_size_picks_the_closest_threshold() {
        // Records 0..6: 1 and 2 copy 0 at 0.95 and 0.85, 4 copies 3 at 0.75, 5 copies 0 exactly.
        let saved = semantic::SavedResult {
            similarity: "cosine".into(),
            threshold: 0.7,
            ids: (0..6).map(|i| i.to_string()).collect(),
            skipped: vec![],
            pairs: vec![
                (0, 1, 0.95, false),
                (0, 2, 0.85, false),
                (3, 4, 0.75, false),
                (0, 5, 1.0, true),
            ],
        };
        let kept = |t: usize| {
            let (threshold, d) = to_target_size(&saved, t, Grouping::Greedy);
            (threshold, 6 - d.assignment.removed())
        };
        assert_eq!(kept(1), (0.7, 2));
        assert_eq!(kept(2), (0.7, 2));
        assert_eq!(kept(3), (0.85, 3));
        assert_eq!(kept(4), (0.95, 4));
        // Above every near pair: only the exact copy is removed, at any larger target.
        assert_eq!(kept(5), (0.95f64.next_up(), 5));
        assert_eq!(kept(6), (0.95f64.next_up(), 5));
    }
}
