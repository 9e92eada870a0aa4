//! Datasets of records through the library: every format gives the same decisions, the
//! outputs keep each original field byte for byte, and bad rows are named by line or row.
//! (End-to-end runs of `simdedup dedup` on records come when the subcommand reads them.)

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use simdedup::jobs::dedup::removed_as;
use simdedup::ops::dedup::{
    Candidates, DedupOptions, Grouping, KeepOrder, candidate_radius, dedup,
};
use simdedup::output::records::write_records;
use simdedup::records::{Format, RecordOptions, RecordSet, read_records};
use simdedup::search::{Method, SearchOptions};
use simdedup::text::corpus::fingerprint_files;
use simdedup::text::shingle::Normalization;
use simdedup::text::simhash::TextConfig;
use simdedup::{Error, ops::dedup::Dedup};

use crate::util::{Rng, TestEnv, edit, random_text, testdata};

fn config() -> TextConfig {
    TextConfig {
        shingling: "word:3".parse().unwrap(),
        normalization: Normalization::ALL,
        weighting: Default::default(),
        compat: false,
    }
}

fn options() -> DedupOptions {
    DedupOptions {
        search: SearchOptions {
            method: Method::Brute,
            max_distance: candidate_radius(64, 0.5, 0.99),
        },
        min_similarity: 0.5,
        keep: KeepOrder::First,
        grouping: Grouping::Greedy,
    }
}

fn data(name: &str) -> PathBuf {
    testdata().join("records").join(name)
}

fn qc() -> RecordOptions {
    let mut opts = RecordOptions::new(["question", "context"]);
    opts.id_column = Some("id".into());
    opts
}

fn read(path: &Path, opts: &RecordOptions) -> Result<RecordSet<u64>, Error> {
    read_records::<u64>(path, opts, &config(), &(), &|e: Error| {
        panic!("reported: {e}")
    })
}

fn run(set: &RecordSet<u64>) -> Dedup {
    let report = |e: Error| panic!("reported: {e}");
    dedup(
        &set.fingerprints,
        &set.rows,
        Candidates::Hamming,
        set,
        &config(),
        &options(),
        &(),
        &report,
    )
}

/// `removed-id -> kept-id (exact?)` for every removed row.
fn decisions(set: &RecordSet<u64>, result: &Dedup) -> Vec<String> {
    let ids = set.ids.as_ref().unwrap();
    (result.assignment.duplicate_of.iter().enumerate())
        .filter_map(|(i, d)| {
            d.map(|d| {
                format!(
                    "{}->{}{}",
                    ids.get(i),
                    ids.get(d.kept as usize),
                    ["", " exact"][d.exact as usize]
                )
            })
        })
        .collect()
}

const EXPECTED: [&str; 3] = ["\"q1\"->\"q0\" exact", "\"q3\"->\"q2\"", "\"q7\"->\"q0\""];

#[test]
fn every_format_gives_the_same_decisions() {
    for name in [
        "questions.jsonl",
        "questions.jsonl.gz",
        "questions.csv",
        "questions.tsv",
        "questions.parquet",
        "questions-zstd.parquet",
    ] {
        let set = read(&data(name), &qc()).unwrap();
        assert_eq!(set.len(), 8, "{name}");
        let got = decisions(&set, &run(&set));
        // Ids are JSON text in JSONL, plain text elsewhere.
        let expected: Vec<String> = if name.contains("jsonl") {
            EXPECTED.iter().map(|s| s.to_string()).collect()
        } else {
            EXPECTED.iter().map(|s| s.replace('"', "")).collect()
        };
        assert_eq!(got, expected, "{name}");
        let lossy = usize::from(name.ends_with("sv"));
        assert_eq!(
            set.lossy, lossy,
            "{name}: the CSV/TSV row with a non-UTF-8 byte"
        );
    }
}

