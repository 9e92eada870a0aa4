//! The candidate recall of the unit search's Hamming radius, measured: pairs of real prose
//! planted at J = bar - 0.05, bar and bar + 0.05 (each +-0.01, exact Jaccard), of the
//! lengths paragraphs and lines have, fingerprinted with 64 bits as units are, counted
//! within the radius, against the binomial model the radius is solved from.
//!
//! cargo run --release --example unit_radius -- /usr/share/common-licenses/GPL-3 [--pairs N]

use simdedup::Fingerprint;
use simdedup::jobs::units::{UNIT_BITS, UNIT_RECALL};
use simdedup::ops::dedup::{candidate_probability, candidate_radius};
use simdedup::plant::plant_pairs;
use simdedup::search::synth::SplitMix64;
use simdedup::text::simhash::{TextConfig, fingerprint_text};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .expect("usage: unit_radius PROSE_FILE [--pairs N]");
    let count: usize = args
        .iter()
        .position(|a| a == "--pairs")
        .map_or(2000, |i| args[i + 1].parse().expect("a number"));
    let text = std::fs::read_to_string(path).expect("readable prose");
    let words: Vec<&str> = text.split_whitespace().collect();
    let config = TextConfig::default();
    let mut rng = SplitMix64::new(31);
    println!("| bar | radius | words | planted J | measured | model |");
    println!("|---:|---:|---|---:|---:|---:|");
    for bar in [0.5, 0.7] {
        let k = candidate_radius(UNIT_BITS, bar, UNIT_RECALL);
        for len in [5..10, 10..30, 30..120] {
            for level in [bar - 0.05, bar, bar + 0.05] {
                let pairs = plant_pairs(&words, level, 0.01, count, len.clone(), &config, &mut rng);
                let within = pairs
                    .iter()
                    .filter(|p| {
                        let a = fingerprint_text::<u64>(&p.a, &config).fingerprint;
                        let b = fingerprint_text::<u64>(&p.b, &config).fingerprint;
                        a.distance(&b) <= k
                    })
                    .count();
                let mean = pairs.iter().map(|p| p.jaccard).sum::<f64>() / pairs.len() as f64;
                println!(
                    "| {bar} | {k} | {}-{} | {mean:.4} | {:.4} | {:.4} |",
                    len.start,
                    len.end - 1,
                    within as f64 / pairs.len() as f64,
                    candidate_probability(UNIT_BITS, mean, k)
                );
            }
        }
    }
}
