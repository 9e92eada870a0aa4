//! `--compat dedup-py` against our Python reconstruction of the seed script
//! (scripts/dedup_py.py, itself checked against the seed's printed numbers) on a generated
//! corpus with Unicode, CRLF line ends, invalid UTF-8, short texts and near copies.
//! Needs python3 with the `cityhash` package (.ci/run installs it); skipped locally
//! without it, a failure in CI.

use std::process::{Command, Stdio};

use crate::util::{Rng, TestEnv, edit, random_text};

fn python_has_cityhash() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import cityhash"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install the cityhash Python package for the oracle test"
        );
        eprintln!("skipping: python3 -c 'import cityhash' failed");
    }
    ok
}

fn corpus() -> (TestEnv, Vec<String>) {
    let env = TestEnv::new();
    let mut rng = Rng(42);
    let mut names = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    for i in 0..90 {
        let name = format!("d{i:03}.txt");
        let text = match i % 9 {
            0 if i > 0 => edit(&mut rng, &texts[i - 1], 1),
            1 => {
                let n = 1 + rng.below(3);
                random_text(&mut rng, n)
            }
            2 => random_text(&mut rng, 5).replace('\n', "\r\n"),
            3 if i > 3 => texts[i - 3].clone(),
            4 => "x".to_string(),
            _ => {
                let n = 3 + rng.below(40);
                random_text(&mut rng, n)
            }
        };
        texts.push(text.clone());
        env.file(&name, text);
        names.push(name);
    }
    env.file(
        "z-invalid.txt",
        b"caf\xe9 au lait \xff\xfe and more words here".as_slice(),
    );
    names.push("z-invalid.txt".into());
    (env, names)
}

#[test]
fn compat_matches_python_reconstruction() {
    if !python_has_cityhash() {
        return;
    }
    let (env, names) = corpus();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/dedup_py.py");
    let list = names.join("\n") + "\n";
    for bits in ["32", "64", "128"] {
        for extra in [&[][..], &["-r", "0.1"][..]] {
            let mut py_args = vec![script, "-b", bits];
            py_args.extend_from_slice(extra);
            let python = |more: &[&str]| {
                let mut child = Command::new("python3")
                    .args(&py_args)
                    .args(more)
                    .current_dir(env.path())
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(list.as_bytes())
                    .unwrap();
                let out = child.wait_with_output().unwrap();
                assert!(out.status.success());
                String::from_utf8(out.stdout).unwrap()
            };
            let mut args = vec!["--compat", "dedup-py", "-b", bits, "-"];
            args.extend_from_slice(extra);
            let ours = env.run_stdin(&args, list.as_bytes());
            assert_eq!(ours.code, 0, "{}", ours.stderr);
            let mut ours_sorted = ours.sorted_lines().join("\n");
            ours_sorted.push('\n');
            let theirs = python(&[]);
            assert!(theirs.lines().count() > 5, "too few pairs to be a test");
            assert_eq!(ours_sorted, theirs, "pairs at {bits} bits {extra:?}");

            let ours = env.run_stdin(
                &["fingerprint", "--compat", "dedup-py", "-b", bits, "-"],
                list.as_bytes(),
            );
            assert_eq!(
                ours.stdout,
                python(&["--fingerprints"]),
                "fingerprints at {bits} bits"
            );
        }
    }
}
