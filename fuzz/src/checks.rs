//! One function per fuzz target: arbitrary bytes in, the library's parser or shingler
//! run on them, and the invariants that must hold for every input asserted. A panic here
//! (ours or the library's) is a crash. The first bytes of an input choose the settings,
//! so that the fuzzer explores those too.
//!
//! This file is also compiled into the stable test suite (`tests/fuzz_corpus.rs`), which
//! runs every committed corpus file and crash input through the same functions.

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use simdedup::fingerprint::Fingerprint;
use simdedup::fpfile;
use simdedup::ops::cluster::{Assignment, Duplicate};
use simdedup::records::{self, Format, RecordOptions, RecordSet};
use simdedup::text::shingle::{Normalization, ShingleKind, Shingling, for_each_shingle};
use simdedup::text::simhash::{
    CityHash, FIELD_SEPARATOR, TextConfig, Weighting, fingerprint_fields, fingerprint_text,
};
use simdedup::text::texts::{TextSource, shingle_set};
use simdedup::vectors::npy::Vectors;
use simdedup::{Bits256, Error};

/// Byte `i` of `data`, 0 past its end.
fn byte(data: &[u8], i: usize) -> u8 {
    data.get(i).copied().unwrap_or(0)
}

/// The text settings coded in two bytes: shingle kind and size (1..=64, small ones most
/// often), the four normalisation switches, compat mode and the weighting.
fn text_config(a: u8, b: u8) -> TextConfig {
    let kind = if a & 1 == 0 {
        ShingleKind::Word
    } else {
        ShingleKind::Char
    };
    let n = match a >> 1 {
        v @ 0..=119 => 1 + v as usize % 8,
        v => 1 + v as usize % 64,
    };
    TextConfig {
        shingling: Shingling { kind, n },
        normalization: Normalization {
            nfkc: b & 1 != 0,
            lowercase: b & 2 != 0,
            strip_punctuation: b & 4 != 0,
            collapse_whitespace: b & 8 != 0,
        },
        weighting: match (b >> 5) % 3 {
            0 => Weighting::Raw,
            1 => Weighting::Log,
            _ => Weighting::Set,
        },
        compat: b & 16 != 0,
    }
}

/// Shingler and SimHash: byte 0 the shingling, byte 1 normalisation, compat and
/// weighting, byte 2 the width (32, 64 or 128 bits), the rest the text (lossy UTF-8).
pub fn shingle(data: &[u8]) {
    let config = text_config(byte(data, 0), byte(data, 1));
    let text = String::from_utf8_lossy(data.get(3..).unwrap_or(&[]));
    match byte(data, 2) % 3 {
        0 => shingle_with::<u32>(&text, &config),
        1 => shingle_with::<u64>(&text, &config),
        _ => shingle_with::<u128>(&text, &config),
    }
}

fn shingle_with<F: CityHash + Debug>(text: &str, config: &TextConfig) {
    let sig = fingerprint_text::<F>(text, config);
    assert_eq!(
        sig,
        fingerprint_text::<F>(text, config),
        "not deterministic"
    );

    // The text as read: compat mode reads newlines as Python does.
    let read = if config.compat {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_string()
    };
    assert_eq!(sig.chars, read.chars().count() as u64, "character count");
    let norm = config.normalization.apply(&read);
    check_normalized(&norm, &config.normalization);

    let n = config.shingling.n;
    let range = norm.as_ptr() as usize..norm.as_ptr() as usize + norm.len();
    let mut seen = 0usize;
    let count = for_each_shingle(&norm, config.shingling, |s| {
        seen += 1;
        assert!(
            range.contains(&(s.as_ptr() as usize)) && s.len() <= norm.len(),
            "a shingle is a span of the text"
        );
        match config.shingling.kind {
            ShingleKind::Char => assert_eq!(s.chars().count(), n, "{s:?}"),
            ShingleKind::Word => {
                assert_eq!(s.split_whitespace().count(), n, "{s:?}");
                assert_eq!(s.trim(), s, "a word shingle starts and ends with a word");
            }
        }
    });
    assert_eq!(count, seen, "for_each_shingle's count");
    assert_eq!(sig.shingles, count as u64, "fingerprint's shingle count");
    if count == 0 {
        assert_eq!(sig.fingerprint, F::zero(), "no shingles, no bits");
    }

    let (set, digest) = shingle_set(&read, None, config);
    assert_eq!(digest, sig.digest, "verification's digest");
    assert!(
        set.len() <= count && set.is_empty() == (count == 0),
        "shingle set size"
    );
    assert!(set.windows(2).all(|w| w[0] < w[1]), "shingle set sorted");

    // A record of one field is hashed as plain text; of several, deterministically.
    let fields = fingerprint_fields::<F>(text, config);
    if text.contains(FIELD_SEPARATOR) {
        assert_eq!(fields, fingerprint_fields::<F>(text, config));
        let separators = text.matches(FIELD_SEPARATOR).count() as u64;
        assert_eq!(fields.chars + separators, sig.chars, "field characters");
        let (set, _) = shingle_set(&read, Some(FIELD_SEPARATOR), config);
        assert!(set.len() as u64 <= fields.shingles.max(1));
    } else {
        assert_eq!(fields, sig, "one field is plain text");
    }
}

