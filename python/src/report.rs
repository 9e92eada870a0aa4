//! The HTML report of a run ([`simdedup::output::report`]) for the Python front ends
//! (`simdedup.dedup(..., report=)`, `simdedup.spark.dedup(..., report=)`): a run's arrays,
//! as `dedup_texts` and `dedup_vectors` return them, in; the page written atomically.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use simdedup::atomic_file::AtomicFile;
use simdedup::ops::cluster::{Assignment, Duplicate};
use simdedup::ops::dedup::Grouping;
use simdedup::output::report::{self, Curve, Excerpts, RunData, RunFacts};
use simdedup::text::minhash::BandParams;
use simdedup::verify::ScoredPair;

use crate::partitioned::{RunArrays, run_arrays};
use crate::py_error;

/// A run's pairs and decisions, from the dictionary a deduplication call returns.
struct Run {
    pairs: Vec<ScoredPair>,
    assignment: Assignment,
    candidates: usize,
}

fn array<'py, T: numpy::Element>(
    run: &Bound<'py, PyDict>,
    key: &str,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    run.get_item(key)?
        .ok_or_else(|| PyKeyError::new_err(format!("the run has no {key:?}")))?
        .extract()
        .map_err(|e| PyValueError::new_err(format!("the run's {key:?}: {e}")))
}

impl Run {
    fn read(run: &Bound<'_, PyDict>) -> PyResult<Run> {
        let (a, b) = (array::<i64>(run, "pair_a")?, array::<i64>(run, "pair_b")?);
        let (s, e) = (
            array::<f64>(run, "pair_score")?,
            array::<bool>(run, "pair_exact")?,
        );
        let (a, b, s, e) = (a.as_slice()?, b.as_slice()?, s.as_slice()?, e.as_slice()?);
        let pairs = (0..a.len())
            .map(|i| ScoredPair {
                a: a[i] as u32,
                b: b[i] as u32,
                distance: 0,
                score: s[i],
                exact: e[i],
            })
            .collect();
        let dup = array::<i64>(run, "duplicate_of")?;
        let score = array::<f64>(run, "score")?;
        let exact = array::<bool>(run, "exact")?;
        let (dup, score, exact) = (dup.as_slice()?, score.as_slice()?, exact.as_slice()?);
        let duplicate_of = (0..dup.len())
            .map(|i| {
                (dup[i] >= 0).then(|| Duplicate {
                    kept: dup[i] as u32,
                    score: score[i],
                    exact: exact[i],
                })
            })
            .collect();
        let candidates = match run.get_item("candidates")? {
            Some(c) => c.extract()?,
            None => 0,
        };
        Ok(Run {
            pairs,
            assignment: Assignment { duplicate_of },
            candidates,
        })
    }

    fn data<'a>(
        &'a self,
        facts: RunFacts,
        name: &'a (dyn Fn(u32) -> String + Sync),
        texts: Option<&'a Excerpts>,
    ) -> RunData<'a> {
        RunData {
            facts,
            records: self.assignment.duplicate_of.len(),
            name,
            pairs: &self.pairs,
            assignment: &self.assignment,
            skipped_records: &[],
            texts: texts.map(|t| t as &(dyn simdedup::text::texts::TextSource + Sync)),
        }
    }
}

fn facts(similarity: &str, threshold: f64, records: usize, candidates: usize) -> RunFacts {
    RunFacts {
        title: String::new(),
        similarity: similarity.into(),
        threshold,
        inputs: records as u64,
        skipped: Vec::new(),
        method: String::new(),
        curve: Curve::None,
        candidates,
        grouping: Grouping::Greedy,
        keep_first: true,
        elapsed: Duration::ZERO,
        peak_memory: report::peak_memory(),
    }
}

type Rows<'py> = Bound<'py, PyArray1<i64>>;

/// The records whose texts (first) and names (second) a report of `run` shows, so that a
/// front end holding them elsewhere fetches these alone.
#[pyfunction]
#[pyo3(signature = (run, threshold))]
fn report_records<'py>(
    py: Python<'py>,
    run: &Bound<'py, PyDict>,
    threshold: f64,
) -> PyResult<(Rows<'py>, Rows<'py>)> {
    let r = Run::read(run)?;
    let name = |i: u32| i.to_string();
    let data = r.data(facts("", threshold, 0, 0), &name, None);
    let texts: Vec<i64> = report::shown_records(&data)
        .into_iter()
        .map(i64::from)
        .collect();
    let names: Vec<i64> = report::named_records(&data)
        .into_iter()
        .map(i64::from)
        .collect();
    Ok((texts.into_pyarray(py), names.into_pyarray(py)))
}

