//! `simdedup index build|add|query`: a query reports exactly the pairs of one plain run over
//! the indexed and the new files that involve a new file; damaged or mismatched indexes are
//! refused with a message naming the file.

use crate::util::{Rng, TestEnv, edit, random_text};

/// Families of near and exact copies spread over `old/` and `new/` at random, plus
/// unrelated texts and texts too short for a shingle; and one planted chain: `old/a` and
/// `old/a-near` are near duplicates, `new/a-copy` an exact copy of `old/a`, so the plain
/// run pairs `old/a-near` with `new/a-copy` through the exact group.
fn mixed_corpus(seed: u64, families: usize) -> TestEnv {
    let env = TestEnv::new();
    let mut rng = Rng(seed);
    for f in 0..families {
        let words = 60 + rng.below(60);
        let base = random_text(&mut rng, words);
        let members = 1 + rng.below(4);
        for m in 0..members {
            let text = match rng.below(4) {
                0 => base.clone(),
                1 => edit(&mut rng, &base, 2),
                2 => edit(&mut rng, &base, 8),
                _ => edit(&mut rng, &base, 25),
            };
            let dir = if rng.below(2) == 0 { "old" } else { "new" };
            env.file(&format!("{dir}/f{f:03}-{m}.txt"), text);
        }
    }
    let a = random_text(&mut rng, 90);
    env.file("old/a.txt", &a)
        .file("old/a-near.txt", edit(&mut rng, &a, 3))
        .file("new/a-copy.txt", &a)
        .file("old/short.txt", "Hi")
        .file("new/short.txt", "hi!")
        .file("new/tiny.txt", "two words");
    env
}

