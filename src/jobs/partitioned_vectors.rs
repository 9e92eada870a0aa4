//! The embedding dedup as stages for a distributed engine (the Spark job's
//! `embedding_column=`), each a call on one batch's plain arrays: check and sketch rows,
//! sum unit rows, centred norms, the choice of search, fingerprints, candidate pairs
//! (within the Hamming radius, or from the band search split by band ranges over tasks
//! that each get every representative's [`band_blob`]) and exact cosines. Each is what
//! `simdedup dedup DATA --embedding-column` runs ([`semantic::dedup_vectors`] with the
//! search [`semantic::choose_search`] picks), so a job built on them decides as the local
//! run does. The counterpart of [`super::partitioned`] for text.

use std::path::Path;

use crate::fingerprint::Wide;
use crate::ops::semantic::{
    self, BandFingerprint, Centring, Cosine, PairRadius, SearchRequest, Similarity, VectorMethod,
    VectorOptions, VectorSearch,
};
use crate::search;
use crate::search::bitbands::{BitBandParams, BitBands, MAX_BANDS};
use crate::vectors::hyperplane::{self, UnitSum};
use crate::vectors::npy::{Codes, Vectors, norm};

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

/// Sketches one batch of representatives (norm > 0, ids `rows`) for the band search, as
/// one blob: fingerprints of planes `seed` centred on `mean` (the local run's
/// [`semantic::embed_centred`]), centring terms ([`Centring::row_terms`]) and 8-bit codes
/// ([`Codes`], the local search's last test before the exact cosine). Layout,
/// little-endian: the row count `n` and `dim` (u64 each), then per row, column after
/// column: ids (i64), fingerprints ([`FP_BYTES`]), terms (f32, f32), codes (`dim` i8) and
/// their `(step, error)` (f64, f64). Every task of [`band_group_pairs`] gets every blob:
/// `96 + dim` bytes a row per task.
pub fn band_blob(
    rows: &[i64],
    values: &[f32],
    norms: &[f64],
    mean: Option<Vec<f64>>,
    dim: usize,
    seed: u64,
) -> Result<Vec<u8>, StageError> {
    let (v, positions, opts, centring) =
        representatives("vector_band_blob", values, norms, mean, dim, seed)?;
    if rows.len() != v.rows() {
        return Err(err("vector_band_blob: one id per row"));
    }
    let fps = semantic::embed_centred::<BandFingerprint>(
        &[(&v, &positions, norms)],
        &opts,
        &centring,
        &(),
    )
    .0
    .pop()
    .expect("one source");
    let terms = centring.row_terms(&v, &positions, norms);
    let codes = Codes::new(&v, &positions, norms);
    let mut out = Vec::with_capacity(16 + rows.len() * (96 + dim));
    out.extend_from_slice(&(rows.len() as u64).to_le_bytes());
    out.extend_from_slice(&(dim as u64).to_le_bytes());
    rows.iter()
        .for_each(|r| out.extend_from_slice(&r.to_le_bytes()));
    for fp in &fps {
        fp.0.iter()
            .for_each(|w| out.extend_from_slice(&w.to_le_bytes()));
    }
    for (m, c) in terms {
        out.extend_from_slice(&m.to_le_bytes());
        out.extend_from_slice(&c.to_le_bytes());
    }
    for i in 0..rows.len() {
        out.extend(codes.row(i).0.iter().map(|&c| c as u8));
    }
    for i in 0..rows.len() {
        let (step, error) = codes.row(i).1;
        out.extend_from_slice(&step.to_le_bytes());
        out.extend_from_slice(&error.to_le_bytes());
    }
    Ok(out)
}

/// The rows of [`band_blob`]s, in the order read.
#[derive(Default)]
struct BandRows {
    ids: Vec<i64>,
    fps: Vec<BandFingerprint>,
    terms: Vec<(f32, f32)>,
    dim: Option<usize>,
    codes: Vec<i8>,
    scale: Vec<(f64, f64)>,
}

