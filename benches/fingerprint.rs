//! Fingerprint throughput on real prose: MB/s of text turned into SimHash fingerprints.
//!
//! The text is every file under /usr/share/common-licenses (present on every Debian
//! machine; English legal prose), or the files under $SIMDEDUP_BENCH_TEXT, cut into
//! documents of about 4 KB. Run: `cargo bench --bench fingerprint`.

use std::path::PathBuf;
use std::sync::OnceLock;

use divan::counter::BytesCount;
use simdedup::text::shingle::{Normalization, Shingling};
use simdedup::text::simhash::{CityHash, TextConfig, fingerprint_text};

fn main() {
    divan::main();
}

/// Documents of about 4 KB cut from the bench text, at word boundaries.
fn documents() -> &'static [String] {
    static DOCS: OnceLock<Vec<String>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let root = std::env::var_os("SIMDEDUP_BENCH_TEXT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/share/common-licenses"));
        let mut text = String::new();
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let entry = entry.expect("readable bench text");
            if entry.file_type().is_file() {
                let bytes = std::fs::read(entry.path()).expect("readable bench text");
                text.push_str(&String::from_utf8_lossy(&bytes));
                text.push('\n');
            }
        }
        assert!(
            text.len() > 100_000,
            "bench text too small: {}",
            root.display()
        );
        let mut docs = Vec::new();
        let mut rest = text.as_str();
        while !rest.is_empty() {
            let mut cut = rest.len().min(4096);
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            let cut = rest[cut..].find(' ').map_or(rest.len(), |i| cut + i);
            docs.push(rest[..cut].to_string());
            rest = &rest[cut..];
        }
        docs
    })
}

fn total_bytes() -> usize {
    documents().iter().map(String::len).sum()
}

fn run<F: CityHash>(bencher: divan::Bencher, config: TextConfig) {
    bencher.counter(BytesCount::new(total_bytes())).bench(|| {
        for doc in documents() {
            divan::black_box(fingerprint_text::<F>(doc, &config));
        }
    });
}

fn normal(spec: &str) -> TextConfig {
    TextConfig {
        shingling: spec.parse::<Shingling>().unwrap(),
        normalization: Normalization::ALL,
        weighting: Default::default(),
        compat: false,
    }
}

/// The normal mode's features (normalised word 3-grams) at each width.
#[divan::bench(types = [u32, u64, u128])]
fn word3<F: CityHash>(bencher: divan::Bencher) {
    run::<F>(bencher, normal("word:3"));
}

/// Normalised character 5-grams (many more shingles per byte than words).
#[divan::bench(types = [u64])]
fn char5<F: CityHash>(bencher: divan::Bencher) {
    run::<F>(bencher, normal("char:5"));
}

/// The seed's features: raw character bigrams, as `--compat dedup-py`.
#[divan::bench(types = [u32, u64, u128])]
fn compat<F: CityHash>(bencher: divan::Bencher) {
    run::<F>(bencher, TextConfig::dedup_py());
}
