//! Times the phases of vector deduplication on a `.npy` file: scan, centring, projection
//! to fingerprints, and the brute-force Hamming search.
//!
//!     cargo run --release --example project_bench -- FILE.npy [BITS]

use std::time::Instant;

use simdedup::search::{Method, SearchOptions, find_pairs};
use simdedup::vectors::hyperplane::{DEFAULT_SEED, Projector, unit_mean};
use simdedup::vectors::npy::Vectors;
use simdedup::{Bits256, Fingerprint};

fn run<F: Fingerprint>(v: &Vectors) {
    let t = Instant::now();
    let scan = v.scan();
    let rows: Vec<u32> = (0..v.rows() as u32).collect();
    println!("scan         {:>8.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let mut p = Projector::new(v.dim(), F::BITS as usize, DEFAULT_SEED);
    p.center(&unit_mean(&[(v, &rows, &scan.norms)]));
    println!("planes+mean  {:>8.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let fps: Vec<F> = p.fingerprints(v, &rows, &scan.norms, &());
    println!(
        "projection   {:>8.3} s  ({} rows, {} bits)",
        t.elapsed().as_secs_f64(),
        fps.len(),
        F::BITS
    );
    let t = Instant::now();
    let opts = SearchOptions {
        method: Method::Brute,
        max_distance: F::BITS / 4,
    };
    let pairs = find_pairs(&fps, &opts, &());
    println!(
        "brute search {:>8.3} s  ({} pairs within {})",
        t.elapsed().as_secs_f64(),
        pairs.len(),
        F::BITS / 4
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let v = Vectors::open(args[1].as_ref()).expect("a .npy file");
    match args.get(2).map(String::as_str).unwrap_or("128") {
        "64" => run::<u64>(&v),
        "128" => run::<u128>(&v),
        _ => run::<Bits256>(&v),
    }
}
