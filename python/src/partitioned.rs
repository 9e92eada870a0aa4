//! The stages of [`simdedup::jobs::partitioned`] for the Spark job: blobs in as `bytes`,
//! blobs out as `(key, bytes)` lists, the GIL released while a stage runs.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;

use simdedup::jobs::partitioned::{self as stages, BadBlob, Routed};
use simdedup::output::report::RunPair;
use simdedup::text::minhash::{BandParams, MAX_BINS};

use simdedup::output::records::removed_json;
use simdedup::records::line_fields_each;
use simdedup::text::simhash::TextConfig;

use crate::{text_column_with_nulls, text_config, with_binary_values};

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
/// arrays, named by `names` in messages). Returns the key home blobs, the text home blobs
/// and the digest blobs, each as `(key, bytes)`, and the bad rows' `(index, message)`: when
/// a row is bad, no blobs and the first bad row; with `skip_bad`, the other rows' blobs and
/// every bad row.
#[pyfunction]
#[pyo3(signature = (columns, names, row_ids, rows, bands, parts, shingles="word:3", bits=128, skip_bad=false))]
#[allow(clippy::too_many_arguments)]
fn part_sketch<'py>(
    py: Python<'py>,
    columns: Vec<Bound<'py, PyAny>>,
    names: Vec<String>,
    row_ids: PyReadonlyArray1<'py, i64>,
    rows: u32,
    bands: u32,
    parts: u64,
    shingles: &str,
    bits: u32,
    skip_bad: bool,
) -> PyResult<Sketch<'py>> {
    let config = text_config(shingles)?;
    let ids: Vec<u64> = row_ids.as_slice()?.iter().map(|&r| r as u64).collect();
    if columns.is_empty() || columns.len() != names.len() {
        return Err(PyValueError::new_err(
            "part_sketch: one name per text column",
        ));
    }
    check_sketch_args(&ids, rows, bands, parts)?;
    let mut cols = Vec::with_capacity(columns.len());
    for (c, name) in columns.iter().zip(&names) {
        let col = text_column_with_nulls(name, c)?;
        if col.len() != ids.len() {
            return Err(PyValueError::new_err("part_sketch: one value per row id"));
        }
        cols.push(col);
    }
    let params = BandParams { rows, bands };
    // A row with a null in some column is bad; its message names the first such column.
    let message = |row: usize| {
        let name = cols
            .iter()
            .zip(&names)
            .find(|(c, _)| c.is_null(row))
            .map_or("?", |(_, n)| n.as_str());
        format!("column '{name}' is missing or not text")
    };
    let (good, texts, bad) = py.detach(|| stages::join_columns(&cols));
    if let Some(&first) = bad.first()
        && !skip_bad
    {
        return Ok(bad_row(first, message(first)));
    }
    let bad: Vec<(usize, String)> = bad.into_iter().map(|i| (i, message(i))).collect();
    let kept: Vec<u64> = good.iter().map(|&i| ids[i]).collect();
    let sketched = py.detach(|| sketch_texts(&kept, texts, &config, params, parts, bits))?;
    Ok(sketched_out(py, sketched, Vec::new(), bad))
}

/// Blobs of [`part_sketch`] (keys, texts, digests, and for [`part_sketch_lines`] with an
/// id column its id homes), and the bad rows.
type Sketch<'py> = (
    Blobs<'py>,
    Blobs<'py>,
    Blobs<'py>,
    Blobs<'py>,
    Vec<(usize, String)>,
);

fn bad_row<'py>(row: usize, message: String) -> Sketch<'py> {
    (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        vec![(row, message)],
    )
}

fn check_sketch_args(ids: &[u64], rows: u32, bands: u32, parts: u64) -> PyResult<()> {
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
    Ok(())
}

fn sketch_texts(
    ids: &[u64],
    texts: Vec<String>,
    config: &TextConfig,
    params: BandParams,
    parts: u64,
    bits: u32,
) -> PyResult<stages::Sketched> {
    match bits {
        64 => Ok(stages::sketch::<u64>(ids, texts, config, params, parts)),
        128 => Ok(stages::sketch::<u128>(ids, texts, config, params, parts)),
        _ => Err(PyValueError::new_err(format!(
            "bits={bits}: text sketches are 64 or 128 bits"
        ))),
    }
}

