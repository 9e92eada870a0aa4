//! Calls of the Spark job (`python/simdedup/spark.py`) shared by its paths: the band shape
//! of the text path (whose stages are in `partitioned.rs`) and the greedy keep-first over
//! whole components of the vector path. The rules are the local run's, so the distributed
//! job decides as `simdedup dedup` does.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;

use simdedup::records::{FIRST_ROWS, dataset_shape, estimate_text_rows, read_len};
use simdedup::text::batch::join_fields;
use simdedup::text::minhash::{BandGoal, BandParams};

use crate::{text_config, with_binary_values};

type Ints<'py> = Bound<'py, PyArray1<i64>>;
type Floats<'py> = Bound<'py, PyArray1<f64>>;

/// The band shape `(rows, bands)` of a search over `n` records at `threshold`, as the
/// command line solves it for a dataset: from the background of the dataset's first rows,
/// `first` (each text column's values, as [`sketch_batch`] takes them; at most
/// [`simdedup::records::FIRST_ROWS`] rows are used) or `first_texts` (their texts already
/// combined, as `jsonl_fields` gives them), or with the assumed background when neither is
/// given.
#[pyfunction]
#[pyo3(signature = (threshold, n, recall=0.99, first=None, shingles="word:3", first_texts=None))]
fn band_shape(
    py: Python<'_>,
    threshold: f64,
    n: usize,
    recall: f64,
    first: Option<Vec<Vec<Option<String>>>>,
    shingles: &str,
    first_texts: Option<Vec<Option<String>>>,
) -> PyResult<(u32, u32)> {
    let goal = BandGoal {
        bar: threshold,
        recall,
    };
    if let Some(texts) = first_texts {
        // Already combined (`jsonl_fields`; None for a bad row).
        let config = text_config(shingles)?;
        let text = |r: usize| texts[r].clone();
        let p = py.detach(|| dataset_shape(texts.len().min(FIRST_ROWS), &text, n, goal, &config));
        return Ok((p.rows, p.bands));
    }
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
    let first = rows.min(FIRST_ROWS);
    let p = py.detach(|| dataset_shape(first, &text, n, goal, &config));
    Ok((p.rows, p.bands))
}

/// The rows the command line estimates a JSON Lines file holds ([`estimate_text_rows`]):
/// `files`, the `(size, gzip)` of each input file, and `first`, the first up to
/// [`FIRST_ROWS`] non-blank lines (a pyarrow binary array, each without its `\n`). When
/// they are all the rows, `tail`, the file's last bytes, tells whether the last one ends
/// without a `\n` (no `\n` after the file's last non-blank byte).
#[pyfunction]
#[pyo3(signature = (files, first, tail=None))]
fn estimate_rows(
    files: Vec<(u64, bool)>,
    first: Bound<'_, PyAny>,
    tail: Option<PyBackedBytes>,
) -> PyResult<usize> {
    with_binary_values("first", &first, |lines| {
        let lines = &lines[..lines.len().min(FIRST_ROWS)];
        let mut bytes: u64 = lines.iter().map(|l| l.len() as u64 + 1).sum();
        let unterminated = tail.is_some_and(|t| {
            let mut blank = t.iter().rev().take_while(|b| b.is_ascii_whitespace());
            blank.all(|&b| b != b'\n')
        });
        if lines.len() < FIRST_ROWS && unterminated {
            bytes -= 1;
        }
        let len = files.iter().map(|&(size, gzip)| read_len(size, gzip)).sum();
        Ok(estimate_text_rows(len, lines.len(), bytes))
    })
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
    m.add_function(wrap_pyfunction!(estimate_rows, m)?)?;
    m.add_function(wrap_pyfunction!(assign_pairs, m)?)?;
    Ok(())
}
