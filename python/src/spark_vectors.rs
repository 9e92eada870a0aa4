//! The embedding stages of the Spark job (`simdedup.spark.dedup(df, embedding_column=...)`)
//! as calls on one Arrow batch's columns: check and sketch rows, sum unit rows, centred
//! norms, fingerprints, candidate pairs within the Hamming radius, exact cosines. Each is a
//! library call of what `simdedup dedup DATA --embedding-column` runs
//! ([`simdedup::ops::semantic::dedup_vectors`] with the exact search), so the job decides
//! as the local run does.

use std::path::Path;

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use simdedup::hyperplane::{self, UnitSum};
use simdedup::ops::semantic::{self, Centring, Cosine, Similarity, VectorOptions};
use simdedup::search;
use simdedup::vectors::{Vectors, norm};

type Ints<'py> = Bound<'py, PyArray1<i64>>;
type Floats<'py> = Bound<'py, PyArray1<f64>>;
type Floats32<'py> = Bound<'py, PyArray1<f32>>;

/// The fingerprint width of the local run's exact search (`--bits` not given).
const BITS: u32 = 128;

fn err(message: String) -> PyErr {
    PyValueError::new_err(message)
}

/// `values` (rows of `dim`, f32) as a vector set, with its rows numbered 0..n.
fn rows_of(values: &[f32], dim: usize) -> PyResult<(Vectors, Vec<u32>)> {
    if dim == 0 || !values.len().is_multiple_of(dim) {
        return Err(err(format!(
            "{} values are not rows of {dim}",
            values.len()
        )));
    }
    let v = Vectors::from_values(Path::new("<batch>"), values.to_vec(), dim)
        .map_err(|e| err(e.to_string()))?;
    let rows = (0..v.rows() as u32).collect();
    Ok((v, rows))
}

/// Checks and sketches one batch of embedding-column values: row `i` is
/// `values[offsets[i]..offsets[i + 1]]` (`valid[i]` false for a null). A null, a vector of
/// another length than `dim` (the first row's) or a non-finite value is an error naming
/// the row by `row_ids` (and by `names`, the id column's values, when given) and the
/// column. Returns per row the digest of its float32 bytes as two int64 bit patterns (high,
/// low; [`semantic::row_digest`]: exact duplicates group by it), its norm, and the values
/// as float32, row after row.
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
    let (values, offsets, valid, ids) = (
        values.as_slice()?,
        offsets.as_slice()?,
        valid.as_slice()?,
        row_ids.as_slice()?,
    );
    let n = ids.len();
    if offsets.len() != n + 1 || valid.len() != n || names.as_ref().is_some_and(|x| x.len() != n) {
        return Err(err(
            "vector_sketch: n + 1 offsets, n validity flags and n names for n row ids".into(),
        ));
    }
    let name = |i: usize| match &names {
        Some(names) => format!("row {} (id {})", ids[i], names[i]),
        None => format!("row {}", ids[i]),
    };
    let mut out = Vec::with_capacity(n * dim);
    for i in 0..n {
        if !valid[i] {
            return Err(err(format!("{}: column '{column}' is null", name(i))));
        }
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        if start > end || end > values.len() {
            return Err(err("vector_sketch: offsets out of range".into()));
        }
        let row = &values[start..end];
        if row.len() != dim {
            return Err(err(format!(
                "{}: column '{column}': the embedding has {} values, the first row's has {dim}",
                name(i),
                row.len()
            )));
        }
        let before = out.len();
        out.extend(row.iter().map(|&x| x as f32));
        let row = &out[before..];
        if let Some(bad) = row.iter().find(|x| !x.is_finite()) {
            let what = if bad.is_nan() { "NaN" } else { "infinity" };
            return Err(err(format!(
                "{}: column '{column}': the embedding holds {what}",
                name(i)
            )));
        }
    }
    let (digests, norms): (Vec<u128>, Vec<f64>) = py.detach(|| {
        out.chunks_exact(dim.max(1))
            .map(|row| {
                let bytes: Vec<u8> = row.iter().flat_map(|x| x.to_le_bytes()).collect();
                (semantic::row_digest(&bytes), norm(row))
            })
            .unzip()
    });
    let hi: Vec<i64> = digests.iter().map(|d| (d >> 64) as i64).collect();
    let lo: Vec<i64> = digests.iter().map(|&d| d as u64 as i64).collect();
    Ok((
        hi.into_pyarray(py),
        lo.into_pyarray(py),
        norms.into_pyarray(py),
        out.into_pyarray(py),
    ))
}

