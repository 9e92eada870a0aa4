//! Deduplication against a reference set (leakage): each query record's best match in the
//! reference at or above the bar, for vectors and for texts.

use super::*;

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
                verify_band_candidates(&ids, &fingerprints, &mut verifier, progress, |sink| {
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
