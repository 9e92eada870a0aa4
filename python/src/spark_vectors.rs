//! The embedding stages of the Spark job (`simdedup.spark.dedup(df, embedding_column=...)`):
//! numpy arrays in and out of [`simdedup::jobs::partitioned_vectors`], where the work is.
//! 128-bit values cross as two int64 bit patterns (high, low).

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;

use simdedup::jobs::partitioned_vectors::{
    self as stages, FP_BYTES, SearchInputs, Shape, StageError, VectorColumn,
};
use simdedup::ops::semantic;
use simdedup::vectors::hyperplane::{self, UnitSum};

type Ints<'py> = Bound<'py, PyArray1<i64>>;
type Floats<'py> = Bound<'py, PyArray1<f64>>;
type Floats32<'py> = Bound<'py, PyArray1<f32>>;

/// A band shape as Python sees it: `(rows, bands, radius, recall)`.
type PyShape = (u32, u32, u32, f64);

fn err(e: StageError) -> PyErr {
    PyValueError::new_err(e.0)
}

fn to_shape((rows, bands, radius, recall): PyShape) -> Shape {
    Shape {
        rows,
        bands,
        radius,
        recall,
    }
}

/// 128-bit values as (high, low) int64 bit patterns.
fn split_words<'py>(py: Python<'py>, x: &[u128]) -> (Ints<'py>, Ints<'py>) {
    let hi: Vec<i64> = x.iter().map(|v| (v >> 64) as i64).collect();
    let lo: Vec<i64> = x.iter().map(|&v| v as u64 as i64).collect();
    (hi.into_pyarray(py), lo.into_pyarray(py))
}

fn join_words(hi: &[i64], lo: &[i64]) -> PyResult<Vec<u128>> {
    if hi.len() != lo.len() {
        return Err(PyValueError::new_err("as many high as low words"));
    }
    Ok(hi
        .iter()
        .zip(lo)
        .map(|(&h, &l)| ((h as u64 as u128) << 64) | l as u64 as u128)
        .collect())
}

fn triples<'py>(py: Python<'py>, found: &[(i64, i64, i64)]) -> (Ints<'py>, Ints<'py>, Ints<'py>) {
    let a: Vec<i64> = found.iter().map(|p| p.0).collect();
    let b: Vec<i64> = found.iter().map(|p| p.1).collect();
    let d: Vec<i64> = found.iter().map(|p| p.2).collect();
    (a.into_pyarray(py), b.into_pyarray(py), d.into_pyarray(py))
}

/// [`stages::sketch`]: per row the digest (high, low), the norm, and the values as float32.
#[pyfunction]
#[pyo3(signature = (values, offsets, valid, row_ids, column, dim, names=None))]
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn vector_sketch<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f64>,
    offsets: PyReadonlyArray1<'py, i64>,
    valid: PyReadonlyArray1<'py, bool>,
    row_ids: PyReadonlyArray1<'py, i64>,
    column: &str,
    dim: usize,
    names: Option<Vec<String>>,
) -> PyResult<(Ints<'py>, Ints<'py>, Floats<'py>, Floats32<'py>)> {
    let col = VectorColumn {
        values: values.as_slice()?,
        offsets: offsets.as_slice()?,
        valid: valid.as_slice()?,
        row_ids: row_ids.as_slice()?,
        names: names.as_deref(),
        column,
    };
    let s = py.detach(|| stages::sketch(&col, dim)).map_err(err)?;
    let (hi, lo) = split_words(py, &s.digests);
    Ok((hi, lo, s.norms.into_pyarray(py), s.values.into_pyarray(py)))
}

/// [`stages::unit_sum`]: per component the fixed-point sum (high, low), and the row count.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn vector_unit_sum<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f32>,
    norms: PyReadonlyArray1<'py, f64>,
    dim: usize,
) -> PyResult<(Ints<'py>, Ints<'py>, u64)> {
    let sum = stages::unit_sum(values.as_slice()?, norms.as_slice()?, dim).map_err(err)?;
    let words: Vec<u128> = sum.sums.iter().map(|&s| s as u128).collect();
    let (hi, lo) = split_words(py, &words);
    Ok((hi, lo, sum.count))
}