/// The exact sum of the unit rows of one batch ([`UnitSum`]; rows of norm 0 left out): per
/// component the 128-bit fixed-point sum as two int64 bit patterns (high, low), and the
/// number of rows summed.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn vector_unit_sum<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f32>,
    norms: PyReadonlyArray1<'py, f64>,
    dim: usize,
) -> PyResult<(Ints<'py>, Ints<'py>, u64)> {
    let (values, norms) = (values.as_slice()?, norms.as_slice()?);
    if values.len() != norms.len() * dim {
        return Err(err("vector_unit_sum: one norm per row of dim values".into()));
    }
    let mut sum = UnitSum::new(dim);
    for (row, &n) in values.chunks_exact(dim.max(1)).zip(norms) {
        if n > 0.0 {
            sum.add(row, n);
        }
    }
    let hi: Vec<i64> = sum.sums.iter().map(|s| (s >> 64) as i64).collect();
    let lo: Vec<i64> = sum.sums.iter().map(|&s| s as u64 as i64).collect();
    Ok((hi.into_pyarray(py), lo.into_pyarray(py), sum.count))
}

/// The mean of the unit rows from the partial sums of [`vector_unit_sum`] (`hi` and `lo`
/// concatenated, `dim` values per partial sum; `counts` one per partial sum), merged
/// exactly and rounded once: the same bits for any split of the rows.
#[pyfunction]
fn vector_unit_mean(
    hi: Vec<i64>,
    lo: Vec<i64>,
    counts: Vec<u64>,
    dim: usize,
) -> PyResult<Vec<f64>> {
    if hi.len() != lo.len() || hi.len() != counts.len() * dim {
        return Err(err(
            "vector_unit_mean: dim high and low words per count".into()
        ));
    }
    let mut total = UnitSum::new(dim);
    for (k, &count) in counts.iter().enumerate() {
        let part = UnitSum {
            sums: (0..dim)
                .map(|d| {
                    let i = k * dim + d;
                    ((hi[i] as i128) << 64) | (lo[i] as u64 as i128)
                })
                .collect(),
            count,
        };
        total.merge(&part);
    }
    Ok(total.mean())
}

/// The centred norms |x/|x| - mean| of one batch's rows of norm > 0 (NaN for rows of norm
/// 0, which take no part), as [`hyperplane::centred_norms`] computes them.
#[pyfunction]
fn vector_centred_norms<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f32>,
    norms: PyReadonlyArray1<'py, f64>,
    mean: Vec<f64>,
) -> PyResult<Floats<'py>> {
    let (values, norms) = (values.as_slice()?, norms.as_slice()?);
    let (v, _) = rows_of(values, mean.len())?;
    if v.rows() != norms.len() {
        return Err(err("vector_centred_norms: one norm per row".into()));
    }
    let usable: Vec<u32> = (0..norms.len() as u32)
        .filter(|&i| norms[i as usize] > 0.0)
        .collect();
    let r = py.detach(|| hyperplane::centred_norms(&[(&v, &usable, norms)], &mean));
    let mut out = vec![f64::NAN; norms.len()];
    for (&i, x) in usable.iter().zip(r) {
        out[i as usize] = x;
    }
    Ok(out.into_pyarray(py))
}

/// The centring bar and candidate radius of the local run's exact search: `low` is the
/// low-quantile centred norm of the usable rows (finite, norm > 0; the value at
/// [`vector_low_index`] of their sorted centred norms), None without such rows or without
/// centring. Returns `(bar, low_norm, radius)` for 128-bit fingerprints.
#[pyfunction]
#[pyo3(signature = (threshold, low, dim, center=true))]
fn vector_plan(threshold: f64, low: Option<f64>, dim: usize, center: bool) -> (f64, f64, u32) {
    let (bar, low_norm) = match (center, low) {
        (true, Some(q)) => hyperplane::centred_bar(threshold, q),
        _ => (threshold, 1.0),
    };
    let opts = VectorOptions {
        seed: 0,
        center,
        threshold,
        max_distance: None,
    };
    let centring = Centring {
        mean: None,
        bar,
        low_norm,
    };
    // The radius as the local run's embedding computes it (no rows hashed here).
    let empty =
        Vectors::from_values(Path::new("<plan>"), Vec::new(), dim.max(1)).expect("an empty set");
    let (rows, norms): (&[u32], &[f64]) = (&[], &[]);
    let (_, plan) =
        semantic::embed_centred::<u128>(&[(&empty, rows, norms)], &opts, &centring, &());
    (bar, low_norm, plan.radius)
}

/// Where the low quantile of `usable` centred norms sits in their sorted order, and the
/// row count from which the local run's cost model may choose the band search.
#[pyfunction]
fn vector_low_index(usable: usize) -> (usize, usize) {
    (hyperplane::low_norm_index(usable), semantic::MIN_BAND_ROWS)
}

