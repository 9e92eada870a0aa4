//! The embedding stages of the Spark job (`simdedup.spark.dedup(df, embedding_column=...)`)
//! as calls on one Arrow batch's columns: check and sketch rows, sum unit rows, centred
//! norms, the choice of search, fingerprints, candidate pairs (within the Hamming radius,
//! or from equal band-key runs), exact cosines. Each is a library call of what `simdedup
//! dedup DATA --embedding-column` runs ([`simdedup::ops::semantic::dedup_vectors`] with the
//! search [`simdedup::ops::semantic::choose_search`] picks), so the job decides as the local
//! run does.

use std::path::Path;

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use simdedup::fingerprint::Fingerprint;
use simdedup::ops::semantic::{
    self, BandFingerprint, Centring, Cosine, PairRadius, SearchRequest, Similarity, VectorMethod,
    VectorOptions, VectorSearch,
};
use simdedup::search;
use simdedup::search::bitbands::{BitBandParams, BitBands};
use simdedup::vectors::hyperplane::{self, UnitSum};
use simdedup::vectors::npy::{Vectors, norm};

type Ints<'py> = Bound<'py, PyArray1<i64>>;
type Floats<'py> = Bound<'py, PyArray1<f64>>;
type Floats32<'py> = Bound<'py, PyArray1<f32>>;
type Bytes<'py> = Bound<'py, PyArray1<u8>>;

/// A band shape as Python sees it: `(rows, bands, radius, recall)` over [`semantic::BAND_BITS`].
type Shape = (u32, u32, u32, f64);

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
    let norms = norms.as_slice()?;
    let (v, rows, opts, centring) = representatives(
        "vector_fingerprints",
        values.as_slice()?,
        norms,
        mean,
        dim,
        seed,
    )?;
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

/// The positions among `n` usable rows (finite, norm > 0, in row order) of the rows whose
/// pairs the local run's cost model samples ([`semantic::sample_positions`]).
#[pyfunction]
fn vector_sample_positions(n: usize) -> Vec<usize> {
    semantic::sample_positions(n)
}

/// One batch of representatives (every norm > 0) as [`semantic::embed_centred`] takes
/// them: the rows, their positions, and the options and centring of planes `seed` around
/// `mean` (None: not centred). `call` names the caller in errors.
#[allow(clippy::type_complexity)]
fn representatives(
    call: &str,
    values: &[f32],
    norms: &[f64],
    mean: Option<Vec<f64>>,
    dim: usize,
    seed: u64,
) -> PyResult<(Vectors, Vec<u32>, VectorOptions, Centring)> {
    let (v, rows) = rows_of(values, dim)?;
    if v.rows() != norms.len() || norms.iter().any(|&n| n <= 0.0) {
        return Err(err(format!("{call}: one norm > 0 per row")));
    }
    let opts = VectorOptions {
        seed,
        center: mean.is_some(),
        threshold: 0.0,
        max_distance: None,
    };
    Ok((v, rows, opts, centring(mean, 0.0, 1.0)))
}

/// The centring as the driver holds it: the mean (None without centring) and the bar.
fn centring(mean: Option<Vec<f64>>, bar: f64, low_norm: f64) -> Centring {
    Centring {
        mean,
        bar,
        low_norm,
    }
}

/// The local run's choice of search for `n` usable rows ([`semantic::choose_search_for`],
/// `--method` and `--bits` not given, recall `recall`): the band shape `(rows, bands,
/// radius, recall)` over [`semantic::BAND_BITS`]-bit fingerprints when it chooses bands (full or keep-first:
/// the same decisions), None for the exact Hamming search. `sample` holds the rows at
/// [`vector_sample_positions`] (`dim` float32 values each, norms `sample_norms`), from
/// which the background is computed as the local run computes it; `bar` and `low_norm`
/// are [`vector_plan`]'s, `mean` the mean of the unit rows (None without centring).
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
) -> PyResult<Option<Shape>> {
    let norms = sample_norms.as_slice()?;
    let (v, rows) = rows_of(sample.as_slice()?, dim)?;
    if v.rows() != norms.len() || norms.len() != semantic::sample_positions(n).len() {
        return Err(err(
            "vector_search_plan: the rows at vector_sample_positions(n), one norm each".into(),
        ));
    }
    let opts = VectorOptions {
        seed: 0,
        center: mean.is_some(),
        threshold,
        max_distance: None,
    };
    let centring = centring(mean, bar, low_norm);
    let request = SearchRequest {
        method: VectorMethod::Auto,
        bits: None,
        recall,
        deciding: true,
    };
    let (search, _) = py.detach(|| {
        semantic::choose_search_for(
            n,
            || semantic::background(&v, &rows, norms, &centring),
            &opts,
            &centring,
            request,
        )
    });
    Ok(match search {
        VectorSearch::Bands(p) | VectorSearch::KeepFirst(p) => {
            Some((p.rows, p.bands, p.radius, p.recall))
        }
        VectorSearch::Hamming(_) => None,
    })
}

