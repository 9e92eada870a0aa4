//! A reader for the `.safetensors` format, just what a static-embedding model needs: an
//! 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
//! byte range, then the data. Every promise of the header is checked against the file, so
//! a truncated or damaged file is an error naming it, never a panic or a short read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ModelError;

/// Element type of a tensor, as the header spells it (`"F32"`, `"I8"`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F64,
    F32,
    F16,
    I8,
    I32,
    I64,
}

impl Dtype {
    fn parse(name: &str) -> Option<Dtype> {
        Some(match name {
            "F64" => Dtype::F64,
            "F32" => Dtype::F32,
            "F16" => Dtype::F16,
            "I8" => Dtype::I8,
            "I32" => Dtype::I32,
            "I64" => Dtype::I64,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::I8 => 1,
            Dtype::F16 => 2,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::F64 | Dtype::I64 => 8,
        }
    }

    /// The header's name for the type.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F64 => "F64",
            Dtype::F32 => "F32",
            Dtype::F16 => "F16",
            Dtype::I8 => "I8",
            Dtype::I32 => "I32",
            Dtype::I64 => "I64",
        }
    }
}

/// One tensor's entry in the header.
#[derive(Deserialize)]
struct Entry {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: [u64; 2],
}

/// A whole `.safetensors` file held in memory, its header checked.
pub struct SafeTensors {
    path: PathBuf,
    bytes: Vec<u8>,
    /// Where the data section starts in `bytes`.
    data: usize,
    entries: HashMap<String, Entry>,
}

/// A borrowed tensor: its type, shape and little-endian bytes.
pub struct Tensor<'a> {
    pub name: &'a str,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub bytes: &'a [u8],
}

impl SafeTensors {
    /// Reads and checks `path`.
    pub fn read(path: &Path) -> Result<SafeTensors, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        SafeTensors::parse(path, bytes)
    }

    /// Checks the file whose content is `bytes`, named `path` in errors.
    pub fn parse(path: &Path, bytes: Vec<u8>) -> Result<SafeTensors, ModelError> {
        let bad = |message: String| ModelError::Safetensors {
            path: path.to_path_buf(),
            message,
        };
        let Some(len) = bytes.get(..8) else {
            return Err(bad(format!(
                "truncated: {} bytes, shorter than the 8-byte header length",
                bytes.len()
            )));
        };
        let header_len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
        let data = 8u64.saturating_add(header_len);
        if data > bytes.len() as u64 {
            return Err(bad(format!(
                "truncated: the header is said to be {header_len} bytes, the file holds {}",
                bytes.len()
            )));
        }
        let data = data as usize;
        let header: HashMap<String, serde_json::Value> = serde_json::from_slice(&bytes[8..data])
            .map_err(|e| bad(format!("header is not a JSON object: {e}")))?;
        let data_len = (bytes.len() - data) as u64;
        let mut entries = HashMap::new();
        for (name, value) in header {
            if name == "__metadata__" {
                continue;
            }
            let entry: Entry = serde_json::from_value(value)
                .map_err(|e| bad(format!("tensor '{name}': bad header entry: {e}")))?;
            let [begin, end] = entry.data_offsets;
            if begin > end || end > data_len {
                return Err(bad(format!(
                    "truncated: tensor '{name}' ends at byte {end} of the data, which holds {data_len}"
                )));
            }
            if let Some(dtype) = Dtype::parse(&entry.dtype) {
                let elements = entry
                    .shape
                    .iter()
                    .try_fold(1u64, |n, &d| n.checked_mul(d))
                    .and_then(|n| n.checked_mul(dtype.size() as u64));
                if elements != Some(end - begin) {
                    return Err(bad(format!(
                        "tensor '{name}': shape {:?} of {} does not fill its {} bytes",
                        entry.shape,
                        entry.dtype,
                        end - begin
                    )));
                }
            }
            entries.insert(name, entry);
        }
        Ok(SafeTensors {
            path: path.to_path_buf(),
            bytes,
            data,
            entries,
        })
    }

    /// The tensor `name`, or `None` when the file has none by that name. A dtype this
    /// reader does not know is an error naming the file and the tensor.
    pub fn get(&self, name: &str) -> Result<Option<Tensor<'_>>, ModelError> {
        let Some((key, entry)) = self.entries.get_key_value(name) else {
            return Ok(None);
        };
        let dtype = Dtype::parse(&entry.dtype).ok_or_else(|| ModelError::Dtype {
            path: self.path.clone(),
            tensor: name.to_string(),
            dtype: entry.dtype.clone(),
        })?;
        let [begin, end] = entry.data_offsets;
        Ok(Some(Tensor {
            name: key,
            dtype,
            shape: entry.shape.iter().map(|&d| d as usize).collect(),
            bytes: &self.bytes[self.data + begin as usize..self.data + end as usize],
        }))
    }

    /// Names of the tensors in the file, sorted (for messages).
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.entries.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

