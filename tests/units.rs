//! `--unit paragraph|line` end to end: removed spans as TSV byte offsets into the original
//! files, cut from them to give the rewritten text; CRLF, no trailing newline, threads and
//! bad input.

use crate::util::TestEnv;

const NOTICE: &str = "This program is free software: you can redistribute it and/or modify it \
                      under the terms of the GNU General Public License as published in 2007";

const OTHER: &str = "The parser reads one record at a time and hands every field to the \
                     checker before it writes anything back to the disk";

/// One removed span as printed.
#[derive(Debug, PartialEq)]
struct Row {
    path: String,
    start: usize,
    end: usize,
    dup_path: String,
    dup_start: usize,
    dup_end: usize,
    similarity: f64,
}

fn rows(stdout: &str) -> Vec<Row> {
    stdout
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 7, "{l}");
            Row {
                path: f[0].into(),
                start: f[1].parse().unwrap(),
                end: f[2].parse().unwrap(),
                dup_path: f[3].into(),
                dup_start: f[4].parse().unwrap(),
                dup_end: f[5].parse().unwrap(),
                similarity: f[6].parse().unwrap(),
            }
        })
        .collect()
}

/// The file `path` of `env` without the spans `rows` remove from it.
fn cut(env: &TestEnv, rows: &[Row], path: &str) -> Vec<u8> {
    let bytes = std::fs::read(env.path().join(path)).unwrap();
    let mut out = Vec::new();
    let mut at = 0;
    for r in rows.iter().filter(|r| r.path == path) {
        assert!(r.start >= at && r.end <= bytes.len());
        out.extend_from_slice(&bytes[at..r.start]);
        at = r.end;
    }
    out.extend_from_slice(&bytes[at..]);
    out
}

#[test]
fn near_paragraphs_are_printed_as_spans_that_cut_cleanly() {
    let env = TestEnv::new();
    let changed = NOTICE.replace("2007", "2009");
    // CRLF in a.txt, no trailing newline in b.txt.
    env.file(
        "a.txt",
        format!("{NOTICE}\r\n\r\n{OTHER}\r\n\r\nshort one\r\n").replace("you can", "you\r\ncan"),
    )
    .file("b.txt", format!("Intro.\n\n{changed}\n\n\n{OTHER}"));
    let run = env.run(&["--unit", "paragraph", "-q", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows = rows(&run.stdout);
    assert_eq!(rows.len(), 2, "{}", run.stdout);
    let a = std::fs::read_to_string(env.path().join("a.txt")).unwrap();
    let b = std::fs::read_to_string(env.path().join("b.txt")).unwrap();
    // Both of b.txt's paragraphs go: the changed year (near) and the exact copy.
    assert_eq!(&b[rows[0].start..rows[0].end], format!("{changed}\n\n\n"));
    assert_eq!(&b[rows[1].start..rows[1].end], OTHER);
    assert!(rows[0].similarity >= 0.5 && rows[0].similarity < 1.0);
    assert_eq!(rows[1].similarity, 1.0);
    assert!(
        rows.iter()
            .all(|r| r.path == "./b.txt" && r.dup_path == "./a.txt")
    );
    assert!(a[rows[0].dup_start..rows[0].dup_end].starts_with("This program"));
    assert_eq!(
        &a[rows[1].dup_start..rows[1].dup_end],
        format!("{OTHER}\r\n\r\n")
    );
    assert_eq!(cut(&env, &rows, "./b.txt"), b"Intro.\n\n");
    // The same bytes for one and two threads.
    let args = ["--unit", "paragraph", "-q", "--header", "."];
    let one = env.run_env(&args, b"", &[("RAYON_NUM_THREADS", "1")]);
    let two = env.run_env(&args, b"", &[("RAYON_NUM_THREADS", "2")]);
    assert_eq!(one.stdout, two.stdout);
    assert!(one.stdout.starts_with("path\tstart\tend\t"));
}

#[test]
fn lines_and_keep_none() {
    let env = TestEnv::new();
    let footer = "Sent from the mailing list archive at lists.example.org";
    env.file(
        "m1.txt",
        format!("Hello all,\nthe build broke on Tuesday night again.\n{footer}\n"),
    )
    .file(
        "m2.txt",
        format!("Hi,\nfixed in the next upload, thanks for the report.\n{footer} \n"),
    )
    .file("m3.txt", format!("{footer}\nok ok\n"));
    let first = env.run(&["--unit", "line", "-q", "."]);
    let got = rows(&first.stdout);
    assert_eq!(got.len(), 2, "{}", first.stdout);
    assert!(got.iter().all(|r| r.dup_path == "./m1.txt"));
    // --keep none removes the first occurrence too; at --min-repeats 4 nothing goes.
    let none = rows(
        &env.run(&["--unit", "line", "--keep", "none", "-q", "."])
            .stdout,
    );
    assert_eq!(none.len(), 3);
    assert_eq!(cut(&env, &none, "./m3.txt"), b"ok ok\n");
    let four = env.run(&[
        "--unit",
        "line",
        "--keep",
        "none",
        "--min-repeats",
        "4",
        "-q",
        ".",
    ]);
    assert_eq!(four.stdout, "");
    // Shorter than --min-words: never removed.
    let long = env.run(&["--unit", "line", "--min-words", "20", "-q", "."]);
    assert_eq!(long.stdout, "");
}

#[test]
fn bad_input_is_named_and_the_rest_goes_on() {
    let env = TestEnv::new();
    env.file("a.txt", format!("{NOTICE}\n\n{NOTICE}\n"))
        .file("bin.dat", b"binary\0data here\n\n".as_slice());
    let run = env.run(&["--unit", "paragraph", "a.txt", "missing.txt", "bin.dat"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.txt"), "{}", run.stderr);
    assert!(
        run.stderr.contains("1 binary file(s) skipped"),
        "{}",
        run.stderr
    );
    assert_eq!(rows(&run.stdout).len(), 1);
    let refused = env.run(&["--unit", "line", "--keep", "longest", "a.txt"]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("--keep first"),
        "{}",
        refused.stderr
    );
    let none_docs = env.run(&["--keep", "none", "a.txt"]);
    assert_eq!(none_docs.code, 2);
}

#[test]
fn pairs_lists_every_verified_pair_and_remove_the_removals() {
    // Three near copies of one paragraph (different years): A~B, A~C and B~C are pairs;
    // B and C go as copies of A.
    let env = TestEnv::new();
    for (name, year) in [("a.txt", "2007"), ("b.txt", "2009"), ("c.txt", "2011")] {
        env.file(name, format!("{}\n", NOTICE.replace("2007", year)));
    }
    let pairs = rows(
        &env.run(&["--unit", "paragraph", "--output", "pairs", "-q", "."])
            .stdout,
    );
    let names: Vec<(&str, &str)> = pairs
        .iter()
        .map(|r| (r.path.as_str(), r.dup_path.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("./b.txt", "./a.txt"),
            ("./c.txt", "./a.txt"),
            ("./c.txt", "./b.txt")
        ]
    );
    let removed = rows(
        &env.run(&["--unit", "paragraph", "--output", "remove", "-q", "."])
            .stdout,
    );
    assert_eq!(removed.len(), 2);
    assert!(removed.iter().all(|r| r.dup_path == "./a.txt"));
}