/// What each normalisation switch promises about its output.
fn check_normalized(norm: &str, n: &Normalization) {
    if n.collapse_whitespace {
        assert_eq!(norm.trim(), norm, "collapsed text is trimmed");
        assert!(!norm.contains("  "), "collapsed whitespace: {norm:?}");
        assert!(
            norm.chars().all(|c| c == ' ' || !c.is_whitespace()),
            "only single spaces: {norm:?}"
        );
    }
    if n.strip_punctuation && !n.lowercase {
        // (Lowercasing may add a combining mark after stripping: 'İ' becomes "i\u{307}".)
        assert!(
            norm.chars()
                .all(|c| c.is_alphanumeric() || c.is_whitespace()),
            "stripped punctuation: {norm:?}"
        );
    }
}

/// Collects reported errors; checks that each names its source.
struct Reports(Mutex<Vec<String>>);

impl Reports {
    fn new() -> Reports {
        Reports(Mutex::new(Vec::new()))
    }

    fn report(&self) -> impl Fn(Error) + Sync + '_ {
        |e: Error| self.0.lock().unwrap().push(e.to_string())
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// Fingerprint-file reader: byte 0 the width (32, 64, 128 or 256 bits), the rest the file.
/// What is read must write out and read back identically, without a complaint.
pub fn fpfile(data: &[u8]) {
    let body = data.get(1..).unwrap_or(&[]);
    match byte(data, 0) % 4 {
        0 => fpfile_with::<u32>(body),
        1 => fpfile_with::<u64>(body),
        2 => fpfile_with::<u128>(body),
        _ => fpfile_with::<Bits256>(body),
    }
}

fn fpfile_with<F: Fingerprint + Debug>(body: &[u8]) {
    let reports = Reports::new();
    let mut records = fpfile::Records::<F>::default();
    let result = fpfile::read_records(&mut &body[..], "fuzz.tsv", &mut records, &reports.report());
    assert_eq!(records.ids.len(), records.fingerprints.len());
    let lines = body.split(|&b| b == b'\n').count();
    assert!(
        records.ids.len() + reports.count() <= lines,
        "one outcome per line"
    );
    for e in reports.0.lock().unwrap().iter() {
        assert!(e.starts_with("fuzz.tsv, line "), "{e}");
    }
    if result.is_err() {
        return;
    }
    let mut out = Vec::new();
    fpfile::write_header(&mut out, F::BITS).unwrap();
    for (id, fp) in records.ids.iter().zip(&records.fingerprints) {
        fpfile::write_record(&mut out, id, fp).unwrap();
    }
    let again_reports = Reports::new();
    let mut again = fpfile::Records::<F>::default();
    fpfile::read_records(
        &mut &out[..],
        "out.tsv",
        &mut again,
        &again_reports.report(),
    )
    .expect("our own output reads back");
    assert_eq!(again_reports.0.lock().unwrap().as_slice(), &[] as &[String]);
    assert_eq!(again.ids, records.ids);
    assert_eq!(again.fingerprints, records.fingerprints);
}

/// `.npy` reader: the whole input is the file. An accepted file must hold the data its
/// header promises, and every row must convert.
pub fn npy(data: &[u8]) {
    let v = match Vectors::from_bytes(Path::new("fuzz.npy"), data.to_vec()) {
        Ok(v) => v,
        Err(e) => {
            assert!(e.to_string().contains("fuzz.npy"), "{e}");
            return;
        }
    };
    let size = v.dtype().size() as u128;
    assert!(v.rows() as u128 * v.dim() as u128 * size <= data.len() as u128);
    let mut buf = vec![0f32; v.dim()];
    for i in 0..v.rows() {
        assert_eq!(v.raw_row(i).len(), v.dim() * v.dtype().size());
        assert_eq!(v.row(i, &mut buf).len(), v.dim());
    }
    let scan = v.scan();
    assert_eq!(scan.norms.len(), v.rows());
    for &(i, _) in &scan.non_finite {
        assert_eq!(scan.norms[i], 0.0);
    }
    for &i in &scan.zero {
        assert_eq!(scan.norms[i], 0.0);
    }
}

/// JSON Lines reader (gzip-compressed when bit 4 of byte 0 is set).
pub fn records_jsonl(data: &[u8]) {
    let format = if byte(data, 0) & 16 != 0 {
        Format::JsonlGz
    } else {
        Format::Jsonl
    };
    records(data, format);
}

/// CSV reader (TSV when bit 4 of byte 0 is set).
pub fn records_csv(data: &[u8]) {
    let format = if byte(data, 0) & 16 != 0 {
        Format::Tsv
    } else {
        Format::Csv
    };
    records(data, format);
}

/// Parquet reader.
pub fn records_parquet(data: &[u8]) {
    records(data, Format::Parquet);
}

/// A scratch directory for the files the records checks write, one per thread.
fn scratch() -> PathBuf {
    thread_local! {
        static DIR: tempfile::TempDir = tempfile::Builder::new()
            .prefix("simdedup-fuzz")
            .tempdir_in(if Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "." })
            .or_else(|_| tempfile::tempdir())
            .expect("a scratch directory");
    }
    DIR.with(|d| d.path().to_path_buf())
}

