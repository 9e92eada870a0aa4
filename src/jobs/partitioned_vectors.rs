//! The embedding dedup as stages for a distributed engine (the Spark job's
//! `embedding_column=`), each a call on one batch's plain arrays: check and sketch rows,
//! sum unit rows, centred norms, the choice of search, fingerprints, candidate pairs
//! (within the Hamming radius, or from equal band-key runs) and exact cosines. Each is what
//! `simdedup dedup DATA --embedding-column` runs ([`semantic::dedup_vectors`] with the
//! search [`semantic::choose_search`] picks), so a job built on them decides as the local
//! run does. The counterpart of [`super::partitioned`] for text.

use std::path::Path;

use crate::fingerprint::{Fingerprint, Wide};
use crate::ops::semantic::{
    self, BandFingerprint, Centring, Cosine, PairRadius, SearchRequest, Similarity, VectorMethod,
    VectorOptions, VectorSearch,
};
use crate::search;
use crate::search::bitbands::{BitBandParams, BitBands, MAX_BANDS};
use crate::vectors::hyperplane::{self, UnitSum};
use crate::vectors::npy::{Vectors, norm};

/// The fingerprint width of the local run's exact search (`--bits` not given).
pub const BITS: u32 = 128;

/// Bytes of the band search's fingerprint.
pub const FP_BYTES: usize = semantic::BAND_BITS as usize / 8;

/// A stage's input it cannot take: a bad row (named by its row and id), or arrays that
/// break the call's contract (named by the call).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct StageError(pub String);

fn err(message: impl Into<String>) -> StageError {
    StageError(message.into())
}

/// `values` (rows of `dim`, f32) as a vector set, with its rows numbered 0..n.
fn rows_of(values: &[f32], dim: usize) -> Result<(Vectors, Vec<u32>), StageError> {
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

/// One batch's rows, checked and sketched ([`sketch`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Sketch {
    /// Per row the digest of its float32 bytes ([`semantic::row_digest`]).
    pub digests: Vec<u128>,
    /// Per row its norm.
    pub norms: Vec<f64>,
    /// The rows' values as float32, row after row.
    pub values: Vec<f32>,
}

/// A batch of embedding-column values: row `i` is `values[offsets[i]..offsets[i + 1]]`,
/// `valid[i]` false for a null, named by `row_ids[i]` (and `names[i]`, the id column's
/// value, when given) in errors.
pub struct VectorColumn<'a> {
    pub values: &'a [f64],
    pub offsets: &'a [i64],
    pub valid: &'a [bool],
    pub row_ids: &'a [i64],
    pub names: Option<&'a [String]>,
    /// The column's name, for errors.
    pub column: &'a str,
}

