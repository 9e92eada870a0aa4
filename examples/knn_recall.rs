//! How close the approximate Hamming kNN (`search::approximate_knn`, used by `outliers` and
//! `represent` above 20,000 items) comes to the exact one, and what each costs.
//!
//! Fingerprints are 128-bit, in clusters (a random centre with up to F of its bits flipped
//! per member) plus lone random items; recall is the share of the exact k nearest (ties at
//! the k-th distance included) that the approximate lists hold.
//!
//!     cargo run --release --example knn_recall -- [--n 100000] [--k 20] [--cluster 50] [--flips 16]

use std::time::Instant;

use simdedup::search::synth::SplitMix64;
use simdedup::search::{approximate_knn, knn};

fn main() {
    let (mut n, mut k, mut cluster, mut flips) = (100_000usize, 20usize, 50usize, 16u64);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v: usize = args.next().expect("a value").parse().expect("a number");
        match a.as_str() {
            "--n" => n = v,
            "--k" => k = v,
            "--cluster" => cluster = v,
            "--flips" => flips = v as u64,
            _ => panic!("unknown flag {a}"),
        }
    }
    let mut rng = SplitMix64::new(1);
    let random =
        |rng: &mut SplitMix64| u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
    let mut fps: Vec<u128> = Vec::with_capacity(n);
    while fps.len() < n {
        let centre = random(&mut rng);
        for _ in 0..cluster.min(n - fps.len()) {
            let mut f = centre;
            for _ in 0..rng.below(flips + 1) {
                f ^= 1u128 << rng.below(128);
            }
            fps.push(f);
        }
        // One lone item per cluster: an outlier.
        if fps.len() < n {
            fps.push(random(&mut rng));
        }
    }
    let t = Instant::now();
    let approx = approximate_knn(&fps, k, &());
    let t_approx = t.elapsed();
    let t = Instant::now();
    let exact = knn(&fps, k, &());
    let t_exact = t.elapsed();
    let (mut found, mut mean_gap) = (0usize, 0f64);
    for i in 0..n {
        let kth = exact.neighbors(i)[k - 1].distance;
        found += approx
            .neighbors(i)
            .iter()
            .filter(|nb| nb.distance <= kth)
            .count();
        let mean = |row: &[simdedup::search::Neighbor]| {
            row.iter().map(|nb| nb.distance as f64).sum::<f64>() / row.len() as f64
        };
        mean_gap += mean(approx.neighbors(i)) - mean(exact.neighbors(i));
    }
    println!(
        "n {n}, k {k}, clusters of {cluster} with up to {flips} flips: recall {:.4}, mean distance +{:.3} bits; approximate {:.2?}, exact {:.2?}",
        found as f64 / (n * k) as f64,
        mean_gap / n as f64,
        t_approx,
        t_exact
    );
}
