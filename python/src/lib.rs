//! The Python extension `simdedup._core`: conversions between Python (lists of str, numpy
//! arrays) and the library's jobs ([`simdedup::jobs`]), with the GIL released while they
//! run. No deduplication logic lives here; the SemHash-style classes are Python, in
//! `python/simdedup/__init__.py`.

mod partitioned;
mod report;
mod spark;
mod spark_vectors;

use std::path::Path;
use std::sync::{Arc, Mutex};

use numpy::{
    IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use simdedup::jobs::dedup::{self as jobs, load_batch};
use simdedup::jobs::density;
use simdedup::jobs::{TextJob, Texts, VectorJob};
use simdedup::ops::dedup::{Dedup, Grouping, PairSet};
use simdedup::ops::semantic::{Leak, SavedResult};
use simdedup::search::{self, SearchOptions};
use simdedup::text::batch::{TextBatch, TextColumn};
use simdedup::text::minhash::{BandKeys, BandParams};
use simdedup::text::simhash::TextConfig;
use simdedup::vectors::npy::{Scan, Vectors};
use simdedup::{Error, Report};

/// A library error as the Python exception a user expects: files that cannot be read are
/// `OSError`, everything else `ValueError`, with the command line's message.
fn py_error(e: Error) -> PyErr {
    match e {
        Error::Io { .. } | Error::NotFound { .. } => PyOSError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// Collects the non-fatal errors of a job; the first one is raised when the job is done.
#[derive(Default)]
struct Collect(Mutex<Vec<Error>>);

impl Report for Collect {
    fn report(&self, error: Error) {
        self.0.lock().expect("not poisoned").push(error);
    }
}

impl Collect {
    fn check(self) -> PyResult<()> {
        match self
            .0
            .into_inner()
            .expect("not poisoned")
            .into_iter()
            .next()
        {
            Some(e) => Err(py_error(e)),
            None => Ok(()),
        }
    }
}

/// The bytes of a C-contiguous float32 numpy array, read without a copy. The array is
/// borrowed read-only by the caller (a `PyReadonlyArray2`) for as long as the
/// [`Vectors`] made from these bytes lives: every function below drops the `Vectors`
/// before the borrow ends.
struct ArrayBytes {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the memory is only read, and outlives every use (see above).
unsafe impl Send for ArrayBytes {}
unsafe impl Sync for ArrayBytes {}

impl AsRef<[u8]> for ArrayBytes {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr` and `len` describe the array's buffer, alive and unchanged while
        // this exists.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// The rows of `array` as [`Vectors`] (no copy) and their scan; a NaN or infinite row
/// is an error naming it, as in the command line.
fn vectors(name: &str, array: &PyReadonlyArray2<'_, f32>) -> PyResult<(Vectors, Scan)> {
    let slice = array.as_slice().map_err(|_| {
        PyValueError::new_err(format!(
            "{name}: the array is not C-contiguous (use numpy.ascontiguousarray)"
        ))
    })?;
    let shape = array.shape();
    let bytes = ArrayBytes {
        ptr: slice.as_ptr().cast(),
        len: std::mem::size_of_val(slice),
    };
    let v = Vectors::from_f32(Path::new(name), Arc::new(bytes), shape[0], shape[1])
        .map_err(py_error)?;
    let scan = v.scan();
    if let Some(&(row, what)) = scan.non_finite.first() {
        return Err(PyValueError::new_err(format!(
            "{name}, row {row}: {what} ({} non-finite row(s) in all)",
            scan.non_finite.len()
        )));
    }
    Ok((v, scan))
}

/// Texts from Python: a list of str (copied), or a pyarrow string or large-string array
/// (or chunked array) read in place through the Arrow C data interface. A null is an
/// error naming its row.
fn text_column(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<TextColumn> {
    let column = text_column_with_nulls(name, obj)?;
    if let Some(row) = column.first_null() {
        return Err(PyValueError::new_err(format!("{name}, row {row}: null")));
    }
    Ok(column)
}

/// [`text_column`], nulls left for the caller to name.
fn text_column_with_nulls(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<TextColumn> {
    if !obj.hasattr("_export_to_c")? && !obj.hasattr("combine_chunks")? {
        return obj
            .extract::<Vec<String>>()
            .map(TextColumn::Owned)
            .map_err(|_| {
                PyValueError::new_err(format!(
                    "{name}: expected a list of str or a pyarrow string array"
                ))
            });
    }
    let data = arrow_data(name, obj)?;
    let column = match data.data_type() {
        arrow_schema::DataType::Utf8 => {
            TextColumn::Utf8(arrow_array::StringArray::from(data.to_data()))
        }
        arrow_schema::DataType::LargeUtf8 => {
            TextColumn::LargeUtf8(arrow_array::LargeStringArray::from(data.to_data()))
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "{name}: an Arrow array of {other}, not of strings (cast it to pyarrow.string())"
            )));
        }
    };
    Ok(column)
}

/// A pyarrow array (or chunked array, combined) taken through the Arrow C data interface.
fn arrow_data(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<arrow_array::ArrayRef> {
    let array = if obj.hasattr("combine_chunks")? {
        obj.call_method0("combine_chunks")?
    } else {
        obj.clone()
    };
    let mut ffi_array = arrow_array::ffi::FFI_ArrowArray::empty();
    let mut ffi_schema = arrow_array::ffi::FFI_ArrowSchema::empty();
    array.call_method1(
        "_export_to_c",
        (&raw mut ffi_array as usize, &raw mut ffi_schema as usize),
    )?;
    // SAFETY: pyarrow filled both structs; from_ffi takes the array's ownership and calls
    // its release callback when the data is dropped.
    let data = unsafe { arrow_array::ffi::from_ffi(ffi_array, &ffi_schema) }
        .map_err(|e| PyValueError::new_err(format!("{name}: {e}")))?;
    Ok(arrow_array::make_array(data))
}

/// The values of a pyarrow binary (or large binary) array without nulls, as byte slices
/// borrowed from it: `f` gets them.
fn with_binary_values<T>(
    name: &str,
    obj: &Bound<'_, PyAny>,
    f: impl FnOnce(&[&[u8]]) -> PyResult<T>,
) -> PyResult<T> {
    use arrow_array::Array;
    let array = arrow_data(name, obj)?;
    if array.null_count() > 0 {
        return Err(PyValueError::new_err(format!("{name}: null values")));
    }
    let values: Vec<&[u8]> =
        if let Some(a) = array.as_any().downcast_ref::<arrow_array::BinaryArray>() {
            a.iter().map(|v| v.unwrap_or_default()).collect()
        } else if let Some(a) = array
            .as_any()
            .downcast_ref::<arrow_array::LargeBinaryArray>()
        {
            a.iter().map(|v| v.unwrap_or_default()).collect()
        } else {
            return Err(PyValueError::new_err(format!(
                "{name}: an Arrow array of {}, not of binary values",
                array.data_type()
            )));
        };
    f(&values)
}

fn text_config(shingles: &str) -> PyResult<TextConfig> {
    let shingling = shingles
        .parse()
        .map_err(|e| PyValueError::new_err(format!("shingles={shingles:?}: {e}")))?;
    Ok(TextConfig {
        shingling,
        ..TextConfig::default()
    })
}

fn check_threshold(threshold: f64) -> PyResult<()> {
    if !(0.0..=1.0).contains(&threshold) {
        return Err(PyValueError::new_err(format!(
            "threshold {threshold} is not between 0 and 1"
        )));
    }
    Ok(())
}

fn grouping(connected: bool) -> Grouping {
    if connected {
        Grouping::Components
    } else {
        Grouping::Greedy
    }
}

/// A deduplication result as a dict of numpy arrays: `duplicate_of` (-1 for a kept
/// record), `score` and `exact` per record; every verified pair (`pair_a`, `pair_b`,
/// `pair_score`, `pair_exact`); and `candidates`.
fn dedup_dict<'py>(py: Python<'py>, d: &Dedup) -> PyResult<Bound<'py, PyDict>> {
    let a = &d.assignment.duplicate_of;
    let out = PyDict::new(py);
    let dup: Vec<i64> = a.iter().map(|x| x.map_or(-1, |d| d.kept as i64)).collect();
    let score: Vec<f64> = a.iter().map(|x| x.map_or(1.0, |d| d.score)).collect();
    let exact: Vec<bool> = a.iter().map(|x| x.is_some_and(|d| d.exact)).collect();
    out.set_item("duplicate_of", dup.into_pyarray(py))?;
    out.set_item("score", score.into_pyarray(py))?;
    out.set_item("exact", exact.into_pyarray(py))?;
    let pa: Vec<i64> = d.pairs.iter().map(|p| p.a as i64).collect();
    let pb: Vec<i64> = d.pairs.iter().map(|p| p.b as i64).collect();
    let ps: Vec<f64> = d.pairs.iter().map(|p| p.score).collect();
    let pe: Vec<bool> = d.pairs.iter().map(|p| p.exact).collect();
    out.set_item("pair_a", pa.into_pyarray(py))?;
    out.set_item("pair_b", pb.into_pyarray(py))?;
    out.set_item("pair_score", ps.into_pyarray(py))?;
    out.set_item("pair_exact", pe.into_pyarray(py))?;
    out.set_item("candidates", d.candidates)?;
    Ok(out)
}

/// An index array of int64, as numpy holds it.
type Ints<'py> = Bound<'py, PyArray1<i64>>;

/// (record, score) pairs in a chosen order.
type Scored = Vec<(u32, f64)>;

type IndexArrays<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
);

/// Leaks as three arrays: query index, reference index, score.
fn leak_arrays<'py>(py: Python<'py>, leaks: &[Leak]) -> IndexArrays<'py> {
    let q: Vec<i64> = leaks.iter().map(|l| l.query as i64).collect();
    let r: Vec<i64> = leaks.iter().map(|l| l.reference as i64).collect();
    let s: Vec<f64> = leaks.iter().map(|l| l.score).collect();
    (q.into_pyarray(py), r.into_pyarray(py), s.into_pyarray(py))
}

/// Self-deduplication of texts by exact Jaccard of their shingles (MinHash band search).
#[pyfunction]
#[pyo3(signature = (texts, threshold, fields=false, shingles="word:3", recall=0.99, connected=false))]
fn dedup_texts<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    threshold: f64,
    fields: bool,
    shingles: &str,
    recall: f64,
    connected: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let texts = text_column("texts", texts)?;
    check_threshold(threshold)?;
    let job = TextJob {
        grouping: grouping(connected),
        search: simdedup::jobs::TextSearch::Bands { recall },
        ..TextJob::new(text_config(shingles)?, threshold)
    };
    let report = Collect::default();
    let (result, bands) = py.detach(|| {
        let (mut batch, bands) = load_batch::<u128>(texts, fields, &job, &());
        let keys = batch.bands.take().map(Into::into);
        (
            jobs::dedup_texts(Texts::from(&batch), keys, &job, &(), &report),
            bands,
        )
    });
    let result = result.map_err(py_error)?;
    report.check()?;
    let out = dedup_dict(py, &result)?;
    // How the candidates were searched, for a report (`write_report`).
    out.set_item("method", job.describe_search(bands, 128))?;
    out.set_item("shape", bands.map(|p| (p.bands, p.rows)))?;
    Ok(out)
}

/// Texts of `queries` that duplicate a text of `reference`.
#[pyfunction]
#[pyo3(signature = (queries, reference, threshold, fields=false, shingles="word:3", recall=0.99))]
fn against_texts<'py>(
    py: Python<'py>,
    queries: &Bound<'py, PyAny>,
    reference: &Bound<'py, PyAny>,
    threshold: f64,
    fields: bool,
    shingles: &str,
    recall: f64,
) -> PyResult<IndexArrays<'py>> {
    let queries = text_column("queries", queries)?;
    let reference = text_column("reference", reference)?;
    check_threshold(threshold)?;
    let job = TextJob {
        search: simdedup::jobs::TextSearch::Bands { recall },
        ..TextJob::new(text_config(shingles)?, threshold)
    };
    let report = Collect::default();
    let leaks = py.detach(|| {
        let (q, bands) = load_batch::<u128>(queries, fields, &job, &());
        let r = TextBatch::<u128>::new(reference, fields, &job.text, bands, &());
        jobs::against_texts(Texts::from(&q), Texts::from(&r), &job, &(), &report).0
    });
    report.check()?;
    Ok(leak_arrays(py, &leaks))
}

fn vector_job(
    threshold: f64,
    seed: Option<u64>,
    center: bool,
    recall: f64,
    bits: Option<u32>,
    connected: bool,
) -> VectorJob {
    VectorJob {
        seed: seed.unwrap_or(simdedup::vectors::hyperplane::DEFAULT_SEED),
        center,
        recall,
        bits,
        grouping: grouping(connected),
        ..VectorJob::new(threshold)
    }
}

/// Self-deduplication of the rows of a float32 array by cosine. With `all_pairs=False`
/// the pairs returned are only those that decide (each removed row with the kept rows it
/// reaches), which lets the search skip the pairs between removed rows.
#[pyfunction]
#[pyo3(signature = (embeddings, threshold, seed=None, center=true, recall=0.99, bits=None, connected=false, all_pairs=true))]
#[allow(clippy::too_many_arguments)]
fn dedup_vectors<'py>(
    py: Python<'py>,
    embeddings: PyReadonlyArray2<'py, f32>,
    threshold: f64,
    seed: Option<u64>,
    center: bool,
    recall: f64,
    bits: Option<u32>,
    connected: bool,
    all_pairs: bool,
) -> PyResult<Bound<'py, PyDict>> {
    check_threshold(threshold)?;
    let (v, scan) = vectors("embeddings", &embeddings)?;
    let job = VectorJob {
        pairs: if all_pairs {
            PairSet::All
        } else {
            PairSet::Deciding
        },
        ..vector_job(threshold, seed, center, recall, bits, connected)
    };
    let result = py.detach(|| jobs::dedup_vectors(&v, &scan, &job, &()));
    drop(v);
    dedup_dict(py, &result.map_err(py_error)?.0)
}

/// Rows of `queries` whose cosine to a row of `reference` reaches `threshold`.
#[pyfunction]
#[pyo3(signature = (queries, reference, threshold, seed=None, center=true, recall=0.99, bits=None))]
#[allow(clippy::too_many_arguments)]
fn against_vectors<'py>(
    py: Python<'py>,
    queries: PyReadonlyArray2<'py, f32>,
    reference: PyReadonlyArray2<'py, f32>,
    threshold: f64,
    seed: Option<u64>,
    center: bool,
    recall: f64,
    bits: Option<u32>,
) -> PyResult<IndexArrays<'py>> {
    check_threshold(threshold)?;
    let (q, qs) = vectors("records", &queries)?;
    let (r, rs) = vectors("reference", &reference)?;
    let job = vector_job(threshold, seed, center, recall, bits, false);
    let result = py.detach(|| jobs::against_vectors((&q, &qs), (&r, &rs), &job, &()));
    drop((q, r));
    Ok(leak_arrays(py, &result.map_err(py_error)?.0))
}

type Ranking<'py> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<f64>>);

fn ranking<'py>(py: Python<'py>, list: Vec<(u32, f64)>) -> Ranking<'py> {
    let (r, s): (Vec<i64>, Vec<f64>) = list.into_iter().map(|(r, s)| (r as i64, s)).unzip();
    (r.into_pyarray(py), s.into_pyarray(py))
}

/// Every scored record with its density, densest first (ties by index), and with
/// `count`, that many representatives in selection order.
fn densities_and_representatives(
    d: &density::Densities<'_>,
    count: Option<usize>,
    diversity: f64,
    limit: Option<usize>,
) -> (Scored, Scored) {
    let mut ranked: Vec<(u32, f64)> = d.records.iter().copied().zip(d.scores.clone()).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let chosen = count.map_or_else(Vec::new, |c| d.representatives(c, diversity, limit));
    (ranked, chosen)
}

/// Density of every text (mean Jaccard to its `k` nearest neighbours), densest first, and
/// `count` representatives chosen by maximal marginal relevance when asked.
#[pyfunction]
#[pyo3(signature = (texts, k=100, fields=false, shingles="word:3", count=None, diversity=0.5, limit=None))]
#[allow(clippy::too_many_arguments)]
fn text_densities<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    k: usize,
    fields: bool,
    shingles: &str,
    count: Option<usize>,
    diversity: f64,
    limit: Option<usize>,
) -> PyResult<(Ranking<'py>, Ranking<'py>)> {
    let texts = text_column("texts", texts)?;
    let config = text_config(shingles)?;
    let report = Collect::default();
    let (ranked, chosen) = py.detach(|| {
        let batch = TextBatch::<u128>::new(texts, fields, &config, None, &());
        let d = density::text_densities(Texts::from(&batch), &config, k, &(), &report);
        densities_and_representatives(&d, count, diversity, limit)
    });
    report.check()?;
    Ok((ranking(py, ranked), ranking(py, chosen)))
}

/// Density of every row by cosine, densest first, and `count` representatives.
#[pyfunction]
#[pyo3(signature = (embeddings, k=100, seed=None, center=true, count=None, diversity=0.5, limit=None))]
#[allow(clippy::too_many_arguments)]
fn vector_densities<'py>(
    py: Python<'py>,
    embeddings: PyReadonlyArray2<'py, f32>,
    k: usize,
    seed: Option<u64>,
    center: bool,
    count: Option<usize>,
    diversity: f64,
    limit: Option<usize>,
) -> PyResult<(Ranking<'py>, Ranking<'py>)> {
    let (v, scan) = vectors("embeddings", &embeddings)?;
    let job = vector_job(0.9, seed, center, 0.99, Some(128), false);
    let result = py.detach(|| {
        density::vector_densities(&v, &scan, &job, k, &())
            .map(|d| densities_and_representatives(&d, count, diversity, limit))
    });
    drop(v);
    let (ranked, chosen) = result.map_err(py_error)?;
    Ok((ranking(py, ranked), ranking(py, chosen)))
}

/// Density of every query text against the reference texts (mean Jaccard to its `k`
/// nearest reference texts), densest first, and `count` representatives among the queries.
#[pyfunction]
#[pyo3(signature = (queries, reference, k=100, fields=false, shingles="word:3", count=None, diversity=0.5, limit=None))]
#[allow(clippy::too_many_arguments)]
fn text_densities_against<'py>(
    py: Python<'py>,
    queries: &Bound<'py, PyAny>,
    reference: &Bound<'py, PyAny>,
    k: usize,
    fields: bool,
    shingles: &str,
    count: Option<usize>,
    diversity: f64,
    limit: Option<usize>,
) -> PyResult<(Ranking<'py>, Ranking<'py>)> {
    let queries = text_column("queries", queries)?;
    let reference = text_column("reference", reference)?;
    let config = text_config(shingles)?;
    let report = Collect::default();
    let (ranked, chosen) = py.detach(|| {
        let q = TextBatch::<u128>::new(queries, fields, &config, None, &());
        let r = TextBatch::<u128>::new(reference, fields, &config, None, &());
        let d = density::text_densities_against(
            Texts::from(&q),
            Texts::from(&r),
            &config,
            k,
            &(),
            &report,
        );
        densities_and_representatives(&d, count, diversity, limit)
    });
    report.check()?;
    Ok((ranking(py, ranked), ranking(py, chosen)))
}

/// Density of every query row against the reference rows by cosine, densest first, and
/// `count` representatives among the queries.
#[pyfunction]
#[pyo3(signature = (queries, reference, k=100, seed=None, center=true, count=None, diversity=0.5, limit=None))]
#[allow(clippy::too_many_arguments)]
fn vector_densities_against<'py>(
    py: Python<'py>,
    queries: PyReadonlyArray2<'py, f32>,
    reference: PyReadonlyArray2<'py, f32>,
    k: usize,
    seed: Option<u64>,
    center: bool,
    count: Option<usize>,
    diversity: f64,
    limit: Option<usize>,
) -> PyResult<(Ranking<'py>, Ranking<'py>)> {
    let (q, qs) = vectors("records", &queries)?;
    let (r, rs) = vectors("reference", &reference)?;
    if q.dim() != r.dim() {
        return Err(PyValueError::new_err(format!(
            "records have {} dimensions, the fitted embeddings {}",
            q.dim(),
            r.dim()
        )));
    }
    let job = vector_job(0.9, seed, center, 0.99, Some(128), false);
    let result = py.detach(|| {
        density::vector_densities_against((&q, &qs), (&r, &rs), &job, k, &())
            .map(|d| densities_and_representatives(&d, count, diversity, limit))
    });
    drop((q, r));
    let (ranked, chosen) = result.map_err(py_error)?;
    Ok((ranking(py, ranked), ranking(py, chosen)))
}

/// The verified pairs of a run over `n` records at `threshold`, as a saved result
/// (rows `a[i]`, `b[i]`, score, exact).
fn saved_pairs(
    n: usize,
    [a, b]: [&PyReadonlyArray1<'_, i64>; 2],
    score: &PyReadonlyArray1<'_, f64>,
    exact: &PyReadonlyArray1<'_, bool>,
    threshold: f64,
) -> PyResult<SavedResult> {
    let (a, b, s, e) = (
        a.as_slice()?,
        b.as_slice()?,
        score.as_slice()?,
        exact.as_slice()?,
    );
    Ok(SavedResult {
        similarity: String::new(),
        threshold,
        ids: vec![String::new(); n],
        skipped: Vec::new(),
        pairs: (0..a.len())
            .map(|i| (a[i] as u32, b[i] as u32, s[i], e[i]))
            .collect(),
    })
}

/// The decisions at a higher threshold from the verified pairs of a run.
#[pyfunction]
#[pyo3(signature = (n, pair_a, pair_b, pair_score, pair_exact, threshold, connected=false))]
#[allow(clippy::too_many_arguments)]
fn rethreshold<'py>(
    py: Python<'py>,
    n: usize,
    pair_a: PyReadonlyArray1<'py, i64>,
    pair_b: PyReadonlyArray1<'py, i64>,
    pair_score: PyReadonlyArray1<'py, f64>,
    pair_exact: PyReadonlyArray1<'py, bool>,
    threshold: f64,
    connected: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let saved = saved_pairs(n, [&pair_a, &pair_b], &pair_score, &pair_exact, threshold)?;
    let result = py.detach(|| saved.rethreshold(threshold, grouping(connected)));
    dedup_dict(py, &result)
}

/// The threshold (at least `floor`, the threshold of the run the pairs come from) whose
/// decisions keep the number of records closest to `target`, and those decisions (keys as
/// in [`dedup_dict`]).
#[pyfunction]
#[pyo3(signature = (n, pair_a, pair_b, pair_score, pair_exact, floor, target, connected=false))]
#[allow(clippy::too_many_arguments)]
fn target_threshold<'py>(
    py: Python<'py>,
    n: usize,
    pair_a: PyReadonlyArray1<'py, i64>,
    pair_b: PyReadonlyArray1<'py, i64>,
    pair_score: PyReadonlyArray1<'py, f64>,
    pair_exact: PyReadonlyArray1<'py, bool>,
    floor: f64,
    target: usize,
    connected: bool,
) -> PyResult<(f64, Bound<'py, PyDict>)> {
    let saved = saved_pairs(n, [&pair_a, &pair_b], &pair_score, &pair_exact, floor)?;
    let (threshold, result) =
        py.detach(|| jobs::to_target_size(&saved, target, grouping(connected)));
    Ok((threshold, dedup_dict(py, &result)?))
}

/// SimHash fingerprints of texts: 64-bit as uint64, or 128-bit as two uint64 columns
/// (high word first) flattened row by row.
#[pyfunction]
#[pyo3(signature = (texts, bits=64, shingles="word:3"))]
fn fingerprints<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    bits: u32,
    shingles: &str,
) -> PyResult<Bound<'py, PyArray1<u64>>> {
    let texts = text_column("texts", texts)?;
    let config = text_config(shingles)?;
    let words = py.detach(|| match bits {
        64 => Ok(TextBatch::<u64>::new(texts, false, &config, None, &()).fingerprints),
        128 => Ok(TextBatch::<u128>::new(texts, false, &config, None, &())
            .fingerprints
            .iter()
            .flat_map(|&f| [(f >> 64) as u64, f as u64])
            .collect()),
        _ => Err(PyValueError::new_err(format!(
            "bits={bits}: text fingerprints are 64 or 128 bits here"
        ))),
    })?;
    Ok(words.into_pyarray(py))
}

/// MinHash band keys of texts (one-permutation MinHash, `bands` bands of `rows` bins):
/// uint32, `bands` per text, flattened row by row.
#[pyfunction]
#[pyo3(signature = (texts, rows, bands, shingles="word:3"))]
fn band_keys<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    rows: u32,
    bands: u32,
    shingles: &str,
) -> PyResult<Bound<'py, PyArray1<u32>>> {
    let texts = text_column("texts", texts)?;
    if rows == 0 || bands == 0 || rows * bands > simdedup::text::minhash::MAX_BINS {
        return Err(PyValueError::new_err(format!(
            "rows={rows}, bands={bands}: need rows, bands >= 1 and rows * bands <= {}",
            simdedup::text::minhash::MAX_BINS
        )));
    }
    let config = text_config(shingles)?;
    let params = BandParams { rows, bands };
    let keys = py.detach(|| {
        let batch = TextBatch::<u64>::new(texts, false, &config, Some(params), &());
        let keys = batch.bands.expect("asked for");
        (0..keys.len())
            .flat_map(|i| keys.get(i).to_vec())
            .collect::<Vec<u32>>()
    });
    Ok(keys.into_pyarray(py))
}

/// Every pair (a < b) of 64-bit fingerprints within Hamming distance `k`, with the
/// distance, sorted.
#[pyfunction]
fn pairs_within<'py>(
    py: Python<'py>,
    fingerprints: PyReadonlyArray1<'py, u64>,
    k: u32,
) -> PyResult<(Ints<'py>, Ints<'py>, Ints<'py>)> {
    let fps = fingerprints.as_slice()?;
    let pairs = py.detach(|| search::find_pairs(fps, &SearchOptions::exact(k), &()));
    let a: Vec<i64> = pairs.iter().map(|p| p.a as i64).collect();
    let b: Vec<i64> = pairs.iter().map(|p| p.b as i64).collect();
    let d: Vec<i64> = pairs.iter().map(|p| p.distance as i64).collect();
    Ok((a.into_pyarray(py), b.into_pyarray(py), d.into_pyarray(py)))
}

/// Every pair (a < b) that agrees on at least one band key, once, sorted; `keys` holds
/// `bands` uint32 keys per item, flattened row by row.
#[pyfunction]
fn band_pairs<'py>(
    py: Python<'py>,
    keys: PyReadonlyArray1<'py, u32>,
    bands: usize,
) -> PyResult<(Ints<'py>, Ints<'py>)> {
    let flat = keys.as_slice()?;
    if bands == 0 || flat.len() % bands != 0 {
        return Err(PyValueError::new_err(format!(
            "{} keys do not split into rows of {bands} bands",
            flat.len()
        )));
    }
    let pairs = py.detach(|| {
        let keys = BandKeys::from_flat(bands, flat.to_vec());
        let ids: Vec<u32> = (0..keys.len() as u32).collect();
        let mut pairs = Vec::new();
        search::bands::search(&keys, &ids, &(), &mut |group| pairs.extend(group));
        pairs.sort_unstable_by_key(|p| (p.a, p.b));
        pairs
    });
    let a: Vec<i64> = pairs.iter().map(|p| p.a as i64).collect();
    let b: Vec<i64> = pairs.iter().map(|p| p.b as i64).collect();
    Ok((a.into_pyarray(py), b.into_pyarray(py)))
}

/// Exact Jaccard similarity of the shingle sets of texts `a[i]` and `b[i]` (the smallest
/// per-field Jaccard with `fields`).
#[pyfunction]
#[pyo3(signature = (texts, a, b, fields=false, shingles="word:3"))]
fn jaccard_scores<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    a: PyReadonlyArray1<'py, i64>,
    b: PyReadonlyArray1<'py, i64>,
    fields: bool,
    shingles: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let texts = text_column("texts", texts)?;
    let config = text_config(shingles)?;
    let (a, b) = (a.as_slice()?, b.as_slice()?);
    let n = texts.len() as i64;
    if let Some(&bad) = a.iter().chain(b).find(|&&i| i < 0 || i >= n) {
        return Err(PyValueError::new_err(format!(
            "index {bad} is out of range for {n} texts"
        )));
    }
    let pairs: Vec<(u32, u32)> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as u32, y as u32))
        .collect();
    let scores = py.detach(|| {
        let batch = TextBatch::<u64>::new(texts, fields, &config, None, &());
        simdedup::text::texts::pair_similarities(&batch, &config, &pairs)
    });
    Ok(scores.map_err(py_error)?.into_pyarray(py))
}

/// A static-embedding model read from a local directory (Model2Vec or sentence-transformers
/// layout): `encode(texts)` gives Model2Vec's vectors. It follows SemHash's encoder
/// protocol, so `SimDedup.from_records(texts, model=StaticModel(path))` works, and a path
/// given as `model=` is loaded as one.
#[pyclass(frozen, module = "simdedup._core")]
struct StaticModel {
    model: simdedup::vectors::embed::StaticModel,
    path: String,
}

#[pymethods]
impl StaticModel {
    #[new]
    fn new(path: std::path::PathBuf) -> PyResult<Self> {
        let model = simdedup::vectors::embed::StaticModel::load(&path).map_err(|e| match e {
            simdedup::vectors::embed::ModelError::Io { .. } => PyOSError::new_err(e.to_string()),
            _ => PyValueError::new_err(e.to_string()),
        })?;
        Ok(StaticModel {
            model,
            path: path.display().to_string(),
        })
    }

    /// The directory the model was read from.
    #[getter]
    fn path(&self) -> &str {
        &self.path
    }

    /// Dimensions of a vector.
    #[getter]
    fn dim(&self) -> usize {
        self.model.dim()
    }

    /// The vectors of `texts`, a float32 array of shape (len(texts), dim), computed in
    /// parallel without the GIL.
    #[pyo3(signature = (texts, **_kwargs))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        _kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, numpy::PyArray2<f32>>> {
        let n = texts.len();
        let values = py.detach(|| self.model.encode(&texts));
        let array = values.into_pyarray(py);
        array.reshape([n, self.model.dim()])
    }

    fn __repr__(&self) -> String {
        format!("StaticModel({:?}, dim={})", self.path, self.model.dim())
    }
}

/// Writes `sections` (name, bytes) to `path` as one checksummed file, atomically
/// ([`simdedup::bundle`]).
#[pyfunction]
fn save_bundle<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    sections: Vec<(String, Bound<'py, pyo3::types::PyBytes>)>,
) -> PyResult<()> {
    use pyo3::types::PyBytesMethods;
    let refs: Vec<(&str, &[u8])> = sections
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_bytes()))
        .collect();
    py.detach(|| simdedup::bundle::save(&path, &refs))
        .map_err(py_error)
}

/// The sections of the bundle at `path`, checked, as (name, bytes) in written order.
#[pyfunction]
fn load_bundle<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
) -> PyResult<Vec<(String, Bound<'py, pyo3::types::PyBytes>)>> {
    let bundle = py
        .detach(|| simdedup::bundle::load(&path))
        .map_err(py_error)?;
    Ok(bundle
        .sections()
        .map(|(name, bytes)| (name.to_string(), pyo3::types::PyBytes::new(py, bytes)))
        .collect())
}

/// The extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(dedup_texts, m)?)?;
    m.add_function(wrap_pyfunction!(against_texts, m)?)?;
    m.add_function(wrap_pyfunction!(dedup_vectors, m)?)?;
    m.add_function(wrap_pyfunction!(against_vectors, m)?)?;
    m.add_function(wrap_pyfunction!(text_densities, m)?)?;
    m.add_function(wrap_pyfunction!(vector_densities, m)?)?;
    m.add_function(wrap_pyfunction!(text_densities_against, m)?)?;
    m.add_function(wrap_pyfunction!(vector_densities_against, m)?)?;
    m.add_function(wrap_pyfunction!(rethreshold, m)?)?;
    m.add_function(wrap_pyfunction!(target_threshold, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprints, m)?)?;
    m.add_function(wrap_pyfunction!(band_keys, m)?)?;
    m.add_function(wrap_pyfunction!(pairs_within, m)?)?;
    m.add_function(wrap_pyfunction!(band_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(jaccard_scores, m)?)?;
    m.add_function(wrap_pyfunction!(save_bundle, m)?)?;
    m.add_function(wrap_pyfunction!(load_bundle, m)?)?;
    m.add_class::<StaticModel>()?;
    partitioned::register(m)?;
    report::register(m)?;
    spark::register(m)?;
    spark_vectors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
