use proptest::prelude::*;

use super::*;
use crate::Bits256;
use crate::search::brute;
use crate::search::synth::{SplitMix64, flip, toggle, uniform};

/// A hard test set of about `n` fingerprints: uniform ones, partners planted at every
/// distance `0..=k + 1`, groups of identical values, a dense cluster varying in 10 bits,
/// and a quarter sharing all but their 12 low bits.
pub(crate) fn dataset<F: Fingerprint>(seed: u64, n: usize, k: u32) -> Vec<F> {
    let mut rng = SplitMix64::new(seed);
    let mut fps: Vec<F> = (0..n / 4 + 1).map(|_| uniform(&mut rng)).collect();
    for d in 0..=(k + 1).min(F::BITS) {
        for _ in 0..2 {
            let base = fps[rng.below(fps.len() as u64) as usize];
            fps.push(flip(base, d, &mut rng));
        }
    }
    for _ in 0..3 {
        let base = fps[rng.below(fps.len() as u64) as usize];
        for _ in 0..2 + rng.below(6) {
            fps.push(base);
        }
    }
    let center: F = uniform(&mut rng);
    let varying: Vec<u32> = (0..10)
        .map(|_| rng.below(u64::from(F::BITS)) as u32)
        .collect();
    for _ in 0..n / 4 {
        let mut fp = center;
        for &i in &varying {
            if rng.next_u64() & 1 == 1 {
                fp = toggle(fp, i);
            }
        }
        fps.push(fp);
    }
    let constant: F = uniform(&mut rng);
    for _ in 0..n / 4 {
        let mut fp = constant;
        for i in 0..12 {
            if rng.next_u64() & 1 == 1 {
                fp = toggle(fp, i);
            }
        }
        fps.push(fp);
    }
    for i in (1..fps.len()).rev() {
        fps.swap(i, rng.below(i as u64 + 1) as usize);
    }
    fps
}

/// `search` (with heavy runs always split, or as the cost model says) equals brute force.
fn check_exact<F: Fingerprint>(seed: u64, n: usize, k: u32, blocks: Option<u32>, split: bool) {
    let fps: Vec<F> = dataset(seed, n, k);
    let (got, stats) = search_with(&fps, k, blocks, split, &());
    let want = brute::search(&fps, k, &());
    assert_eq!(got, want, "k={k} blocks={blocks:?} split={split}");
    assert_eq!(stats.pairs, want.len() as u64);
}

/// `cross_search` equals brute force over every (query, reference) pair.
fn check_cross<F: Fingerprint>(seed: u64, n: usize, k: u32, blocks: Option<u32>) {
    let fps: Vec<F> = dataset(seed, n, k);
    let (queries, reference) = fps.split_at(fps.len() / 3);
    let (got, _) = cross_search(queries, reference, k, blocks, &());
    let mut want = Vec::new();
    for (q, fq) in queries.iter().enumerate() {
        for (r, fr) in reference.iter().enumerate() {
            let distance = fq.distance(fr);
            if distance <= k {
                want.push(CrossPair {
                    query: q as u32,
                    reference: r as u32,
                    distance,
                });
            }
        }
    }
    assert_eq!(got, want, "k={k} blocks={blocks:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn exact_u32(seed: u64, k in 0u32..7, extra in proptest::option::of(0u32..5), split: bool) {
        check_exact::<u32>(seed, 120, k, extra.map(|e| k + e), split);
    }

    #[test]
    fn exact_u64(seed: u64, k in 0u32..9, extra in proptest::option::of(0u32..5), split: bool) {
        check_exact::<u64>(seed, 120, k, extra.map(|e| k + e), split);
    }

    #[test]
    fn exact_u128(seed: u64, k in 0u32..13, extra in proptest::option::of(0u32..4), split: bool) {
        check_exact::<u128>(seed, 100, k, extra.map(|e| k + e), split);
    }

    #[test]
    fn exact_256(seed: u64, k in 0u32..11, extra in proptest::option::of(0u32..4), split: bool) {
        check_exact::<Bits256>(seed, 80, k, extra.map(|e| k + e), split);
    }

    #[test]
    fn cross_u64(seed: u64, k in 0u32..9, extra in proptest::option::of(0u32..5)) {
        check_cross::<u64>(seed, 120, k, extra.map(|e| k + e));
    }

    #[test]
    fn cross_256(seed: u64, k in 0u32..11, extra in proptest::option::of(0u32..4)) {
        check_cross::<Bits256>(seed, 100, k, extra.map(|e| k + e));
    }
}

#[test]
fn heavy_runs_are_split() {
    let fps: Vec<u64> = dataset(11, 200, 4);
    let (got, stats) = search_with(&fps, 4, Some(6), true, &());
    assert_eq!(got, brute::search(&fps, 4, &()));
    assert!(stats.subtables > 0, "{stats:?}");
}

