//! Static-embedding models (Model2Vec, sentence-transformers `StaticEmbedding`) read from a
//! local directory, and text embedded with them exactly as Python's `model2vec` does
//! (`StaticModel.encode`, model2vec 0.10): cut the text to `max_length` × the median token
//! length characters, tokenize without special tokens, keep the first `max_length` ids,
//! drop unknown ones, average the rows (through `mapping`, scaled by `weights`, when the
//! model has them), then normalise when the config says so. Texts are embedded in parallel.
//!
//! The loader is our own, on [`safetensors`] and [`tokenizer`], chosen by measurement
//! (release, `-j 1`, a shared 2-core machine at load 4-5): the `tokenizers` crate 0.23 does
//! not build with default features off (it needs `onig` or `fancy-regex`); with
//! `fancy-regex` it adds 40 crates to our build (regex, fancy-regex, darling,
//! derive_builder ...), 127 s of compilation, 53 s of it `tokenizers` itself, and 5 MB to a
//! binary. `model2vec-rs`
//! 0.4 pulls `tokenizers` 0.21 the same way and cuts texts by bytes where Model2Vec cuts by
//! characters. Ours adds `unicode_categories` (0.2 s) and 1,100 lines with their docs.

pub mod safetensors;
pub mod tokenizer;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use safetensors::{Dtype, SafeTensors};
use tokenizer::{Scratch, Tokenizer};

/// Model2Vec's default `max_length`, in tokens, when the config names none.
pub const DEFAULT_MAX_LENGTH: usize = 512;

/// Why a model directory cannot be used; each names the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No known layout is complete; `missing` is the first file absent from the layout
    /// the directory comes closest to.
    #[error("{}: not a model directory: {} is missing (a Model2Vec model has config.json, model.safetensors and tokenizer.json; a sentence-transformers one config_sentence_transformers.json and 0_StaticEmbedding/)", dir.display(), missing.display())]
    NotAModel { dir: PathBuf, missing: PathBuf },
    #[error("{}: {message}", path.display())]
    Safetensors { path: PathBuf, message: String },
    #[error("{}: tensor '{tensor}' has dtype {dtype}, which this reader does not know (F32, F16, F64, I8 for embeddings)", path.display())]
    Dtype {
        path: PathBuf,
        tensor: String,
        dtype: String,
    },
    #[error("{}: no tensor '{tensor}' (the file has: {found})", path.display())]
    MissingTensor {
        path: PathBuf,
        tensor: String,
        found: String,
    },
    #[error("{}: {message}", path.display())]
    Layout { path: PathBuf, message: String },
    #[error("{}: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: {message}", path.display())]
    Tokenizer { path: PathBuf, message: String },
}

/// The three files of a model, by layout.
struct Files {
    config: PathBuf,
    tensors: PathBuf,
    tokenizer: PathBuf,
    /// sentence-transformers names the tensor `embedding.weight`.
    sentence_transformers: bool,
}

/// The layouts Model2Vec accepts, in the order it tries them.
fn layouts(dir: &Path) -> [Files; 3] {
    let st = dir.join("0_StaticEmbedding");
    [
        Files {
            config: dir.join("config.json"),
            tensors: dir.join("model.safetensors"),
            tokenizer: dir.join("tokenizer.json"),
            sentence_transformers: false,
        },
        Files {
            config: dir.join("config_sentence_transformers.json"),
            tensors: dir.join("model.safetensors"),
            tokenizer: dir.join("tokenizer.json"),
            sentence_transformers: true,
        },
        Files {
            config: dir.join("config_sentence_transformers.json"),
            tensors: st.join("model.safetensors"),
            tokenizer: st.join("tokenizer.json"),
            sentence_transformers: true,
        },
    ]
}

/// The first complete layout, or an error naming the first missing file of the layout
/// with the most files present (the Model2Vec one on a tie).
fn find_files(dir: &Path) -> Result<Files, ModelError> {
    if !dir.is_dir() {
        let source = if dir.exists() {
            std::io::Error::other("not a directory")
        } else {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory")
        };
        return Err(ModelError::Io {
            path: dir.to_path_buf(),
            source,
        });
    }
    let mut best: Option<(usize, PathBuf)> = None;
    for files in layouts(dir) {
        let paths = [&files.config, &files.tensors, &files.tokenizer];
        let present = paths.iter().filter(|p| p.is_file()).count();
        if present == paths.len() {
            return Ok(files);
        }
        if best.as_ref().is_none_or(|(n, _)| present > *n) {
            let missing = paths.iter().find(|p| !p.is_file()).expect("one is missing");
            best = Some((present, missing.to_path_buf()));
        }
    }
    Err(ModelError::NotAModel {
        dir: dir.to_path_buf(),
        missing: best.expect("three layouts").1,
    })
}

