//! Tests of model loading and encoding: small synthetic models written here (each dtype,
//! the vocabulary-quantised path, both layouts, damaged files) and the vendored
//! potion-base-4m-int8 against the vectors Python's model2vec gives it.

use std::fs;
use std::path::{Path, PathBuf};

use super::safetensors::write;
use super::*;

/// Six tokens: `[PAD] [UNK] hello world ##s !`.
const TOKENIZER: &str = r###"{
    "added_tokens": [{"id": 1, "content": "[UNK]", "special": true}],
    "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                   "strip_accents": null, "lowercase": true},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100,
              "vocab": {"[PAD]": 0, "[UNK]": 1, "hello": 2, "world": 3, "##s": 4, "!": 5}}
}"###;

/// Rows of the synthetic models: token `i` is `[i, -i]` (`[UNK]` too, never used).
fn rows() -> Vec<f32> {
    (0..6).flat_map(|i| [i as f32, -(i as f32)]).collect()
}

fn model_dir(config: &str, tensors: &[(&str, &str, Vec<u64>, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("config.json"), config).unwrap();
    fs::write(dir.path().join("tokenizer.json"), TOKENIZER).unwrap();
    fs::write(dir.path().join("model.safetensors"), write(tensors)).unwrap();
    dir
}

fn le<T: Copy, const N: usize>(values: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| f(v)).collect()
}

fn encode(model: &StaticModel, text: &str) -> Vec<f32> {
    let mut out = vec![0.0; model.dim()];
    model.encode_one(text, &mut out);
    out
}

#[test]
fn float32_mean_of_rows() {
    let dir = model_dir(
        r#"{"normalize": false}"#,
        &[(
            "embeddings",
            "F32",
            vec![6, 2],
            le(&rows(), f32::to_le_bytes),
        )],
    );
    let model = StaticModel::load(dir.path()).unwrap();
    assert_eq!(model.dim(), 2);
    // hello (2) world (3) ##s (4): "worlds" is world + ##s; "xyz" is unknown, dropped.
    assert_eq!(encode(&model, "Hello worlds xyz"), [3.0, -3.0]);
    assert_eq!(model.token_ids("Hello worlds xyz"), [2, 3, 4]);
    assert_eq!(encode(&model, ""), [0.0, 0.0]);
    assert_eq!(encode(&model, "xyz"), [0.0, 0.0]);
}

#[test]
fn int8_and_float16_with_normalisation() {
    let int8: Vec<u8> = rows().iter().map(|&v| v as i8 as u8).collect();
    let dir = model_dir(
        r#"{"normalize": true}"#,
        &[("embeddings", "I8", vec![6, 2], int8)],
    );
    let model = StaticModel::load(dir.path()).unwrap();
    let v = encode(&model, "hello world");
    let s = std::f32::consts::FRAC_1_SQRT_2;
    assert!((v[0] - s).abs() < 1e-7 && (v[1] + s).abs() < 1e-7, "{v:?}");

    // float16: Model2Vec's result is float16, so 1/sqrt(2) is rounded to 0.70703125.
    let f16: Vec<u16> = rows().iter().map(|&v| f32_to_f16(v)).collect();
    let dir = model_dir(
        r#"{"normalize": true}"#,
        &[("embeddings", "F16", vec![6, 2], le(&f16, u16::to_le_bytes))],
    );
    let model = StaticModel::load(dir.path()).unwrap();
    assert_eq!(encode(&model, "hello world"), [0.70703125, -0.70703125]);
}

#[test]
fn mapping_and_weights_of_quantised_vocabularies() {
    // Two rows shared by six tokens; token weights scale each row before the mean.
    let embeddings = le(&[1.0f32, 0.0, 0.0, 1.0], f32::to_le_bytes);
    let mapping = le(&[0i64, 0, 0, 1, 1, 0], i64::to_le_bytes);
    let weights = le(&[0f32, 0.0, 2.0, 4.0, 6.0, 1.0], f32::to_le_bytes);
    let dir = model_dir(
        "{}",
        &[
            ("embeddings", "F32", vec![2, 2], embeddings),
            ("mapping", "I64", vec![6], mapping),
            ("weights", "F32", vec![6], weights),
        ],
    );
    let model = StaticModel::load(dir.path()).unwrap();
    // hello -> row 0 x 2, worlds -> row 1 x 4 and row 1 x 6: mean of [2,0],[0,4],[0,6].
    assert_eq!(encode(&model, "hello worlds"), [2.0 / 3.0, 10.0 / 3.0]);
}

#[test]
fn sentence_transformers_layout() {
    let dir = tempfile::tempdir().unwrap();
    let st = dir.path().join("0_StaticEmbedding");
    fs::create_dir(&st).unwrap();
    fs::write(dir.path().join("config_sentence_transformers.json"), "{}").unwrap();
    fs::write(st.join("tokenizer.json"), TOKENIZER).unwrap();
    let tensors = [(
        "embedding.weight",
        "F32",
        vec![6, 2],
        le(&rows(), f32::to_le_bytes),
    )];
    fs::write(st.join("model.safetensors"), write(&tensors)).unwrap();
    let model = StaticModel::load(dir.path()).unwrap();
    assert_eq!(encode(&model, "world !"), [4.0, -4.0]);
}