fn sketched_out(
    py: Python<'_>,
    s: stages::Sketched,
    ids: Routed,
    bad: Vec<(usize, String)>,
) -> Sketch<'_> {
    (
        out(py, s.entries),
        out(py, s.texts),
        out(py, s.digests),
        out(py, ids),
        bad,
    )
}

/// Stage 1 over JSON Lines: as [`part_sketch`], the rows' `lines` (a pyarrow binary array,
/// one JSON object a row) giving the text `columns` as the command line reads them; with
/// `id_column`, also that column's values, one blob per home ([`stages::id_homes`]).
#[pyfunction]
#[pyo3(signature = (lines, columns, row_ids, rows, bands, parts, shingles="word:3", bits=128, id_column=None, skip_bad=false))]
#[allow(clippy::too_many_arguments)]
fn part_sketch_lines<'py>(
    py: Python<'py>,
    lines: Bound<'py, PyAny>,
    columns: Vec<String>,
    row_ids: PyReadonlyArray1<'py, i64>,
    rows: u32,
    bands: u32,
    parts: u64,
    shingles: &str,
    bits: u32,
    id_column: Option<String>,
    skip_bad: bool,
) -> PyResult<Sketch<'py>> {
    let config = text_config(shingles)?;
    let ids: Vec<u64> = row_ids.as_slice()?.iter().map(|&r| r as u64).collect();
    check_sketch_args(&ids, rows, bands, parts)?;
    let params = BandParams { rows, bands };
    let fields = with_binary_values("lines", &lines, |lines| {
        if lines.len() != ids.len() {
            return Err(PyValueError::new_err(
                "part_sketch_lines: one line per row id",
            ));
        }
        Ok(py.detach(|| line_fields_each(lines, &columns, id_column.as_deref())))
    })?;
    let (mut kept, mut texts, mut names, mut bad) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, f) in fields.into_iter().enumerate() {
        match f {
            Ok((text, name)) => {
                kept.push(ids[i]);
                texts.push(text);
                names.push(name);
            }
            Err(message) if skip_bad => bad.push((i, message)),
            Err(message) => return Ok(bad_row(i, message)),
        }
    }
    let (s, id_homes) = py.detach(|| {
        let homes = match id_column {
            Some(_) => stages::id_homes(&kept, &names),
            None => Vec::new(),
        };
        sketch_texts(&kept, texts, &config, params, parts, bits).map(|s| (s, homes))
    })?;
    Ok(sketched_out(py, s, id_homes, bad))
}

/// The `id_column` values (JSON text; None where a row has none) of `rows` (a numpy
/// int64 array), from the id home blobs of [`part_sketch_lines`] that hold them.
#[pyfunction]
fn part_names(
    py: Python<'_>,
    id_blobs: Vec<PyBackedBytes>,
    rows: PyReadonlyArray1<'_, i64>,
) -> PyResult<Vec<Option<String>>> {
    let rows: Vec<u64> = rows.as_slice()?.iter().map(|&r| r as u64).collect();
    let blobs = slices(&id_blobs);
    py.detach(|| stages::names(&blobs, &rows)).map_err(bad)
}

/// For each of `homes` (a numpy int64 array), the partition of `parts` that keeps it
/// ([`stages::home_part`]).
#[pyfunction]
fn home_parts<'py>(
    py: Python<'py>,
    homes: PyReadonlyArray1<'py, i64>,
    parts: u64,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let out: Vec<i64> = homes
        .as_slice()?
        .iter()
        .map(|&h| stages::home_part(h as u64, parts) as i64)
        .collect();
    Ok(out.into_pyarray(py))
}

/// The partition of `parts` that keeps `home` ([`stages::home_part`]).
#[pyfunction]
fn home_part(home: u64, parts: u64) -> u64 {
    stages::home_part(home, parts)
}