/// Records readers, on a file holding the input after byte 0, whose bits choose the
/// options: skip bad rows, an id column, an embedding column, a second text column.
/// Every row read must read again to the same fingerprint, and the kept and removed rows
/// written out must read back to the same fingerprints.
fn records(data: &[u8], format: Format) {
    let flags = byte(data, 0);
    let mut opts = RecordOptions::new(["question"]);
    opts.skip_bad_rows = flags & 1 != 0;
    if flags & 2 != 0 {
        opts.id_column = Some("id".into());
    }
    if flags & 4 != 0 {
        opts.embedding_column = Some("emb".into());
    }
    if flags & 8 != 0 {
        opts.columns.push("context".into());
    }
    let config = TextConfig {
        shingling: Shingling {
            kind: ShingleKind::Word,
            n: 3,
        },
        normalization: Normalization::ALL,
        weighting: Weighting::Raw,
        compat: false,
    };
    let dir = scratch();
    let input = dir.join(format!("in.{format}"));
    std::fs::write(&input, data.get(1..).unwrap_or(&[])).expect("scratch file");
    let reports = Reports::new();
    let set = records::read_records::<u64>(&input, &opts, &config, &(), &reports.report());
    let set = match set {
        Ok(set) => set,
        Err(e) => {
            assert!(
                e.to_string().contains("in."),
                "an error names the file: {e}"
            );
            return;
        }
    };
    assert!(opts.skip_bad_rows || reports.count() == 0);
    assert_eq!(reports.count(), set.skipped);
    assert_eq!(set.rows.len(), set.fingerprints.len());
    assert_eq!(set.rows_read, (set.rows.len() + set.skipped) as u64);
    if let Some(ids) = &set.ids {
        assert_eq!(ids.len(), set.rows.len());
    }
    if let Some(emb) = &set.embeddings {
        assert_eq!(emb.values.len(), emb.dim * set.rows.len());
    }
    for (i, row) in set.rows.iter().enumerate() {
        let text = set.text(i).expect("a row reads again");
        let sig = fingerprint_fields::<u64>(&text, &config);
        assert_eq!(sig.fingerprint, set.fingerprints[i], "row {i} read again");
        assert_eq!((sig.digest, sig.shingles), (row.digest, row.shingles));
    }

    // Every second row removed as a duplicate of the first.
    let assignment = Assignment {
        duplicate_of: (0..set.rows.len())
            .map(|i| {
                (i % 2 == 1).then_some(Duplicate {
                    kept: 0,
                    score: 0.5,
                    exact: false,
                })
            })
            .collect(),
    };
    let kept = dir.join(format!("kept.{format}"));
    let removed = dir.join(format!("removed.{format}"));
    for old in [&kept, &removed] {
        let _ = std::fs::remove_file(old);
    }
    let stats = match simdedup::output::records::write_records(
        &set,
        simdedup::jobs::dedup::removed_as(&assignment),
        Some(&kept),
        Some(&removed),
    ) {
        Ok(stats) => stats,
        // Parquet outputs decode every column, also those the read left alone, which may
        // be corrupt: an error naming the input, and no output nor temporary file left.
        Err(e) if format == Format::Parquet => {
            assert!(e.to_string().contains("in.parquet"), "{e}");
            let names: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, ["in.parquet"], "a failed write leaves nothing");
            return;
        }
        Err(e) => panic!("writing the rows read: {e}"),
    };
    let mut again_opts = opts.clone();
    again_opts.skip_bad_rows = false;
    for (path, want_kept) in [(&kept, true), (&removed, false)] {
        let again = read_back(path, &again_opts, &config);
        let expected: Vec<u64> = (0..set.rows.len())
            .filter(|&i| assignment.is_kept(i) == want_kept)
            .map(|i| set.fingerprints[i])
            .collect();
        assert_eq!(again.fingerprints, expected, "{} read back", path.display());
    }
    assert_eq!(stats.kept + stats.removed, set.rows.len());
}