#[test]
fn embeddings_and_formats_by_option() {
    let mut opts = qc();
    opts.embedding_column = Some("emb".into());
    for name in ["questions.jsonl", "questions.csv", "questions.parquet"] {
        let set = read(&data(name), &opts).unwrap();
        let emb = set.embeddings.as_ref().unwrap();
        assert_eq!(emb.dim, 3);
        assert_eq!(emb.get(2), [0.2, 1.0, -0.5], "{name}");
    }
    // --format overrides the extension.
    let env = TestEnv::new();
    let copy = env.path().join("rows.txt");
    std::fs::copy(data("questions.tsv"), &copy).unwrap();
    assert!(read(&copy, &qc()).is_err());
    let mut opts = qc();
    opts.format = Some(Format::Tsv);
    assert_eq!(read(&copy, &opts).unwrap().len(), 8);
}

/// The same texts as separate files and as one column of a dataset: same decisions.
#[test]
fn records_decide_as_files_do() {
    let env = TestEnv::new();
    let mut rng = Rng(7);
    let mut texts: Vec<String> = Vec::new();
    for i in 0..150 {
        let text = if i % 3 != 0 {
            let base = texts[i - 1 - rng.below(i.min(4))].clone();
            let edits = rng.below(10);
            edit(&mut rng, &base, edits)
        } else {
            random_text(&mut rng, 40)
        };
        texts.push(text);
    }
    let mut jsonl = String::new();
    let mut files = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let name = format!("docs/{i:03}.txt");
        env.file(&name, t);
        files.push(env.path().join(name));
        jsonl.push_str(&serde_json::json!({ "text": t, "n": i }).to_string());
        jsonl.push('\n');
    }
    env.file("texts.jsonl", &jsonl);
    let report = |e: Error| panic!("reported: {e}");
    let corpus =
        fingerprint_files::<u64>(files.iter().collect(), &config(), None, false, &(), &report);
    let by_files = dedup(
        &corpus.fingerprints,
        &corpus.docs,
        Candidates::Hamming,
        &corpus,
        &config(),
        &options(),
        &(),
        &report,
    );
    let set = read(
        &env.path().join("texts.jsonl"),
        &RecordOptions::new(["text"]),
    )
    .unwrap();
    assert_eq!(set.fingerprints, corpus.fingerprints);
    let by_records = run(&set);
    assert!(by_files.assignment.removed() > 30);
    assert_eq!(by_records.assignment, by_files.assignment);
}

fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split_inclusive(|&b| b == b'\n').collect()
}

#[test]
fn jsonl_outputs_copy_the_lines() {
    let env = TestEnv::new();
    let input = std::fs::read(data("questions.jsonl")).unwrap();
    let original = lines(&input);
    for (name, gz) in [("questions.jsonl", false), ("questions.jsonl.gz", true)] {
        let set = read(&data(name), &qc()).unwrap();
        let result = run(&set);
        let (kept, removed) = (
            env.path().join("clean.jsonl"),
            env.path().join("removed.jsonl.gz"),
        );
        let stats = write_records(
            &set,
            removed_as(&result.assignment),
            Some(&kept),
            Some(&removed),
        )
        .unwrap();
        assert_eq!((stats.kept, stats.removed), (5, 3), "{name} {gz}");
        let kept = std::fs::read(&kept).unwrap();
        let expected: Vec<&[u8]> = [0, 2, 4, 5, 6].iter().map(|&i| original[i]).collect();
        assert_eq!(lines(&kept), expected);
        let mut removed_text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&removed).unwrap())
            .read_to_string(&mut removed_text)
            .unwrap();
        let removed: Vec<serde_json::Value> = removed_text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(removed.len(), 3);
        assert_eq!(removed[0]["id"], "q1");
        assert_eq!(removed[0]["duplicate_of"], "q0");
        assert_eq!(removed[0]["score"], 1.0);
        assert_eq!(removed[2]["duplicate_of"], "q0");
        // The original fields, byte for byte, then the two new ones.
        let line = removed_text.lines().nth(1).unwrap();
        let before = std::str::from_utf8(original[3]).unwrap().trim_end();
        assert!(
            line.starts_with(before.strip_suffix('}').unwrap()),
            "{line}"
        );
        assert!(
            line.contains(",\"duplicate_of\":\"q2\",\"score\":0."),
            "{line}"
        );
    }
}

