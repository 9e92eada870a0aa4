//! Recall of the band search on planted pairs of real prose, against its S-curve.
//!
//! For each bar, pairs are planted at J = bar - 0.05, bar and bar + 0.05 (each within
//! ±0.01, exact Jaccard of word 3-shingles after the default normalisation), and the band
//! shape the default run would solve for 1M documents decides which pairs become
//! candidates. Prints one row per level: measured recall, the S-curve's expectation and
//! how many standard errors apart they are.
//!
//!     cargo run --release --example recall -- /usr/share/common-licenses/GPL-3 \
//!         [--pairs 2000] [--bars 0.5,0.7,0.9] [--words 20..400] [--recall 0.99] [--shape LxR]
//!
//! `--shape 35x3` measures a given shape (L bands of R rows) at every bar instead of the
//! solved one.

use simdedup::plant::{measure_recall, plant_pairs};
use simdedup::search::synth::SplitMix64;
use simdedup::text::minhash::BandParams;
use simdedup::text::shingle::Normalization;
use simdedup::text::simhash::TextConfig;

fn main() {
    let mut files = Vec::new();
    let (mut count, mut bars, mut len, mut recall) = (2000, vec![0.5, 0.7, 0.9], 20..400, 0.99);
    let mut shape: Option<BandParams> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().expect("a value after the flag");
        match a.as_str() {
            "--pairs" => count = value().parse().unwrap(),
            "--bars" => bars = value().split(',').map(|b| b.parse().unwrap()).collect(),
            "--recall" => recall = value().parse().unwrap(),
            "--shape" => {
                let v = value();
                let (l, r) = v.split_once('x').expect("--shape LxR");
                shape = Some(BandParams {
                    rows: r.parse().unwrap(),
                    bands: l.parse().unwrap(),
                });
            }
            "--words" => {
                let v = value();
                let (lo, hi) = v.split_once("..").expect("--words LO..HI");
                len = lo.parse().unwrap()..hi.parse().unwrap();
            }
            _ => files.push(a),
        }
    }
    assert!(
        !files.is_empty(),
        "usage: recall PROSE_FILE... [--pairs N] [--bars B,..]"
    );
    let text: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect::<Vec<_>>()
        .join(" ");
    let words: Vec<&str> = text.split_whitespace().collect();
    let config = TextConfig {
        shingling: "word:3".parse().unwrap(),
        normalization: Normalization::ALL,
        weighting: Default::default(),
        compat: false,
    };
    println!(
        "prose: {} words from {} file(s); {count} pairs per level, {}..{} words each",
        words.len(),
        files.len(),
        len.start,
        len.end
    );
    println!("bar\tshape\tlevel\tmean J\trecall\tS-curve\tz");
    let mut rng = SplitMix64::new(11);
    for bar in bars {
        let params = shape.unwrap_or_else(|| BandParams::solve(bar, recall, 1_000_000));
        for level in [bar - 0.05, bar, bar + 0.05] {
            if !(0.0..=1.0).contains(&level) {
                continue;
            }
            let pairs = plant_pairs(&words, level, 0.01, count, len.clone(), &config, &mut rng);
            let r = measure_recall(&pairs, params, &config);
            println!(
                "{bar}\t{}x{}\t{level:.2}\t{:.4}\t{:.4}\t{:.4}\t{:+.1}",
                params.bands,
                params.rows,
                r.mean_jaccard,
                r.rate(),
                r.expected,
                r.z()
            );
        }
    }
}
