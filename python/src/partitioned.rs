//! The stages of [`simdedup::jobs::partitioned`] for the Spark job: blobs in as `bytes`,
//! blobs out as `(key, bytes)` lists, the GIL released while a stage runs.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;

use simdedup::jobs::partitioned::{self as stages, BadBlob, Routed};
use simdedup::text::minhash::{BandParams, MAX_BINS};

use crate::{text_column_with_nulls, text_config};

type Blobs<'py> = Vec<(u64, Bound<'py, PyBytes>)>;

fn bad(e: BadBlob) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn out<'py>(py: Python<'py>, routed: Routed) -> Blobs<'py> {
    routed
        .into_iter()
        .map(|(k, b)| (k, PyBytes::new(py, &b)))
        .collect()
}

fn slices(blobs: &[PyBackedBytes]) -> Vec<&[u8]> {
    blobs.iter().map(|b| &b[..]).collect()
}

/// Stage 1: sketches rows `row_ids` (increasing) of the text `columns` (pyarrow string
/// arrays, named by `names` in messages, where row `i` is `row_numbers[i]`). Returns the
/// key home blobs, the text home blobs and the digest blobs, each as `(key, bytes)`.
#[pyfunction]
#[pyo3(signature = (columns, names, row_ids, row_numbers, rows, bands, parts, shingles="word:3", bits=128))]
#[allow(clippy::too_many_arguments)]
fn part_sketch<'py>(
    py: Python<'py>,
    columns: Vec<Bound<'py, PyAny>>,
    names: Vec<String>,
    row_ids: PyReadonlyArray1<'py, i64>,
    row_numbers: PyReadonlyArray1<'py, i64>,
    rows: u32,
    bands: u32,
    parts: u64,
    shingles: &str,
    bits: u32,
) -> PyResult<(Blobs<'py>, Blobs<'py>, Blobs<'py>)> {
    let config = text_config(shingles)?;
    let ids: Vec<u64> = row_ids.as_slice()?.iter().map(|&r| r as u64).collect();
    if columns.is_empty() || columns.len() != names.len() {
        return Err(PyValueError::new_err(
            "part_sketch: one name per text column",
        ));
    }
    if !ids.windows(2).all(|w| w[0] < w[1]) || parts == 0 {
        return Err(PyValueError::new_err(
            "part_sketch: increasing row ids, parts >= 1",
        ));
    }
    if rows == 0 || bands == 0 || rows * bands > MAX_BINS {
        return Err(PyValueError::new_err(format!(
            "rows={rows}, bands={bands}: not a band shape"
        )));
    }
    let mut cols = Vec::with_capacity(columns.len());
    for (c, name) in columns.iter().zip(&names) {
        let col = text_column_with_nulls(name, c)?;
        if col.len() != ids.len() {
            return Err(PyValueError::new_err("part_sketch: one value per row id"));
        }
        cols.push(col);
    }
    let params = BandParams { rows, bands };
    let sketched = py.detach(|| {
        let texts = stages::join_columns(&cols);
        texts.map(|texts| match bits {
            64 => Ok(stages::sketch::<u64>(&ids, texts, &config, params, parts)),
            128 => Ok(stages::sketch::<u128>(&ids, texts, &config, params, parts)),
            _ => Err(bits),
        })
    });
    match sketched {
        Err(row) => {
            // The first column with a null at that row names it.
            let name = cols
                .iter()
                .zip(&names)
                .find(|(c, _)| c.first_null() == Some(row))
                .map_or("?", |(_, n)| n.as_str());
            Err(PyValueError::new_err(format!(
                "row {}: column '{name}' is missing or not text",
                row_numbers
                    .as_slice()?
                    .get(row)
                    .copied()
                    .unwrap_or(ids[row] as i64)
            )))
        }
        Ok(Err(bits)) => Err(PyValueError::new_err(format!(
            "bits={bits}: text sketches are 64 or 128 bits"
        ))),
        Ok(Ok(s)) => Ok((out(py, s.keys), out(py, s.texts), out(py, s.digests))),
    }
}

