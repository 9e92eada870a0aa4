//! `simdedup embed` with the vendored model: rows in input order that equal the library's
//! vectors, an ids file, the bad inputs (no model, an empty file, invalid UTF-8, an
//! unreadable file) and no output left behind by a failed run.

use simdedup::vectors::embed::StaticModel;
use simdedup::vectors::npy::Vectors;

use crate::util::TestEnv;

/// The model the Python package ships (and the tests use).
fn model_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python/simdedup/models/potion-base-4m-int8")
}

fn model() -> String {
    model_dir().display().to_string()
}

fn rows(path: &std::path::Path) -> Vec<Vec<f32>> {
    let v = Vectors::open(path).unwrap();
    let mut buf = vec![0f32; v.dim()];
    (0..v.rows()).map(|i| v.row(i, &mut buf).to_vec()).collect()
}

#[test]
fn embeds_files_in_order_with_ids() {
    let env = TestEnv::new();
    env.file("docs/b.txt", "The lighthouse keeper lit the lamp.")
        .file("docs/a.txt", "A bakery opens at dawn.")
        .file("docs/sub/c.txt", "")
        .file("docs/d.txt", b"caf\xe9 au lait");
    let m = model();
    let run = env.run(&[
        "embed", "--model", &m, "docs", "-o", "e.npy", "--ids", "ids.txt",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let ids = std::fs::read_to_string(env.path().join("ids.txt")).unwrap();
    assert_eq!(ids, "docs/a.txt\ndocs/b.txt\ndocs/d.txt\ndocs/sub/c.txt\n");
    let got = rows(&env.path().join("e.npy"));
    let model = StaticModel::load(std::path::Path::new(&m)).unwrap();
    let want = model.encode(&[
        "A bakery opens at dawn.",
        "The lighthouse keeper lit the lamp.",
        "caf\u{fffd} au lait",
        "",
    ]);
    assert_eq!(got.len(), 4);
    assert_eq!(got.concat(), want);
    // The empty text is a zero row; the others have length 1 (the model normalises).
    assert!(got[3].iter().all(|&v| v == 0.0));
    let norm: f32 = got[0].iter().map(|v| v * v).sum();
    assert!((norm - 1.0).abs() < 1e-5);
}

#[test]
fn paths_from_stdin_and_an_unreadable_file() {
    let env = TestEnv::new();
    env.file("x.txt", "first").file("y.txt", "second");
    let m = model();
    let run = env.run_stdin(
        &[
            "embed", "--model", &m, "-", "-o", "e.npy", "--ids", "ids.txt",
        ],
        b"y.txt\nmissing.txt\nx.txt\n",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("missing.txt"), "{}", run.stderr);
    let ids = std::fs::read_to_string(env.path().join("ids.txt")).unwrap();
    assert_eq!(ids, "y.txt\nx.txt\n");
    assert_eq!(rows(&env.path().join("e.npy")).len(), 2);
}

#[test]
fn a_directory_that_is_not_a_model() {
    let env = TestEnv::new();
    env.file("notamodel/readme.txt", "hi").file("t.txt", "text");
    let run = env.run(&["embed", "--model", "notamodel", "t.txt", "-o", "e.npy"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with(
            "simdedup: cannot load the model: notamodel: not a model directory: \
             notamodel/config.json is missing"
        ),
        "{}",
        run.stderr
    );
    assert!(!env.path().join("e.npy").exists());
}

#[test]
fn a_truncated_model_file_names_it() {
    let env = TestEnv::new();
    let src = model_dir();
    for name in ["config.json", "tokenizer.json"] {
        env.file(&format!("m/{name}"), std::fs::read(src.join(name)).unwrap());
    }
    let tensors = std::fs::read(src.join("model.safetensors")).unwrap();
    env.file("m/model.safetensors", &tensors[..tensors.len() / 2])
        .file("t.txt", "text");
    let run = env.run(&["embed", "--model", "m", "t.txt", "-o", "e.npy"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("simdedup: cannot load the model: m/model.safetensors: truncated"),
        "{}",
        run.stderr
    );
    assert!(!env.path().join("e.npy").exists());
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| (x * y) as f64).sum();
    let na: f64 = a.iter().map(|x| (x * x) as f64).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (x * x) as f64).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// `dedup --model` is `embed` followed by `dedup --vectors`: the same pairs, scored by the
/// cosine of the model's vectors.
#[test]
fn dedup_with_a_model_equals_embed_then_dedup_vectors() {
    let env = TestEnv::new();
    env.file("t/a.txt", "The lighthouse keeper lit the lamp at dusk.")
        .file("t/b.txt", "The lighthouse keeper lit the lamp at dusk!")
        .file(
            "t/c.txt",
            "Fresh bread is sold at the bakery every morning.",
        )
        .file("t/d.txt", "Every morning the bakery sells fresh bread.")
        .file(
            "t/e.txt",
            "Compilers translate source code into machine code.",
        );
    let m = model();
    let direct = env.run(&[
        "dedup", "--model", &m, "t", "--output", "pairs", "-t", "0.8",
    ]);
    assert_eq!(direct.code, 0, "{}", direct.stderr);
    let embed = env.run(&[
        "embed", "--model", &m, "t", "-o", "e.npy", "--ids", "ids.txt",
    ]);
    assert_eq!(embed.code, 0, "{}", embed.stderr);
    let via = env.run(&[
        "dedup",
        "--vectors",
        "e.npy",
        "--ids",
        "ids.txt",
        "--output",
        "pairs",
        "-t",
        "0.8",
    ]);
    assert_eq!(via.code, 0, "{}", via.stderr);
    assert_eq!(direct.stdout, via.stdout);
    assert!(
        direct.stdout.contains("t/a.txt\tt/b.txt\t"),
        "{}",
        direct.stdout
    );
    let v = rows(&env.path().join("e.npy"));
    for line in direct.stdout.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let idx = |p: &str| {
            ["t/a.txt", "t/b.txt", "t/c.txt", "t/d.txt", "t/e.txt"]
                .iter()
                .position(|x| *x == p)
                .unwrap()
        };
        let score: f64 = f[2].parse().unwrap();
        assert!(
            (cosine(&v[idx(f[0])], &v[idx(f[1])]) - score).abs() < 1e-4,
            "{line}"
        );
    }
}

/// A dataset's columns are embedded one by one and concatenated: rows alike in one column
/// only are less similar than rows alike in both; -o keeps the first of each duplicate.
#[test]
fn dedup_dataset_columns_with_a_model() {
    let env = TestEnv::new();
    env.file(
        "d.jsonl",
        concat!(
            r#"{"q":"Where is the lighthouse?","a":"On the northern cliff."}"#,
            "\n",
            r#"{"q":"Where is the lighthouse?","a":"On the northern cliff!"}"#,
            "\n",
            r#"{"q":"Where is the lighthouse?","a":"Bread is baked at dawn."}"#,
            "\n",
        ),
    );
    let m = model();
    let run = env.run(&[
        "dedup",
        "d.jsonl",
        "--columns",
        "q,a",
        "--model",
        &m,
        "-t",
        "0.95",
        "-o",
        "kept.jsonl",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(run.stdout.starts_with("1\t0\t"), "{}", run.stdout);
    let kept = std::fs::read_to_string(env.path().join("kept.jsonl")).unwrap();
    assert_eq!(kept.lines().count(), 2);
    assert!(!kept.contains("cliff!"));
}