fn shape_of((rows, bands, radius, recall): Shape) -> PyResult<BitBandParams> {
    let bits = semantic::BAND_BITS;
    if rows == 0 || rows > bits || bands == 0 || bands > simdedup::search::bitbands::MAX_BANDS {
        return Err(err(format!("rows={rows}, bands={bands}: not a band shape")));
    }
    Ok(BitBandParams {
        bits,
        rows,
        bands,
        radius,
        recall,
    })
}

/// Bytes of the band search's fingerprint.
const FP_BYTES: usize = semantic::BAND_BITS as usize / 8;

/// Sketches one batch of representatives (norm > 0) for the band search: per row its
/// fingerprint (planes of `seed`, centred on `mean`: the local run's
/// [`semantic::embed_centred`]) as [`FP_BYTES`] bytes, row after row; its centring terms `(μ·x,
/// |x - μ|)` ([`Centring::row_terms`]) as two float32 arrays; and, flattened row by row,
/// its band keys ([`BitBands::keys_of`], bands of `seed`) as `band << 32 | key`.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn vector_band_sketch<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f32>,
    norms: PyReadonlyArray1<'py, f64>,
    mean: Option<Vec<f64>>,
    dim: usize,
    seed: u64,
    shape: Shape,
) -> PyResult<(Bytes<'py>, Floats32<'py>, Floats32<'py>, Ints<'py>)> {
    let norms = norms.as_slice()?;
    let (v, rows, opts, centring) = representatives(
        "vector_band_sketch",
        values.as_slice()?,
        norms,
        mean,
        dim,
        seed,
    )?;
    let shape = shape_of(shape)?;
    let (fps, terms, keys) = py.detach(|| {
        let fps = semantic::embed_centred::<BandFingerprint>(
            &[(&v, &rows, norms)],
            &opts,
            &centring,
            &(),
        )
        .0
        .pop()
        .expect("one source");
        let terms = centring.row_terms(&v, &rows, norms);
        let bands = BitBands::new(shape, seed);
        let nb = shape.bands as usize;
        let mut keys = vec![0u32; nb];
        let mut out: Vec<i64> = Vec::with_capacity(fps.len() * nb);
        for fp in &fps {
            bands.keys_of(fp, &mut keys);
            out.extend(
                keys.iter()
                    .enumerate()
                    .map(|(b, &key)| ((b as i64) << 32) | key as i64),
            );
        }
        (fps, terms, out)
    });
    let bytes: Vec<u8> = fps
        .iter()
        .flat_map(|fp| fp.0.iter().flat_map(|w| w.to_le_bytes()))
        .collect();
    let (ma, ca): (Vec<f32>, Vec<f32>) = terms.into_iter().unzip();
    Ok((
        bytes.into_pyarray(py),
        ma.into_pyarray(py),
        ca.into_pyarray(py),
        keys.into_pyarray(py),
    ))
}

/// The band search's pair rule for the Spark job, built once per task: the bands of
/// `seed` for the shape, and the Hamming filter at `threshold` for the centring `mean`
/// ([`PairRadius`]).
#[pyclass(module = "simdedup._core", frozen)]
struct VectorBandPairs {
    bands: BitBands,
    filter: PairRadius,
}