/// A static-embedding model: a tokenizer and one vector per token.
#[derive(Debug)]
pub struct StaticModel {
    tokenizer: Tokenizer,
    /// `rows` × `dim` values, row-major, converted to f32 (int8 as its integer value).
    embeddings: Vec<f32>,
    dim: usize,
    /// Per-token scale (indexed by token id), for vocabulary-quantised models.
    weights: Option<Vec<f32>>,
    /// Token id -> embedding row, for vocabulary-quantised models.
    mapping: Option<Vec<u32>>,
    normalize: bool,
    max_length: Option<usize>,
    median_token_length: usize,
    /// float16 embeddings: Model2Vec returns float16 vectors, so results are rounded so.
    half: bool,
}

impl StaticModel {
    /// Loads the model in `dir` (any layout Model2Vec reads). Reads everything into
    /// memory: about 4 bytes per token and dimension.
    pub fn load(dir: &Path) -> Result<StaticModel, ModelError> {
        let files = find_files(dir)?;
        let config = read_json(&files.config)?;
        let tokenizer = Tokenizer::from_file(&files.tokenizer)?;
        let tensors = SafeTensors::read(&files.tensors)?;
        let path = &files.tensors;
        let layout = |message: String| ModelError::Layout {
            path: path.clone(),
            message,
        };
        let name = if files.sentence_transformers {
            "embedding.weight"
        } else {
            "embeddings"
        };
        let embeddings = tensors
            .get(name)?
            .ok_or_else(|| ModelError::MissingTensor {
                path: path.clone(),
                tensor: name.into(),
                found: tensors.names().join(", "),
            })?;
        if !matches!(
            embeddings.dtype,
            Dtype::F32 | Dtype::F16 | Dtype::F64 | Dtype::I8
        ) {
            return Err(ModelError::Dtype {
                path: path.clone(),
                tensor: name.into(),
                dtype: embeddings.dtype.name().into(),
            });
        }
        let [rows, dim] = embeddings.shape[..] else {
            return Err(layout(format!(
                "tensor '{name}' has shape {:?}, not (tokens, dimensions > 0)",
                embeddings.shape
            )));
        };
        if dim == 0 {
            return Err(layout(format!("tensor '{name}' has 0 dimensions")));
        }
        let vocab = tokenizer.vocab();
        let tokens = vocab.len();
        let max_id = vocab.values().copied().max().map_or(0, |m| m as usize + 1);
        let weights = match tensors.get("weights")? {
            None => None,
            Some(w) if w.to_i64().is_none() => {
                let w = w.to_f32();
                if w.len() < max_id {
                    return Err(layout(format!(
                        "tensor 'weights' has {} values for {max_id} token ids",
                        w.len()
                    )));
                }
                Some(w)
            }
            Some(w) => {
                return Err(ModelError::Dtype {
                    path: path.clone(),
                    tensor: "weights".into(),
                    dtype: w.dtype.name().into(),
                });
            }
        };
        let mapping = match tensors.get("mapping")? {
            None => {
                if rows != tokens || max_id > rows {
                    return Err(layout(format!(
                        "{rows} embedding rows for {tokens} tokens, and no 'mapping' tensor"
                    )));
                }
                None
            }
            Some(m) => {
                let Some(values) = m.to_i64() else {
                    return Err(ModelError::Dtype {
                        path: path.clone(),
                        tensor: "mapping".into(),
                        dtype: m.dtype.name().into(),
                    });
                };
                if values.len() < max_id {
                    return Err(layout(format!(
                        "tensor 'mapping' has {} entries for {max_id} token ids",
                        values.len()
                    )));
                }
                if let Some(bad) = values.iter().find(|&&v| v < 0 || v as u64 >= rows as u64) {
                    return Err(layout(format!(
                        "tensor 'mapping' points to row {bad}; the embeddings have {rows}"
                    )));
                }
                Some(values.iter().map(|&v| v as u32).collect())
            }
        };
        let normalize = match config.get("normalize") {
            None | Some(serde_json::Value::Null) => false,
            Some(v) => v.as_bool().ok_or_else(|| ModelError::Layout {
                path: files.config.clone(),
                message: format!("'normalize' is {v}, not true or false"),
            })?,
        };
        let max_length = match config.get("max_length") {
            None => Some(DEFAULT_MAX_LENGTH),
            Some(serde_json::Value::Null) => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| ModelError::Layout {
                path: files.config.clone(),
                message: format!("'max_length' is {v}, not a number of tokens"),
            })? as usize),
        };
        let median_token_length = median_length(vocab.iter().map(|(t, &id)| (id, *t)));
        Ok(StaticModel {
            half: embeddings.dtype == Dtype::F16,
            embeddings: embeddings.to_f32(),
            dim,
            weights,
            mapping,
            normalize,
            max_length,
            median_token_length,
            tokenizer,
        })
    }

    /// Dimensions of a vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Whether vectors are scaled to length 1 (a zero vector stays zero).
    pub fn normalize(&self) -> bool {
        self.normalize
    }

    /// Tokens kept per text, `None` for no limit.
    pub fn max_length(&self) -> Option<usize> {
        self.max_length
    }

    /// The vectors of `texts`, row-major (`texts.len()` × [`dim`](Self::dim)), computed
    /// in parallel. A text with no known token (an empty one, say) is a zero vector.
    pub fn encode<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<f32> {
        let mut out = vec![0f32; texts.len() * self.dim];
        out.par_chunks_mut(self.dim)
            .zip(texts.par_iter())
            .for_each_init(Buffers::default, |buf, (row, text)| {
                self.encode_with(text.as_ref(), row, buf)
            });
        out
    }

    /// The vector of `text`, written to `out` (of length [`dim`](Self::dim)).
    pub fn encode_one(&self, text: &str, out: &mut [f32]) {
        self.encode_with(text, out, &mut Buffers::default())
    }

    /// The vector of text given as bytes: invalid UTF-8 is decoded lossily (each bad
    /// sequence becomes U+FFFD, as Python's `bytes.decode("utf-8", "replace")` does),
    /// and the BERT normaliser then drops every U+FFFD.
    pub fn encode_bytes(&self, text: &[u8], out: &mut [f32]) {
        self.encode_one(&String::from_utf8_lossy(text), out)
    }

    /// The token ids Model2Vec averages for `text`: cut, tokenized, limited to
    /// `max_length`, unknown tokens dropped.
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        let mut buf = Buffers::default();
        self.tokenize(text, &mut buf);
        buf.ids
    }

    fn tokenize(&self, text: &str, buf: &mut Buffers) {
        buf.ids.clear();
        let text = match self.max_length {
            Some(max) => cut_chars(text, max.saturating_mul(self.median_token_length)),
            None => text,
        };
        self.tokenizer.encode(text, &mut buf.ids, &mut buf.scratch);
        if let Some(max) = self.max_length {
            buf.ids.truncate(max);
        }
        if let Some(unk) = self.tokenizer.unk() {
            buf.ids.retain(|&id| id != unk);
        }
    }

    fn encode_with(&self, text: &str, out: &mut [f32], buf: &mut Buffers) {
        assert_eq!(out.len(), self.dim, "output row of the wrong length");
        self.tokenize(text, buf);
        let sum = &mut buf.sum;
        sum.clear();
        sum.resize(self.dim, 0.0);
        for &id in &buf.ids {
            let row = match &self.mapping {
                Some(m) => m[id as usize] as usize,
                None => id as usize,
            };
            let values = &self.embeddings[row * self.dim..(row + 1) * self.dim];
            let w = self.weights.as_ref().map_or(1.0, |w| w[id as usize] as f64);
            for (s, &v) in sum.iter_mut().zip(values) {
                *s += w * v as f64;
            }
        }
        let n = buf.ids.len().max(1) as f64;
        for (o, s) in out.iter_mut().zip(sum.iter()) {
            *o = self.round((s / n) as f32);
        }
        if self.normalize {
            let norm = out.iter().map(|&v| v * v).sum::<f32>().sqrt() + 1e-32;
            for o in out.iter_mut() {
                *o = self.round(*o / norm);
            }
        }
    }

    /// Rounds to float16 for float16 models (Model2Vec's result type), else unchanged.
    fn round(&self, v: f32) -> f32 {
        if self.half {
            crate::vectors::npy::f16_to_f32(f32_to_f16(v))
        } else {
            v
        }
    }
}

