//! Dense vectors from `.npy` files, read through a memory map: rows are converted to f32
//! on the fly (float16, float32, float64; either byte order), so millions of rows never sit
//! in memory twice. Little-endian float32 rows are borrowed from the map without a copy.
//!
//! Only what embeddings need is accepted: 2-D, C order; any other file is a typed error.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use rayon::prelude::*;

use crate::error::Error;

/// Element type of a `.npy` file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE half precision (`<f2`), converted exactly.
    F16,
    /// Single precision (`<f4`), used in place when little-endian and aligned.
    F32,
    /// Double precision (`<f8`), rounded to f32.
    F64,
}

impl Dtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::F16 => 2,
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }
}

/// A 2-D `.npy` array of `rows` × `dim` floats, memory-mapped from a file
/// ([`Vectors::open`]) or held in memory ([`Vectors::from_bytes`]).
#[derive(Debug)]
pub struct Vectors {
    path: PathBuf,
    bytes: Bytes,
    offset: usize,
    rows: usize,
    dim: usize,
    dtype: Dtype,
    big_endian: bool,
}

/// Where the bytes of a `.npy` file are.
enum Bytes {
    /// An empty file (which cannot be mapped on every platform).
    Empty,
    Map(Mmap),
    Owned(Vec<u8>),
    /// Memory owned elsewhere (a numpy array held by the Python package).
    Shared(std::sync::Arc<dyn AsRef<[u8]> + Send + Sync>),
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes", self.len())
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Empty => &[],
            Bytes::Map(map) => map,
            Bytes::Owned(v) => v,
            Bytes::Shared(s) => (**s).as_ref(),
        }
    }
}

/// Owned float32 values seen as their native bytes.
struct Values(Vec<f32>);

impl AsRef<[u8]> for Values {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: any f32 is 4 initialised bytes, and u8 has no alignment requirement.
        unsafe {
            std::slice::from_raw_parts(self.0.as_ptr().cast(), std::mem::size_of_val(&self.0[..]))
        }
    }
}

/// Rows that cannot take part in cosine comparisons.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scan {
    /// L2 norm of every row (0 for rows that are not finite).
    pub norms: Vec<f64>,
    /// Rows holding NaN or infinity, with what was found.
    pub non_finite: Vec<(usize, &'static str)>,
    /// Rows whose every element is zero (cosine undefined: they match only each other).
    pub zero: Vec<usize>,
}

