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

/// The removal count the report's threshold table takes ([`Rethreshold::removed_at`],
/// linear in the pairs) is the full decision pass's at every bar, for both groupings, on
/// random runs with exact copies, chains and skipped records.
#[test]
fn removal_counts_equal_the_full_decisions() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    for _ in 0..200 {
        let n = 2 + next(60) as u32;
        let skipped: Vec<u32> = (0..n).filter(|_| next(10) == 0).collect();
        let mut pairs = Vec::new();
        for _ in 0..next(3 * n as u64) {
            let (a, b) = (next(n as u64) as u32, next(n as u64) as u32);
            if a >= b || skipped.contains(&a) || skipped.contains(&b) {
                continue;
            }
            let exact = next(5) == 0;
            let score = if exact {
                1.0
            } else {
                0.5 + next(50) as f64 / 100.0
            };
            pairs.push((a, b, score, exact));
        }
        let decisions = Rethreshold::new(n as usize, &skipped, &pairs);
        for bar in [0.5, 0.6, 0.75, 0.9, 0.99, 1.0] {
            for grouping in [Grouping::Greedy, Grouping::Components] {
                let full = decisions.at(bar, grouping).assignment.removed();
                assert_eq!(
                    decisions.removed_at(bar, grouping),
                    full,
                    "n {n} bar {bar} {pairs:?}"
                );
            }
        }
    }
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
            against_vectors::<BandFingerprint>((&q, &qs), (&r, &rs), &opts, &centring, search, &())
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
