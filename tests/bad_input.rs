//! Every kind of bad input (issue 7): each is named on stderr, the exit code is the
//! documented one, and the results for everything else are those of a clean run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Run, TestEnv, bin};

const BASE: &str = "the quick brown fox jumps over the lazy dog while the cat sleeps on the \
                    warm mat and the birds sing in the tall green trees beside the quiet river";

/// Three near copies (`a.txt`, `d.txt`, `sub/b.txt`) and an unrelated `c.txt`.
fn tree() -> TestEnv {
    let env = TestEnv::new();
    env.file("a.txt", BASE)
        .file("sub/b.txt", BASE.replace("lazy", "sleepy"))
        .file(
            "c.txt",
            "an unrelated text about databases, indexes and query plans",
        )
        .file("d.txt", BASE);
    env
}

/// The pairs of the clean tree, with scores.
const CLEAN: &str = "./a.txt\t./d.txt\t0\t1.0000\texact\n\
                     ./a.txt\t./sub/b.txt\t";

/// Runs `simdedup ARGS` in `dir`, failing the test if it takes longer than a minute (a
/// FIFO opened by mistake would block forever).
fn run_bounded(dir: &Path, args: &[&str]) -> Run {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("simdedup {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

/// The scored output of `.` must be the clean tree's: the bad item changed nothing else.
fn assert_clean_results(run: &Run) {
    assert!(
        run.stdout.starts_with(CLEAN),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.stdout);
}

fn assert_names(run: &Run, text: &str) {
    assert!(
        run.stderr.contains(text),
        "expected '{text}' in: {}",
        run.stderr
    );
}

#[test]
fn clean_tree_is_the_reference() {
    let env = tree();
    let run = env.run(&["--scores", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_clean_results(&run);
}

/// Whether permissions are enforced here (they are not for root).
#[cfg(unix)]
fn permissions_enforced(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join("probe");
    std::fs::write(&probe, "x").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o000)).unwrap();
    let enforced = std::fs::read(&probe).is_err();
    std::fs::remove_file(&probe).unwrap();
    enforced
}

#[cfg(unix)]
#[test]
fn permission_denied_file_and_directory() {
    use std::os::unix::fs::PermissionsExt;
    let env = tree();
    if !permissions_enforced(env.path()) {
        eprintln!("skipped: file permissions are not enforced for this user (root?)");
        return;
    }
    env.file("secret.txt", BASE).file("locked/e.txt", BASE);
    let mode = |p: &str, m| {
        std::fs::set_permissions(env.path().join(p), std::fs::Permissions::from_mode(m)).unwrap()
    };
    mode("secret.txt", 0o000);
    mode("locked", 0o000);
    let run = env.run(&["--scores", "."]);
    mode("locked", 0o755);
    assert_eq!(run.code, 2);
    assert_names(&run, "./secret.txt: Permission denied");
    assert_names(&run, "./locked");
    assert_clean_results(&run);
}

#[cfg(unix)]
#[test]
fn symlink_loops_with_and_without_follow() {
    let env = tree();
    std::os::unix::fs::symlink("..", env.path().join("sub/up")).unwrap();
    std::os::unix::fs::symlink("self", env.path().join("self")).unwrap();
    // Without -L links are not followed: the loop back up is harmless; the link to
    // itself leads nowhere and is named.
    let run = run_bounded(env.path(), &["--scores", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_names(&run, "./self: Too many levels of symbolic links");
    assert_clean_results(&run);
    // With -L the walk finds the loop, names it and goes on.
    let run = run_bounded(env.path(), &["-L", "--scores", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_names(&run, "./sub/up");
    assert_names(&run, "loop");
    assert_names(&run, "./self");
    assert_clean_results(&run);
    // Named on the command line.
    let run = run_bounded(env.path(), &["self", "a.txt", "d.txt"]);
    assert_eq!(run.code, 2);
    assert_names(&run, "self: Too many levels of symbolic links");
    assert_eq!(run.stdout, "a.txt\td.txt\n");
}

#[cfg(unix)]
#[test]
fn dangling_links_in_a_tree_and_on_the_command_line() {
    let env = tree();
    std::os::unix::fs::symlink("gone.txt", env.path().join("sub/dangling")).unwrap();
    for follow in [&[][..], &["-L"][..]] {
        let args: Vec<&str> = follow.iter().copied().chain(["--scores", "."]).collect();
        let run = run_bounded(env.path(), &args);
        assert_eq!(run.code, 2, "{args:?}");
        assert_names(&run, "./sub/dangling");
        assert_clean_results(&run);
    }
    let run = env.run(&["sub/dangling", "a.txt", "d.txt"]);
    assert_eq!(run.code, 2);
    assert_names(&run, "sub/dangling: dangling symbolic link");
    assert_eq!(run.stdout, "a.txt\td.txt\n");
}

#[cfg(unix)]
fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_in_a_tree_are_never_opened() {
    let env = tree();
    if !mkfifo(&env.path().join("sub/pipe")) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    // A device reached through a followed link (creating one needs privileges).
    std::os::unix::fs::symlink("/dev/null", env.path().join("null")).unwrap();
    let run = run_bounded(env.path(), &["--scores", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_names(&run, "./sub/pipe: not a regular file, skipped");
    assert_clean_results(&run);
    let run = run_bounded(env.path(), &["-L", "--scores", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_names(&run, "./sub/pipe: not a regular file, skipped");
    assert_names(&run, "./null: not a regular file, skipped");
    assert_clean_results(&run);
}

#[cfg(unix)]
#[test]
fn a_fifo_named_on_the_command_line_is_read() {
    let env = tree();
    let fifo = env.path().join("pipe");
    if !mkfifo(&fifo) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    // Process substitution: `simdedup a.txt <(cat d.txt)`.
    let writer = std::thread::spawn(move || std::fs::write(fifo, BASE).unwrap());
    let run = run_bounded(env.path(), &["--scores", "a.txt", "pipe"]);
    writer.join().unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("a.txt\tpipe\t0\t1.0000\texact"),
        "{}",
        run.stdout
    );
}

#[test]
fn binary_files_are_counted_and_skipped_even_past_the_first_piece() {
    let env = tree();
    // A NUL byte only after the first read of the streaming reader.
    let mut late = BASE.repeat(20_000).into_bytes();
    late.extend_from_slice(b"\0tail");
    env.file("late.bin", &late)
        .file("early.bin", b"\0the quick brown fox");
    let run = env.run(&["--scores", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_names(&run, "2 binary file(s) skipped");
    assert_clean_results(&run);
    // --binary reads them: late.bin's text is BASE repeated, so no new pair with BASE.
    let run = env.run(&["--binary", "--scores", "early.bin", "late.bin"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn invalid_utf8_is_decoded_lossily() {
    let env = tree();
    let mut bad = BASE.as_bytes().to_vec();
    bad.splice(10..10, [0xff, 0xc3]);
    env.file("x/bad.txt", &bad).file(
        "x/replaced.txt",
        format!("{}\u{fffd}\u{fffd}{}", &BASE[..10], &BASE[10..]),
    );
    let run = env.run(&["--scores", "x"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "x/bad.txt\tx/replaced.txt\t0\t1.0000\texact\n");
}

#[test]
fn empty_files_are_compared_as_exact_duplicates_only() {
    let env = tree();
    env.file("empty1.txt", "").file("sub/empty2.txt", "");
    let run = env.run(&["--scores", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_names(&run, "2 document(s) too short");
    // The two empty files are each other's exact duplicates; the rest is unchanged.
    assert!(
        run.stdout
            .contains("./empty1.txt\t./sub/empty2.txt\t0\t1.0000\texact\n"),
        "{}",
        run.stdout
    );
    let rest: String = run
        .stdout
        .lines()
        .filter(|l| !l.contains("empty"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        rest.starts_with(CLEAN) && rest.lines().count() == 3,
        "{rest}"
    );
}

#[test]
fn a_very_long_line_is_streamed() {
    let env = tree();
    // 50 MB without a newline, and its copy with one word changed.
    let line = BASE.repeat(50_000_000 / BASE.len());
    let edited = line[..1000].to_uppercase() + &line[1000..];
    env.file("long/one.txt", &line)
        .file("long/two.txt", &edited);
    let run = env.run(&["--scores", "long"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Equal after normalisation (lowercase): an exact duplicate.
    assert_eq!(run.stdout, "long/one.txt\tlong/two.txt\t0\t1.0000\texact\n");
}

/// Undoes the TSV escaping of paths documented in the README.
fn unescape(field: &str) -> Vec<u8> {
    let b = field.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        match b[i + 1] {
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'\\' => out.push(b'\\'),
            b'x' => {
                out.push(u8::from_str_radix(&field[i + 2..i + 4], 16).unwrap());
                i += 2;
            }
            other => panic!("unknown escape \\{}", other as char),
        }
        i += 2;
    }
    out
}

#[cfg(unix)]
#[test]
fn odd_paths_round_trip_through_the_escaping() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    let names: [&[u8]; 5] = [
        b"tab\there.txt",
        b"new\nline.txt",
        b"cr\rhere.txt",
        b"back\\slash.txt",
        b"latin1-\xe9t\xe9.txt",
    ];
    for name in names {
        std::fs::write(env.path().join(OsStr::from_bytes(name)), BASE).unwrap();
    }
    let paths = |run: &Run| {
        let mut v: Vec<Vec<u8>> = run
            .stdout
            .lines()
            .map(|l| unescape(l.split('\t').nth(1).unwrap()))
            .collect();
        v.sort();
        v
    };
    let mut expected: Vec<Vec<u8>> = names.iter().map(|n| n.to_vec()).collect();
    expected.sort();
    let run = env.run(&["--output", "clusters", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("./latin1-\\xe9t\\xe9.txt"),
        "{}",
        run.stdout
    );
    let walked: Vec<Vec<u8>> = paths(&run).into_iter().map(|p| p[2..].to_vec()).collect();
    assert_eq!(walked, expected, "{}", run.stdout);
    // The same names through a NUL-separated list.
    let list: Vec<u8> = names.iter().flat_map(|n| [*n, b"\0"].concat()).collect();
    let listed = env.run_stdin(&["-0", "--output", "clusters", "-"], &list);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(paths(&listed), expected, "{}", listed.stdout);
}

#[test]
fn the_same_path_twice_is_read_once() {
    let env = tree();
    let run = env.run(&["--scores", "a.txt", "a.txt", "d.txt"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_names(&run, "1 repeated path(s) read once");
    assert_eq!(run.stdout, "a.txt\td.txt\t0\t1.0000\texact\n");
    let run = env.run_stdin(
        &["--scores", "a.txt", "-", "d.txt"],
        b"a.txt\nd.txt\na.txt\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_names(&run, "3 repeated path(s) read once");
    assert_eq!(run.stdout, "a.txt\td.txt\t0\t1.0000\texact\n");
}

#[test]
fn empty_input_says_so() {
    let env = TestEnv::new();
    std::fs::create_dir(env.path().join("empty")).unwrap();
    for (args, stdin) in [
        (&["empty"][..], &b""[..]),
        (&["-"][..], &b""[..]),
        (&["fingerprint", "-"][..], &b""[..]),
        (&["dedup", "empty"][..], &b""[..]),
    ] {
        let run = env.run_stdin(args, stdin);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert_names(&run, "no input files");
        assert!(
            run.stdout.is_empty() || run.stdout == "#bits=128\n",
            "{args:?}: {}",
            run.stdout
        );
    }
    let run = env.run(&[]);
    assert_eq!(run.code, 2);
    assert_names(&run, "required");
}

#[test]
fn closed_stdout_ends_quietly_in_every_text_command() {
    use std::io::{BufRead, BufReader};
    let env = TestEnv::new();
    // Enough files that `fingerprint` writes more than a pipe buffer (64 KiB).
    for i in 0..1500 {
        env.file(&format!("same/{i:04}.txt"), BASE);
    }
    for args in [&["-q", "same"][..], &["fingerprint", "-q", "same"][..]] {
        let mut child = Command::new(bin())
            .args(args)
            .current_dir(env.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(!first.is_empty());
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn determinism_across_runs_and_thread_counts() {
    let env = crate::cli::generated(150);
    for args in [
        &["--scores", "g"][..],
        &["--output", "clusters", "g"][..],
        &["fingerprint", "g"][..],
        &["fingerprint", "-b", "64", "--shingle", "char:5", "g"][..],
        &["dedup", "g"][..],
        &["dedup", "--output", "pairs", "g"][..],
    ] {
        let runs: Vec<Run> = ["1", "2", "2", "1"]
            .iter()
            .map(|t| env.run_env(args, b"", &[("RAYON_NUM_THREADS", t)]))
            .collect();
        assert_eq!(runs[0].code, 0, "{args:?}: {}", runs[0].stderr);
        assert!(!runs[0].stdout.is_empty(), "{args:?} printed nothing");
        for run in &runs[1..] {
            assert_eq!(run.stdout, runs[0].stdout, "{args:?}");
        }
    }
}

// ---- Through the library: files that change while the run goes on. ----

use simdedup::input::{CHUNK_BYTES, FileKind, WalkOptions, collect_files, read_chunks};
use simdedup::search::Pair;
use simdedup::text::corpus::fingerprint_files;
use simdedup::text::simhash::{Fingerprinter, TextConfig, fingerprint_text};
use simdedup::verify::verify_pairs;
use simdedup::{Error, Report};

struct Errors(std::sync::Mutex<Vec<String>>);

impl Report for Errors {
    fn report(&self, error: Error) {
        self.0.lock().unwrap().push(error.to_string());
    }
}

fn errors() -> Errors {
    Errors(std::sync::Mutex::new(Vec::new()))
}

fn config() -> TextConfig {
    TextConfig {
        shingling: "word:3".parse().unwrap(),
        normalization: simdedup::text::shingle::Normalization::ALL,
        weighting: Default::default(),
        compat: false,
    }
}

#[test]
fn a_file_that_vanishes_after_listing_is_named() {
    let env = tree();
    let report = errors();
    let list = collect_files(
        &[env.path().to_path_buf()],
        &WalkOptions::default(),
        &mut std::io::empty(),
        &report,
    );
    assert_eq!(list.files.len(), 4);
    std::fs::remove_file(env.path().join("c.txt")).unwrap();
    let corpus = fingerprint_files::<u128>(list.files, &config(), None, false, &(), &report);
    let errors = report.0.into_inner().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("c.txt: No such file"), "{errors:?}");
    assert_eq!(corpus.unreadable, 1);
    let names: Vec<&str> = (0..corpus.len())
        .map(|i| corpus.path(i).file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(names, ["a.txt", "d.txt", "b.txt"]);
}

#[test]
fn a_file_that_shrinks_or_grows_while_read_is_named() {
    let env = TestEnv::new();
    let path = env.path().join("moving.txt");
    for grow in [false, true] {
        std::fs::write(&path, BASE.repeat(100)).unwrap();
        let mut first = true;
        let result = read_chunks(&path, false, 256, &mut |_, _| {
            if std::mem::take(&mut first) {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .unwrap();
                if grow {
                    f.write_all(BASE.as_bytes()).unwrap();
                } else {
                    f.set_len(BASE.len() as u64).unwrap();
                }
            }
        });
        match result {
            Err(e @ Error::ChangedWhileRead { .. }) => {
                assert!(
                    e.to_string()
                        .contains("moving.txt: changed while it was read")
                )
            }
            other => panic!("grow {grow}: {other:?}"),
        }
    }
}

#[test]
fn a_file_changed_before_verification_is_named() {
    let env = tree();
    let files: Vec<PathBuf> = ["a.txt", "d.txt", "sub/b.txt"]
        .iter()
        .map(|p| env.path().join(p))
        .collect();
    let report = errors();
    let config = config();
    let corpus = fingerprint_files::<u128>(
        files.into_iter().collect(),
        &config,
        None,
        false,
        &(),
        &report,
    );
    let digests = |i: usize| corpus.docs[i].digest;
    let candidates: Vec<Pair> = [(0, 1), (0, 2), (1, 2)]
        .iter()
        .map(|&(a, b)| Pair { a, b, distance: 0 })
        .collect();
    let before = verify_pairs(&candidates, &corpus, &config, &digests, 0.5, &(), &report);
    assert_eq!(before.len(), 3);
    // d.txt is rewritten between fingerprinting and verification.
    std::fs::write(env.path().join("d.txt"), "something else entirely now").unwrap();
    let after = verify_pairs(&candidates, &corpus, &config, &digests, 0.5, &(), &report);
    let errors = report.0.into_inner().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("d.txt: changed since it was fingerprinted"),
        "{errors:?}"
    );
    // The pair that does not involve d.txt is complete.
    assert_eq!(after.len(), 1);
    assert_eq!((after[0].a, after[0].b), (0, 2));
}

#[test]
fn a_large_file_streamed_equals_the_whole_text() {
    // About 16 MB with Unicode (NFKC, case) and invalid UTF-8 across 16 read pieces (the
    // property test in `simhash` covers every configuration with tiny pieces).
    let env = TestEnv::new();
    let mut rng = crate::util::Rng(11);
    let mut bytes = Vec::new();
    while bytes.len() < 16 << 20 {
        bytes.extend_from_slice(crate::util::random_text(&mut rng, 200).as_bytes());
        bytes.extend_from_slice("\r\nＦＵＬＬ ﬁne cafe\u{301} \u{ff}".as_bytes());
        if rng.below(10) == 0 {
            bytes.push(0xe9);
        }
    }
    let path = env.path().join("big.txt");
    std::fs::write(&path, &bytes).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let config = config();
    let mut fp = Fingerprinter::<u128>::new(&config);
    let kind = read_chunks(&path, false, CHUNK_BYTES, &mut |piece, last| {
        fp.push(piece, last)
    });
    assert_eq!(kind.unwrap(), FileKind::Text);
    assert_eq!(fp.finish(), fingerprint_text::<u128>(&text, &config));
}