#[test]
fn max_length_cuts_characters_then_tokens() {
    // The median token length is 5 characters ("hello", "world", "[PAD]", "[UNK]" ...),
    // so max_length 2 keeps the first 10 characters, then the first 2 tokens.
    let dir = model_dir(
        r#"{"max_length": 2}"#,
        &[(
            "embeddings",
            "F32",
            vec![6, 2],
            le(&rows(), f32::to_le_bytes),
        )],
    );
    let model = StaticModel::load(dir.path()).unwrap();
    assert_eq!(model.token_ids("hello world"), [2]); // "hello worl": worl is unknown
    assert_eq!(model.token_ids("! ! ! !"), [5, 5]);
    // Unknown tokens count toward the limit: they are dropped after it.
    assert_eq!(model.token_ids("x ! !"), [5]);
    let dir = model_dir(
        r#"{"max_length": null}"#,
        &[(
            "embeddings",
            "F32",
            vec![6, 2],
            le(&rows(), f32::to_le_bytes),
        )],
    );
    let model = StaticModel::load(dir.path()).unwrap();
    assert_eq!(model.token_ids(&"hello ".repeat(1000)).len(), 1000);
}

#[test]
fn parallel_encode_equals_one_by_one() {
    let model = StaticModel::load(&vendored()).unwrap();
    let texts: Vec<String> = (0..300)
        .map(|i| format!("text number {i} about {}", "things ".repeat(i % 7)))
        .collect();
    let all = model.encode(&texts);
    for (text, row) in texts.iter().zip(all.chunks(model.dim())) {
        assert_eq!(encode(&model, text), row);
    }
}

#[test]
fn invalid_utf8_is_decoded_lossily() {
    let model = StaticModel::load(&vendored()).unwrap();
    let mut a = vec![0.0; model.dim()];
    model.encode_bytes(b"caf\xe9 au lait \xff\xfe", &mut a);
    assert_eq!(a, encode(&model, "caf\u{fffd} au lait \u{fffd}\u{fffd}"));
    // U+FFFD is dropped by the normaliser, so the word is "caf".
    assert_eq!(a, encode(&model, "caf au lait "));
}

fn err(dir: &Path) -> String {
    StaticModel::load(dir).unwrap_err().to_string()
}

#[test]
fn bad_model_directories() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    assert_eq!(
        err(dir.path()),
        format!(
            "{d}: not a model directory: {d}/config.json is missing (a Model2Vec model has config.json, \
             model.safetensors and tokenizer.json; a sentence-transformers one \
             config_sentence_transformers.json and 0_StaticEmbedding/)"
        )
    );
    fs::write(dir.path().join("config.json"), "{}").unwrap();
    fs::write(dir.path().join("tokenizer.json"), TOKENIZER).unwrap();
    assert!(err(dir.path()).contains(&format!("{d}/model.safetensors is missing")));
    let missing = dir.path().join("nothing");
    assert_eq!(err(&missing), format!("{d}/nothing: no such directory"));

    // A truncated tensor file, an unknown dtype, a missing tensor, a short vocabulary.
    let whole = write(&[(
        "embeddings",
        "F32",
        vec![6, 2],
        le(&rows(), f32::to_le_bytes),
    )]);
    let file = dir.path().join("model.safetensors");
    fs::write(&file, &whole[..whole.len() - 3]).unwrap();
    let e = err(dir.path());
    assert!(
        e.starts_with(&format!("{d}/model.safetensors: truncated")),
        "{e}"
    );
    fs::write(
        &file,
        write(&[("embeddings", "BF16", vec![6, 2], vec![0; 24])]),
    )
    .unwrap();
    assert!(err(dir.path()).contains("tensor 'embeddings' has dtype BF16"));
    fs::write(&file, write(&[("emb", "F32", vec![6, 2], vec![0; 48])])).unwrap();
    assert_eq!(
        err(dir.path()),
        format!("{d}/model.safetensors: no tensor 'embeddings' (the file has: emb)")
    );
    fs::write(
        &file,
        write(&[("embeddings", "F32", vec![5, 2], vec![0; 40])]),
    )
    .unwrap();
    assert!(err(dir.path()).contains("5 embedding rows for 6 tokens"));
    fs::write(&file, whole).unwrap();
    fs::write(dir.path().join("config.json"), "{").unwrap();
    assert!(err(dir.path()).starts_with(&format!("{d}/config.json: EOF")));
}

#[test]
fn f16_rounding_matches_numpy() {
    for (v, h) in [
        (1.0f32, 0x3c00u16),
        (-2.0, 0xc000),
        (65504.0, 0x7bff),
        (65520.0, 0x7c00),
        (1.0 + 1.0 / 2048.0, 0x3c00),
        (1.0 + 3.0 / 2048.0, 0x3c02),
        (5.960_464_5e-8, 0x0001),
        (2.0e-8, 0x0000),
        (0.0, 0),
    ] {
        assert_eq!(f32_to_f16(v), h, "{v}");
    }
    for h in (0..0x7c00u16).step_by(7) {
        assert_eq!(f32_to_f16(crate::vectors::npy::f16_to_f32(h)), h);
    }
}

fn vendored() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/simdedup/models/potion-base-4m-int8")
}

/// simdedup against Python's model2vec on the committed reference texts
/// (scripts/model_reference.py): the same token ids, vectors within 1e-5.
#[test]
fn vendored_model_matches_model2vec() {
    let model = StaticModel::load(&vendored()).unwrap();
    assert_eq!((model.dim(), model.normalize()), (128, true));
    let reference = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/models/reference.jsonl"),
    )
    .unwrap();
    let mut worst = 0f32;
    let mut n = 0;
    for line in reference.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = row["text"].as_str().unwrap();
        let ids: Vec<u32> = serde_json::from_value(row["ids"].clone()).unwrap();
        let want: Vec<f32> = serde_json::from_value(row["vector"].clone()).unwrap();
        assert_eq!(model.token_ids(text), ids, "{text:?}");
        let got = encode(&model, text);
        for (g, w) in got.iter().zip(&want) {
            worst = worst.max((g - w).abs());
        }
        n += 1;
    }
    assert!(n >= 50, "{n} reference texts");
    assert!(worst <= 1e-5, "max abs difference {worst}");
}