impl BandRows {
    fn read(&mut self, blob: &[u8]) -> Result<(), StageError> {
        let bad = || err("vector band stage: a malformed blob");
        let word = |at: usize| -> Result<[u8; 8], StageError> {
            blob.get(at..at + 8)
                .map(|b| b.try_into().expect("8 bytes"))
                .ok_or_else(bad)
        };
        let n = u64::from_le_bytes(word(0)?) as usize;
        let dim = u64::from_le_bytes(word(8)?) as usize;
        if n > blob.len() || dim > blob.len() || blob.len() != 16 + n * (96 + dim) {
            return Err(bad());
        }
        if *self.dim.get_or_insert(dim) != dim {
            return Err(bad());
        }
        let (ids, fps) = (16, 16 + 8 * n);
        let (terms, codes) = (fps + FP_BYTES * n, fps + FP_BYTES * n + 8 * n);
        let scale = codes + dim * n;
        let f32_at = |at: usize| f32::from_le_bytes(blob[at..at + 4].try_into().expect("4"));
        let f64_at = |at: usize| f64::from_le_bytes(blob[at..at + 8].try_into().expect("8"));
        for i in 0..n {
            let mut fp = [0u64; FP_BYTES / 8];
            for (k, w) in fp.iter_mut().enumerate() {
                *w = u64::from_le_bytes(word(fps + i * FP_BYTES + 8 * k)?);
            }
            self.ids.push(i64::from_le_bytes(word(ids + 8 * i)?));
            self.fps.push(Wide(fp));
            self.terms
                .push((f32_at(terms + 8 * i), f32_at(terms + 8 * i + 4)));
            self.scale
                .push((f64_at(scale + 16 * i), f64_at(scale + 16 * i + 8)));
        }
        self.codes
            .extend(blob[codes..codes + dim * n].iter().map(|&c| c as i8));
        Ok(())
    }

    /// The rows sorted by id (as the local search numbers them), with their codes.
    #[allow(clippy::type_complexity)]
    fn sorted(
        self,
    ) -> Result<(Vec<i64>, Vec<BandFingerprint>, Vec<(f32, f32)>, Codes), StageError> {
        let mut order: Vec<usize> = (0..self.ids.len()).collect();
        order.sort_unstable_by_key(|&i| self.ids[i]);
        let ids: Vec<i64> = order.iter().map(|&i| self.ids[i]).collect();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(err("vector band stage: a row in two blobs"));
        }
        let dim = self.dim.unwrap_or(0);
        let mut codes = Vec::with_capacity(self.codes.len());
        for &i in &order {
            codes.extend_from_slice(&self.codes[i * dim..(i + 1) * dim]);
        }
        let scale = order.iter().map(|&i| self.scale[i]).collect();
        Ok((
            ids,
            order.iter().map(|&i| self.fps[i]).collect(),
            order.iter().map(|&i| self.terms[i]).collect(),
            Codes::from_rows(dim, codes, scale).expect("dim codes a row"),
        ))
    }
}

/// The bands that task `group` of `groups` searches: a contiguous share of them.
pub fn group_bands(bands: usize, group: usize, groups: usize) -> std::ops::Range<usize> {
    let groups = groups.max(1);
    bands * group / groups..bands * (group + 1) / groups
}