/// The lines of a plain run's output that name a file under `new`.
fn touching_new(stdout: &str, new: &[&str]) -> String {
    stdout
        .lines()
        .filter(|l| {
            l.starts_with("path_a")
                || l.split('\t')
                    .take(2)
                    .any(|p| new.iter().any(|n| p.starts_with(n)))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn build(env: &TestEnv, args: &[&str]) {
    let mut all = vec!["index", "build", "-o", "corpus.sdx"];
    all.extend_from_slice(args);
    let run = env.run(&all);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn query_equals_the_plain_run_restricted_to_new_files() {
    let env = mixed_corpus(11, 60);
    build(&env, &["old"]);
    for flags in [
        &[][..],
        &["--scores", "--header"],
        &["-j", "0.8", "--scores"],
    ] {
        let mut plain = vec!["old", "new"];
        plain.extend_from_slice(flags);
        let plain = env.run(&plain);
        assert_eq!(plain.code, 0, "{}", plain.stderr);
        let mut query = vec!["index", "query", "corpus.sdx", "new"];
        query.extend_from_slice(flags);
        let query = env.run(&query);
        assert_eq!(query.code, 0, "{}", query.stderr);
        let expected = touching_new(&plain.stdout, &["new/"]);
        assert_eq!(query.stdout, expected, "flags {flags:?}");
        // Every kind of pair is there: old-new, new-new, exact, near, the planted chain.
        if flags.contains(&"--header") {
            let has = |p: &dyn Fn(&str) -> bool| query.stdout.lines().any(p);
            assert!(has(&|l| l.starts_with("old/") && l.ends_with("near")));
            assert!(has(&|l| l.starts_with("old/") && l.ends_with("exact")));
            assert!(has(&|l| l.starts_with("new/") && l.ends_with("near")));
            assert!(has(&|l| l.starts_with("old/a-near.txt\tnew/a-copy.txt\t")));
            assert!(has(
                &|l| l.starts_with("old/short.txt\tnew/short.txt\t0\t1.0000\texact")
            ));
            assert!(query.stdout.lines().count() > 20, "{}", query.stdout);
        }
    }
}

#[test]
fn build_add_query_equals_build_all_query() {
    let env = mixed_corpus(12, 40);
    // Split new/ into two batches: new/f0* (added) and the rest (queried).
    let added: Vec<String> = std::fs::read_dir(env.path().join("new"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("f0"))
        .collect();
    std::fs::create_dir(env.path().join("more")).unwrap();
    for name in &added {
        std::fs::rename(
            env.path().join("new").join(name),
            env.path().join("more").join(name),
        )
        .unwrap();
    }
    build(&env, &["old"]);
    let add = env.run(&["index", "add", "corpus.sdx", "more"]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(add.stderr.contains("documents added"), "{}", add.stderr);
    let incremental = env.run(&["index", "query", "corpus.sdx", "new", "--scores"]);
    let added_bytes = std::fs::read(env.path().join("corpus.sdx")).unwrap();

    build(&env, &["old", "more"]);
    let whole = env.run(&["index", "query", "corpus.sdx", "new", "--scores"]);
    assert_eq!(incremental.code, 0, "{}", incremental.stderr);
    assert_eq!(incremental.stdout, whole.stdout);
    assert!(!whole.stdout.is_empty());
    // The same file, byte for byte, either way.
    assert_eq!(
        added_bytes,
        std::fs::read(env.path().join("corpus.sdx")).unwrap()
    );
    let plain = env.run(&["old", "more", "new", "--scores"]);
    assert_eq!(whole.stdout, touching_new(&plain.stdout, &["new/"]));

    // Adding the same files again skips them, with a note.
    let again = env.run(&["index", "add", "corpus.sdx", "more"]);
    assert_eq!(again.code, 0);
    assert!(
        again.stderr.contains("already in the index: skipped"),
        "{}",
        again.stderr
    );
    assert_eq!(
        added_bytes,
        std::fs::read(env.path().join("corpus.sdx")).unwrap()
    );
}

#[test]
fn settings_come_from_the_index_and_conflicts_are_errors() {
    let env = mixed_corpus(13, 10);
    build(
        &env,
        &["old", "-b", "64", "--shingle", "word:2", "--weights", "log"],
    );
    let plain = env.run(&[
        "old",
        "new",
        "-b",
        "64",
        "--shingle",
        "word:2",
        "--weights",
        "log",
    ]);
    let query = env.run(&["index", "query", "corpus.sdx", "new"]);
    assert_eq!(query.stdout, touching_new(&plain.stdout, &["new/"]));
    let same = env.run(&[
        "index",
        "query",
        "corpus.sdx",
        "new",
        "-b",
        "64",
        "--shingle",
        "word:2",
    ]);
    assert_eq!(same.stdout, query.stdout);

    for (args, says) in [
        (&["-b", "128"][..], "--bits 128 (the index has 64)"),
        (
            &["--shingle", "char:5"],
            "--shingle char:5 (the index has word:2)",
        ),
        (&["--weights", "raw"], "--weights raw (the index has log)"),
        (
            &["--normalize", "none"],
            "--normalize none (the index has nfkc,lowercase,punctuation,whitespace)",
        ),
    ] {
        for cmd in ["query", "add"] {
            let mut all = vec!["index", cmd, "corpus.sdx", "new"];
            all.extend_from_slice(args);
            let run = env.run(&all);
            assert_eq!(run.code, 2, "{args:?}");
            assert!(run.stdout.is_empty());
            assert!(
                run.stderr.contains("corpus.sdx: settings differ"),
                "{}",
                run.stderr
            );
            assert!(run.stderr.contains(says), "{}", run.stderr);
        }
    }
}

#[test]
fn damaged_indexes_are_refused() {
    let env = mixed_corpus(14, 5);
    build(&env, &["old"]);
    let good = std::fs::read(env.path().join("corpus.sdx")).unwrap();
    let refused = |bytes: &[u8], says: &str| {
        env.file("bad.sdx", bytes);
        for cmd in ["query", "add"] {
            let run = env.run(&["index", cmd, "bad.sdx", "new"]);
            assert_eq!(run.code, 2, "{says}");
            assert!(run.stdout.is_empty());
            assert!(
                run.stderr.contains(&format!("bad.sdx: {says}")),
                "{}",
                run.stderr
            );
        }
        // Nothing was written over the damaged file.
        assert_eq!(std::fs::read(env.path().join("bad.sdx")).unwrap(), bytes);
    };
    refused(&good[..good.len() - 100], "truncated index");
    refused(&good[..30], "truncated index");
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 1;
    refused(&flipped, "corrupt index: checksum");
    let mut newer = good.clone();
    newer[8] = 4;
    refused(&newer, "index format version 4 is newer");
    refused(b"path_a\tpath_b\n", "not a simdedup index");
    refused(b"", "not a simdedup index");
    let run = env.run(&["index", "query", "missing.sdx", "new"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("missing.sdx: No such file"),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn odd_paths_round_trip() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    let mut rng = Rng(15);
    let text = random_text(&mut rng, 80);
    let names: [&[u8]; 3] = [
        b"old/tab\there.txt",
        b"old/new\nline.txt",
        b"new/bad\xff\\name.txt",
    ];
    for (k, name) in names.iter().enumerate() {
        let path = env.path().join(OsStr::from_bytes(name));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            path,
            if k == 1 {
                edit(&mut rng, &text, 2)
            } else {
                text.clone()
            },
        )
        .unwrap();
    }
    build(&env, &["old"]);
    let query = env.run(&["index", "query", "corpus.sdx", "new"]);
    let plain = env.run(&["old", "new"]);
    assert_eq!(query.code, 0, "{}", query.stderr);
    assert_eq!(query.stdout, touching_new(&plain.stdout, &["new/"]));
    assert_eq!(
        query.stdout,
        "old/new\\nline.txt\tnew/bad\\xff\\\\name.txt\nold/tab\\there.txt\tnew/bad\\xff\\\\name.txt\n"
    );
}

#[test]
fn same_bytes_and_pairs_for_one_and_two_threads() {
    let env = mixed_corpus(16, 50);
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let env_vars = [("RAYON_NUM_THREADS", threads)];
        let run = env.run_env(
            &["index", "build", "-o", "corpus.sdx", "old"],
            b"",
            &env_vars,
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let bytes = std::fs::read(env.path().join("corpus.sdx")).unwrap();
        let query = env.run_env(
            &["index", "query", "corpus.sdx", "new", "--scores"],
            b"",
            &env_vars,
        );
        assert_eq!(query.code, 0, "{}", query.stderr);
        outputs.push((bytes, query.stdout));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert!(!outputs[0].1.is_empty());
}

#[test]
fn changed_and_vanished_indexed_files_are_named() {
    let env = mixed_corpus(17, 0);
    build(&env, &["old"]);
    let before = env.run(&["index", "query", "corpus.sdx", "new"]);
    assert!(
        before.stdout.contains("old/a-near.txt\tnew/a-copy.txt"),
        "{}",
        before.stdout
    );
    env.file(
        "old/a-near.txt",
        "something else entirely now, with other words in it",
    );
    std::fs::remove_file(env.path().join("old/a.txt")).unwrap();
    let after = env.run(&["index", "query", "corpus.sdx", "new"]);
    assert_eq!(after.code, 2);
    // The exact pair needs no reading; the near pair's indexed side changed.
    assert_eq!(
        after.stdout,
        "old/a.txt\tnew/a-copy.txt\nold/short.txt\tnew/short.txt\n"
    );
    assert!(
        after
            .stderr
            .contains("old/a-near.txt: changed since it was fingerprinted"),
        "{}",
        after.stderr
    );
}

/// An index shaped for one bar serves queries at that bar and above by bands; a query below
/// it falls back to the exact Hamming search (said on stderr), and `--exact` forces it.
#[test]
fn queries_below_the_shaped_bar_use_the_exact_search() {
    let env = mixed_corpus(13, 30);
    let run = env.run(&["index", "build", "old", "-o", "corpus.sdx", "-j", "0.7"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("band keys of"), "{}", run.stderr);
    let query = |args: &[&str]| {
        let mut all = vec!["index", "query", "corpus.sdx", "new", "--scores"];
        all.extend_from_slice(args);
        env.run(&all)
    };
    let at = query(&["-j", "0.7"]);
    assert!(at.stderr.contains("bands of"), "{}", at.stderr);
    let below = query(&["-j", "0.5"]);
    assert!(
        below.stderr.contains("exact Hamming search"),
        "{}",
        below.stderr
    );
    assert!(below.stderr.contains("within distance"), "{}", below.stderr);
    let exact = query(&["-j", "0.7", "--exact"]);
    assert!(exact.stderr.contains("within distance"), "{}", exact.stderr);
    assert_eq!(at.stdout, exact.stdout);
}