#[pymethods]
impl VectorBandPairs {
    #[new]
    #[pyo3(signature = (shape, seed, threshold, mean))]
    fn new(shape: Shape, seed: u64, threshold: f64, mean: Option<Vec<f64>>) -> PyResult<Self> {
        let shape = shape_of(shape)?;
        let filter =
            PairRadius::from_terms(Vec::new(), threshold, &centring(mean, 0.0, 1.0), shape);
        Ok(VectorBandPairs {
            bands: BitBands::new(shape, seed),
            filter,
        })
    }

    /// The candidates of entries sorted by `(bucket, row)` (buckets `band << 32 | key` as
    /// [`vector_band_sketch`] gives them; fingerprints `fps`, [`FP_BYTES`] per entry; terms
    /// `ma`, `ca`), at most `max` from `cursor` on: of each run of equal buckets, the
    /// pairs that the local [`BitBands::search`] takes from that band (its first band on
    /// whose bits the fingerprints agree, [`BitBands::first_agreement`]; within the
    /// shape's radius and the pair's own, [`PairRadius::within`]). Returns `(a, b,
    /// distance)` with `a < b`, and the cursor to go on from, or None.
    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    fn pairs<'py>(
        &self,
        py: Python<'py>,
        buckets: PyReadonlyArray1<'py, i64>,
        rows: PyReadonlyArray1<'py, i64>,
        fps: PyReadonlyArray1<'py, u8>,
        ma: PyReadonlyArray1<'py, f32>,
        ca: PyReadonlyArray1<'py, f32>,
        cursor: (usize, usize),
        max: usize,
    ) -> PyResult<(Ints<'py>, Ints<'py>, Ints<'py>, Option<(usize, usize)>)> {
        let (keys, ids, raw, ma, ca) = (
            buckets.as_slice()?,
            rows.as_slice()?,
            fps.as_slice()?,
            ma.as_slice()?,
            ca.as_slice()?,
        );
        let n = keys.len();
        if ids.len() != n
            || ma.len() != n
            || ca.len() != n
            || raw.len() != n * FP_BYTES
            || max == 0
            || !keys.is_sorted()
            || keys
                .iter()
                .any(|&k| (k as u64 >> 32) >= self.bands.params().bands as u64)
        {
            return Err(err(format!(
                "pairs: sorted buckets, one row, {FP_BYTES} fingerprint bytes and terms each, max >= 1"
            )));
        }
        let fp = |i: usize| {
            let mut w = [0u64; FP_BYTES / 8];
            for (k, word) in w.iter_mut().enumerate() {
                let at = i * FP_BYTES + 8 * k;
                *word = u64::from_le_bytes(raw[at..at + 8].try_into().expect("8 bytes"));
            }
            simdedup::Wide(w)
        };
        let (found, next) = py.detach(|| {
            let mut out: Vec<(i64, i64, i64)> = Vec::new();
            let (mut x, mut y) = cursor;
            while x < n {
                if y <= x {
                    y = x + 1;
                }
                if y >= n || keys[y] != keys[x] {
                    x += 1;
                    y = x + 1;
                    continue;
                }
                if out.len() == max {
                    return (out, Some((x, y)));
                }
                // Rows ascend within a run: x's row is the pair's first, as in the local
                // search (the filter's terms are taken in that order).
                let (fx, fy) = (fp(x), fp(y));
                let d = fx.distance(&fy);
                let band = (keys[x] as u64 >> 32) as usize;
                if self.filter.within((ma[x], ca[x]), (ma[y], ca[y]), d)
                    && self.bands.first_agreement(&fx, &fy, band)
                {
                    out.push((ids[x], ids[y], d as i64));
                }
                y += 1;
            }
            (out, None)
        });
        let a: Vec<i64> = found.iter().map(|p| p.0).collect();
        let b: Vec<i64> = found.iter().map(|p| p.1).collect();
        let d: Vec<i64> = found.iter().map(|p| p.2).collect();
        Ok((
            a.into_pyarray(py),
            b.into_pyarray(py),
            d.into_pyarray(py),
            next,
        ))
    }
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
    m.add_function(wrap_pyfunction!(vector_band_sketch, m)?)?;
    m.add_class::<VectorBandPairs>()?;
    Ok(())
}