/// [`stages::unit_mean`] of partial sums given as `hi` and `lo` concatenated (`dim` values
/// per partial sum) and `counts` (one per partial sum).
#[pyfunction]
fn vector_unit_mean(
    hi: Vec<i64>,
    lo: Vec<i64>,
    counts: Vec<u64>,
    dim: usize,
) -> PyResult<Vec<f64>> {
    if hi.len() != lo.len() || hi.len() != counts.len() * dim {
        return Err(PyValueError::new_err(
            "vector_unit_mean: dim high and low words per count",
        ));
    }
    let words = join_words(&hi, &lo)?;
    let parts: Vec<UnitSum> = counts
        .iter()
        .enumerate()
        .map(|(k, &count)| UnitSum {
            sums: words[k * dim..(k + 1) * dim]
                .iter()
                .map(|&w| w as i128)
                .collect(),
            count,
        })
        .collect();
    stages::unit_mean(&parts, dim).map_err(err)
}

/// [`stages::centred_norms`].
#[pyfunction]
fn vector_centred_norms<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f32>,
    norms: PyReadonlyArray1<'py, f64>,
    mean: Vec<f64>,
) -> PyResult<Floats<'py>> {
    let (values, norms) = (values.as_slice()?, norms.as_slice()?);
    let out = py
        .detach(|| stages::centred_norms(values, norms, &mean))
        .map_err(err)?;
    Ok(out.into_pyarray(py))
}

/// [`stages::plan`]: `(bar, low_norm, radius)`.
#[pyfunction]
#[pyo3(signature = (threshold, low, dim, center=true))]
fn vector_plan(threshold: f64, low: Option<f64>, dim: usize, center: bool) -> (f64, f64, u32) {
    stages::plan(threshold, low, dim, center)
}

/// [`stages::low_index`].
#[pyfunction]
fn vector_low_index(usable: usize) -> (usize, usize) {
    stages::low_index(usable)
}

/// [`stages::fingerprints`], each as (high, low).
#[pyfunction]
#[allow(clippy::type_complexity)]
fn vector_fingerprints<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f32>,
    norms: PyReadonlyArray1<'py, f64>,
    mean: Option<Vec<f64>>,
    dim: usize,
    seed: u64,
) -> PyResult<(Ints<'py>, Ints<'py>)> {
    let (values, norms) = (values.as_slice()?, norms.as_slice()?);
    let fps = py
        .detach(|| stages::fingerprints(values, norms, mean, dim, seed))
        .map_err(err)?;
    Ok(split_words(py, &fps))
}

/// [`stages::pairs`]: `(a, b, distance)` arrays.
#[pyfunction]
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn vector_pairs<'py>(
    py: Python<'py>,
    ids: PyReadonlyArray1<'py, i64>,
    hi: PyReadonlyArray1<'py, i64>,
    lo: PyReadonlyArray1<'py, i64>,
    ref_ids: PyReadonlyArray1<'py, i64>,
    ref_hi: PyReadonlyArray1<'py, i64>,
    ref_lo: PyReadonlyArray1<'py, i64>,
    radius: u32,
) -> PyResult<(Ints<'py>, Ints<'py>, Ints<'py>)> {
    let (ids, ref_ids) = (ids.as_slice()?, ref_ids.as_slice()?);
    let queries = join_words(hi.as_slice()?, lo.as_slice()?)?;
    let reference = join_words(ref_hi.as_slice()?, ref_lo.as_slice()?)?;
    let found = py
        .detach(|| stages::pairs(ids, &queries, ref_ids, &reference, radius))
        .map_err(err)?;
    Ok(triples(py, &found))
}

/// [`stages::cosines`].
#[pyfunction]
fn vector_cosines<'py>(
    py: Python<'py>,
    a: PyReadonlyArray1<'py, f32>,
    na: PyReadonlyArray1<'py, f64>,
    b: PyReadonlyArray1<'py, f32>,
    nb: PyReadonlyArray1<'py, f64>,
    dim: usize,
) -> PyResult<Floats<'py>> {
    let (a, na, b, nb) = (a.as_slice()?, na.as_slice()?, b.as_slice()?, nb.as_slice()?);
    let scores = py
        .detach(|| stages::cosines(a, na, b, nb, dim))
        .map_err(err)?;
    Ok(scores.into_pyarray(py))
}

