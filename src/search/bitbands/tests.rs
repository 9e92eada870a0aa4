use super::*;

#[test]
fn agreement_counts_positions_that_avoid_the_differences() {
    let p = BitBandParams {
        bits: 8,
        rows: 2,
        bands: 1,
        radius: 8,
        recall: 0.99,
    };
    // C(6, 2) / C(8, 2) = 15 / 28.
    assert!((p.band_agreement(2) - 15.0 / 28.0).abs() < 1e-12);
    assert_eq!(p.band_agreement(7), 0.0);
    assert_eq!(p.band_agreement(0), 1.0);
}

#[test]
fn solved_shapes_reach_the_recall() {
    for bar in [0.7, 0.8, 0.9, 0.95] {
        for n in [10_000, 1_000_000] {
            let p = BitBandParams::solve(256, bar, 0.99, n, &Background::orthogonal())
                .expect("a shape");
            assert!(p.recall_at(bar) >= 0.99, "{bar} {n}: {p:?}");
            assert!(p.recall_at(bar + 0.03) > p.recall_at(bar));
            assert!(p.recall_at(0.0) < 1e-3, "{p:?}");
        }
    }
}

#[test]
fn a_closer_background_asks_for_longer_bands() {
    let quiet = Background::new(vec![0.0; 1000]);
    let noisy = Background::new(vec![0.6; 1000]);
    let a = BitBandParams::solve(256, 0.85, 0.99, 1_000_000, &quiet).unwrap();
    let b = BitBandParams::solve(256, 0.85, 0.99, 1_000_000, &noisy).unwrap();
    assert!(a.rows < b.rows, "{a:?} {b:?}");
}

/// `first_agreement` against its definition, for pairs differing in many bits, at
/// widths whose mask test is a constant number of words (256, 512, 1024) and one that
/// is not (192).
fn first_agreement_by_definition<const W: usize>() {
    let bits = 64 * W as u32;
    let params = BitBandParams {
        bits,
        rows: 5,
        bands: 120,
        radius: bits,
        recall: 0.99,
    };
    let bands = BitBands::new(params, 11);
    let mut rng = Rng::new(W as u64);
    let mut found = 0;
    for _ in 0..300 {
        let a = crate::fingerprint::Wide::<W>(std::array::from_fn(|_| rng.next_u64()));
        // About one bit in ten differs: some bands agree, usually not the first.
        let mut b = a;
        for w in b.0.iter_mut() {
            *w ^= rng.next_u64() & rng.next_u64() & rng.next_u64();
        }
        // Mask word w, bit j stands for fingerprint bit 64 w + j (`extract`'s words).
        let agrees = |band: usize| {
            (0..bits).all(|i| {
                bands.masks[band * W + i as usize / 64] >> (i % 64) & 1 == 0 || a.bit(i) == b.bit(i)
            })
        };
        let first = (0..120).find(|&c| agrees(c));
        for c in 0..120 {
            assert_eq!(
                bands.first_agreement(&a, &b, c),
                Some(c) == first,
                "band {c}"
            );
        }
        found += first.is_some_and(|f| f > 0) as u32;
    }
    assert!(
        found > 30,
        "pairs whose first agreement is past band 0: {found}"
    );
}

#[test]
fn first_agreement_is_the_first_band_whose_bits_agree() {
    first_agreement_by_definition::<3>();
    first_agreement_by_definition::<4>();
    first_agreement_by_definition::<8>();
    first_agreement_by_definition::<16>();
}