/// Checks and sketches one batch: a null, a vector of another length than `dim` (the first
/// row's) or a non-finite value is an error naming the row and the column.
pub fn sketch(col: &VectorColumn<'_>, dim: usize) -> Result<Sketch, StageError> {
    let (values, offsets, valid, ids, column) =
        (col.values, col.offsets, col.valid, col.row_ids, col.column);
    let n = ids.len();
    if offsets.len() != n + 1 || valid.len() != n || col.names.is_some_and(|x| x.len() != n) {
        return Err(err(
            "vector_sketch: n + 1 offsets, n validity flags and n names for n row ids",
        ));
    }
    let name = |i: usize| match col.names {
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
            return Err(err("vector_sketch: offsets out of range"));
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
    let (digests, norms) = out
        .chunks_exact(dim.max(1))
        .map(|row| {
            let bytes: Vec<u8> = row.iter().flat_map(|x| x.to_le_bytes()).collect();
            (semantic::row_digest(&bytes), norm(row))
        })
        .unzip();
    Ok(Sketch {
        digests,
        norms,
        values: out,
    })
}

/// The exact sum of the unit rows of one batch ([`UnitSum`]; rows of norm 0 left out).
pub fn unit_sum(values: &[f32], norms: &[f64], dim: usize) -> Result<UnitSum, StageError> {
    if values.len() != norms.len() * dim {
        return Err(err("vector_unit_sum: one norm per row of dim values"));
    }
    let mut sum = UnitSum::new(dim);
    for (row, &n) in values.chunks_exact(dim.max(1)).zip(norms) {
        if n > 0.0 {
            sum.add(row, n);
        }
    }
    Ok(sum)
}

/// The mean of the unit rows from partial sums ([`unit_sum`]), merged exactly and rounded
/// once: the same bits for any split of the rows.
pub fn unit_mean(parts: &[UnitSum], dim: usize) -> Result<Vec<f64>, StageError> {
    let mut total = UnitSum::new(dim);
    for part in parts {
        if part.sums.len() != dim {
            return Err(err("vector_unit_mean: dim high and low words per count"));
        }
        total.merge(part);
    }
    Ok(total.mean())
}

/// The centred norms |x/|x| - mean| of one batch's rows of norm > 0 (NaN for rows of norm
/// 0, which take no part), as [`hyperplane::centred_norms`] computes them.
pub fn centred_norms(values: &[f32], norms: &[f64], mean: &[f64]) -> Result<Vec<f64>, StageError> {
    let (v, _) = rows_of(values, mean.len())?;
    if v.rows() != norms.len() {
        return Err(err("vector_centred_norms: one norm per row"));
    }
    let usable: Vec<u32> = (0..norms.len() as u32)
        .filter(|&i| norms[i as usize] > 0.0)
        .collect();
    let r = hyperplane::centred_norms(&[(&v, &usable, norms)], mean);
    let mut out = vec![f64::NAN; norms.len()];
    for (&i, x) in usable.iter().zip(r) {
        out[i as usize] = x;
    }
    Ok(out)
}

/// The centring bar and candidate radius of the local run's exact search: `low` is the
/// low-quantile centred norm of the usable rows (finite, norm > 0; the value at
/// [`low_index`] of their sorted centred norms), None without such rows or without
/// centring. Returns `(bar, low_norm, radius)` for [`BITS`]-bit fingerprints.
pub fn plan(threshold: f64, low: Option<f64>, dim: usize, center: bool) -> (f64, f64, u32) {
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
pub fn low_index(usable: usize) -> (usize, usize) {
    (hyperplane::low_norm_index(usable), semantic::MIN_BAND_ROWS)
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
) -> Result<(Vectors, Vec<u32>, VectorOptions, Centring), StageError> {
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

/// The [`BITS`]-bit hyperplane fingerprints of one batch's rows (norm > 0), centred on
/// `mean` (None: not centred), planes of `seed`: the local run's
/// [`semantic::embed_centred`].
pub fn fingerprints(
    values: &[f32],
    norms: &[f64],
    mean: Option<Vec<f64>>,
    dim: usize,
    seed: u64,
) -> Result<Vec<u128>, StageError> {
    let (v, rows, opts, centring) =
        representatives("vector_fingerprints", values, norms, mean, dim, seed)?;
    Ok(
        semantic::embed_centred::<u128>(&[(&v, &rows, norms)], &opts, &centring, &())
            .0
            .pop()
            .expect("one source"),
    )
}

/// The pairs `(a, b, distance)`, `a < b`, of a query row (`ids`, fingerprints `queries`)
/// and a reference row (`ref_ids`, `reference`) whose fingerprints are within Hamming
/// distance `radius` ([`search::find_cross_pairs`]). With every row in the reference, each
/// pair of rows within the radius comes from the partition holding its first row: the
/// pairs of the local run's exact search.
pub fn pairs(
    ids: &[i64],
    queries: &[u128],
    ref_ids: &[i64],
    reference: &[u128],
    radius: u32,
) -> Result<Vec<(i64, i64, i64)>, StageError> {
    if queries.len() != ids.len() || reference.len() != ref_ids.len() {
        return Err(err("vector_pairs: one id per fingerprint"));
    }
    let found = search::find_cross_pairs(queries, reference, radius.min(BITS), None, &()).0;
    Ok(found
        .into_iter()
        .map(|p| {
            let (x, y) = (ids[p.query as usize], ref_ids[p.reference as usize]);
            (x, y, p.distance as i64)
        })
        .filter(|&(x, y, _)| x < y)
        .collect())
}

/// The exact cosine of each pair of rows (`a[i]` with `b[i]`, rows of `dim` float32
/// values, norms `na`, `nb`): [`Cosine`], as the local run verifies candidates.
pub fn cosines(
    a: &[f32],
    na: &[f64],
    b: &[f32],
    nb: &[f64],
    dim: usize,
) -> Result<Vec<f64>, StageError> {
    let (va, _) = rows_of(a, dim)?;
    let (vb, _) = rows_of(b, dim)?;
    if va.rows() != na.len() || vb.rows() != nb.len() || na.len() != nb.len() {
        return Err(err("vector_cosines: as many rows and norms on both sides"));
    }
    let sim = Cosine::pair((&va, na), (&vb, nb));
    let split = va.rows() as u32;
    Ok((0..split).map(|i| sim.similarity(i, split + i)).collect())
}

/// A band shape over [`semantic::BAND_BITS`]-bit fingerprints, as a job passes it around.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub rows: u32,
    pub bands: u32,
    pub radius: u32,
    pub recall: f64,
}

impl Shape {
    fn params(self) -> Result<BitBandParams, StageError> {
        let bits = semantic::BAND_BITS;
        let Shape {
            rows,
            bands,
            radius,
            recall,
        } = self;
        if rows == 0 || rows > bits || bands == 0 || bands > MAX_BANDS {
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
}

/// What the driver knows when it chooses the search: the usable row count `n`, the rows at
/// [`semantic::sample_positions`]`(n)` (`dim` float32 values each, norms `sample_norms`),
/// the bar and low norm of [`plan`], and the mean of the unit rows (None without centring).
pub struct SearchInputs<'a> {
    pub n: usize,
    pub sample: &'a [f32],
    pub sample_norms: &'a [f64],
    pub dim: usize,
    pub threshold: f64,
    pub bar: f64,
    pub low_norm: f64,
    pub mean: Option<Vec<f64>>,
    pub recall: f64,
}

/// The local run's choice of search ([`semantic::choose_search_for`], `--method` and
/// `--bits` not given): the band shape when it chooses bands (full or keep-first: the same
/// decisions), None for the exact Hamming search. The background is computed from the
/// sample as the local run computes it.
pub fn search_plan(inputs: SearchInputs<'_>) -> Result<Option<Shape>, StageError> {
    let norms = inputs.sample_norms;
    let (v, rows) = rows_of(inputs.sample, inputs.dim)?;
    if v.rows() != norms.len() || norms.len() != semantic::sample_positions(inputs.n).len() {
        return Err(err(
            "vector_search_plan: the rows at vector_sample_positions(n), one norm each",
        ));
    }
    let opts = VectorOptions {
        seed: 0,
        center: inputs.mean.is_some(),
        threshold: inputs.threshold,
        max_distance: None,
    };
    let centring = centring(inputs.mean, inputs.bar, inputs.low_norm);
    let request = SearchRequest {
        method: VectorMethod::Auto,
        bits: None,
        recall: inputs.recall,
        deciding: true,
    };
    let (search, _) = semantic::choose_search_for(
        inputs.n,
        || semantic::background(&v, &rows, norms, &centring),
        &opts,
        &centring,
        request,
    );
    Ok(match search {
        VectorSearch::Bands(p) | VectorSearch::KeepFirst(p) => Some(Shape {
            rows: p.rows,
            bands: p.bands,
            radius: p.radius,
            recall: p.recall,
        }),
        VectorSearch::Hamming(_) => None,
    })
}

/// One batch of representatives sketched for the band search ([`band_sketch`]).
pub struct BandSketch {
    /// Per row its fingerprint, [`FP_BYTES`] little-endian bytes, row after row.
    pub fingerprints: Vec<u8>,
    /// Per row its centring terms `(μ·x, |x - μ|)` ([`Centring::row_terms`]).
    pub terms: Vec<(f32, f32)>,
    /// Flattened row by row, its band keys ([`BitBands::keys_of`]) as `band << 32 | key`.
    pub buckets: Vec<i64>,
}

/// Sketches one batch of representatives (norm > 0) for the band search: fingerprints of
/// planes `seed` centred on `mean` (the local run's [`semantic::embed_centred`]), centring
/// terms, and band keys of the bands of `seed`.
pub fn band_sketch(
    values: &[f32],
    norms: &[f64],
    mean: Option<Vec<f64>>,
    dim: usize,
    seed: u64,
    shape: Shape,
) -> Result<BandSketch, StageError> {
    let (v, rows, opts, centring) =
        representatives("vector_band_sketch", values, norms, mean, dim, seed)?;
    let shape = shape.params()?;
    let fps =
        semantic::embed_centred::<BandFingerprint>(&[(&v, &rows, norms)], &opts, &centring, &())
            .0
            .pop()
            .expect("one source");
    let terms = centring.row_terms(&v, &rows, norms);
    let bands = BitBands::new(shape, seed);
    let nb = shape.bands as usize;
    let mut keys = vec![0u32; nb];
    let mut buckets: Vec<i64> = Vec::with_capacity(fps.len() * nb);
    for fp in &fps {
        bands.keys_of(fp, &mut keys);
        buckets.extend(
            keys.iter()
                .enumerate()
                .map(|(b, &key)| ((b as i64) << 32) | key as i64),
        );
    }
    let fingerprints = fps
        .iter()
        .flat_map(|fp| fp.0.iter().flat_map(|w| w.to_le_bytes()))
        .collect();
    Ok(BandSketch {
        fingerprints,
        terms,
        buckets,
    })
}

/// Entries of the band stage sorted by `(bucket, row)`: buckets as [`band_sketch`] gives
/// them, the row of each, its fingerprint ([`FP_BYTES`] per entry) and its terms.
pub struct BandEntries<'a> {
    pub buckets: &'a [i64],
    pub rows: &'a [i64],
    pub fingerprints: &'a [u8],
    pub ma: &'a [f32],
    pub ca: &'a [f32],
}

/// The band search's pair rule, built once per task: the bands of `seed` for the shape,
/// and the Hamming filter at `threshold` for the centring `mean` ([`PairRadius`]).
pub struct BandPairs {
    bands: BitBands,
    filter: PairRadius,
}

/// A resumable position in [`BandPairs::pairs`]: the entry pair to look at next.
pub type Cursor = (usize, usize);

impl BandPairs {
    pub fn new(
        shape: Shape,
        seed: u64,
        threshold: f64,
        mean: Option<Vec<f64>>,
    ) -> Result<Self, StageError> {
        let shape = shape.params()?;
        let filter =
            PairRadius::from_terms(Vec::new(), threshold, &centring(mean, 0.0, 1.0), shape);
        Ok(BandPairs {
            bands: BitBands::new(shape, seed),
            filter,
        })
    }

    /// The candidates among `entries`, at most `max` from `cursor` on: of each run of equal
    /// buckets, the pairs that the local [`BitBands::search`] takes from that band (its
    /// first band on whose bits the fingerprints agree, [`BitBands::first_agreement`];
    /// within the shape's radius and the pair's own, [`PairRadius::within`]). Returns
    /// `(a, b, distance)` with `a < b`, and the cursor to go on from, or None.
    #[allow(clippy::type_complexity)]
    pub fn pairs(
        &self,
        entries: &BandEntries<'_>,
        cursor: Cursor,
        max: usize,
    ) -> Result<(Vec<(i64, i64, i64)>, Option<Cursor>), StageError> {
        let BandEntries {
            buckets: keys,
            rows: ids,
            fingerprints: raw,
            ma,
            ca,
        } = *entries;
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
            Wide(w)
        };
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
                return Ok((out, Some((x, y))));
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
        Ok((out, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column<'a>(
        values: &'a [f64],
        offsets: &'a [i64],
        valid: &'a [bool],
        ids: &'a [i64],
    ) -> VectorColumn<'a> {
        VectorColumn {
            values,
            offsets,
            valid,
            row_ids: ids,
            names: None,
            column: "emb",
        }
    }

    #[test]
    fn bad_rows_are_named() {
        let ids = [7, 8];
        let nan = [1.0, 0.0, f64::NAN, 1.0];
        let e = sketch(&column(&nan, &[0, 2, 4], &[true, true], &ids), 2).unwrap_err();
        assert_eq!(e.0, "row 8: column 'emb': the embedding holds NaN");
        let short = [1.0, 0.0, 1.0];
        let e = sketch(&column(&short, &[0, 2, 3], &[true, true], &ids), 2).unwrap_err();
        assert!(
            e.0.starts_with("row 8: column 'emb': the embedding has 1 values"),
            "{e}"
        );
        let e = sketch(&column(&nan, &[0, 2, 4], &[true, false], &ids), 2).unwrap_err();
        assert_eq!(e.0, "row 8: column 'emb' is null");
        let ok = sketch(
            &column(&[3.0, 4.0, 3.0, 4.0], &[0, 2, 4], &[true, true], &ids),
            2,
        )
        .unwrap();
        assert_eq!(ok.norms, vec![5.0, 5.0]);
        assert_eq!(ok.digests[0], ok.digests[1], "equal rows, equal digests");
    }

    #[test]
    fn pairs_are_every_pair_within_the_radius_once() {
        let fps: Vec<u128> = (0..200u128)
            .map(|i| (i * 0x9E37_79B9_7F4A_7C15) ^ (i << 70))
            .collect();
        let ids: Vec<i64> = (0..200).collect();
        let radius = 60;
        let mut got = pairs(&ids, &fps, &ids, &fps, radius).unwrap();
        got.sort_unstable();
        let mut want = Vec::new();
        for a in 0..200 {
            for b in a + 1..200 {
                let d = (fps[a] ^ fps[b]).count_ones();
                if d <= radius {
                    want.push((a as i64, b as i64, d as i64));
                }
            }
        }
        assert!(!want.is_empty());
        assert_eq!(got, want);
    }

    #[test]
    fn unit_mean_is_the_same_for_any_split() {
        let values: Vec<f32> = (0..60).map(|i| ((i * 37 % 11) as f32) - 5.0).collect();
        let s = sketch(
            &column(
                &values.iter().map(|&x| x as f64).collect::<Vec<_>>(),
                &(0..=20).map(|i| i * 3).collect::<Vec<_>>(),
                &[true; 20],
                &(0..20).collect::<Vec<_>>(),
            ),
            3,
        )
        .unwrap();
        let whole = unit_mean(&[unit_sum(&s.values, &s.norms, 3).unwrap()], 3).unwrap();
        let parts = [
            unit_sum(&s.values[..21], &s.norms[..7], 3).unwrap(),
            unit_sum(&s.values[21..], &s.norms[7..], 3).unwrap(),
        ];
        assert_eq!(unit_mean(&parts, 3).unwrap(), whole);
        let cos = cosines(
            &s.values[..3],
            &s.norms[..1],
            &s.values[..3],
            &s.norms[..1],
            3,
        )
        .unwrap();
        assert!((cos[0] - 1.0).abs() < 1e-12);
    }
}
