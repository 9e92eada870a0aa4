//! The binary as a user meets it: inputs, outputs, errors and exit codes.

use crate::util::{Rng, TestEnv, edit, random_text};

fn near_copies() -> TestEnv {
    let env = TestEnv::new();
    let base = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat \
                and the birds sing in the tall green trees beside the quiet river bank today";
    env.file("a.txt", base)
        .file("sub/b.txt", base.replace("lazy", "sleepy"))
        .file(
            "c.txt",
            "an entirely different text about databases, indexes and query planning in systems",
        )
        .file("d.txt", base);
    env
}

#[test]
fn tree_gives_pairs_in_input_order() {
    let env = near_copies();
    let run = env.run(&["."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "./a.txt\t./d.txt\n./a.txt\t./sub/b.txt\n./d.txt\t./sub/b.txt\n"
    );
}

#[test]
fn scores_and_header() {
    let env = near_copies();
    let run = env.run(&["--scores", "--header", "a.txt", "d.txt"]);
    assert_eq!(
        run.stdout,
        "path_a\tpath_b\tdistance\tsimilarity\tkind\na.txt\td.txt\t0\t1.0000\texact\n"
    );
    let run = env.run(&[
        "--no-verify",
        "-k",
        "10",
        "--scores",
        "--header",
        "a.txt",
        "d.txt",
    ]);
    assert_eq!(
        run.stdout,
        "path_a\tpath_b\tdistance\tsimilarity\na.txt\td.txt\t0\t1.0000\n"
    );
}

#[test]
fn stdin_lists_lines_and_nul() {
    let env = near_copies();
    let run = env.run_stdin(&["-"], b"a.txt\nd.txt\n");
    assert_eq!(run.stdout, "a.txt\td.txt\n");
    let run = env.run_stdin(&["-0", "-"], b"a.txt\0d.txt\0");
    assert_eq!(run.stdout, "a.txt\td.txt\n");
    assert_eq!(run.code, 0);
}

#[test]
fn bad_inputs_are_named_and_the_rest_is_processed() {
    let env = near_copies();
    let run = env.run_stdin(&["-"], b"a.txt\n\nmissing.txt\nd.txt\n");
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "a.txt\td.txt\n");
    assert!(
        run.stderr.contains("<stdin>, line 2: blank line"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("missing.txt: no such file"),
        "{}",
        run.stderr
    );

    let run = env.run(&["a.txt", "nope/", "d.txt"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "a.txt\td.txt\n");
    assert!(run.stderr.contains("nope/: no such file"));
}

#[cfg(unix)]
#[test]
fn dangling_links_and_unreadable_files() {
    let env = near_copies();
    std::os::unix::fs::symlink("does-not-exist", env.path().join("sub/link")).unwrap();
    let run = env.run(&["sub", "a.txt"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("sub/link: dangling symbolic link"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "sub/b.txt\ta.txt\n");
}

#[test]
fn binary_files_are_skipped_with_a_count() {
    let env = near_copies();
    env.file("bin.dat", b"the quick\0brown".as_slice());
    let run = env.run(&["a.txt", "bin.dat", "d.txt"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.contains("1 binary file(s) skipped"),
        "{}",
        run.stderr
    );
    let run = env.run(&["-q", "-k", "10", "a.txt", "bin.dat", "d.txt"]);
    assert_eq!(run.stderr, "");
}

#[test]
fn short_documents_are_not_paired_except_in_compat_mode() {
    let env = TestEnv::new();
    env.file("x.txt", "hi")
        .file("y.txt", "yo")
        .file("z.txt", "");
    let run = env.run(&["-k", "64", "."]);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("3 document(s) too short"),
        "{}",
        run.stderr
    );
    let run = env.run(&["--compat", "dedup-py", "-r", "1.1", "."]);
    // All three fingerprints are 0, so the seed pairs every one of them.
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.stdout);
}

#[test]
fn paths_are_escaped() {
    let env = TestEnv::new();
    let text = "one two three four five six seven";
    env.file("tab\there.txt", text)
        .file("new\nline.txt", text)
        .file("back\\slash.txt", text);
    let run = env.run(&["-k", "0", "."]);
    let lines = run.sorted_lines();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(run.stdout.contains("./tab\\there.txt"));
    assert!(run.stdout.contains("./new\\nline.txt"));
    assert!(run.stdout.contains("./back\\\\slash.txt"));
}

pub fn generated(n: usize) -> TestEnv {
    let env = TestEnv::new();
    let mut rng = Rng(7);
    let mut prev = String::new();
    for i in 0..n {
        let text = if i % 3 == 1 {
            edit(&mut rng, &prev, 2)
        } else {
            random_text(&mut rng, 60)
        };
        env.file(&format!("g/{i:04}.txt"), &text);
        prev = text;
    }
    env
}

#[test]
fn output_is_identical_for_one_and_two_threads() {
    let env = generated(300);
    for args in [
        &["-k", "12", "g"][..],
        &["--method", "rotate", "--window", "3", "-k", "16", "g"][..],
        &["--compat", "dedup-py", "g"][..],
    ] {
        let one = env.run_env(args, b"", &[("RAYON_NUM_THREADS", "1")]);
        let two = env.run_env(args, b"", &[("RAYON_NUM_THREADS", "2")]);
        assert!(!one.stdout.is_empty(), "{args:?} found nothing");
        assert_eq!(one.stdout, two.stdout, "{args:?}");
    }
}

#[test]
fn fingerprint_file_round_trip() {
    let env = generated(120);
    let direct = env.run(&["--no-verify", "-b", "64", "-k", "12", "--scores", "g"]);
    let fps = env.run(&["fingerprint", "-b", "64", "g"]);
    assert!(fps.stdout.starts_with("#bits=64\n"));
    assert_eq!(fps.stdout.lines().count(), 121);
    env.file("fps.tsv", &fps.stdout);
    let searched = env.run(&["pairs", "-k", "12", "--scores", "fps.tsv"]);
    assert_eq!(searched.code, 0, "{}", searched.stderr);
    assert_eq!(searched.stdout, direct.stdout);
    // Shards concatenated give the same result.
    let lines: Vec<&str> = fps.stdout.lines().collect();
    let shard1 = lines[..60].join("\n") + "\n";
    let shard2 = format!("#bits=64\n{}\n", lines[60..].join("\n"));
    env.file("s1.tsv", &shard1).file("s2.tsv", shard1 + &shard2);
    let sharded = env.run(&["pairs", "-k", "12", "--scores", "s2.tsv"]);
    assert_eq!(sharded.stdout, direct.stdout);
}

#[test]
fn bad_fingerprint_lines_are_named() {
    let env = TestEnv::new();
    env.file(
        "fps.tsv",
        "#bits=32\na\t00000000\nb\t0000000z\nc\t000000001\nd\t00000001\n",
    );
    let run = env.run(&["pairs", "-k", "1", "fps.tsv"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "a\td\n");
    assert!(
        run.stderr
            .contains("fps.tsv, line 3: fingerprint '0000000z' is not 8 hex digits"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("fps.tsv, line 4:"));
    env.file("bad.tsv", "a\t00000000\n");
    let run = env.run(&["pairs", "bad.tsv"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("bad.tsv, line 1: expected '#bits=N'"),
        "{}",
        run.stderr
    );
}

#[test]
fn closed_stdout_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let env = TestEnv::new();
    for i in 0..400 {
        env.file(
            &format!("same/{i:03}.txt"),
            "the same text in every single file of this tree",
        );
    }
    let mut child = Command::new(crate::util::bin())
        .args(["-q", "same"])
        .current_dir(env.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here: the pipe closes with ~80,000 lines still to write.
    let out = child.wait_with_output().unwrap();
    assert_eq!(first, "same/000.txt\tsame/001.txt\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn help_has_examples_and_conflicts_are_refused() {
    let env = TestEnv::new();
    let run = env.run(&["--help"]);
    assert!(run.stdout.contains("Examples:"));
    let run = env.run(&["-k", "3", "-r", "0.2", "."]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    let run = env.run(&["--compat", "dedup-py", "--shingle", "word:2", "."]);
    assert_eq!(run.code, 2);
}

fn cluster_tree() -> TestEnv {
    let env = TestEnv::new();
    let base = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen \
                fifteen sixteen seventeen eighteen nineteen twenty twentyone twentytwo";
    env.file("1.txt", base)
        .file("2.txt", base.replace("eleven", "ELEVEN!")) // exact after normalisation
        .file(
            "3.txt",
            base.replace("twenty twentyone", "twentyone twenty")
                .to_string()
                + " extra words here",
        )
        .file(
            "4.txt",
            "an unrelated document with words of its own that match nothing else here at all",
        );
    env
}

#[test]
fn outputs_clusters_keep_remove() {
    let env = cluster_tree();
    let run = env.run(&["-j", "0.5", "--scores", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(lines[0].starts_with("./1.txt\t./2.txt\t0\t1.0000\texact"));
    assert!(lines[1].starts_with("./1.txt\t./3.txt\t") && lines[1].ends_with("near"));

    let run = env.run(&["-j", "0.5", "--output", "remove", "."]);
    let removed: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(removed, ["./2.txt", "./3.txt"]);
    assert!(run.stdout.starts_with("./2.txt\t./1.txt\t1.0000\n"));

    let run = env.run(&["-j", "0.5", "--output", "keep", "."]);
    assert_eq!(run.stdout, "./1.txt\n./4.txt\n");

    let run = env.run(&["-j", "0.5", "--output", "keep", "--keep", "longest", "."]);
    assert_eq!(run.stdout, "./3.txt\n./4.txt\n");

    let run = env.run(&["-j", "0.5", "--output", "clusters", "--header", "."]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "cluster\tpath\tsimilarity\trole");
    assert_eq!(lines[1], "1\t./1.txt\t1.0000\tkept");
    assert_eq!(lines[2], "1\t./2.txt\t1.0000\texact");
    assert!(lines[3].starts_with("1\t./3.txt\t") && lines[3].ends_with("near"));
    assert_eq!(lines.len(), 4);
}

#[test]
fn chaining_needs_connected() {
    // a~b and b~c, but a and c share too little: greedy keeps c, --connected joins it.
    let env = TestEnv::new();
    let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    let a = words[..30].join(" ");
    let b = words[5..35].join(" ");
    let c = words[10..40].join(" ");
    env.file("a.txt", &a).file("b.txt", &b).file("c.txt", &c);
    let run = env.run(&["-j", "0.55", "-k", "64", "--output", "keep", "."]);
    assert_eq!(run.stdout, "./a.txt\n./c.txt\n", "{}", run.stderr);
    let run = env.run(&[
        "-j",
        "0.55",
        "-k",
        "64",
        "--output",
        "keep",
        "--connected",
        ".",
    ]);
    assert_eq!(run.stdout, "./a.txt\n");
}