#[test]
fn keys_agree_exactly_when_the_band_bits_agree() {
    let params = BitBandParams {
        bits: 128,
        rows: 6,
        bands: 40,
        radius: 128,
        recall: 0.99,
    };
    let bands = BitBands::new(params, 7);
    let a: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
    for flip in 0..128 {
        let b = a ^ (1u128 << flip);
        let (mut ka, mut kb) = (vec![0; 40], vec![0; 40]);
        bands.keys_of(&a, &mut ka);
        bands.keys_of(&b, &mut kb);
        let touched =
            |band: usize| bands.masks[2 * band + flip as usize / 64] >> (flip % 64) & 1 == 1;
        for (band, (x, y)) in ka.iter().zip(&kb).enumerate() {
            assert_eq!(x == y, !touched(band), "bit {flip}");
        }
        // The first band whose bits agree, from the masks.
        let first = (0..40).find(|&c| bands.first_agreement(&a, &b, c));
        assert_eq!(first, (0..40).find(|&c| !touched(c)));
    }
    assert!(
        bands
            .masks
            .chunks(2)
            .all(|m| m.iter().map(|x| x.count_ones()).sum::<u32>() == 6)
    );
}

/// The shape of the searches over [`clustered`] fingerprints.
const CLUSTERED_SHAPE: BitBandParams = BitBandParams {
    bits: 128,
    rows: 8,
    bands: 20,
    radius: 40,
    recall: 0.99,
};

/// `n` 128-bit fingerprints around `clusters` random centres (row `i` around centre
/// `i * stride % clusters`), each with `flips.0 + i % flips.1` random bits flipped.
fn clustered(
    seed: u64,
    clusters: usize,
    n: usize,
    stride: usize,
    flips: (usize, usize),
) -> Vec<u128> {
    let mut rng = Rng::new(seed);
    let centres: Vec<u128> = (0..clusters)
        .map(|_| (rng.next_u64() as u128) << 64 | rng.next_u64() as u128)
        .collect();
    (0..n)
        .map(|i| {
            let mut fp = centres[(i * stride) % clusters];
            for _ in 0..flips.0 + i % flips.1 {
                fp ^= 1u128 << (rng.next_u64() % 128);
            }
            fp
        })
        .collect()
}

/// The keep-first search hands each row exactly the pairs of the full band search
/// whose other row is earlier and kept, through the same filters: 600 fingerprints in
/// 30 clusters (members 4 to 20 bits from their centre), a decision rule that removes
/// a row with a candidate within distance 12.
#[test]
fn keep_first_candidates_are_the_full_search_pairs_with_kept_rows() {
    let bands = BitBands::new(CLUSTERED_SHAPE, 5);
    let fps = clustered(23, 30, 600, 7, (4, 17));
    let terms: Vec<u32> = (0..fps.len() as u32).collect();
    let within = |_: &u32, _: &u32, d: u32| d <= 40;
    let keep = |a: u32, b: u32| !(a + b).is_multiple_of(5);
    let mut all = std::collections::HashSet::new();
    bands.search(&fps, &terms, &within, &keep, &(), &mut |group| {
        all.extend(group.into_iter().map(|p| (p.a, p.b)));
    });
    let mut given: Vec<Vec<u32>> = vec![Vec::new(); fps.len()];
    let mut kept = vec![false; fps.len()];
    bands.greedy(&fps, &terms, &within, &keep, &(), &mut |x, found| {
        given[x as usize] = found.iter().map(|p| p.a).collect();
        assert!(found.iter().all(|p| p.b == x));
        kept[x as usize] = !found.iter().any(|p| p.distance <= 12);
        kept[x as usize]
    });
    let removed = kept.iter().filter(|k| !**k).count();
    assert!(removed > 100 && removed < 550, "{removed} removed");
    for x in 0..fps.len() as u32 {
        let expected: Vec<u32> = (0..x)
            .filter(|&y| kept[y as usize] && all.contains(&(y, x)))
            .collect();
        assert_eq!(given[x as usize], expected, "row {x}");
    }
}

