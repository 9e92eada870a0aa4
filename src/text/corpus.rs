//! Reading and fingerprinting a set of files in parallel, keeping only what later stages
//! need: the path, a few counts and the fingerprint. No document text is kept.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Report};
use crate::input::{CHUNK_BYTES, Contents, FileKind, PathList, read_chunks, read_text};
use crate::progress::Progress;
use crate::text::minhash::{BandKeys, BandParams, Sketcher};
use crate::text::simhash::{CityHash, Fingerprinter, TextConfig};
use crate::text::sketch::{SLOTS, Sketch, Sketches};
use crate::text::texts::{SAMPLE_DOCS, sample_docs};

/// What is kept of one fingerprinted document besides its path and fingerprint (those live
/// in [`Corpus::paths`] and [`Corpus::fingerprints`]): 32 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Document {
    /// Characters in the text as read.
    pub chars: u64,
    /// Shingle occurrences; 0 = too short to fingerprint.
    pub shingles: u64,
    /// Hash of the normalised text, for exact-duplicate grouping.
    pub digest: u128,
}

impl crate::text::texts::DocStats for Document {
    fn chars(&self) -> u64 {
        self.chars
    }
    fn shingles(&self) -> u64 {
        self.shingles
    }
    fn digest(&self) -> u128 {
        self.digest
    }
}

/// Fingerprinted documents in input order: `paths.get(i)`, `docs[i]` and `fingerprints[i]`
/// describe document `i` (`fingerprints` is empty when they were not kept, see
/// [`fingerprint_files_keeping`]). Per document this holds the path's bytes plus 4, the 32
/// bytes of a [`Document`], the fingerprint and the band keys (4 bytes per band).
#[derive(Debug)]
pub struct Corpus<F> {
    pub paths: PathList,
    pub docs: Vec<Document>,
    pub fingerprints: Vec<F>,
    /// MinHash band keys (`bands[i]` for document `i`), when fingerprinting was asked for
    /// them.
    pub bands: Option<BandKeys>,
    /// Similarity sketches ([`crate::text::sketch`]), made with the band keys: verification
    /// compares two before it reads the files again. [`SLOTS`] + 4 bytes a document.
    pub sketches: Option<Sketches>,
    /// Files skipped because they hold a NUL byte.
    pub binary_skipped: usize,
    /// Files that could not be read (each reported).
    pub unreadable: usize,
}

/// Files fingerprinted per parallel batch: results move into the corpus batch by batch, so
/// no intermediate list is as long as the input.
const BATCH: usize = 8192;

