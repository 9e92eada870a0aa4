//! Whole-run benchmark of the pair search on synthetic fingerprints with planted pairs.
//!
//! `cargo run --release --example search_bench -- --n 1000000 --bits 64 -k 3` generates N
//! uniform fingerprints, gives 1% of them a partner at a random distance in `0..=k`, runs
//! the search and prints time, work counters and recall against the planted pairs. Up to
//! `--brute-max` items (100k) the result is also compared with brute force; above, a random
//! sample of items is checked against a brute-force scan.

use std::collections::HashSet;
use std::time::Instant;

use clap::Parser;
use rayon::prelude::*;
use simdedup::search::synth::{self, SplitMix64};
use simdedup::search::{Method, Neighbor, Pair, SearchOptions, brute, find_pairs_with_stats, knn};
use simdedup::{Bits256, Bits512, Bits1024, Fingerprint};

#[derive(Parser, Debug)]
struct Args {
    /// Number of fingerprints.
    #[arg(long, default_value_t = 1_000_000)]
    n: usize,
    /// Fingerprint width: 32, 64, 128, 256, 512 or 1024.
    #[arg(long, default_value_t = 64)]
    bits: u32,
    /// Maximum Hamming distance.
    #[arg(short, default_value_t = 3)]
    k: u32,
    /// Fraction of items given a planted partner.
    #[arg(long, default_value_t = 0.01)]
    rate: f64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// exact, brute or rotate.
    #[arg(long, default_value = "exact")]
    method: String,
    /// Force the number of blocks (exact only).
    #[arg(long)]
    blocks: Option<u32>,
    /// Run brute force as the reference up to this many items.
    #[arg(long, default_value_t = 100_000)]
    brute_max: usize,
    /// Instead of pairs: the K nearest neighbours of every item, a sample checked against
    /// brute force.
    #[arg(long, value_name = "K")]
    knn: Option<usize>,
    /// Items checked against a brute-force scan when N is above `--brute-max`.
    #[arg(long, default_value_t = 500)]
    sample: usize,
}

fn main() {
    let args = Args::parse();
    match args.bits {
        32 => run::<u32>(&args),
        64 => run::<u64>(&args),
        128 => run::<u128>(&args),
        256 => run::<Bits256>(&args),
        512 => run::<Bits512>(&args),
        1024 => run::<Bits1024>(&args),
        b => panic!("unsupported width {b}"),
    }
}

fn run<F: Fingerprint>(args: &Args) {
    let t = Instant::now();
    let (fps, planted) = synth::planted::<F>(args.n, args.k, args.rate, args.seed);
    eprintln!(
        "generated {} fingerprints in {:.2?}",
        fps.len(),
        t.elapsed()
    );
    if let Some(kk) = args.knn {
        return run_knn(&fps, kk, args);
    }
    let method = match args.method.as_str() {
        "exact" => Method::Exact {
            blocks: args.blocks,
        },
        "brute" => Method::Brute,
        "rotate" => Method::Rotate { window: 4 },
        m => panic!("unknown method {m}"),
    };
    let opts = SearchOptions {
        method,
        max_distance: args.k,
    };
    let t = Instant::now();
    let (pairs, stats) = find_pairs_with_stats(&fps, &opts, &());
    let secs = t.elapsed().as_secs_f64();

    // A digest of the output, to compare runs with different thread counts.
    let digest = pairs.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, p| {
        [p.a, p.b, p.distance]
            .iter()
            .fold(h, |h, &x| (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3))
    });
    let found: HashSet<(u32, u32)> = pairs.iter().map(|p| (p.a, p.b)).collect();
    let hit = planted
        .iter()
        .filter(|&&(a, b, _)| found.contains(&(a, b)))
        .count();
    let recall = hit as f64 / planted.len().max(1) as f64;
    println!(
        "n={} bits={} k={} method={} threads={} time={secs:.3}s candidates={} tables={} \
         subtables={} blocks={} unique={} pairs={} planted={} recall={recall:.4} \
         digest={digest:016x}",
        args.n,
        F::BITS,
        args.k,
        args.method,
        rayon::current_num_threads(),
        stats.candidates,
        stats.tables,
        stats.subtables,
        stats.blocks,
        stats.unique,
        pairs.len(),
        planted.len(),
    );
    if args.n <= args.brute_max {
        let t = Instant::now();
        let want = brute::search(&fps, args.k, &());
        let same = want == pairs;
        println!(
            "brute force: {} pairs in {:.3}s, identical: {same}",
            want.len(),
            t.elapsed().as_secs_f64()
        );
    } else {
        sample_check(&fps, &pairs, args);
    }
}

/// Compares the pairs of a random sample of items with a brute-force scan of all items.
fn sample_check<F: Fingerprint>(fps: &[F], pairs: &[Pair], args: &Args) {
    let mut rng = SplitMix64::new(args.seed ^ 0x5eed);
    let sample: HashSet<u32> = (0..args.sample)
        .map(|_| rng.below(fps.len() as u64) as u32)
        .collect();
    let mut got: Vec<(u32, u32)> = pairs
        .iter()
        .flat_map(|p| [(p.a, p.b), (p.b, p.a)])
        .filter(|(a, _)| sample.contains(a))
        .collect();
    got.sort_unstable();
    let mut want: Vec<(u32, u32)> = sample
        .par_iter()
        .flat_map_iter(|&i| {
            let fi = fps[i as usize];
            fps.iter()
                .enumerate()
                .filter(move |&(j, f)| j as u32 != i && fi.distance(f) <= args.k)
                .map(move |(j, _)| (i, j as u32))
        })
        .collect();
    want.sort_unstable();
    println!(
        "sample check: {} items, {} pairs, identical to brute force: {}",
        sample.len(),
        want.len(),
        got == want
    );
}

/// Times the nearest-neighbour search and checks a sample of items against brute force.
fn run_knn<F: Fingerprint>(fps: &[F], kk: usize, args: &Args) {
    let t = Instant::now();
    let result = knn(fps, kk, &());
    let secs = t.elapsed().as_secs_f64();
    let mut rng = SplitMix64::new(args.seed ^ 0x5eed);
    let sample: Vec<usize> = (0..args.sample)
        .map(|_| rng.below(fps.len() as u64) as usize)
        .collect();
    let exact = sample.par_iter().all(|&i| {
        let mut all: Vec<Neighbor> = fps
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(j, g)| Neighbor {
                distance: fps[i].distance(g),
                index: j as u32,
            })
            .collect();
        all.sort_unstable();
        all.truncate(result.per_item());
        result.neighbors(i) == &all[..]
    });
    println!(
        "n={} bits={} knn={kk} threads={} time={secs:.3}s sample={} identical to brute force: {exact}",
        fps.len(),
        F::BITS,
        rayon::current_num_threads(),
        sample.len(),
    );
}