/// The cross search gives exactly the full search's pairs that cross the split, at
/// every split (none, some and all rows on either side), in the same order.
#[test]
fn cross_candidates_are_the_full_search_pairs_across_the_split() {
    let bands = BitBands::new(CLUSTERED_SHAPE, 9);
    let fps = clustered(31, 25, 500, 11, (3, 19));
    let terms: Vec<u32> = (0..fps.len() as u32).collect();
    let within = |_: &u32, _: &u32, d: u32| d <= 40;
    let keep = |a: u32, b: u32| !(a * 3 + b).is_multiple_of(7);
    let mut all = Vec::new();
    bands.search(&fps, &terms, &within, &keep, &(), &mut |group| {
        all.extend(group);
    });
    assert!(all.len() > 1000, "{} pairs", all.len());
    for split in [0, 1, 37, 250, 499, 500] {
        let mut crossing = Vec::new();
        let stats = bands.cross_search(&fps, split, &terms, &within, &keep, &(), &mut |g| {
            crossing.extend(g);
        });
        let expected: Vec<Pair> = all
            .iter()
            .filter(|p| (p.a as usize) < split && p.b as usize >= split)
            .copied()
            .collect();
        assert_eq!(crossing, expected, "split {split}");
        assert_eq!(stats.candidates, expected.len() as u64);
    }
}

/// `.npy` bytes of float32 rows.
fn npy(rows: &[Vec<f32>]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::vectors::npy::write_npy(&mut out, rows[0].len(), &rows.concat()).unwrap();
    out
}

/// Recall at the bar agrees with the solved S-curve: 2,000 pairs planted at cosines
/// 0.85, 0.9 and 0.95 (random directions, so each pair sees fresh planes), hashed to 256
/// bits, and the share that is a candidate (some band's bits agree and the distance is
/// within the radius) compared with [`BitBandParams::recall_at`], within 4 standard
/// errors; at least 0.99 at the bar and above.
#[test]
fn planted_pairs_follow_the_s_curve() {
    use crate::vectors::hyperplane::Projector;
    use crate::vectors::npy::Vectors;
    let (dim, count) = (32, 2000);
    let shape = BitBandParams::solve(256, 0.9, 0.99, 1_000_000, &Background::orthogonal()).unwrap();
    let bands = BitBands::new(shape, 3);
    let projector = Projector::new(dim, 256, 9);
    let mut rng = Rng::new(17);
    for cosine in [0.85, 0.9, 0.95] {
        let mut rows = Vec::new();
        for _ in 0..count {
            let a: Vec<f64> = (0..dim).map(|_| rng.gaussian()).collect();
            let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
            let a: Vec<f64> = a.iter().map(|x| x / na).collect();
            let r: Vec<f64> = (0..dim).map(|_| rng.gaussian()).collect();
            let along: f64 = r.iter().zip(&a).map(|(x, y)| x * y).sum();
            let r: Vec<f64> = r.iter().zip(&a).map(|(x, y)| x - along * y).collect();
            let nr = r.iter().map(|x| x * x).sum::<f64>().sqrt();
            let b: Vec<f64> = a
                .iter()
                .zip(&r)
                .map(|(x, y)| cosine * x + (1.0 - cosine * cosine).sqrt() * y / nr)
                .collect();
            rows.push(a.iter().map(|&x| x as f32).collect());
            rows.push(b.iter().map(|&x| x as f32).collect());
        }
        let v = Vectors::from_bytes(std::path::Path::new("planted.npy"), npy(&rows)).unwrap();
        let ids: Vec<u32> = (0..rows.len() as u32).collect();
        let norms: Vec<f64> = rows
            .iter()
            .map(|r| r.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt())
            .collect();
        let fps: Vec<crate::Bits256> = projector.fingerprints(&v, &ids, &norms, &());
        let keys = bands.keys(&fps);
        let found = (0..count)
            .filter(|&i| {
                let (a, b) = (2 * i, 2 * i + 1);
                fps[a].distance(&fps[b]) <= shape.radius
                    && keys.get(a).iter().zip(keys.get(b)).any(|(x, y)| x == y)
            })
            .count();
        let measured = found as f64 / count as f64;
        let expected = shape.recall_at(cosine);
        let se = (expected * (1.0 - expected) / count as f64)
            .sqrt()
            .max(1e-3);
        assert!(
            (measured - expected).abs() <= 4.0 * se,
            "cosine {cosine}: measured {measured}, S-curve {expected} ({shape:?})"
        );
        if cosine >= 0.9 {
            assert!(expected >= 0.99 && measured >= 0.98, "{cosine}: {measured}");
        }
    }
}