#[test]
fn csv_outputs_copy_the_records() {
    let env = TestEnv::new();
    for (name, sep) in [("questions.csv", ","), ("questions.tsv", "\t")] {
        let input = std::fs::read(data(name)).unwrap();
        let mut opts = RecordOptions::new(["question", "context"]);
        if sep == "\t" {
            opts.id_column = Some("id".into());
        }
        let set = read(&data(name), &opts).unwrap();
        let result = run(&set);
        let out = |n: &str| env.path().join(format!("{n}{}", &name[9..]));
        write_records(
            &set,
            removed_as(&result.assignment),
            Some(&out("clean")),
            Some(&out("removed")),
        )
        .unwrap();
        // Every kept record's bytes, CRLF and quoting included, in input order.
        let kept = std::fs::read(out("clean")).unwrap();
        let mut expected = input.clone();
        for i in [7, 3, 1] {
            let row = &set.rows[i];
            let (start, end) = (row.offset as usize, (row.offset + row.len as u64) as usize);
            let end = end + usize::from(input.get(end) == Some(&b'\n'));
            expected.drain(start..end);
        }
        assert_eq!(
            String::from_utf8_lossy(&kept),
            String::from_utf8_lossy(&expected)
        );
        assert_eq!(kept, expected, "{name}");
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(sep.as_bytes()[0])
            .from_path(out("removed"))
            .unwrap();
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(
            header,
            [
                "id",
                "question",
                "context",
                "emb",
                "n",
                "duplicate_of",
                "score"
            ]
        );
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        let dup: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r[0].as_str(), r[5].as_str()))
            .collect();
        if sep == "," {
            assert_eq!(dup, [("q1", "0"), ("q3", "2"), ("q7", "0")], "row indexes");
        } else {
            assert_eq!(dup, [("q1", "q0"), ("q3", "q2"), ("q7", "q0")], "ids");
        }
        assert_eq!(rows[0][6], "1.0000");
    }
}

#[test]
fn parquet_outputs_keep_the_schema() {
    use arrow_array::cast::AsArray;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let env = TestEnv::new();
    let read_all = |p: &Path| {
        let b = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(p).unwrap()).unwrap();
        let schema = b.schema().clone();
        let batches: Vec<_> = b.build().unwrap().map(|b| b.unwrap()).collect();
        arrow_select::concat::concat_batches(&schema, &batches).unwrap()
    };
    for name in ["questions.parquet", "questions-zstd.parquet"] {
        let set = read(&data(name), &qc()).unwrap();
        let result = run(&set);
        let (kept, removed) = (
            env.path().join("clean.parquet"),
            env.path().join("removed.parquet"),
        );
        write_records(
            &set,
            removed_as(&result.assignment),
            Some(&kept),
            Some(&removed),
        )
        .unwrap();
        let input = read_all(&data(name));
        let kept = read_all(&kept);
        assert_eq!(kept.schema(), input.schema());
        let mask = arrow_array::BooleanArray::from(
            (0..8).map(|i| ![1, 3, 7].contains(&i)).collect::<Vec<_>>(),
        );
        assert_eq!(
            kept,
            arrow_select::filter::filter_record_batch(&input, &mask).unwrap()
        );
        let removed = read_all(&removed);
        assert_eq!(removed.num_rows(), 3);
        let dup = removed
            .column_by_name("duplicate_of")
            .unwrap()
            .as_string::<i32>();
        assert_eq!(dup.iter().flatten().collect::<Vec<_>>(), ["q0", "q2", "q0"]);
        assert_eq!(removed.num_columns(), input.num_columns() + 2);
    }
}