/// [`semantic::sample_positions`].
#[pyfunction]
fn vector_sample_positions(n: usize) -> Vec<usize> {
    semantic::sample_positions(n)
}

/// [`stages::search_plan`]: the band shape, or None for the exact Hamming search.
#[pyfunction]
#[pyo3(signature = (n, sample, sample_norms, dim, threshold, bar, low_norm, mean, recall=0.99))]
#[allow(clippy::too_many_arguments)]
fn vector_search_plan<'py>(
    py: Python<'py>,
    n: usize,
    sample: PyReadonlyArray1<'py, f32>,
    sample_norms: PyReadonlyArray1<'py, f64>,
    dim: usize,
    threshold: f64,
    bar: f64,
    low_norm: f64,
    mean: Option<Vec<f64>>,
    recall: f64,
) -> PyResult<Option<PyShape>> {
    let inputs = SearchInputs {
        n,
        sample: sample.as_slice()?,
        sample_norms: sample_norms.as_slice()?,
        dim,
        threshold,
        bar,
        low_norm,
        mean,
        recall,
    };
    let found = py.detach(|| stages::search_plan(inputs)).map_err(err)?;
    Ok(found.map(|s| (s.rows, s.bands, s.radius, s.recall)))
}

/// [`stages::band_blob`]: one batch of representatives as the band stage takes it.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn vector_band_blob<'py>(
    py: Python<'py>,
    rows: PyReadonlyArray1<'py, i64>,
    values: PyReadonlyArray1<'py, f32>,
    norms: PyReadonlyArray1<'py, f64>,
    mean: Option<Vec<f64>>,
    dim: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let (rows, values, norms) = (rows.as_slice()?, values.as_slice()?, norms.as_slice()?);
    let blob = py
        .detach(|| stages::band_blob(rows, values, norms, mean, dim, seed))
        .map_err(err)?;
    Ok(PyBytes::new(py, &blob))
}

/// [`stages::band_group_pairs`]: `(a, b, distance)` arrays of one task's bands.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn vector_band_group_pairs<'py>(
    py: Python<'py>,
    blobs: Vec<PyBackedBytes>,
    shape: PyShape,
    seed: u64,
    threshold: f64,
    mean: Option<Vec<f64>>,
    group: usize,
    groups: usize,
) -> PyResult<(Ints<'py>, Ints<'py>, Ints<'py>)> {
    let found = py
        .detach(|| {
            let blobs: Vec<&[u8]> = blobs.iter().map(|b| &b[..]).collect();
            stages::band_group_pairs(
                &blobs,
                to_shape(shape),
                seed,
                threshold,
                mean,
                group,
                groups,
            )
        })
        .map_err(err)?;
    Ok(triples(py, &found))
}

/// Adds the embedding stage functions to `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DEFAULT_SEED", hyperplane::DEFAULT_SEED)?;
    m.add("BAND_FINGERPRINT_BYTES", FP_BYTES)?;
    m.add_function(wrap_pyfunction!(vector_sketch, m)?)?;
    m.add_function(wrap_pyfunction!(vector_unit_sum, m)?)?;
    m.add_function(wrap_pyfunction!(vector_unit_mean, m)?)?;
    m.add_function(wrap_pyfunction!(vector_centred_norms, m)?)?;
    m.add_function(wrap_pyfunction!(vector_low_index, m)?)?;
    m.add_function(wrap_pyfunction!(vector_plan, m)?)?;
    m.add_function(wrap_pyfunction!(vector_fingerprints, m)?)?;
    m.add_function(wrap_pyfunction!(vector_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(vector_cosines, m)?)?;
    m.add_function(wrap_pyfunction!(vector_sample_positions, m)?)?;
    m.add_function(wrap_pyfunction!(vector_search_plan, m)?)?;
    m.add_function(wrap_pyfunction!(vector_band_blob, m)?)?;
    m.add_function(wrap_pyfunction!(vector_band_group_pairs, m)?)?;
    Ok(())
}
