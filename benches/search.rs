//! Search time against N for the three methods on synthetic 64-bit fingerprints, k = 3,
//! with 1% of the items given a partner at distance 0..=3 (`cargo bench --bench search`).
//! Whole-run figures at 1M..10M items come from `examples/search_bench.rs`.

use divan::Bencher;
use simdedup::search::{Method, SearchOptions, find_pairs, knn, synth};

fn main() {
    divan::main();
}

const K: u32 = 3;

fn data(n: usize) -> Vec<u64> {
    synth::planted::<u64>(n, K, 0.01, 1).0
}

fn run(bencher: Bencher, n: usize, method: Method) {
    let fps = data(n);
    let opts = SearchOptions {
        method,
        max_distance: K,
    };
    bencher.bench(|| find_pairs(&fps, &opts, &()));
}

#[divan::bench(args = [1_000, 10_000], sample_count = 10)]
fn brute(bencher: Bencher, n: usize) {
    run(bencher, n, Method::Brute);
}

#[divan::bench(args = [1_000, 10_000, 100_000], sample_count = 10)]
fn rotate(bencher: Bencher, n: usize) {
    run(bencher, n, Method::Rotate { window: 4 });
}

#[divan::bench(args = [1_000, 10_000, 100_000, 1_000_000], sample_count = 10)]
fn exact(bencher: Bencher, n: usize) {
    run(bencher, n, Method::Exact { blocks: None });
}

/// 128-bit fingerprints, k = 16: many more tables.
#[divan::bench(args = [10_000, 100_000], sample_count = 5)]
fn exact_128_k16(bencher: Bencher, n: usize) {
    let fps = synth::planted::<u128>(n, 16, 0.01, 1).0;
    let opts = SearchOptions::exact(16);
    bencher.bench(|| find_pairs(&fps, &opts, &()));
}

/// The 10 nearest neighbours of every item (uniform data: the worst case, neighbours are
/// far away and the last round is brute force).
#[divan::bench(args = [1_000, 10_000], sample_count = 5)]
fn knn_10(bencher: Bencher, n: usize) {
    let fps = data(n);
    bencher.bench(|| knn(&fps, 10, &()));
}