#[test]
fn bad_rows_are_named_by_line() {
    let path = data("malformed.jsonl");
    let err = read(&path, &qc()).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "{}, line 3: invalid JSON at column",
            path.display()
        )),
        "{err}"
    );
    let reported = Mutex::new(Vec::new());
    let mut opts = qc();
    opts.skip_bad_rows = true;
    let report = |e: Error| reported.lock().unwrap().push(e.to_string());
    let set = read_records::<u64>(&path, &opts, &config(), &(), &report).unwrap();
    let reported = reported.into_inner().unwrap();
    let name = path.display();
    assert_eq!(reported.len(), 3, "{reported:?}");
    assert!(reported[0].starts_with(&format!("{name}, line 3: invalid JSON")));
    assert_eq!(reported[1], format!("{name}, line 5: no column 'context'"));
    assert_eq!(
        reported[2],
        format!("{name}, line 6: column 'context' is a number, not text")
    );
    assert_eq!(
        (set.len(), set.skipped, set.lossy, set.rows_read),
        (3, 3, 1, 6)
    );
    let rows: Vec<(u64, u64)> = set.rows.iter().map(|r| (r.row, r.line)).collect();
    assert_eq!(rows, [(0, 1), (2, 4), (5, 7)]);
    let result = run(&set);
    assert_eq!(decisions(&set, &result), ["\"q1\"->\"q0\" exact"]);
    // Skipped rows go to neither output; the others are copied, invalid byte included.
    let env = TestEnv::new();
    let (kept, removed) = (env.path().join("k.jsonl"), env.path().join("r.jsonl"));
    write_records(
        &set,
        removed_as(&result.assignment),
        Some(&kept),
        Some(&removed),
    )
    .unwrap();
    let input = std::fs::read(&path).unwrap();
    let original = lines(&input);
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        [original[0], original[3]].concat()
    );
    assert_eq!(lines(&std::fs::read(&removed).unwrap()).len(), 1);
}

#[test]
fn missing_and_mistyped_columns() {
    let mut opts = RecordOptions::new(["question", "answer"]);
    let err = read(&data("questions.csv"), &opts).unwrap_err().to_string();
    assert!(
        err.contains("questions.csv, line 1: no column 'answer' in the header"),
        "{err}"
    );
    let err = read(&data("questions.jsonl"), &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("questions.jsonl, line 1: no column 'answer'"),
        "{err}"
    );
    let err = read(&data("questions.parquet"), &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("questions.parquet: no column 'answer' (it has: id, question"),
        "{err}"
    );
    opts.columns = vec!["n".into()];
    let err = read(&data("questions.parquet"), &opts)
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("column 'n' is Int64, not text"), "{err}");
    let err = read(&data("questions.jsonl"), &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("line 1: column 'n' is a number, not text"),
        "{err}"
    );
}

/// A failed write leaves nothing under the final names: the input shrank after reading.
#[test]
fn no_half_written_outputs() {
    let env = TestEnv::new();
    let input = env.path().join("rows.jsonl");
    std::fs::copy(data("questions.jsonl"), &input).unwrap();
    let set = read(&input, &qc()).unwrap();
    let result = run(&set);
    let bytes = std::fs::read(&input).unwrap();
    std::fs::write(&input, &bytes[..bytes.len() / 2]).unwrap();
    let kept = env.path().join("clean.jsonl");
    let err = write_records(&set, removed_as(&result.assignment), Some(&kept), None).unwrap_err();
    assert!(err.to_string().contains("rows.jsonl"), "{err}");
    let left: Vec<_> = std::fs::read_dir(env.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["rows.jsonl"], "no output, no temporary file");
}

