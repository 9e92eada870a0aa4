//! Whole-dataset benchmark of record deduplication: generates a JSONL dataset (question and
//! context columns, with planted exact and near duplicates; deterministic, splitmix64) unless
//! it exists, then reads, deduplicates and writes it with the library, printing rows per
//! second for each phase and the peak resident memory.
//!
//!     cargo run --release --example records_bench -- [ROWS] [PATH]
//!
//! ROWS defaults to 1,000,000 and PATH to /tmp/simdedup-records-ROWS.jsonl. Fingerprints
//! are 128 bits (the default width) and the search is the rotate method (window 4): exact
//! search of a million fingerprints is the search module's business, and this measures the
//! records pipeline around it.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use simdedup::Error;
use simdedup::ops::dedup::{
    Candidates, DedupOptions, Grouping, KeepOrder, candidate_radius, dedup,
};
use simdedup::output::records::write_records;
use simdedup::records::{RecordOptions, read_records};
use simdedup::search::{Method, SearchOptions};
use simdedup::text::shingle::Normalization;
use simdedup::text::simhash::TextConfig;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// 4096 pronounceable words of 2 to 4 syllables.
fn vocabulary(rng: &mut Rng) -> Vec<String> {
    const SYLLABLES: [&str; 24] = [
        "ka", "lo", "mi", "ne", "ru", "ta", "po", "shi", "ven", "dor", "el", "an", "qui", "bra",
        "sto", "fe", "gu", "ri", "om", "tal", "zu", "che", "ly", "nos",
    ];
    (0..4096)
        .map(|_| {
            let n = 2 + rng.below(3);
            (0..n)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect()
        })
        .collect()
}

fn sentence(rng: &mut Rng, words: &[String], n: usize) -> Vec<String> {
    (0..n)
        .map(|_| words[rng.below(words.len())].clone())
        .collect()
}

/// Writes `rows` rows: 85% fresh, 10% near duplicates of an earlier row (2 to 4 words of
/// the context replaced), 5% exact copies of an earlier row's texts.
fn generate(path: &PathBuf, rows: usize) -> std::io::Result<()> {
    let mut rng = Rng(0x5eed);
    let words = vocabulary(&mut rng);
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut history: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for i in 0..rows {
        let roll = rng.below(100);
        let (q, mut c) = if roll < 15 && !history.is_empty() {
            history[rng.below(history.len())].clone()
        } else {
            let q = 6 + rng.below(8);
            let c = 25 + rng.below(40);
            (sentence(&mut rng, &words, q), sentence(&mut rng, &words, c))
        };
        if roll < 10 && i > 0 {
            for _ in 0..2 + rng.below(3) {
                let k = rng.below(c.len());
                c[k] = words[rng.below(words.len())].clone();
            }
        }
        let (question, context) = (q.join(" ") + "?", c.join(" ") + ".");
        let line = serde_json::json!({ "id": i, "question": question, "context": context });
        writeln!(out, "{line}")?;
        // A bounded window of earlier rows to copy from.
        if history.len() < 4096 {
            history.push((q, c));
        } else {
            let k = rng.below(history.len());
            history[k] = (q, c);
        }
    }
    out.flush()
}

/// Peak resident set size, from /proc (Linux).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().map_or(Ok(1_000_000), |s| s.parse())?;
    let path = args.next().map_or_else(
        || PathBuf::from(format!("/tmp/simdedup-records-{rows}.jsonl")),
        PathBuf::from,
    );
    if !path.exists() {
        let t = Instant::now();
        generate(&path, rows)?;
        eprintln!("generated {} in {:.1?}", path.display(), t.elapsed());
    }
    let size = std::fs::metadata(&path)?.len();
    let config = TextConfig {
        shingling: "word:3".parse().unwrap(),
        normalization: Normalization::ALL,
        weighting: Default::default(),
        compat: false,
    };
    let report = |e: Error| eprintln!("{e}");
    let mut opts = RecordOptions::new(["question", "context"]);
    opts.id_column = Some("id".into());

    let start = Instant::now();
    let set = read_records::<u128>(&path, &opts, &config, &(), &report)?;
    let t_read = start.elapsed();
    let rss_read = peak_rss();
    let n = set.len();
    let dedup_opts = DedupOptions {
        search: SearchOptions {
            method: Method::Rotate { window: 4 },
            max_distance: candidate_radius(128, 0.5, 0.99),
        },
        min_similarity: 0.5,
        keep: KeepOrder::First,
        grouping: Grouping::Greedy,
    };
    let t = Instant::now();
    let result = dedup(
        &set.fingerprints,
        &set.rows,
        Candidates::Hamming,
        &set,
        &config,
        &dedup_opts,
        &(),
        &report,
    );
    let t_dedup = t.elapsed();
    let t = Instant::now();
    let dir = std::env::temp_dir();
    let (kept, removed) = (
        dir.join("simdedup-bench-clean.jsonl"),
        dir.join("simdedup-bench-removed.jsonl"),
    );
    write_records(
        &set,
        simdedup::jobs::dedup::removed_as(&result.assignment),
        Some(&kept),
        Some(&removed),
    )?;
    let t_write = t.elapsed();
    let total = start.elapsed();
    let exact = result.pairs.iter().filter(|p| p.exact).count();
    let rate = |d: std::time::Duration| n as f64 / d.as_secs_f64();
    println!("rows            {n} ({:.0} MB of JSONL)", size as f64 / 1e6);
    println!(
        "removed         {} ({} candidates, {} pairs, {exact} exact)",
        result.assignment.removed(),
        result.candidates,
        result.pairs.len()
    );
    println!(
        "read+fingerprint {:>8.2?}  {:>10.0} rows/s",
        t_read,
        rate(t_read)
    );
    println!(
        "dedup (search+verify) {:>8.2?}  {:>10.0} rows/s",
        t_dedup,
        rate(t_dedup)
    );
    println!(
        "write outputs   {:>8.2?}  {:>10.0} rows/s",
        t_write,
        rate(t_write)
    );
    println!(
        "total           {:>8.2?}  {:>10.0} rows/s",
        total,
        rate(total)
    );
    println!("threads         {}", rayon::current_num_threads());
    println!(
        "peak RSS        {rss_read} after reading, {} in all",
        peak_rss()
    );
    let _ = (std::fs::remove_file(kept), std::fs::remove_file(removed));
    Ok(())
}