/// Reads and fingerprints `files` in parallel; the result keeps their order. Files that
/// cannot be read are reported and left out; binary files are counted and left out. With
/// `bands`, each document's MinHash band keys are computed in the same pass.
pub fn fingerprint_files<F: CityHash>(
    files: PathList,
    config: &TextConfig,
    bands: Option<BandParams>,
    allow_binary: bool,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Corpus<F> {
    fingerprint_files_keeping(files, config, bands, true, allow_binary, progress, report)
}

/// [`fingerprint_files`], keeping the fingerprints only if `keep_fingerprints`; without,
/// [`Corpus::fingerprints`] is empty. A band search that prints no Hamming distance needs
/// none, and saves their 4-16 bytes a document.
pub fn fingerprint_files_keeping<F: CityHash>(
    mut files: PathList,
    config: &TextConfig,
    bands: Option<BandParams>,
    keep_fingerprints: bool,
    allow_binary: bool,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Corpus<F> {
    let n = files.len();
    progress.start("fingerprinting", n as u64, "files");
    let binary = AtomicUsize::new(0);
    let unreadable = AtomicUsize::new(0);
    let mut docs = Vec::with_capacity(n);
    let mut fingerprints = Vec::with_capacity(if keep_fingerprints { n } else { 0 });
    let mut kept = bitvec::bitvec![0; n];
    let sketcher = bands.map(|b| Sketcher::new(b).with_similarity_sketch());
    let width = bands.map_or(0, |b| b.bands as usize);
    let mut keys = bands.map(|b| {
        let mut keys = BandKeys::new(b.bands as usize);
        keys.reserve(n);
        keys
    });
    let mut sketches = bands.map(|_| {
        let mut s = Sketches::new();
        s.reserve(n);
        s
    });
    // One key and sketch buffer per batch, written in place by the workers (no allocation
    // per file).
    let stride = width.max(1);
    let slots = if bands.is_some() { SLOTS } else { 1 };
    let mut batch_keys = vec![0u32; BATCH * stride];
    let mut batch_slots = vec![0u8; BATCH * slots];
    for start in (0..n).step_by(BATCH) {
        let end = (start + BATCH).min(n);
        let batch: Vec<Option<(Document, F, u32)>> = (start..end)
            .into_par_iter()
            .zip(batch_keys.par_chunks_mut(stride))
            .zip(batch_slots.par_chunks_mut(slots))
            .map_init(
                || sketcher.clone(),
                |sketcher, ((i, band_keys), sketch)| {
                    let path = files.get(i);
                    let mut fp = Fingerprinter::<F>::new(config);
                    if let Some(s) = sketcher.as_mut() {
                        fp = fp.with_sketcher(s);
                    }
                    let read = read_chunks(path, allow_binary, CHUNK_BYTES, &mut |piece, last| {
                        fp.push(piece, last)
                    });
                    let outcome = match read {
                        Ok(FileKind::Text) => {
                            let sig = fp.finish();
                            let doc = Document {
                                chars: sig.chars,
                                shingles: sig.shingles,
                                digest: sig.digest,
                            };
                            let distinct = match sketcher.as_mut() {
                                Some(s) => s.finish_with_sketch(band_keys, sketch),
                                None => 0,
                            };
                            Some((doc, sig.fingerprint, distinct))
                        }
                        Ok(FileKind::Binary) => {
                            binary.fetch_add(1, Ordering::Relaxed);
                            None
                        }
                        Err(e) => {
                            unreadable.fetch_add(1, Ordering::Relaxed);
                            report.report(e);
                            None
                        }
                    };
                    if let Some(s) = sketcher.as_mut().filter(|s| !s.is_empty()) {
                        // A file that failed half-way: forget its shingles.
                        s.finish(band_keys);
                    }
                    progress.inc(1);
                    outcome
                },
            )
            .collect();
        let buffers = batch_keys.chunks(stride).zip(batch_slots.chunks(slots));
        for ((i, outcome), (band_keys, sketch)) in (start..end).zip(batch).zip(buffers) {
            if let Some((doc, fp, distinct)) = outcome {
                kept.set(i, true);
                docs.push(doc);
                if keep_fingerprints {
                    fingerprints.push(fp);
                }
                if let Some(keys) = keys.as_mut() {
                    keys.push(band_keys);
                }
                if let Some(sketches) = sketches.as_mut() {
                    sketches.push(sketch, distinct);
                }
            }
        }
    }
    if let Some(keys) = keys.as_mut() {
        keys.shrink_to_fit();
    }
    if let Some(sketches) = sketches.as_mut() {
        sketches.shrink_to_fit();
    }
    progress.finish();
    files.retain(&kept);
    files.shrink_to_fit();
    docs.shrink_to_fit();
    fingerprints.shrink_to_fit();
    Corpus {
        paths: files,
        docs,
        fingerprints,
        bands: keys,
        sketches,
        binary_skipped: binary.into_inner(),
        unreadable: unreadable.into_inner(),
    }
}

/// The exact Jaccard similarities of all pairs among up to `m` documents of `files`,
/// evenly spaced in the list: the background a band shape has to live with
/// ([`crate::text::minhash::BandParams::solve_sampled`]). Files that cannot be read, binary
/// files and texts without shingles are left out silently (the main pass reports them).
pub fn sample_similarities(files: &PathList, config: &TextConfig, m: usize) -> Vec<f64> {
    let n = files.len();
    let m = m.min(n);
    let sets: Vec<Vec<u64>> = (0..m)
        .into_par_iter()
        .filter_map(|s| {
            let path = files.get(s * n / m);
            match read_text(path, false) {
                Ok(Contents::Text(text)) => {
                    let (set, _) = crate::text::texts::shingle_set(&text, None, config);
                    (!set.is_empty()).then_some(set)
                }
                _ => None,
            }
        })
        .collect();
    crate::text::texts::background(&sets)
}

/// The band shape for searching `files` at the similarity `bar` with `recall`: from the
/// background of a sample of [`sample_docs`] files ([`sample_similarities`]) over more than
/// [`SAMPLE_DOCS`] files, from the assumed one below ([`BandParams::solve_sampled`] with no
/// sample).
pub fn band_shape(files: &PathList, config: &TextConfig, bar: f64, recall: f64) -> BandParams {
    let sample = if files.len() > SAMPLE_DOCS {
        sample_similarities(files, config, sample_docs(files.len()))
    } else {
        Vec::new()
    };
    BandParams::solve_sampled(bar, recall, files.len(), &sample)
}

impl<F> Corpus<F> {
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The path of document `i`.
    pub fn path(&self, i: usize) -> &Path {
        self.paths.get(i)
    }
}

/// Files are read again for verification, streamed (a file that turned binary counts as
/// changed: its NUL bytes are read as text and the digest differs).
impl<F: Sync> crate::text::texts::TextSource for Corpus<F> {
    fn text(&self, i: usize) -> Result<String, Error> {
        match read_text(self.path(i), true)? {
            Contents::Text(text) => Ok(text),
            Contents::Binary => unreachable!("binary files are read as text here"),
        }
    }

    fn name(&self, i: usize) -> String {
        self.path(i).display().to_string()
    }

    fn shingle_set(&self, i: usize, config: &TextConfig) -> Result<(Vec<u64>, u128), Error> {
        crate::text::texts::stream_shingle_set(config, |push| {
            read_chunks(self.path(i), true, CHUNK_BYTES, push).map(|_| ())
        })
    }

    fn sketch(&self, i: usize) -> Option<Sketch<'_>> {
        self.sketches.as_ref().map(|s| s.get(i))
    }
}

impl<'a, F: Sync> From<&'a Corpus<F>> for crate::text::texts::Texts<'a, F, Document> {
    fn from(c: &'a Corpus<F>) -> Self {
        crate::text::texts::Texts {
            fingerprints: &c.fingerprints,
            docs: &c.docs,
            bands: c.bands.as_ref(),
            source: c,
        }
    }
}