/// The 128-bit hyperplane fingerprints (two int64 bit patterns each) of one batch's rows
/// (norm > 0), centred on `mean` (None: not centred), planes of `seed`: the local run's
/// [`semantic::embed_centred`].
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
    let (v, rows) = rows_of(values, dim)?;
    if v.rows() != norms.len() || norms.iter().any(|&n| n <= 0.0) {
        return Err(err("vector_fingerprints: one norm > 0 per row".into()));
    }
    let opts = VectorOptions {
        seed,
        center: mean.is_some(),
        threshold: 0.0,
        max_distance: None,
    };
    let centring = Centring {
        mean,
        bar: 0.0,
        low_norm: 1.0,
    };
    let fps = py.detach(|| {
        semantic::embed_centred::<u128>(&[(&v, &rows, norms)], &opts, &centring, &())
            .0
            .pop()
            .expect("one source")
    });
    let hi: Vec<i64> = fps.iter().map(|f| (f >> 64) as i64).collect();
    let lo: Vec<i64> = fps.iter().map(|&f| f as u64 as i64).collect();
    Ok((hi.into_pyarray(py), lo.into_pyarray(py)))
}

fn fingerprints(hi: &[i64], lo: &[i64]) -> PyResult<Vec<u128>> {
    if hi.len() != lo.len() {
        return Err(err("as many high as low words".into()));
    }
    Ok(hi
        .iter()
        .zip(lo)
        .map(|(&h, &l)| ((h as u64 as u128) << 64) | l as u64 as u128)
        .collect())
}

/// The pairs `(a, b, distance)`, `a < b`, of a query row (`ids`, fingerprints `hi`, `lo`)
/// and a reference row (`ref_ids`, ...) whose fingerprints are within Hamming distance
/// `radius` ([`search::find_cross_pairs`]). With every row in the reference, each pair of
/// rows within the radius comes from the partition holding its first row: the pairs of
/// the local run's exact search.
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
    let queries = fingerprints(hi.as_slice()?, lo.as_slice()?)?;
    let reference = fingerprints(ref_hi.as_slice()?, ref_lo.as_slice()?)?;
    if queries.len() != ids.len() || reference.len() != ref_ids.len() {
        return Err(err("vector_pairs: one id per fingerprint".into()));
    }
    let found =
        py.detach(|| search::find_cross_pairs(&queries, &reference, radius.min(BITS), None, &()).0);
    let (mut a, mut b, mut d) = (Vec::new(), Vec::new(), Vec::new());
    for p in found {
        let (x, y) = (ids[p.query as usize], ref_ids[p.reference as usize]);
        if x < y {
            a.push(x);
            b.push(y);
            d.push(p.distance as i64);
        }
    }
    Ok((a.into_pyarray(py), b.into_pyarray(py), d.into_pyarray(py)))
}

/// The exact cosine of each pair of rows (`a[i]` with `b[i]`, rows of `dim` float32 values,
/// norms `na`, `nb`): [`Cosine`], as the local run verifies candidates.
#[pyfunction]
fn vector_cosines<'py>(
    py: Python<'py>,
    a: PyReadonlyArray1<'py, f32>,
    na: PyReadonlyArray1<'py, f64>,
    b: PyReadonlyArray1<'py, f32>,
    nb: PyReadonlyArray1<'py, f64>,
    dim: usize,
) -> PyResult<Floats<'py>> {
    let (na, nb) = (na.as_slice()?, nb.as_slice()?);
    let (va, _) = rows_of(a.as_slice()?, dim)?;
    let (vb, _) = rows_of(b.as_slice()?, dim)?;
    if va.rows() != na.len() || vb.rows() != nb.len() || na.len() != nb.len() {
        return Err(err(
            "vector_cosines: as many rows and norms on both sides".into()
        ));
    }
    let sim = Cosine::pair((&va, na), (&vb, nb));
    let split = va.rows() as u32;
    let scores: Vec<f64> = py.detach(|| (0..split).map(|i| sim.similarity(i, split + i)).collect());
    Ok(scores.into_pyarray(py))
}

/// Adds the embedding stage functions to `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DEFAULT_SEED", hyperplane::DEFAULT_SEED)?;
    m.add_function(wrap_pyfunction!(vector_sketch, m)?)?;
    m.add_function(wrap_pyfunction!(vector_unit_sum, m)?)?;
    m.add_function(wrap_pyfunction!(vector_unit_mean, m)?)?;
    m.add_function(wrap_pyfunction!(vector_centred_norms, m)?)?;
    m.add_function(wrap_pyfunction!(vector_low_index, m)?)?;
    m.add_function(wrap_pyfunction!(vector_plan, m)?)?;
    m.add_function(wrap_pyfunction!(vector_fingerprints, m)?)?;
    m.add_function(wrap_pyfunction!(vector_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(vector_cosines, m)?)?;
    Ok(())
}
