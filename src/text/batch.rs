//! Texts held in memory (a Python list, an Arrow string array, rows built by a caller):
//! fingerprinted in parallel as files are ([`crate::text::corpus`]), and read again by index for
//! verification without touching a disk. A record of several columns is one text with
//! [`FIELD_SEPARATOR`] between its fields, as datasets are ([`crate::records`]).

use arrow_array::{Array, LargeStringArray, StringArray};
use rayon::prelude::*;

use crate::error::Error;
use crate::progress::Progress;
use crate::text::corpus::Document;
use crate::text::minhash::{BandKeys, BandParams, Sketcher};
use crate::text::simhash::{CityHash, FIELD_SEPARATOR, TextConfig, fields_with};
use crate::text::texts::{SAMPLE_DOCS, TextSource, shingle_set};

/// The texts of a batch: owned strings, or an Arrow string column used in place (a
/// pyarrow array handed over through the Arrow C data interface, a Parquet column). A null
/// slot reads as the empty text; callers that must refuse nulls check [`TextColumn::first_null`].
#[derive(Debug)]
pub enum TextColumn {
    Owned(Vec<String>),
    Utf8(StringArray),
    LargeUtf8(LargeStringArray),
}

impl TextColumn {
    /// Number of texts.
    pub fn len(&self) -> usize {
        match self {
            TextColumn::Owned(v) => v.len(),
            TextColumn::Utf8(a) => a.len(),
            TextColumn::LargeUtf8(a) => a.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Text `i` (empty for a null slot).
    pub fn get(&self, i: usize) -> &str {
        match self {
            TextColumn::Owned(v) => &v[i],
            TextColumn::Utf8(a) => a.value(i),
            TextColumn::LargeUtf8(a) => a.value(i),
        }
    }

    /// The texts as owned strings (no copy when they are owned already).
    pub fn into_strings(self) -> Vec<String> {
        match self {
            TextColumn::Owned(v) => v,
            other => (0..other.len()).map(|i| other.get(i).to_string()).collect(),
        }
    }

    /// Whether slot `i` is null (an owned text never is).
    pub fn is_null(&self, i: usize) -> bool {
        match self {
            TextColumn::Owned(_) => false,
            TextColumn::Utf8(a) => a.is_null(i),
            TextColumn::LargeUtf8(a) => a.is_null(i),
        }
    }

    /// The first null slot of an Arrow column, if any.
    pub fn first_null(&self) -> Option<usize> {
        let nulls = match self {
            TextColumn::Owned(_) => None,
            TextColumn::Utf8(a) => a.nulls(),
            TextColumn::LargeUtf8(a) => a.nulls(),
        }?;
        (0..nulls.len()).find(|&i| nulls.is_null(i))
    }
}

impl From<Vec<String>> for TextColumn {
    fn from(v: Vec<String>) -> Self {
        TextColumn::Owned(v)
    }
}

/// Fingerprinted texts in input order: `texts.get(i)`, `docs[i]` and `fingerprints[i]`
/// describe text `i`.
#[derive(Debug)]
pub struct TextBatch<F> {
    pub texts: TextColumn,
    pub docs: Vec<Document>,
    pub fingerprints: Vec<F>,
    /// MinHash band keys of every text, when fingerprinting was asked for them.
    pub bands: Option<BandKeys>,
    /// Whether the texts are records of several fields (joined by [`FIELD_SEPARATOR`]).
    pub fields: bool,
}

/// Joins the fields of one record into the text a [`TextBatch`] holds. Characters equal to
/// the separator inside a field are replaced by a space, so fields stay apart.
pub fn join_fields<S: AsRef<str>>(fields: &[S]) -> String {
    let mut text = String::new();
    for (k, field) in fields.iter().enumerate() {
        if k > 0 {
            text.push(FIELD_SEPARATOR);
        }
        text.extend(
            field
                .as_ref()
                .chars()
                .map(|c| if c == FIELD_SEPARATOR { ' ' } else { c }),
        );
    }
    text
}

impl<F: CityHash> TextBatch<F> {
    /// Fingerprints `texts` in parallel (and computes band keys of shape `bands`). With
    /// `fields`, each text is a record made by [`join_fields`] and is fingerprinted field by
    /// field ([`crate::text::simhash::fingerprint_fields`]); without, a separator character in a
    /// text is ordinary text.
    pub fn new(
        texts: impl Into<TextColumn>,
        fields: bool,
        config: &TextConfig,
        bands: Option<BandParams>,
        progress: &dyn Progress,
    ) -> TextBatch<F> {
        Self::build(texts.into(), fields, config, bands, progress, true)
    }

    /// [`TextBatch::new`] of records (`fields`) with their band keys, the SimHash skipped:
    /// every fingerprint is zero (for a caller that needs only the keys, digests and
    /// counts, as the Spark sketch: the SimHash was a tenth of its time).
    pub fn keys_only(
        texts: impl Into<TextColumn>,
        config: &TextConfig,
        bands: BandParams,
    ) -> TextBatch<F> {
        Self::build(texts.into(), true, config, Some(bands), &(), false)
    }

    fn build(
        texts: TextColumn,
        fields: bool,
        config: &TextConfig,
        bands: Option<BandParams>,
        progress: &dyn Progress,
        simhash: bool,
    ) -> TextBatch<F> {
        let n = texts.len();
        progress.start("fingerprinting", n as u64, "texts");
        let width = bands.map_or(0, |b| b.bands as usize);
        // Without bands, one unused key per text keeps the zip simple.
        let stride = width.max(1);
        let mut flat = vec![0u32; n * stride];
        let sketcher = bands.map(Sketcher::new);
        let sigs: Vec<_> = (0..n)
            .into_par_iter()
            .map(|i| texts.get(i))
            .zip(flat.par_chunks_mut(stride))
            .map_init(
                || sketcher.clone(),
                |sketcher, (text, keys)| {
                    let sig = if fields {
                        fields_with::<F>(text, config, sketcher.as_mut(), simhash)
                    } else {
                        debug_assert!(simhash, "keys_only reads records");
                        let mut fp = crate::text::simhash::Fingerprinter::<F>::new(config);
                        if let Some(s) = sketcher.as_mut() {
                            fp = fp.with_sketcher(s);
                        }
                        fp.push(text, true);
                        fp.finish()
                    };
                    if let Some(s) = sketcher.as_mut() {
                        s.finish(keys);
                    }
                    progress.inc(1);
                    sig
                },
            )
            .collect();
        progress.finish();
        let docs = sigs
            .iter()
            .map(|s| Document {
                chars: s.chars,
                shingles: s.shingles,
                digest: s.digest,
            })
            .collect();
        TextBatch {
            texts,
            docs,
            fingerprints: sigs.iter().map(|s| s.fingerprint).collect(),
            bands: bands.map(|b| BandKeys::from_flat(b.bands as usize, flat)),
            fields,
        }
    }
}

impl<F> TextBatch<F> {
    /// Number of texts.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

/// The exact Jaccard similarities of all pairs among up to `m` of `texts`, evenly spaced:
/// the background a band shape has to live with (as [`crate::text::corpus::sample_similarities`]
/// measures it for files). Texts without shingles are left out.
pub fn sample_similarities(texts: &TextColumn, config: &TextConfig, m: usize) -> Vec<f64> {
    let n = texts.len();
    let m = m.min(n);
    let sets: Vec<Vec<u64>> = (0..m)
        .into_par_iter()
        .map(|s| shingle_set(texts.get(s * n / m), None, config).0)
        .filter(|set| !set.is_empty())
        .collect();
    crate::text::texts::background(&sets)
}

/// The band shape for searching `texts` at `bar` with `recall`, from a sampled background
/// above [`SAMPLE_DOCS`] texts (as [`crate::text::corpus::band_shape`] does for files).
pub fn band_shape(texts: &TextColumn, config: &TextConfig, bar: f64, recall: f64) -> BandParams {
    let sample = if texts.len() > SAMPLE_DOCS {
        sample_similarities(texts, config, SAMPLE_DOCS)
    } else {
        Vec::new()
    };
    BandParams::solve_sampled(bar, recall, texts.len(), &sample)
}

impl<F: Sync> TextSource for TextBatch<F> {
    fn text(&self, i: usize) -> Result<String, Error> {
        Ok(self.texts.get(i).to_string())
    }

    fn name(&self, i: usize) -> String {
        format!("text {i}")
    }

    fn separator(&self) -> Option<char> {
        self.fields.then_some(FIELD_SEPARATOR)
    }

    fn shingle_set(&self, i: usize, config: &TextConfig) -> Result<(Vec<u64>, u128), Error> {
        Ok(shingle_set(self.texts.get(i), self.separator(), config))
    }
}

impl<'a, F: Sync> From<&'a TextBatch<F>> for crate::text::texts::Texts<'a, F, Document> {
    fn from(b: &'a TextBatch<F>) -> Self {
        crate::text::texts::Texts {
            fingerprints: &b.fingerprints,
            docs: &b.docs,
            bands: b.bands.as_ref(),
            source: b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::simhash::fingerprint_fields;

    fn config() -> TextConfig {
        TextConfig {
            shingling: "word:3".parse().unwrap(),
            normalization: Default::default(),
            weighting: crate::text::simhash::Weighting::Set,
            compat: false,
        }
    }

    #[test]
    fn batch_fingerprints_equal_one_at_a_time() {
        let texts: Vec<String> = ["the quick brown fox jumps", "", "a b", "one two three four"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let params = BandParams { rows: 2, bands: 5 };
        let batch = TextBatch::<u64>::new(texts.clone(), false, &config(), Some(params), &());
        for (i, t) in texts.iter().enumerate() {
            let mut sketcher = Sketcher::new(params);
            let (sig, keys) = crate::text::simhash::sketch_text::<u64>(t, &config(), &mut sketcher);
            assert_eq!(batch.fingerprints[i], sig.fingerprint);
            assert_eq!(batch.docs[i].digest, sig.digest);
            assert_eq!(batch.bands.as_ref().unwrap().get(i), &keys[..]);
        }
    }

    #[test]
    fn keys_only_gives_the_keys_digests_and_counts_of_new() {
        let texts: Vec<String> = [
            "the quick brown fox jumps over it",
            "",
            "a b",
            &join_fields(&["one two three four", "five six"]),
            &join_fields(&["", "x"]),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let params = BandParams { rows: 2, bands: 5 };
        let full = TextBatch::<u128>::new(texts.clone(), true, &config(), Some(params), &());
        let keys = TextBatch::<u128>::keys_only(texts, &config(), params);
        assert!(keys.fingerprints.iter().all(|&f| f == 0));
        assert!(full.fingerprints.iter().any(|&f| f != 0));
        for i in 0..5 {
            let (a, b) = (&full.docs[i], &keys.docs[i]);
            assert_eq!(
                (a.chars, a.shingles, a.digest),
                (b.chars, b.shingles, b.digest)
            );
            assert_eq!(
                full.bands.as_ref().unwrap().get(i),
                keys.bands.as_ref().unwrap().get(i)
            );
        }
    }

    #[test]
    fn records_join_fields_and_keep_separators_out() {
        let text = join_fields(&["a\u{1e}b", "c"]);
        assert_eq!(text, "a b\u{1e}c");
        let batch = TextBatch::<u64>::new(vec![text.clone()], true, &config(), None, &());
        assert_eq!(
            batch.fingerprints[0],
            fingerprint_fields::<u64>(&text, &config()).fingerprint
        );
        assert_eq!(batch.separator(), Some(FIELD_SEPARATOR));
    }
}
