//! A temporary tree and a way to run the binary in it, so that each test reads like the
//! command a user types and the output they see.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

/// What a run printed and how it ended.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }

    /// Stdout lines, sorted.
    pub fn sorted_lines(&self) -> Vec<String> {
        let mut v: Vec<String> = self.stdout.lines().map(String::from).collect();
        v.sort();
        v
    }
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_simdedup"))
}

pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (parents created) relative to the tree's root.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> &TestEnv {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
        self
    }

    /// Runs `simdedup ARGS` in the tree's root with `stdin`.
    pub fn run_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        self.run_env(args, stdin, &[])
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, b"", &[])
    }

    pub fn run_env(&self, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
        run_in(self.dir.path(), args, stdin, env)
    }
}

/// Runs `simdedup ARGS` in `dir`.
pub fn run_in(dir: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    use std::io::Write;
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn simdedup");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait simdedup");
    writer.join().unwrap();
    Run::from(out)
}

/// A deterministic pseudo-random generator (splitmix64) for generated corpora.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "the",
    "cat",
    "sat",
    "on",
    "mat",
    "we",
    "all",
    "scream",
    "for",
    "ice",
    "cream",
    "dog",
    "ran",
    "over",
    "hill",
    "river",
    "stone",
    "bright",
    "quiet",
    "north",
    "window",
    "paper",
    "garden",
    "silver",
    "morning",
    "letter",
    "engine",
    "cloud",
    "winter",
    "copper",
    "été",
    "naïve",
    "Über",
    "straße",
    "東京",
    "ünïcödé",
    "data",
    "model",
    "table",
    "house",
];

/// A random text of `words` words.
pub fn random_text(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(if rng.below(12) == 0 { '\n' } else { ' ' });
        }
        s.push_str(WORDS[rng.below(WORDS.len())]);
    }
    s
}

/// `text` with `edits` random word substitutions.
pub fn edit(rng: &mut Rng, text: &str, edits: usize) -> String {
    let mut words: Vec<&str> = text.split(' ').collect();
    for _ in 0..edits {
        let i = rng.below(words.len());
        words[i] = WORDS[rng.below(WORDS.len())];
    }
    words.join(" ")
}
