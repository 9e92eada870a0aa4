//! The stages of the Spark job (`python/simdedup/spark.py`) as calls on one Arrow batch's
//! columns, converted to lists and numpy arrays: sketch rows, emit the pairs of equal
//! band-key runs, verify pairs, assign the rows of whole components. Each is one library
//! call; the rules (band shape, digest, keys, Jaccard, greedy keep-first) are the local
//! run's, so the distributed job decides as `simdedup dedup` does.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use simdedup::batch::{TextBatch, join_fields};
use simdedup::minhash::{BandGoal, BandParams};
use simdedup::records::{FIRST_ROWS, dataset_shape};
use simdedup::simhash::FIELD_SEPARATOR;
use simdedup::texts::{field_jaccard, shingle_set};

use crate::text_config;

type Ints<'py> = Bound<'py, PyArray1<i64>>;
type Floats<'py> = Bound<'py, PyArray1<f64>>;

/// The band shape `(rows, bands)` of a search over `n` records at `threshold`, as the
/// command line solves it for a dataset: from the background of the dataset's first rows,
/// `first` (each text column's values, as [`sketch_batch`] takes them; at most
/// [`simdedup::records::FIRST_ROWS`] rows are used), or with the assumed background when
/// `first` is not given.
#[pyfunction]
#[pyo3(signature = (threshold, n, recall=0.99, first=None, shingles="word:3"))]
fn band_shape(
    py: Python<'_>,
    threshold: f64,
    n: usize,
    recall: f64,
    first: Option<Vec<Vec<Option<String>>>>,
    shingles: &str,
) -> PyResult<(u32, u32)> {
    let Some(columns) = first else {
        let p = BandParams::solve(threshold, recall, n);
        return Ok((p.rows, p.bands));
    };
    let config = text_config(shingles)?;
    let rows = columns.first().map_or(0, Vec::len);
    if columns.is_empty() || columns.iter().any(|c| c.len() != rows) {
        return Err(PyValueError::new_err(
            "band_shape: first holds one list of values per text column, of equal lengths",
        ));
    }
    // A row with a missing value is bad, as the command line's reader finds it.
    let text = |r: usize| {
        let fields: Option<Vec<&str>> = columns.iter().map(|c| c[r].as_deref()).collect();
        fields.map(|f| join_fields(&f))
    };
    let goal = BandGoal {
        bar: threshold,
        recall,
    };
    let first = rows.min(FIRST_ROWS);
    let p = py.detach(|| dataset_shape(first, &text, n, goal, &config));
    Ok((p.rows, p.bands))
}

/// Sketches one batch of dataset rows: `columns` holds each text column's values (None for
/// a missing or non-text value, an error naming the row by `row_ids` and the column by
/// `names`). Returns per row the digest of the normalised fields as two int64 bit
/// patterns (high, low), the shingle count, the combined text (fields joined as the
/// command line joins them) and, flattened row by row, `bands` band buckets
/// `band << 32 | key` (the band's 32-bit MinHash key; distinct across bands). The keys
/// depend on the shingle hash width: `bits` is the command line's `--bits` (64 or 128).
#[pyfunction]
#[pyo3(signature = (columns, names, row_ids, rows, bands, shingles="word:3", bits=128))]
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn sketch_batch<'py>(
    py: Python<'py>,
    columns: Vec<Vec<Option<String>>>,
    names: Vec<String>,
    row_ids: PyReadonlyArray1<'py, i64>,
    rows: u32,
    bands: u32,
    shingles: &str,
    bits: u32,
) -> PyResult<(Ints<'py>, Ints<'py>, Ints<'py>, Vec<String>, Ints<'py>)> {
    let config = text_config(shingles)?;
    let ids = row_ids.as_slice()?;
    let n = ids.len();
    if columns.is_empty() || columns.len() != names.len() || columns.iter().any(|c| c.len() != n) {
        return Err(PyValueError::new_err(
            "sketch_batch: one list of values per named column, one value per row id",
        ));
    }
    let mut texts = Vec::with_capacity(n);
    for (r, &id) in ids.iter().enumerate() {
        let mut fields = Vec::with_capacity(columns.len());
        for (column, name) in columns.iter().zip(&names) {
            match &column[r] {
                Some(v) => fields.push(v.as_str()),
                None => {
                    return Err(PyValueError::new_err(format!(
                        "row {id}: column '{name}' is missing or not text"
                    )));
                }
            }
        }
        texts.push(join_fields(&fields));
    }
    let params = BandParams { rows, bands };
    if rows == 0 || bands == 0 || rows * bands > simdedup::minhash::MAX_BINS {
        return Err(PyValueError::new_err(format!(
            "rows={rows}, bands={bands}: not a band shape"
        )));
    }
    // The fingerprints are not used: only the digests, counts and keys.
    let (texts, docs, keys) = py.detach(|| match bits {
        64 => {
            let b = TextBatch::<u64>::new(texts, true, &config, Some(params), &());
            Ok((b.texts.into_strings(), b.docs, b.bands))
        }
        128 => {
            let b = TextBatch::<u128>::new(texts, true, &config, Some(params), &());
            Ok((b.texts.into_strings(), b.docs, b.bands))
        }
        _ => Err(PyValueError::new_err(format!(
            "bits={bits}: text sketches are 64 or 128 bits"
        ))),
    })?;
    let hi: Vec<i64> = docs.iter().map(|d| (d.digest >> 64) as i64).collect();
    let lo: Vec<i64> = docs.iter().map(|d| d.digest as u64 as i64).collect();
    let counts: Vec<i64> = docs.iter().map(|d| d.shingles as i64).collect();
    let keys = keys.expect("asked for");
    let buckets: Vec<i64> = (0..n)
        .flat_map(|i| {
            keys.get(i)
                .iter()
                .enumerate()
                .map(|(b, &k)| ((b as i64) << 32) | k as i64)
        })
        .collect();
    Ok((
        hi.into_pyarray(py),
        lo.into_pyarray(py),
        counts.into_pyarray(py),
        texts,
        buckets.into_pyarray(py),
    ))
}