/// Skewed input: half of 20k items are copies of a few values, the other half share
/// 44 constant bits, so three of the four top-level tables hold one run of 10^4 values.
/// Comparing inside that run would cost 5 * 10^7 candidates per table; sub-tables keep
/// leaf runs to a few dozen values, so candidates stay linear in the distinct values
/// (a bounded number per value and table) plus a small factor of the pairs found.
#[test]
fn skewed_input_stays_near_linear_in_output() {
    let mut rng = SplitMix64::new(42);
    let mut fps: Vec<u64> = Vec::new();
    let one: u64 = uniform(&mut rng);
    fps.extend(std::iter::repeat_n(one, 500));
    for _ in 0..950 {
        let v: u64 = uniform(&mut rng);
        fps.extend(std::iter::repeat_n(v, 10));
    }
    let constant = uniform::<u64>(&mut rng) & !0xf_ffff;
    fps.extend((0..10_000).map(|_| constant | rng.next_u64() & 0xf_ffff));
    let k = 3;
    let (pairs, stats) = search(&fps, k, None, &());
    eprintln!("{stats:?}");
    assert_eq!(stats.pairs, pairs.len() as u64);
    let bound = 500 * stats.unique + 10 * stats.unique_pairs;
    assert!(stats.candidates <= bound, "{stats:?}");
    // Spot-check against brute force on a slice of the input.
    let part = &fps[9_000..11_000];
    assert_eq!(search(part, k, None, &()).0, brute::search(part, k, &()));
}

#[test]
fn same_output_for_any_thread_count() {
    let fps: Vec<u64> = dataset(9, 800, 5);
    let with = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (pairs, stats) = search(&fps, 5, Some(7), &());
            let (cross, _) = cross_search(&fps[..500], &fps[500..], 5, None, &());
            (pairs, stats, cross)
        })
    };
    assert_eq!(with(1), with(2));
}

#[test]
fn degenerate_inputs() {
    let none: Vec<u64> = Vec::new();
    assert!(search(&none, 3, None, &()).0.is_empty());
    assert!(search(&[5u64], 3, None, &()).0.is_empty());
    assert_eq!(search(&[5u64, 5], 0, None, &()).0, vec![Pair::new(0, 1, 0)]);
    // A distance covering every bit: every pair, whatever the block count asked for.
    let fps: Vec<u32> = dataset(3, 40, 32);
    for blocks in [None, Some(8), Some(64)] {
        assert_eq!(
            search(&fps, 32, blocks, &()).0,
            brute::search(&fps, 32, &())
        );
    }
}

#[test]
fn combinations_are_lexicographic() {
    assert_eq!(
        combinations(4, 2),
        vec![0b11, 0b101, 0b1001, 0b110, 0b1010, 0b1100]
    );
    assert_eq!(combinations(3, 3), vec![0b111]);
    assert_eq!(combinations(5, 1).len(), 5);
    assert_eq!(combinations(10, 3).len(), 120);
}

#[test]
fn split_is_even_and_covers() {
    let blocks = split(&[(0, 64)], 5);
    let widths: Vec<u32> = blocks.iter().map(|b| b.iter().map(|s| s.1).sum()).collect();
    assert_eq!(widths, vec![13, 13, 13, 13, 12]);
    let blocks = split(&[(0, 256)], 3);
    assert_eq!(blocks[0], vec![(0, 64), (64, 22)]);
    let blocks = split(&[(0, 4), (10, 4)], 3);
    assert_eq!(
        blocks,
        vec![vec![(0, 3)], vec![(3, 1), (10, 2)], vec![(12, 2)]]
    );
}

#[test]
fn exactly_one_table_reports_each_agreement() {
    // For every agreement set with at least m blocks, exactly one m-subset reports it.
    let (b, m) = (6, 3);
    let tables = combinations(b, m);
    for agree in 0u64..1 << b {
        let n = tables
            .iter()
            .filter(|&&sel| Layout::first_agreeing(sel, agree))
            .count();
        assert_eq!(n, usize::from(agree.count_ones() >= m), "agree={agree:b}");
    }
}

#[test]
fn entries_group_by_key() {
    let mut x = 0x1234_5678_u64;
    let mut v: Vec<Entry> = (0..5000u64)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 50) << 32 | i
        })
        .collect();
    let mut expect = v.clone();
    expect.sort_unstable();
    sort_entries(&mut v, 14);
    // Keys in order, each key's entries together (the same ones).
    assert!(v.windows(2).all(|w| w[0] >> 32 <= w[1] >> 32));
    let mut by_key = v.clone();
    by_key.sort_unstable();
    assert_eq!(by_key, expect);
    let mut small = expect[..40].to_vec();
    small.reverse();
    sort_entries(&mut small, 14);
    assert_eq!(small, expect[..40]);
}

#[test]
fn plan_prefers_brute_for_tiny_sets() {
    assert_eq!(plan(10, 45.0, 64, 3, 64), Plan::Brute);
    assert!(matches!(plan(1_000_000, 5e11, 64, 3, 64), Plan::Blocks(_)));
    // No split exists when the distance covers every bit.
    assert_eq!(plan(1_000_000, 5e11, 8, 8, 64), Plan::Brute);
}
