//! `simdedup embed` with the vendored model: rows in input order that equal the library's
//! vectors, an ids file, the bad inputs (no model, an empty file, invalid UTF-8, an
//! unreadable file) and no output left behind by a failed run.

use simdedup::embed::StaticModel;
use simdedup::vectors::Vectors;

use crate::util::{TestEnv, testdata};

fn model() -> String {
    testdata()
        .join("models/potion-base-4m-int8")
        .display()
        .to_string()
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
    let src = testdata().join("models/potion-base-4m-int8");
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
