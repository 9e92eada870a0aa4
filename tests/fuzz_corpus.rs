//! The fuzz targets' committed corpus replayed on stable: every seed in
//! `fuzz/corpus/<target>/`, and every input a fuzzer crashed on (kept there as a regression
//! test, named `crash-*`), goes through the same checks as under `cargo fuzz`
//! (`fuzz/src/checks.rs`, compiled into this test too): no panic, every invariant holds.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

#[path = "../fuzz/src/checks.rs"]
mod checks;

/// Runs `check` on every file of `fuzz/corpus/<target>/`; fails naming each input that
/// panicked.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no corpus in {}", dir.display());
    let failed: Vec<String> = paths
        .iter()
        .filter(|p| {
            let data = std::fs::read(p).unwrap();
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(failed.is_empty(), "inputs that fail: {failed:#?}");
}

#[test]
fn shingle_corpus() {
    replay("shingle", checks::shingle);
}

#[test]
fn fpfile_corpus() {
    replay("fpfile", checks::fpfile);
}

#[test]
fn npy_corpus() {
    replay("npy", checks::npy);
}

#[test]
fn records_jsonl_corpus() {
    replay("records_jsonl", checks::records_jsonl);
}

#[test]
fn records_csv_corpus() {
    replay("records_csv", checks::records_csv);
}

#[test]
fn records_parquet_corpus() {
    replay("records_parquet", checks::records_parquet);
}

#[test]
fn index_corpus() {
    replay("index", checks::index);
}