impl Vectors {
    /// Opens and maps `path`, checking header, dtype, order, shape and length.
    pub fn open(path: &Path) -> Result<Vectors, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let bytes = if len == 0 {
            Bytes::Empty
        } else {
            // SAFETY: the map is read-only; a file truncated by another process while we
            // read it is outside what any reader of mapped files can defend against.
            Bytes::Map(unsafe { Mmap::map(&file) }.map_err(io)?)
        };
        Vectors::new(path, bytes)
    }

    /// The `.npy` file whose content is `bytes`, named `path` in errors; the same checks
    /// as [`Vectors::open`] (which parses its map the same way).
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Vectors, Error> {
        Vectors::new(path, Bytes::Owned(bytes))
    }

    /// `rows` × `dim` native float32 values in memory owned by `owner` (row-major, no
    /// header), named `name` in errors: no copy is made. Its length must be exactly
    /// `rows * dim * 4` bytes.
    pub fn from_f32(
        name: &Path,
        owner: std::sync::Arc<dyn AsRef<[u8]> + Send + Sync>,
        rows: usize,
        dim: usize,
    ) -> Result<Vectors, Error> {
        let expected = rows as u64 * dim as u64 * 4;
        let found = (*owner).as_ref().len() as u64;
        if found != expected {
            return Err(Error::NpyTruncated {
                path: name.to_path_buf(),
                expected,
                found,
            });
        }
        Ok(Vectors {
            path: name.to_path_buf(),
            bytes: Bytes::Shared(owner),
            offset: 0,
            rows,
            dim,
            dtype: Dtype::F32,
            big_endian: cfg!(target_endian = "big"),
        })
    }

    /// Rows of `dim` values held in `values` (row-major), named `name` in messages; the
    /// values are kept, not copied.
    pub fn from_values(name: &Path, values: Vec<f32>, dim: usize) -> Result<Vectors, Error> {
        let rows = values.len().checked_div(dim).unwrap_or(0);
        Vectors::from_f32(name, std::sync::Arc::new(Values(values)), rows, dim)
    }

    fn new(path: &Path, bytes: Bytes) -> Result<Vectors, Error> {
        let header = parse_header(path, &bytes)?;
        let expected = (header.rows as u64)
            .checked_mul(header.dim as u64)
            .and_then(|n| n.checked_mul(header.dtype.size() as u64))
            .ok_or_else(|| Error::NpyShape {
                path: path.to_path_buf(),
                shape: format!("({}, {})", header.rows, header.dim),
            })?;
        let found = (bytes.len() - header.offset) as u64;
        if found < expected {
            return Err(Error::NpyTruncated {
                path: path.to_path_buf(),
                expected,
                found,
            });
        }
        Ok(Vectors {
            path: path.to_path_buf(),
            bytes,
            offset: header.offset,
            rows: header.rows,
            dim: header.dim,
            dtype: header.dtype,
            big_endian: header.big_endian,
        })
    }

    /// The file the vectors come from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Dimensions per row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Element type in the file.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The raw bytes of row `i`, as stored.
    pub fn raw_row(&self, i: usize) -> &[u8] {
        let width = self.dim * self.dtype.size();
        let start = self.offset + i * width;
        &self.bytes[start..start + width]
    }

    /// Row `i` borrowed from the map, when the file holds aligned little-endian float32
    /// (numpy aligns the data to 16 or 64 bytes); `None` when it must be converted.
    pub fn borrowed_row(&self, i: usize) -> Option<&[f32]> {
        if self.dtype != Dtype::F32 || self.big_endian || cfg!(target_endian = "big") {
            return None;
        }
        // SAFETY: f32 has no invalid bit patterns; align_to only returns a middle part
        // that is correctly aligned.
        let (head, mid, tail) = unsafe { self.raw_row(i).align_to::<f32>() };
        (head.is_empty() && tail.is_empty()).then_some(mid)
    }

    /// Row `i` as f32: borrowed from the map when possible ([`Vectors::borrowed_row`]),
    /// otherwise converted into `buf` (which must hold `dim` values).
    pub fn row<'a>(&'a self, i: usize, buf: &'a mut [f32]) -> &'a [f32] {
        if let Some(row) = self.borrowed_row(i) {
            return row;
        }
        let raw = self.raw_row(i);
        let buf = &mut buf[..self.dim];
        let size = self.dtype.size();
        for (out, chunk) in buf.iter_mut().zip(raw.chunks_exact(size)) {
            *out = match (self.dtype, self.big_endian) {
                (Dtype::F16, false) => f16_to_f32(u16::from_le_bytes([chunk[0], chunk[1]])),
                (Dtype::F16, true) => f16_to_f32(u16::from_be_bytes([chunk[0], chunk[1]])),
                (Dtype::F32, false) => f32::from_le_bytes(chunk.try_into().expect("4 bytes")),
                (Dtype::F32, true) => f32::from_be_bytes(chunk.try_into().expect("4 bytes")),
                (Dtype::F64, false) => {
                    f64::from_le_bytes(chunk.try_into().expect("8 bytes")) as f32
                }
                (Dtype::F64, true) => f64::from_be_bytes(chunk.try_into().expect("8 bytes")) as f32,
            };
        }
        buf
    }

    /// Norms of every row and the rows that are not finite or all zero, in parallel.
    pub fn scan(&self) -> Scan {
        let per_row: Vec<(f64, Option<&'static str>)> = (0..self.rows)
            .into_par_iter()
            .map_init(
                || vec![0f32; self.dim],
                |buf, i| {
                    let row = self.row(i, buf);
                    if row.iter().any(|x| x.is_nan()) {
                        (0.0, Some("NaN"))
                    } else if row.iter().any(|x| x.is_infinite()) {
                        (0.0, Some("infinity"))
                    } else {
                        (norm(row), None)
                    }
                },
            )
            .collect();
        let mut scan = Scan::default();
        for (i, (n, bad)) in per_row.into_iter().enumerate() {
            match bad {
                Some(what) => scan.non_finite.push((i, what)),
                None if n == 0.0 => scan.zero.push(i),
                None => {}
            }
            scan.norms.push(n);
        }
        scan
    }
}

