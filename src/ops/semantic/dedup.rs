//! Self-deduplication of vectors: exact copies first, then keep-first in input order at
//! the cosine bar.

use super::*;

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
        read: candidates,
        documents_read: 0,
    };
    (dedup, plan)
}