impl Tensor<'_> {
    /// The elements as f32: floats converted (f64 rounded), int8 taken as its value.
    pub fn to_f32(&self) -> Vec<f32> {
        match self.dtype {
            Dtype::F64 => chunks::<8>(self.bytes)
                .map(|b| f64::from_le_bytes(b) as f32)
                .collect(),
            Dtype::F32 => chunks::<4>(self.bytes).map(f32::from_le_bytes).collect(),
            Dtype::F16 => chunks::<2>(self.bytes)
                .map(|b| crate::vectors::npy::f16_to_f32(u16::from_le_bytes(b)))
                .collect(),
            Dtype::I8 => self.bytes.iter().map(|&b| b as i8 as f32).collect(),
            Dtype::I32 => chunks::<4>(self.bytes)
                .map(|b| i32::from_le_bytes(b) as f32)
                .collect(),
            Dtype::I64 => chunks::<8>(self.bytes)
                .map(|b| i64::from_le_bytes(b) as f32)
                .collect(),
        }
    }

    /// The elements as integers, or `None` for a float tensor.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        match self.dtype {
            Dtype::I8 => Some(self.bytes.iter().map(|&b| b as i8 as i64).collect()),
            Dtype::I32 => Some(
                chunks::<4>(self.bytes)
                    .map(|b| i32::from_le_bytes(b) as i64)
                    .collect(),
            ),
            Dtype::I64 => Some(chunks::<8>(self.bytes).map(i64::from_le_bytes).collect()),
            Dtype::F64 | Dtype::F32 | Dtype::F16 => None,
        }
    }
}

fn chunks<const N: usize>(bytes: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
    bytes
        .chunks_exact(N)
        .map(|c| c.try_into().expect("exact chunk"))
}

/// Writes a `.safetensors` file from `(name, dtype, shape, little-endian bytes)`, for tests.
#[cfg(test)]
pub fn write(tensors: &[(&str, &str, Vec<u64>, Vec<u8>)]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (name, dtype, shape, bytes) in tensors {
        let begin = data.len();
        data.extend_from_slice(bytes);
        header.insert(
            name.to_string(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [begin, data.len()]}),
        );
    }
    let header = serde_json::to_vec(&header).expect("json");
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(&data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: Vec<u8>) -> Result<SafeTensors, ModelError> {
        SafeTensors::parse(Path::new("m.safetensors"), bytes)
    }

    #[test]
    fn reads_each_dtype() {
        let f16 = [0x3c00u16, 0xc000]
            .iter()
            .flat_map(|h| h.to_le_bytes())
            .collect();
        let f32 = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let i64 = [3i64, -1].iter().flat_map(|v| v.to_le_bytes()).collect();
        let file = parse(write(&[
            ("a", "F16", vec![2], f16),
            ("b", "F32", vec![1, 2], f32),
            ("c", "I8", vec![2], vec![0x7f, 0x80]),
            ("d", "I64", vec![2], i64),
        ]))
        .unwrap();
        assert_eq!(file.get("a").unwrap().unwrap().to_f32(), [1.0, -2.0]);
        let b = file.get("b").unwrap().unwrap();
        assert_eq!((b.dtype, b.shape.as_slice()), (Dtype::F32, &[1, 2][..]));
        assert_eq!(b.to_f32(), [1.5, -2.0]);
        assert_eq!(file.get("c").unwrap().unwrap().to_f32(), [127.0, -128.0]);
        assert_eq!(file.get("d").unwrap().unwrap().to_i64(), Some(vec![3, -1]));
        assert!(file.get("e").unwrap().is_none());
        assert_eq!(file.names(), ["a", "b", "c", "d"]);
    }

    #[test]
    fn truncated_files_are_errors() {
        let whole = write(&[("e", "F32", vec![4], vec![0; 16])]);
        for cut in [0, 5, 8, 20, whole.len() - 1] {
            let err = parse(whole[..cut].to_vec()).err().expect("an error");
            let text = err.to_string();
            assert!(text.starts_with("m.safetensors: "), "{text}");
            assert!(
                text.contains("truncated") || text.contains("JSON"),
                "cut at {cut}: {text}"
            );
        }
        assert!(parse(whole).is_ok());
    }

    #[test]
    fn unknown_dtype_and_bad_shape() {
        let file = parse(write(&[("e", "BF16", vec![2], vec![0; 4])])).unwrap();
        let err = file.get("e").err().expect("unknown dtype");
        assert_eq!(
            err.to_string(),
            "m.safetensors: tensor 'e' has dtype BF16, which this reader does not know (F32, F16, F64, I8 for embeddings)"
        );
        let err = parse(write(&[("e", "F32", vec![3], vec![0; 8])])).err();
        assert!(err.unwrap().to_string().contains("does not fill"));
    }
}