/// Each row's text (`None`: a bad row, skipped) and id.
type TextsAndIds = (Vec<Option<String>>, Vec<Option<String>>);

/// The combined text `columns` of JSON Lines `lines` (a pyarrow binary array) and, with
/// `id_column`, that column's JSON text, as the command line reads a file's rows. A bad
/// line raises, named by its `row_numbers` entry; with `skip_bad`, its text and id are
/// `None`.
#[pyfunction]
#[pyo3(signature = (lines, columns, id_column=None, row_numbers=None, skip_bad=false))]
fn jsonl_fields(
    py: Python<'_>,
    lines: Bound<'_, PyAny>,
    columns: Vec<String>,
    id_column: Option<String>,
    row_numbers: Option<Vec<i64>>,
    skip_bad: bool,
) -> PyResult<TextsAndIds> {
    let fields = with_binary_values("lines", &lines, |lines| {
        Ok(py.detach(|| line_fields_each(lines, &columns, id_column.as_deref())))
    })?;
    let mut out = (
        Vec::with_capacity(fields.len()),
        Vec::with_capacity(fields.len()),
    );
    for (row, f) in fields.into_iter().enumerate() {
        match f {
            Ok((text, id)) => {
                out.0.push(Some(text));
                out.1.push(id);
            }
            Err(_) if skip_bad => {
                out.0.push(None);
                out.1.push(None);
            }
            Err(message) => {
                let n = row_numbers
                    .as_ref()
                    .and_then(|r| r.get(row).copied())
                    .unwrap_or(row as i64);
                return Err(PyValueError::new_err(format!("row {n}: {message}")));
            }
        }
    }
    Ok(out)
}

/// The removed rows' JSON Lines (without the final `\n`, a `\r` kept): each of `lines`
/// with its `duplicate_of` (JSON text) and `score`, as the command line writes them.
#[pyfunction]
fn jsonl_removed<'py>(
    py: Python<'py>,
    lines: Bound<'py, PyAny>,
    duplicate_of: Vec<String>,
    score: PyReadonlyArray1<'py, f64>,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    let score = score.as_slice()?;
    with_binary_values("lines", &lines, |lines| {
        if lines.len() != duplicate_of.len() || lines.len() != score.len() {
            return Err(PyValueError::new_err(
                "jsonl_removed: one id and score per line",
            ));
        }
        Ok(lines
            .iter()
            .zip(&duplicate_of)
            .zip(score)
            .map(|((line, dup), &s)| {
                let content = line.strip_suffix(b"\r").unwrap_or(line);
                let mut out = removed_json(content, dup, s);
                if content.len() < line.len() {
                    out.push(b'\r');
                }
                PyBytes::new(py, &out)
            })
            .collect())
    })
}

/// Stage 2: exact copies `(copy, rep)` of one digest partition's blobs, by home.
#[pyfunction]
fn part_exact<'py>(py: Python<'py>, blobs: Vec<PyBackedBytes>) -> PyResult<Blobs<'py>> {
    let routed = py.detach(|| stages::exact(&slices(&blobs))).map_err(bad)?;
    Ok(out(py, routed))
}

/// Stage 2's copies (its [`part_exact`] blobs) as one blob of their rows, for every
/// bucket partition.
#[pyfunction]
fn part_copy_rows<'py>(
    py: Python<'py>,
    copies: Vec<PyBackedBytes>,
) -> PyResult<Bound<'py, PyBytes>> {
    let rows = py
        .detach(|| stages::copy_rows(&slices(&copies)))
        .map_err(bad)?;
    Ok(PyBytes::new(py, &rows))
}

/// Stage 3: the pairs of one bucket partition's entry blobs, less the copies (the
/// [`part_copy_rows`] blobs), by home of the first row, and the block jobs of its long
/// runs by partition.
#[pyfunction]
#[pyo3(signature = (blobs, copies, parts, split=stages::SPLIT_RUN))]
fn part_band_pairs<'py>(
    py: Python<'py>,
    blobs: Vec<PyBackedBytes>,
    copies: Vec<PyBackedBytes>,
    parts: u64,
    split: usize,
) -> PyResult<(Blobs<'py>, Blobs<'py>)> {
    let found = py
        .detach(|| stages::band_pairs(&slices(&blobs), &slices(&copies), parts, split))
        .map_err(bad)?;
    Ok((out(py, found.addressed), out(py, found.blocks)))
}