/// Writes `values` (rows of `dim`, one after another) as a 2-D float32 `.npy` file (format
/// version 1, C order, little-endian): what [`Vectors`] reads and memory-maps.
pub fn write_npy(out: &mut dyn std::io::Write, dim: usize, values: &[f32]) -> std::io::Result<()> {
    let rows = values.len() / dim.max(1);
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}");
    // Magic (6) + version (2) + length (2) + header + '\n', a multiple of 64 bytes.
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&(header.len() as u16).to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    let mut buf = Vec::with_capacity(values.len() * 4);
    for v in values {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    out.write_all(&buf)
}

/// Euclidean norm, accumulated in f64.
pub fn norm(x: &[f32]) -> f64 {
    dot(x, x).sqrt()
}

/// Rows as unit vectors rounded to 8-bit codes, with a bound on each row's rounding error,
/// to rule out pairs far below a cosine bar without reading their f32 rows (a quarter of
/// the bytes, integer products): [`Codes::may_reach`] never rules out a pair whose exact
/// cosine reaches the bar.
pub struct Codes {
    dim: usize,
    /// Row `i`'s codes: `codes[i * dim..(i + 1) * dim]`.
    codes: Vec<i8>,
    /// Per row: `(s, e)`, the unit row is `s * codes + r` with `|r| <= e`.
    scale: Vec<(f64, f64)>,
}

impl Codes {
    /// Codes of the `rows` of `v` (norms from [`Vectors::scan`]), numbered by position in
    /// `rows`; rows of norm 0 get an infinite error, so no pair with them is ruled out.
    pub fn new(v: &Vectors, rows: &[u32], norms: &[f64]) -> Codes {
        Codes::of(&[(v, rows, norms)])
    }

    /// [`Codes::new`] of several sources of one dimension, numbered one after the other
    /// (queries, then the reference).
    pub fn of(sources: &[(&Vectors, &[u32], &[f64])]) -> Codes {
        let dim = sources[0].0.dim();
        let total: usize = sources.iter().map(|s| s.1.len()).sum();
        let mut codes = vec![0i8; total * dim];
        let mut scale = vec![(0.0, f64::INFINITY); total];
        let (mut code_rest, mut scale_rest) = (&mut codes[..], &mut scale[..]);
        for &(v, rows, norms) in sources {
            assert_eq!(v.dim(), dim, "codes of one dimension");
            let (code_part, c) = std::mem::take(&mut code_rest).split_at_mut(rows.len() * dim);
            let (scale_part, s) = std::mem::take(&mut scale_rest).split_at_mut(rows.len());
            (code_rest, scale_rest) = (c, s);
            Codes::fill(v, rows, norms, code_part, scale_part);
        }
        Codes { dim, codes, scale }
    }