/// Per-thread buffers of [`StaticModel::encode`].
#[derive(Default)]
struct Buffers {
    ids: Vec<u32>,
    sum: Vec<f64>,
    scratch: Scratch,
}

/// The first `n` characters (code points, as Python's `s[:n]`) of `text`.
fn cut_chars(text: &str, n: usize) -> &str {
    if text.len() <= n {
        return text;
    }
    match text.char_indices().nth(n) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// `int(np.median(lengths))` over the tokens in id order, lengths in characters.
fn median_length<'a>(tokens: impl Iterator<Item = (u32, &'a str)>) -> usize {
    let mut lengths: Vec<usize> = tokens.map(|(_, t)| t.chars().count()).collect();
    lengths.sort_unstable();
    let n = lengths.len();
    match n {
        0 => 0,
        _ if n % 2 == 1 => lengths[n / 2],
        _ => (lengths[n / 2 - 1] + lengths[n / 2]) / 2,
    }
}

fn read_json(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ModelError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// f32 to IEEE half precision, rounding to nearest even (as numpy's `astype(float16)`).
fn f32_to_f16(v: f32) -> u16 {
    let x = v.to_bits();
    let sign = ((x >> 16) & 0x8000) as u16;
    let exp = ((x >> 23) & 0xff) as i32;
    let man = x & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        // Subnormal: shift the mantissa (with its implicit bit) into place, rounding.
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = 1u32 << (shift - 1);
        let rest = m & ((1 << shift) - 1);
        let mut h = (m >> shift) as u16;
        if rest > half || (rest == half && h & 1 == 1) {
            h += 1;
        }
        return sign | h;
    }
    let mut h = ((e as u32) << 10 | (man >> 13)) as u16;
    let rest = man & 0x1fff;
    if rest > 0x1000 || (rest == 0x1000 && h & 1 == 1) {
        h += 1; // may carry into the exponent, up to infinity: correct
    }
    sign | h
}

#[cfg(test)]
mod tests;