/// Rows are read again for verification; a row whose text changed is named and left out.
#[test]
fn a_changed_row_is_named() {
    let env = TestEnv::new();
    let input = env.path().join("rows.jsonl");
    std::fs::copy(data("questions.jsonl"), &input).unwrap();
    let set = read(&input, &qc()).unwrap();
    let text = std::fs::read_to_string(&input).unwrap();
    std::fs::write(&input, text.replace("old railway", "new railway")).unwrap();
    let reported = Mutex::new(Vec::new());
    let report = |e: Error| reported.lock().unwrap().push(e.to_string());
    let result = dedup(
        &set.fingerprints,
        &set.rows,
        Candidates::Hamming,
        &set,
        &config(),
        &options(),
        &(),
        &report,
    );
    let reported = reported.into_inner().unwrap();
    assert_eq!(
        reported,
        [format!(
            "{}, line 4: changed since it was fingerprinted; its pairs are left out",
            input.display()
        )]
    );
    assert_eq!(result.assignment.removed(), 2);
}

/// The command a user types: `simdedup dedup DATA --columns ... -o clean --removed removed`.
#[test]
fn cli_dedups_every_format_and_writes_both_files() {
    let env = TestEnv::new();
    let mut expected: Option<String> = None;
    for name in [
        "questions.jsonl",
        "questions.jsonl.gz",
        "questions.csv",
        "questions.tsv",
        "questions.parquet",
    ] {
        let src = data(name);
        let out = env.path().join(format!("clean-{name}"));
        let removed = env.path().join(format!("removed-{name}"));
        let run = env.run(&[
            "dedup",
            src.to_str().unwrap(),
            "--columns",
            "question,context",
            "--id-column",
            "id",
            "-o",
            out.to_str().unwrap(),
            "--removed",
            removed.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert!(
            run.stdout.starts_with("q1\tq0\t1.0000\n"),
            "{name}: {}",
            run.stdout
        );
        match &expected {
            None => expected = Some(run.stdout.clone()),
            Some(e) => assert_eq!(&run.stdout, e, "{name} decides differently"),
        }
        assert!(out.exists() && removed.exists(), "{name}: outputs written");
        assert!(run.stderr.contains("rows kept"), "{}", run.stderr);
    }
    // The kept JSONL lines are the original lines, byte for byte.
    let original = std::fs::read_to_string(data("questions.jsonl")).unwrap();
    let clean = std::fs::read_to_string(env.path().join("clean-questions.jsonl")).unwrap();
    for line in clean.lines() {
        assert!(original.lines().any(|l| l == line), "changed line: {line}");
    }
    let removed = std::fs::read_to_string(env.path().join("removed-questions.jsonl")).unwrap();
    assert_eq!(
        clean.lines().count() + removed.lines().count(),
        original.lines().count()
    );
    assert!(removed.contains("\"duplicate_of\""), "{removed}");
}

#[test]
fn cli_names_bad_lines_and_skips_them_on_request() {
    let env = TestEnv::new();
    let src = data("malformed.jsonl");
    let out = env.path().join("clean.jsonl");
    let run = env.run(&[
        "dedup",
        src.to_str().unwrap(),
        "--columns",
        "question,context",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("malformed.jsonl, line 3: invalid JSON"),
        "{}",
        run.stderr
    );
    assert!(!out.exists(), "no output after a fatal error");
    let run = env.run(&[
        "dedup",
        src.to_str().unwrap(),
        "--columns",
        "question,context",
        "--skip-bad-rows",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "skipped rows are input errors");
    assert!(
        run.stderr.contains("line 5: no column 'context'"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("line 6: column 'context' is a number"),
        "{}",
        run.stderr
    );
    assert!(out.exists(), "the rest is written");
    let run = env.run(&[
        "dedup",
        src.to_str().unwrap(),
        data("questions.csv").to_str().unwrap(),
        "--columns",
        "q",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("exactly one PATH"), "{}", run.stderr);
}

/// Leakage, outliers and representatives on dataset rows.
#[test]
fn cli_runs_every_operation_on_records() {
    let env = TestEnv::new();
    let (csv, jsonl) = (data("questions.csv"), data("questions.jsonl"));
    let cols = ["--columns", "question,context", "--id-column", "id", "-q"];
    let mut args = vec![
        "dedup",
        csv.to_str().unwrap(),
        "--against",
        jsonl.to_str().unwrap(),
    ];
    args.extend_from_slice(&cols);
    let run = env.run(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The same rows on both sides: every query leaks, into its own twin or an exact copy
    // of it (q1 is q0 after normalisation, and the lower reference wins a tie).
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 8, "{}", run.stdout);
    assert_eq!(lines[0], "q0\tq0\t1.0000");
    assert_eq!(lines[1], "q1\tq0\t1.0000");

    let mut args = vec!["outliers", jsonl.to_str().unwrap(), "-K", "3"];
    args.extend_from_slice(&cols);
    let run = env.run(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "10% of 8 rows, rounded up");

    let mut args = vec!["represent", csv.to_str().unwrap(), "--count", "3"];
    args.extend_from_slice(&cols);
    let run = env.run(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 3);
    // Parquet and CSV rank the same rows the same way.
    let parquet = data("questions.parquet");
    let mut args = vec!["represent", parquet.to_str().unwrap(), "--count", "3"];
    args.extend_from_slice(&cols);
    assert_eq!(env.run(&args).stdout, run.stdout);
}

/// `--embedding-column` with `--against`: the rows whose vectors leak into the reference
/// dataset's (same column), named by id; vectors of another length are refused by file.
#[test]
fn cli_finds_leaks_by_embedding_column() {
    let env = TestEnv::new();
    let (csv, jsonl) = (data("questions.csv"), data("questions.jsonl"));
    let args = |reference: &str| {
        vec![
            "dedup".to_string(),
            csv.to_str().unwrap().to_string(),
            "--columns".into(),
            "question,context".into(),
            "--embedding-column".into(),
            "emb".into(),
            "--id-column".into(),
            "id".into(),
            "--against".into(),
            reference.to_string(),
        ]
    };
    let leaks = |reference: &str| {
        let a = args(reference);
        env.run(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let run = leaks(jsonl.to_str().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The same rows on both sides: every query leaks, at cosine 1, into its twin or an
    // earlier row with the same vector.
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 8, "{}", run.stdout);
    for line in &lines {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f[2], "1.0000", "{line}");
        let (q, r): (u32, u32) = (f[0][1..].parse().unwrap(), f[1][1..].parse().unwrap());
        assert!(r <= q, "{line}");
    }
    assert_eq!(lines[0], "q0\tq0\t1.0000");
    env.file(
        "short.jsonl",
        "{\"id\": \"x\", \"question\": \"a\", \"context\": \"b\", \"emb\": [1.0, 2.0]}\n",
    );
    let short = env.path().join("short.jsonl");
    let run = leaks(short.to_str().unwrap());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("short.jsonl"), "{}", run.stderr);
    assert!(run.stderr.contains("2 dimensions"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

/// `--embedding-column`: rows deduplicated by their vectors, verified by exact cosine.
#[test]
fn cli_dedups_records_by_embedding_column() {
    let env = TestEnv::new();
    let mut first: Option<String> = None;
    for name in ["questions.jsonl", "questions.csv", "questions.parquet"] {
        let src = data(name);
        let removed = env.path().join(format!("removed-{name}"));
        let run = env.run(&[
            "dedup",
            src.to_str().unwrap(),
            "--columns",
            "question,context",
            "--embedding-column",
            "emb",
            "--id-column",
            "id",
            "--removed",
            removed.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        // q1 = [0.1, 1, -0.5] against q0 = [0, 1, -0.5]: cosine 1.25 / sqrt(1.26 * 1.25).
        let expected = 1.25 / (1.26f64 * 1.25).sqrt();
        assert!(
            run.stdout.starts_with(&format!("q1\tq0\t{expected:.4}\n")),
            "{}",
            run.stdout
        );
        for line in run.stdout.lines() {
            let score: f64 = line.split('\t').nth(2).unwrap().parse().unwrap();
            assert!(score >= 0.9, "{line}");
        }
        assert!(removed.exists());
        match &first {
            None => first = Some(run.stdout),
            Some(f) => assert_eq!(&run.stdout, f, "{name}"),
        }
    }
}