/// Writes the report of `run` (the dictionary of `dedup_texts` or `dedup_vectors`) to
/// `path`, atomically. `texts` and `names` map records to their texts and names (a record
/// not named is its row number from 0); `shape` is the band search's `(bands, rows)`,
/// which draws the candidate curve.
#[pyfunction]
#[pyo3(signature = (path, run, *, title, similarity, threshold, method, texts=None, names=None, separator=None, shape=None, skipped=None, elapsed=0.0))]
#[allow(clippy::too_many_arguments)]
fn write_report(
    py: Python<'_>,
    path: PathBuf,
    run: &Bound<'_, PyDict>,
    title: String,
    similarity: String,
    threshold: f64,
    method: String,
    texts: Option<HashMap<u32, String>>,
    names: Option<HashMap<u32, String>>,
    separator: Option<char>,
    shape: Option<(u32, u32)>,
    skipped: Option<Vec<(String, u64)>>,
    elapsed: f64,
) -> PyResult<()> {
    let file = AtomicFile::create(&path).map_err(py_error)?;
    let r = Run::read(run)?;
    let names = names.unwrap_or_default();
    let name = move |i: u32| names.get(&i).cloned().unwrap_or_else(|| i.to_string());
    let excerpts = texts.map(|texts| Excerpts { texts, separator });
    let records = r.assignment.duplicate_of.len();
    let facts = RunFacts {
        title,
        method,
        curve: shape.map_or(Curve::None, |(bands, rows)| {
            Curve::Bands(BandParams { bands, rows })
        }),
        skipped: skipped.unwrap_or_default(),
        elapsed: Duration::from_secs_f64(elapsed.max(0.0)),
        ..facts(&similarity, threshold, records, r.candidates)
    };
    let data = r.data(facts, &name, excerpts.as_ref());
    py.detach(|| report::write_report(file, &data))
        .map_err(py_error)
}

/// The pairs a report lists for a run whose exact copies were grouped before the search
/// ([`report::expand_over_copies`]): the `near` pairs between representatives (four
/// arrays: a, b, score, exact) expanded over the groups of `copies` (copy, representative),
/// and every pair inside a group.
#[pyfunction]
fn expand_copies<'py>(
    py: Python<'py>,
    near: (
        PyReadonlyArray1<'py, i64>,
        PyReadonlyArray1<'py, i64>,
        PyReadonlyArray1<'py, f64>,
        PyReadonlyArray1<'py, bool>,
    ),
    copies: (PyReadonlyArray1<'py, i64>, PyReadonlyArray1<'py, i64>),
) -> PyResult<RunArrays<'py>> {
    let (a, b, s, e) = (
        near.0.as_slice()?,
        near.1.as_slice()?,
        near.2.as_slice()?,
        near.3.as_slice()?,
    );
    if b.len() != a.len() || s.len() != a.len() || e.len() != a.len() {
        return Err(PyValueError::new_err(
            "expand_copies: near arrays of one length",
        ));
    }
    let (c, r) = (copies.0.as_slice()?, copies.1.as_slice()?);
    if r.len() != c.len() {
        return Err(PyValueError::new_err(
            "expand_copies: copy arrays of one length",
        ));
    }
    let near: Vec<report::RunPair> = (0..a.len())
        .map(|i| (a[i] as u64, b[i] as u64, s[i], e[i]))
        .collect();
    let copies: Vec<(u64, u64)> = c
        .iter()
        .zip(r)
        .map(|(&c, &r)| (c as u64, r as u64))
        .collect();
    let pairs = py.detach(|| report::expand_over_copies(&near, &copies));
    Ok(run_arrays(py, &pairs))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(expand_copies, m)?)?;
    m.add_function(wrap_pyfunction!(report_records, m)?)?;
    m.add_function(wrap_pyfunction!(write_report, m)?)?;
    Ok(())
}
