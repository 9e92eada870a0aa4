//! Measures the similarity sketch's error ([`simdedup::text::sketch`]): the share of pairs
//! at the bar it rejects (the bound is `--miss`, 1e-4 by default), and the share of pairs
//! below the bar it rejects (its use), across set sizes.
//!
//! ```sh
//! cargo run --release --example sketch_miss -- --pairs 200000 --bar 0.5
//! ```
//!
//! Pairs are random sets of 64-bit values (a shingle's hash), of sizes n and about 0.8 n for
//! n from 1 to 100,000 (log spaced), sharing the fewest elements that put them at or
//! above the bar; below the bar, the same sizes at J = bar - 0.1, bar - 0.2 and bar - 0.3.

use simdedup::text::minhash::mix64;
use simdedup::text::sketch::{MISS, SLOTS, Sketch, SketchFilter, SlotSketcher};

fn main() {
    let mut pairs = 200_000u64;
    let mut bar = 0.5;
    let mut miss = MISS;
    let args: Vec<String> = std::env::args().skip(1).collect();
    for w in args.chunks(2) {
        match (w[0].as_str(), w.get(1)) {
            ("--pairs", Some(v)) => pairs = v.parse().expect("--pairs N"),
            ("--bar", Some(v)) => bar = v.parse().expect("--bar J"),
            ("--miss", Some(v)) => miss = v.parse().expect("--miss P"),
            _ => panic!("usage: sketch_miss [--pairs N] [--bar J] [--miss P]"),
        }
    }
    let filter = SketchFilter::new(bar, miss);
    let sizes: Vec<u64> = [
        1u64, 2, 3, 5, 10, 20, 30, 50, 100, 200, 500, 1000, 4000, 10_000,
    ]
    .into_iter()
    .chain([100_000])
    .collect();
    println!("bar {bar}, miss bound {miss:e}, {SLOTS} slots of 1 byte");
    println!("size\tJ target\tmean J\tpairs\trejected\trate");
    let mut seed = 0u64;
    for &n in &sizes {
        // Big sets cost more to sketch: fewer pairs.
        let count = (pairs / (1 + n / 2000)).max(200);
        for offset in [0.0, -0.1, -0.2, -0.3] {
            let target = bar + offset;
            if target <= 0.0 {
                continue;
            }
            let (mut rejected, mut sum_j) = (0u64, 0.0);
            for _ in 0..count {
                seed += 1;
                let na = n;
                let nb = ((n as f64 * 0.8).round() as u64).max(1);
                // The fewest shared elements at or above the target, capped by the smaller set
                // (then equal sizes).
                let shared_for = |a: u64, b: u64| {
                    ((target * (a + b) as f64 / (1.0 + target)) - 1e-9).ceil() as u64
                };
                let (na, nb) = if shared_for(na, nb) > nb {
                    (na, na)
                } else {
                    (na, nb)
                };
                let shared = shared_for(na, nb).min(nb);
                sum_j += shared as f64 / (na + nb - shared) as f64;
                let base = mix64(seed) & !((1 << 34) - 1);
                let a = (0..na).map(|i| base + i);
                let b = (0..shared)
                    .map(|i| base + i)
                    .chain((0..nb - shared).map(|i| base + (1 << 33) + i));
                let (sa, da) = sketch(a);
                let (sb, db) = sketch(b);
                let x = Sketch {
                    slots: &sa,
                    distinct: da,
                };
                let y = Sketch {
                    slots: &sb,
                    distinct: db,
                };
                rejected += u64::from(!filter.may_reach(x, y));
            }
            println!(
                "{n}\t{target:.2}\t{:.4}\t{count}\t{rejected}\t{:.2e}",
                sum_j / count as f64,
                rejected as f64 / count as f64
            );
        }
    }
}

fn sketch(values: impl Iterator<Item = u64>) -> (Vec<u8>, u32) {
    let mut s = SlotSketcher::new();
    for v in values {
        s.add(mix64(v));
    }
    let mut out = vec![0; SLOTS];
    let d = s.finish(&mut out);
    (out, d)
}