fn read_back(path: &Path, opts: &RecordOptions, config: &TextConfig) -> RecordSet<u64> {
    let fail = |e: Error| panic!("our own output {} reads back: {e}", path.display());
    records::read_records::<u64>(path, opts, config, &(), &fail)
        .unwrap_or_else(|e| panic!("our own output {} reads back: {e}", path.display()))
}

/// The index reader: any bytes are either refused with an error or give a view whose every
/// accessor works; an accepted index written again reads back the same.
pub fn index(data: &[u8]) {
    use simdedup::index::IndexView;
    // A changed byte almost always breaks the checksum, which would stop the reader early:
    // the checksum (the trailer's first 4 bytes) is made right, so that the checks behind
    // it are what is fuzzed. (Checksum mismatches are unit-tested in `src/index/`.)
    let mut fixed = data.to_vec();
    if data.len() >= 8 {
        let body = data.len() - 8;
        let crc = crc32fast::hash(&data[..body]);
        fixed[body..body + 4].copy_from_slice(&crc.to_le_bytes());
    }
    let Ok(view) = IndexView::from_bytes(&fixed) else {
        return;
    };
    let widths = [
        view.fingerprints::<u32>().is_some(),
        view.fingerprints::<u64>().is_some(),
        view.fingerprints::<u128>().is_some(),
    ];
    assert_eq!(widths.iter().filter(|&&w| w).count(), 1, "one width fits");
    match widths.iter().position(|&w| w) {
        Some(0) => index_with::<u32>(&view),
        Some(1) => index_with::<u64>(&view),
        _ => index_with::<u128>(&view),
    }
}

fn index_with<F: Fingerprint>(view: &simdedup::index::IndexView) {
    use simdedup::index::{Builder, IndexView};
    let fps = view.fingerprints::<F>().expect("the width fits");
    assert_eq!(fps.len(), view.len());
    for i in 0..view.len() {
        let _ = (view.doc(i), view.path(i));
    }
    let builder = Builder::<F>::from_view(view).expect("the width fits");
    let mut bytes = Vec::new();
    builder.write(&mut bytes).unwrap();
    let again = IndexView::from_bytes(&bytes).expect("a written index reads back");
    assert_eq!(again.len(), view.len());
    assert_eq!(again.fingerprints::<F>(), Some(fps));
    for i in 0..view.len() {
        assert_eq!(again.doc(i), view.doc(i));
        assert_eq!(again.path_bytes(i), view.path_bytes(i));
    }
}