/// The pairs of equal-bucket runs of entries sorted by `(bucket, id)`, at most `max` from
/// `cursor` on ([`simdedup::search::bands::run_pairs`]): `(a, b, band)` with `a < b`, and
/// the cursor to go on from, or None.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn run_pairs<'py>(
    py: Python<'py>,
    buckets: PyReadonlyArray1<'py, i64>,
    ids: PyReadonlyArray1<'py, i64>,
    cursor: (usize, usize),
    max: usize,
) -> PyResult<(Ints<'py>, Ints<'py>, Ints<'py>, Option<(usize, usize)>)> {
    let keys: Vec<u64> = buckets.as_slice()?.iter().map(|&k| k as u64).collect();
    let ids: Vec<u64> = ids.as_slice()?.iter().map(|&k| k as u64).collect();
    if keys.len() != ids.len() || !keys.is_sorted() || max == 0 {
        return Err(PyValueError::new_err(
            "run_pairs: sorted buckets, one id each, max >= 1",
        ));
    }
    let (pairs, next) = py.detach(|| simdedup::search::bands::run_pairs(&keys, &ids, cursor, max));
    let a: Vec<i64> = pairs.iter().map(|p| p.0 as i64).collect();
    let b: Vec<i64> = pairs.iter().map(|p| p.1 as i64).collect();
    let band: Vec<i64> = pairs.iter().map(|p| (p.2 >> 32) as i64).collect();
    Ok((
        a.into_pyarray(py),
        b.into_pyarray(py),
        band.into_pyarray(py),
        next,
    ))
}

/// The exact similarity of each pair of combined texts (as [`sketch_batch`] returns them):
/// the smallest per-field Jaccard of their shingle sets, as the command line verifies
/// dataset rows.
#[pyfunction]
#[pyo3(signature = (texts_a, texts_b, shingles="word:3"))]
fn verify_pairs<'py>(
    py: Python<'py>,
    texts_a: Vec<String>,
    texts_b: Vec<String>,
    shingles: &str,
) -> PyResult<Floats<'py>> {
    let config = text_config(shingles)?;
    if texts_a.len() != texts_b.len() {
        return Err(PyValueError::new_err("verify_pairs: as many a as b"));
    }
    let scores: Vec<f64> = py.detach(|| {
        texts_a
            .iter()
            .zip(&texts_b)
            .map(|(a, b)| {
                let sa = shingle_set(a, Some(FIELD_SEPARATOR), &config).0;
                let sb = shingle_set(b, Some(FIELD_SEPARATOR), &config).0;
                field_jaccard(&sa, &sb)
            })
            .collect()
    });
    Ok(scores.into_pyarray(py))
}

/// Greedy keep-first decisions over the verified pairs of whole components
/// ([`simdedup::ops::cluster::greedy_sparse`]; rows visited by increasing id): each removed
/// id, the kept id it duplicates and the score.
#[pyfunction]
fn assign_pairs<'py>(
    py: Python<'py>,
    a: PyReadonlyArray1<'py, i64>,
    b: PyReadonlyArray1<'py, i64>,
    score: PyReadonlyArray1<'py, f64>,
) -> PyResult<(Ints<'py>, Ints<'py>, Floats<'py>)> {
    let (a, b, s) = (a.as_slice()?, b.as_slice()?, score.as_slice()?);
    if a.len() != b.len() || a.len() != s.len() {
        return Err(PyValueError::new_err("assign_pairs: arrays of one length"));
    }
    let pairs: Vec<(u64, u64, f64)> = (0..a.len())
        .map(|i| (a[i] as u64, b[i] as u64, s[i]))
        .collect();
    let removed = py.detach(|| simdedup::ops::cluster::greedy_sparse(&pairs));
    let r: Vec<i64> = removed.iter().map(|x| x.0 as i64).collect();
    let k: Vec<i64> = removed.iter().map(|x| x.1 as i64).collect();
    let sc: Vec<f64> = removed.iter().map(|x| x.2).collect();
    Ok((r.into_pyarray(py), k.into_pyarray(py), sc.into_pyarray(py)))
}

/// Adds the stage functions to `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("FIRST_ROWS", FIRST_ROWS)?;
    m.add_function(wrap_pyfunction!(band_shape, m)?)?;
    m.add_function(wrap_pyfunction!(sketch_batch, m)?)?;
    m.add_function(wrap_pyfunction!(run_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(verify_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(assign_pairs, m)?)?;
    Ok(())
}