/// Stage 3b: the pairs of one partition's block jobs, by home of the first row.
#[pyfunction]
fn part_block_pairs<'py>(py: Python<'py>, blobs: Vec<PyBackedBytes>) -> PyResult<Blobs<'py>> {
    let routed = py
        .detach(|| stages::block_pairs(&slices(&blobs)))
        .map_err(bad)?;
    Ok(out(py, routed))
}

/// Stage 4: one text home's pairs: the verified blob of those within the home, and the
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
) -> PyResult<(Bound<'py, PyBytes>, Blobs<'py>, u64)> {
    let config = text_config(shingles)?;
    let s = py
        .detach(|| stages::texts(&home, &slices(&pairs), threshold, &config, parts.max(1)))
        .map_err(bad)?;
    Ok((
        PyBytes::new(py, &s.verified),
        out(py, s.sides),
        s.candidates,
    ))
}

/// Stage 5: the side blobs of one meeting partition, verified: a verified blob.
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

/// Stage 6: every removed row, the kept row it duplicates and the score, by row.
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

pub(crate) type RunArrays<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<bool>>,
);

pub(crate) fn run_arrays<'py>(py: Python<'py>, list: &[RunPair]) -> RunArrays<'py> {
    let a: Vec<i64> = list.iter().map(|p| p.0 as i64).collect();
    let b: Vec<i64> = list.iter().map(|p| p.1 as i64).collect();
    let s: Vec<f64> = list.iter().map(|p| p.2).collect();
    let e: Vec<bool> = list.iter().map(|p| p.3).collect();
    (
        a.into_pyarray(py),
        b.into_pyarray(py),
        s.into_pyarray(py),
        e.into_pyarray(py),
    )
}

/// For a report: the run's pairs and decisions from stage 6's blobs, as (a, b, score,
/// exact) arrays each, in row ids ([`stages::run_pairs_and_decisions`]).
#[pyfunction]
fn part_run<'py>(
    py: Python<'py>,
    verified: Vec<PyBackedBytes>,
    copies: Vec<PyBackedBytes>,
) -> PyResult<(RunArrays<'py>, RunArrays<'py>)> {
    let (pairs, decisions) = py
        .detach(|| stages::run_pairs_and_decisions(&slices(&verified), &slices(&copies)))
        .map_err(bad)?;
    Ok((run_arrays(py, &pairs), run_arrays(py, &decisions)))
}

/// Adds the stage functions to `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("HOME_BITS", stages::HOME_BITS)?;
    m.add_function(wrap_pyfunction!(part_sketch, m)?)?;
    m.add_function(wrap_pyfunction!(part_names, m)?)?;
    m.add_function(wrap_pyfunction!(part_sketch_lines, m)?)?;
    m.add_function(wrap_pyfunction!(home_part, m)?)?;
    m.add_function(wrap_pyfunction!(home_parts, m)?)?;
    m.add_function(wrap_pyfunction!(jsonl_fields, m)?)?;
    m.add_function(wrap_pyfunction!(jsonl_removed, m)?)?;
    m.add_function(wrap_pyfunction!(part_exact, m)?)?;
    m.add_function(wrap_pyfunction!(part_copy_rows, m)?)?;
    m.add_function(wrap_pyfunction!(part_band_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(part_block_pairs, m)?)?;
    m.add("SPLIT_RUN", stages::SPLIT_RUN)?;
    m.add_function(wrap_pyfunction!(part_texts, m)?)?;
    m.add_function(wrap_pyfunction!(part_meet, m)?)?;
    m.add_function(wrap_pyfunction!(part_decide, m)?)?;
    m.add_function(wrap_pyfunction!(part_run, m)?)?;
    Ok(())
}