/// One task of the band search: every representative's [`band_blob`] in `blobs` (any
/// order), searched in the bands [`group_bands`] gives task `group` of `groups`
/// ([`BitBands::search_bands`], bands of `seed` for `shape`): the pairs whose first
/// agreeing band is one of these, within the shape's radius and the pair's own at
/// `threshold` ([`PairRadius::within`]), and not proved below it by the 8-bit codes
/// ([`Codes::may_reach`]), as `(a, b, distance)` with ids `a < b`, sorted. Over all groups
/// these are the local band search's candidates.
#[allow(clippy::too_many_arguments)]
pub fn band_group_pairs(
    blobs: &[&[u8]],
    shape: Shape,
    seed: u64,
    threshold: f64,
    mean: Option<Vec<f64>>,
    group: usize,
    groups: usize,
) -> Result<Vec<(i64, i64, i64)>, StageError> {
    let shape = shape.params()?;
    if group >= groups {
        return Err(err(format!("vector band stage: group {group} of {groups}")));
    }
    let mut read = BandRows::default();
    for blob in blobs {
        read.read(blob)?;
    }
    // Positions in id order, as the local search numbers its rows: a pair's first row is
    // its smaller id, and the filter takes the terms in that order.
    let (ids, fps, terms, codes) = read.sorted()?;
    let filter = PairRadius::from_terms(Vec::new(), threshold, &centring(mean, 0.0, 1.0), shape);
    let within = |&ta: &(f32, f32), &tb: &(f32, f32), d: u32| filter.within(ta, tb, d);
    let keep = |a: u32, b: u32| codes.may_reach(a, b, threshold);
    let bands = BitBands::new(shape, seed);
    let range = group_bands(shape.bands as usize, group, groups);
    let mut out = Vec::new();
    bands.search_bands(&fps, range, &terms, &within, &keep, &mut |found| {
        out.extend(
            found
                .iter()
                .map(|p| (ids[p.a as usize], ids[p.b as usize], p.distance as i64)),
        );
    });
    out.sort_unstable();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::Fingerprint;

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

    #[test]
    fn band_groups_give_the_whole_band_search() {
        // Clustered rows: many pairs agree on some band, some are also far apart.
        let dim = 16;
        let mut rng = hyperplane::Rng::new(5);
        let mut values = Vec::new();
        for i in 0..400 {
            let centre = (i % 7) as f32;
            for k in 0..dim {
                let noise = (rng.next_u64() % 1000) as f32 / 4000.0;
                values.push(((k as f32 + centre) * 0.37).sin() + noise);
            }
        }
        let norms: Vec<f64> = values.chunks(dim).map(norm).collect();
        let mean = unit_mean(&[unit_sum(&values, &norms, dim).unwrap()], dim).unwrap();
        let shape = Shape {
            rows: 12,
            bands: 9,
            radius: 200,
            recall: 0.9,
        };
        let (seed, threshold) = (3, 0.8);
        // The rows in two blobs, ids not in blob order.
        let ids: Vec<i64> = (0..400).map(|i| (i * 7919 % 400) as i64 * 3).collect();
        let blob = |r: std::ops::Range<usize>| {
            band_blob(
                &ids[r.clone()],
                &values[r.start * dim..r.end * dim],
                &norms[r.clone()],
                Some(mean.clone()),
                dim,
                seed,
            )
            .unwrap()
        };
        let blobs = [blob(250..400), blob(0..250)];
        let slices: Vec<&[u8]> = blobs.iter().map(|b| b.as_slice()).collect();
        let mut split = Vec::new();
        for g in 0..4 {
            split.extend(
                band_group_pairs(&slices, shape, seed, threshold, Some(mean.clone()), g, 4)
                    .unwrap(),
            );
        }
        split.sort_unstable();
        let whole =
            band_group_pairs(&slices, shape, seed, threshold, Some(mean.clone()), 0, 1).unwrap();
        assert!(whole.len() > 100, "{} pairs", whole.len());
        assert_eq!(
            split, whole,
            "the groups' pairs are the whole search's, each once"
        );
        // The whole search against brute force: every pair agreeing on some band and
        // within the radii, by the definition.
        let mut read = BandRows::default();
        for b in &slices {
            read.read(b).unwrap();
        }
        let (ids, fps, terms, codes) = read.sorted().unwrap();
        let bands = BitBands::new(shape.params().unwrap(), seed);
        let filter = PairRadius::from_terms(
            Vec::new(),
            threshold,
            &centring(Some(mean), 0.0, 1.0),
            shape.params().unwrap(),
        );
        let mut want = Vec::new();
        let mut coded_out = 0;
        for x in 0..ids.len() {
            for y in x + 1..ids.len() {
                let d = fps[x].distance(&fps[y]);
                let agrees = (0..9).any(|b| bands.first_agreement(&fps[x], &fps[y], b));
                if agrees && filter.within(terms[x], terms[y], d) {
                    if codes.may_reach(x as u32, y as u32, threshold) {
                        want.push((ids[x], ids[y], d as i64));
                    } else {
                        coded_out += 1;
                    }
                }
            }
        }
        assert!(coded_out > 0, "the codes rule some pairs out");
        assert_eq!(whole, want);
        assert!(band_group_pairs(&[&blobs[0][..20]], shape, seed, threshold, None, 0, 1).is_err());
    }
}
