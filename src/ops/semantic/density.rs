//! Neighbourhood density: each record's similarity to its nearest neighbours, the outliers
//! it ranks, and representatives chosen from the densest records.

use super::*;

/// Above this many items, neighbours are found by [`search::knn::approximate_knn`]
/// (bounded work) instead of the exact search (quadratic when neighbours are far).
pub const EXACT_KNN_MAX: usize = 20_000;

/// The `k` nearest fingerprints of every item by Hamming distance (self excluded; ties by
/// index), as (index, distance): exact up to [`EXACT_KNN_MAX`] items, approximate above.
pub(super) fn knn<F: Fingerprint>(fps: &[F], k: usize) -> Vec<Vec<(u32, u32)>> {
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
