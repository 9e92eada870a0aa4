//! A full disk and Ctrl-C: the run says what went wrong, exits with the documented code
//! (2 for an error, 130 when interrupted) and leaves no partial file under the final name
//! and no temporary file behind. A full disk is simulated without root by a file-size
//! limit (`RLIMIT_FSIZE`, with SIGXFSZ ignored so that writes fail with EFBIG) or by
//! `/dev/full`.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Rng, TestEnv, bin, random_text, testdata};

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A JSONL dataset of `rows` rows of about 60 words each (about 400 bytes), each row
/// twice: half of the rows are kept, half removed.
fn dataset(env: &TestEnv, name: &str, rows: usize) -> String {
    let mut rng = Rng(7);
    let mut text = String::new();
    let mut question = String::new();
    for i in 0..rows {
        if i % 2 == 0 {
            question = random_text(&mut rng, 60).replace('\n', " ");
        }
        text.push_str(&format!("{{\"id\": {i}, \"question\": \"{question}\"}}\n"));
    }
    env.file(name, text);
    env.path().join(name).display().to_string()
}

/// Runs simdedup in `env` with writes to regular files limited to `limit` bytes.
fn run_limited(env: &TestEnv, args: &[&str], limit: u64) -> (i32, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(env.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls (signal, setrlimit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let rlim = libc::rlimit {
                rlim_cur: limit as libc::rlim_t,
                rlim_max: limit as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &rlim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().expect("spawn simdedup");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn full_disk_on_out_fails_naming_the_file_and_leaves_nothing() {
    let env = TestEnv::new();
    let input = dataset(&env, "data.jsonl", 2000);
    let dir = env.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let clean = dir.join("clean.jsonl").display().to_string();
    let removed = dir.join("removed.jsonl").display().to_string();
    let cases: [&[&str]; 2] = [
        &["dedup", &input, "--columns", "question", "-o", &clean],
        &[
            "dedup",
            &input,
            "--columns",
            "question",
            "--removed",
            &removed,
        ],
    ];
    for args in cases {
        // The kept rows and the removed rows (about 400 KB each) overflow 64 KiB.
        let (code, stderr) = run_limited(&env, args, 64 << 10);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        let dest = args.last().unwrap();
        assert!(
            stderr.contains(&format!("simdedup: {dest}: File too large")),
            "{args:?}: {stderr}"
        );
        assert_eq!(names(&dir), Vec::<String>::new(), "{args:?}: {stderr}");
    }
}

#[test]
fn full_disk_on_parquet_and_save_fails_cleanly() {
    let env = TestEnv::new();
    let parquet = testdata().join("records/questions.parquet");
    let npy = testdata().join("vectors/planted.npy");
    let (code, stderr) = run_limited(
        &env,
        &[
            "dedup",
            parquet.to_str().unwrap(),
            "--columns",
            "question,context",
            "-o",
            "clean.parquet",
        ],
        // Room for the spill file of the eight rows' texts, not for the output.
        1500,
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("clean.parquet: "), "{stderr}");
    let (code, stderr) = run_limited(
        &env,
        &[
            "dedup",
            "--vectors",
            npy.to_str().unwrap(),
            "--save",
            "run.json",
        ],
        100,
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("simdedup: run.json: File too large"),
        "{stderr}"
    );
    assert_eq!(names(env.path()), Vec::<String>::new());
}

#[test]
fn dev_full_is_a_full_disk() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let env = TestEnv::new();
    let npy = testdata().join("vectors/planted.npy");
    let run = env.run(&[
        "dedup",
        "--vectors",
        npy.to_str().unwrap(),
        "--save",
        "/dev/full",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("simdedup: /dev/full: No space left on device"),
        "{}",
        run.stderr
    );
    assert!(Path::new("/dev/full").exists(), "a device is not replaced");
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Sends `signal` to `child` and waits for it to end: its exit code and stderr, and how long
/// it took.
fn interrupt(mut child: Child, signal: i32) -> (i32, String, Duration) {
    // SAFETY: kill with the pid of our own child, which has not been reaped yet.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return (status.code().unwrap_or(-1), stderr, start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("simdedup did not exit within 10 s of signal {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `dir` holds a name starting with `prefix`.
fn wait_for(dir: &Path, prefix: &str) {
    let start = Instant::now();
    while !names(dir).iter().any(|n| n.starts_with(prefix)) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no {prefix}* in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_while_reading_exits_130_at_once() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let env = TestEnv::new();
        // A list of paths on stdin that never ends: the run waits for more.
        let child = Command::new(bin())
            .args(["-", "-q"])
            .current_dir(env.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let (code, stderr, took) = interrupt(child, signal);
        assert_eq!(code, 130, "signal {signal}: {stderr}");
        assert!(stderr.contains("simdedup: interrupted"), "{stderr}");
        assert!(took < Duration::from_secs(3), "took {took:?}");
        assert_eq!(names(env.path()), Vec::<String>::new());
    }
}

/// Interrupted while writing the outputs: `-o` is a regular file being written to its
/// temporary name, `--removed` a FIFO nobody reads (opening it blocks), so the run stops
/// with the temporary file there; Ctrl-C must remove it.
#[test]
fn ctrl_c_while_writing_leaves_no_partial_output() {
    let env = TestEnv::new();
    let input = dataset(&env, "data.jsonl", 50);
    let fifo = env.path().join("removed.jsonl");
    mkfifo(&fifo);
    let child = Command::new(bin())
        .args([
            "dedup",
            &input,
            "--columns",
            "question",
            "-o",
            "clean.jsonl",
            "--removed",
            "removed.jsonl",
        ])
        .current_dir(env.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(env.path(), ".clean.jsonl.");
    let (code, stderr, took) = interrupt(child, libc::SIGINT);
    assert_eq!(code, 130, "{stderr}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(
        names(env.path()),
        ["data.jsonl", "removed.jsonl"],
        "{stderr}"
    );
}