    /// The codes and scales of `rows` of `v` into `codes` and `scale`.
    fn fill(v: &Vectors, rows: &[u32], norms: &[f64], codes: &mut [i8], scale: &mut [(f64, f64)]) {
        let dim = v.dim();
        codes
            .par_chunks_mut(dim.max(1))
            .zip(scale.par_iter_mut())
            .zip(rows)
            .filter(|(_, r)| norms[**r as usize] > 0.0)
            .for_each_init(
                || vec![0f32; dim],
                |buf, ((out, s), &r)| {
                    let row = v.row(r as usize, buf);
                    let inv = 1.0 / norms[r as usize];
                    let top = row.iter().fold(0f64, |m, &x| m.max((x as f64 * inv).abs()));
                    let step = if top > 0.0 { top / 127.0 } else { 1.0 };
                    let mut err2 = 0.0;
                    for (c, &x) in out.iter_mut().zip(row) {
                        let u = x as f64 * inv;
                        let q = (u / step).round().clamp(-127.0, 127.0);
                        *c = q as i8;
                        err2 += (u - q * step) * (u - q * step);
                    }
                    // Rounding in the error itself, and a unit row of norm 1 ± 1e-15.
                    *s = (step, err2.sqrt() * (1.0 + 1e-9) + 1e-12);
                },
            );
    }

    /// Codes per row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row `i`'s codes and its `(step, error)`, as [`Codes::from_rows`] takes them back.
    pub fn row(&self, i: usize) -> (&[i8], (f64, f64)) {
        (&self.codes[i * self.dim..(i + 1) * self.dim], self.scale[i])
    }

    /// Codes of rows given as [`Codes::row`] gives them: `dim` codes a row, row after row,
    /// and each row's `(step, error)`. None when the lengths do not agree.
    pub fn from_rows(dim: usize, codes: Vec<i8>, scale: Vec<(f64, f64)>) -> Option<Codes> {
        (codes.len() == scale.len() * dim).then_some(Codes { dim, codes, scale })
    }

    /// A hint that row `x`'s codes will be read soon ([`crate::cache::prefetch`]).
    #[inline]
    pub fn prefetch(&self, x: u32) {
        let x = x as usize;
        crate::cache::prefetch(&self.codes[x * self.dim..(x + 1) * self.dim]);
        crate::cache::prefetch(&self.scale[x]);
    }

    /// Whether rows `a` and `b` (positions in the rows coded) may have cosine `bar` or more:
    /// false only when their codes prove the cosine lower. With unit rows `u = s q + r`, `|r| <= e`, the cosine differs
    /// from `s_u s_v q_u·q_v` by `u·r_v + r_u·(s_v q_v)`, at most `e_v + e_u (1 + e_v)`.
    #[inline]
    pub fn may_reach(&self, a: u32, b: u32, bar: f64) -> bool {
        let (sa, ea) = self.scale[a as usize];
        let (sb, eb) = self.scale[b as usize];
        let slack = eb + ea * (1.0 + eb) + 1e-9;
        if !slack.is_finite() {
            return true;
        }
        let x = &self.codes[a as usize * self.dim..(a as usize + 1) * self.dim];
        let y = &self.codes[b as usize * self.dim..(b as usize + 1) * self.dim];
        // At most 127² per product: i32 holds 133,000 dimensions.
        let q: i32 = x
            .iter()
            .zip(y)
            .map(|(&p, &q)| p as i16 as i32 * q as i16 as i32)
            .sum();
        sa * sb * q as f64 + slack >= bar
    }
}