/// Stage 2: exact copies `(copy, rep)` of one digest partition's blobs, by home.
#[pyfunction]
fn part_exact<'py>(py: Python<'py>, blobs: Vec<PyBackedBytes>) -> PyResult<Blobs<'py>> {
    let routed = py.detach(|| stages::exact(&slices(&blobs))).map_err(bad)?;
    Ok(out(py, routed))
}

/// Stage 3: one home's band entries, by bucket partition.
#[pyfunction]
fn part_band_entries<'py>(
    py: Python<'py>,
    home: PyBackedBytes,
    copies: Vec<PyBackedBytes>,
    parts: u64,
) -> PyResult<Blobs<'py>> {
    let routed = py
        .detach(|| stages::band_entries(&home, &slices(&copies), parts.max(1)))
        .map_err(bad)?;
    Ok(out(py, routed))
}

/// Stage 4: the pairs of one bucket partition's entry blobs, by home of the first row.
#[pyfunction]
fn part_band_pairs<'py>(py: Python<'py>, blobs: Vec<PyBackedBytes>) -> PyResult<Blobs<'py>> {
    let routed = py
        .detach(|| stages::band_pairs(&slices(&blobs)))
        .map_err(bad)?;
    Ok(out(py, routed))
}

/// Stage 5: one text home's pairs: the verified blob of those within the home, and the
/// side blobs of the others by meeting partition.
#[pyfunction]
#[pyo3(signature = (home, pairs, threshold, parts, shingles="word:3"))]
fn part_texts<'py>(
    py: Python<'py>,
    home: PyBackedBytes,
    pairs: Vec<PyBackedBytes>,
    threshold: f64,
    parts: u64,
    shingles: &str,
) -> PyResult<(Bound<'py, PyBytes>, Blobs<'py>)> {
    let config = text_config(shingles)?;
    let s = py
        .detach(|| stages::texts(&home, &slices(&pairs), threshold, &config, parts.max(1)))
        .map_err(bad)?;
    Ok((PyBytes::new(py, &s.verified), out(py, s.sides)))
}

/// Stage 6: the side blobs of one meeting partition, verified: a verified blob.
#[pyfunction]
#[pyo3(signature = (blobs, threshold, shingles="word:3"))]
fn part_meet<'py>(
    py: Python<'py>,
    blobs: Vec<PyBackedBytes>,
    threshold: f64,
    shingles: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let config = text_config(shingles)?;
    let v = py
        .detach(|| stages::meet(&slices(&blobs), threshold, &config))
        .map_err(bad)?;
    Ok(PyBytes::new(py, &v))
}

type Decisions<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
);

/// Stage 7: every removed row, the kept row it duplicates and the score, by row.
#[pyfunction]
fn part_decide<'py>(
    py: Python<'py>,
    verified: Vec<PyBackedBytes>,
    copies: Vec<PyBackedBytes>,
) -> PyResult<Decisions<'py>> {
    let d = py
        .detach(|| stages::decide(&slices(&verified), &slices(&copies)))
        .map_err(bad)?;
    let rows: Vec<i64> = d.iter().map(|x| x.0 as i64).collect();
    let kept: Vec<i64> = d.iter().map(|x| x.1 as i64).collect();
    let score: Vec<f64> = d.iter().map(|x| x.2).collect();
    Ok((
        rows.into_pyarray(py),
        kept.into_pyarray(py),
        score.into_pyarray(py),
    ))
}

/// Adds the stage functions to `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("HOME_BITS", stages::HOME_BITS)?;
    m.add_function(wrap_pyfunction!(part_sketch, m)?)?;
    m.add_function(wrap_pyfunction!(part_exact, m)?)?;
    m.add_function(wrap_pyfunction!(part_band_entries, m)?)?;
    m.add_function(wrap_pyfunction!(part_band_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(part_texts, m)?)?;
    m.add_function(wrap_pyfunction!(part_meet, m)?)?;
    m.add_function(wrap_pyfunction!(part_decide, m)?)?;
    Ok(())
}