/// Dot product, accumulated in f64 over 4 lanes (vectorises): the products of f32 values
/// are exact in f64, so cosines near a threshold are decided to about 1e-15.
pub fn dot(x: &[f32], y: &[f32]) -> f64 {
    let mut acc = [0f64; 4];
    let (xc, yc) = (x.chunks_exact(4), y.chunks_exact(4));
    let tail: f64 = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .map(|(a, b)| *a as f64 * *b as f64)
        .sum();
    for (a, b) in xc.zip(yc) {
        for k in 0..4 {
            acc[k] += a[k] as f64 * b[k] as f64;
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// IEEE half precision to f32, exactly (subnormals, infinities and NaN included).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        // Subnormal: frac * 2^-24, exact in f32.
        (0, f) => sign | ((f as f32) * (1.0 / 16_777_216.0)).to_bits(),
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, f) => sign | 0x7fc0_0000 | (f << 13),
        (e, f) => sign | ((e + 112) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

/// Ids for the rows: the lines of `ids` if given (their count must match), else row numbers.
pub fn read_ids(ids: Option<&Path>, rows: usize) -> Result<Vec<String>, Error> {
    let Some(path) = ids else {
        return Ok((0..rows).map(|i| i.to_string()).collect());
    };
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let list: Vec<String> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect();
    if list.len() != rows {
        return Err(Error::IdCount {
            path: path.to_path_buf(),
            ids: list.len(),
            rows,
        });
    }
    Ok(list)
}

/// The most dimensions per row accepted (embeddings have a few thousand).
pub const MAX_DIM: usize = 1 << 20;

struct Header {
    offset: usize,
    rows: usize,
    dim: usize,
    dtype: Dtype,
    big_endian: bool,
}

/// Parses the `.npy` preamble and its Python-dict header. Only the three keys numpy writes
/// are read: `descr`, `fortran_order` and `shape`.
fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header, Error> {
    let bad = |message: &str| Error::NpyHeader {
        path: path.to_path_buf(),
        message: message.to_string(),
    };
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("missing the \\x93NUMPY magic"));
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize,
            12,
        ),
        v => return Err(bad(&format!("unknown format version {v}"))),
    };
    let offset = start + len;
    if bytes.len() < offset {
        return Err(bad("header runs past the end of the file"));
    }
    let text = std::str::from_utf8(&bytes[start..offset]).map_err(|_| bad("header not text"))?;
    let value = |key: &str| -> Result<&str, Error> {
        let at = text
            .find(&format!("'{key}'"))
            .ok_or_else(|| bad(&format!("no '{key}' in the header")))?;
        let rest = text[at + key.len() + 2..].trim_start();
        Ok(rest.strip_prefix(':').unwrap_or(rest).trim_start())
    };
    let descr_v = value("descr")?;
    let descr = descr_v
        .strip_prefix('\'')
        .and_then(|s| s.split('\'').next())
        .ok_or_else(|| bad("'descr' is not a string"))?;
    let (big_endian, dtype) = match descr {
        "<f2" | "=f2" => (false, Dtype::F16),
        ">f2" => (true, Dtype::F16),
        "<f4" | "=f4" => (false, Dtype::F32),
        ">f4" => (true, Dtype::F32),
        "<f8" | "=f8" => (false, Dtype::F64),
        ">f8" => (true, Dtype::F64),
        _ => {
            return Err(Error::NpyDtype {
                path: path.to_path_buf(),
                descr: descr.to_string(),
            });
        }
    };
    if value("fortran_order")?.starts_with("True") {
        return Err(Error::NpyFortran {
            path: path.to_path_buf(),
        });
    }
    let shape_v = value("shape")?;
    let shape_text = shape_v
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("'shape' is not a tuple"))?;
    let dims: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("'shape' holds something other than integers"))?;
    if dims.len() != 2 {
        return Err(Error::NpyShape {
            path: path.to_path_buf(),
            shape: format!("({shape_text})"),
        });
    }
    // Even with no rows, the dimension sizes buffers and hyperplanes (dim × bits floats).
    // Rows of no dimension hold no bytes, so any number of them would pass as present.
    if dims[1] == 0 {
        return Err(bad("rows of 0 dimensions"));
    }
    if dims[1] > MAX_DIM {
        return Err(bad(&format!(
            "{} dimensions per row, more than the {MAX_DIM} supported",
            dims[1]
        )));
    }
    Ok(Header {
        offset,
        rows: dims[0],
        dim: dims[1],
        dtype,
        big_endian,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-1 `.npy` file with the given header dict and data bytes.
    pub(crate) fn npy(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut header = dict.to_string();
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn write(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.npy");
        std::fs::write(&p, bytes).unwrap();
        (dir, p)
    }

    fn f32s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn reads_float32_float64_float16_rows() {
        let d = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let (_t, p) = write(&npy(d, &f32s(&[1.0, 2.0, 3.0, -1.0, 0.5, 0.0])));
        let v = Vectors::open(&p).unwrap();
        let mut buf = vec![0.0; 3];
        assert_eq!((v.rows(), v.dim()), (2, 3));
        assert_eq!(v.row(1, &mut buf), &[-1.0, 0.5, 0.0]);

        let data: Vec<u8> = [1.5f64, -2.0]
            .iter()
            .flat_map(|x| x.to_be_bytes())
            .collect();
        let d = "{'descr': '>f8', 'fortran_order': False, 'shape': (1, 2), }";
        let (_t, p) = write(&npy(d, &data));
        let v = Vectors::open(&p).unwrap();
        assert_eq!(v.row(0, &mut buf), &[1.5, -2.0]);

        // 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal) in half precision.
        let halves: [u16; 4] = [0x3c00, 0xc000, 0x7bff, 0x0001];
        let data: Vec<u8> = halves.iter().flat_map(|x| x.to_le_bytes()).collect();
        let d = "{'descr': '<f2', 'fortran_order': False, 'shape': (1, 4), }";
        let (_t, p) = write(&npy(d, &data));
        let v = Vectors::open(&p).unwrap();
        let mut buf = vec![0.0; 4];
        assert_eq!(v.row(0, &mut buf), &[1.0, -2.0, 65504.0, 2f32.powi(-24)]);
    }

    #[test]
    fn typed_errors() {
        let cases: [(Vec<u8>, &str); 6] = [
            (b"not numpy at all".to_vec(), "not a .npy file"),
            (
                npy(
                    "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 1), }",
                    &[0; 4],
                ),
                "dtype '<i4'",
            ),
            (
                npy(
                    "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }",
                    &[0; 4],
                ),
                "Fortran-order",
            ),
            (
                npy(
                    "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
                    &[0; 16],
                ),
                "shape (4,) is not 2-D",
            ),
            (
                npy(
                    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                    &[0; 20],
                ),
                "truncated: the header promises 24 bytes of data, the file holds 20",
            ),
            (Vec::new(), "not a .npy file"),
        ];
        for (bytes, message) in cases {
            let (_t, p) = write(&bytes);
            let e = Vectors::open(&p).unwrap_err().to_string();
            assert!(e.contains(message), "{e}");
            assert!(e.contains("v.npy"), "{e}");
        }
    }

    #[test]
    fn scan_names_non_finite_and_zero_rows() {
        let d = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }";
        let data = f32s(&[3.0, 4.0, f32::NAN, 1.0, 0.0, 0.0, f32::INFINITY, 0.0]);
        let (_t, p) = write(&npy(d, &data));
        let s = Vectors::open(&p).unwrap().scan();
        assert_eq!(s.norms[0], 5.0);
        assert_eq!(s.non_finite, [(1, "NaN"), (3, "infinity")]);
        assert_eq!(s.zero, [2]);
    }

    #[test]
    fn id_count_must_match() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ids.txt");
        std::fs::write(&p, "a\nb\n").unwrap();
        assert_eq!(read_ids(Some(&p), 2).unwrap(), ["a", "b"]);
        let e = read_ids(Some(&p), 3).unwrap_err().to_string();
        assert!(e.contains("2 ids for 3 rows"), "{e}");
        assert_eq!(read_ids(None, 2).unwrap(), ["0", "1"]);
    }

    #[test]
    fn dot_and_norm() {
        let x: Vec<f32> = (0..19).map(|i| i as f32).collect();
        let expected: f64 = (0..19).map(|i| (i * i) as f64).sum();
        assert_eq!(dot(&x, &x), expected);
        assert!((norm(&x) - expected.sqrt()).abs() < 1e-12);
    }
}
