//! Reading and fingerprinting a set of files in parallel, keeping only what later stages
//! need: the path, a few counts and the fingerprint. No document text is kept.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Report};
use crate::input::{Contents, PathList, read_text};
use crate::progress::Progress;
use crate::simhash::{CityHash, TextConfig, fingerprint_text};

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

impl crate::ops::dedup::DocStats for Document {
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
/// describe document `i`. Per document this holds the path's bytes plus 8, the 32 bytes of
/// a [`Document`] and the fingerprint.
#[derive(Debug)]
pub struct Corpus<F> {
    pub paths: PathList,
    pub docs: Vec<Document>,
    pub fingerprints: Vec<F>,
    /// Files skipped because they hold a NUL byte.
    pub binary_skipped: usize,
    /// Files that could not be read (each reported).
    pub unreadable: usize,
}

/// Files fingerprinted per parallel batch: results move into the corpus batch by batch, so
/// no intermediate list is as long as the input.
const BATCH: usize = 8192;

/// Reads and fingerprints `files` in parallel; the result keeps their order. Files that
/// cannot be read are reported and left out; binary files are counted and left out.
pub fn fingerprint_files<F: CityHash>(
    mut files: PathList,
    config: &TextConfig,
    allow_binary: bool,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Corpus<F> {
    let n = files.len();
    progress.start("fingerprinting", n as u64, "files");
    let binary = AtomicUsize::new(0);
    let unreadable = AtomicUsize::new(0);
    let mut docs = Vec::with_capacity(n);
    let mut fingerprints = Vec::with_capacity(n);
    let mut kept = bitvec::bitvec![0; n];
    for start in (0..n).step_by(BATCH) {
        let end = (start + BATCH).min(n);
        let batch: Vec<Option<(Document, F)>> = (start..end)
            .into_par_iter()
            .map(|i| {
                let path = files.get(i);
                let outcome = match read_text(path, allow_binary) {
                    Ok(Contents::Text(text)) => {
                        let sig = fingerprint_text::<F>(&text, config);
                        let doc = Document {
                            chars: sig.chars,
                            shingles: sig.shingles,
                            digest: sig.digest,
                        };
                        Some((doc, sig.fingerprint))
                    }
                    Ok(Contents::Binary) => {
                        binary.fetch_add(1, Ordering::Relaxed);
                        None
                    }
                    Err(source) => {
                        unreadable.fetch_add(1, Ordering::Relaxed);
                        report.report(Error::Io {
                            path: path.to_path_buf(),
                            source,
                        });
                        None
                    }
                };
                progress.inc(1);
                outcome
            })
            .collect();
        for (i, outcome) in (start..end).zip(batch) {
            if let Some((doc, fp)) = outcome {
                kept.set(i, true);
                docs.push(doc);
                fingerprints.push(fp);
            }
        }
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
        binary_skipped: binary.into_inner(),
        unreadable: unreadable.into_inner(),
    }
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

/// Files are read again for verification. A file that turned binary counts as changed.
impl<F: Sync> crate::verify::TextSource for Corpus<F> {
    fn text(&self, i: usize) -> Result<String, Error> {
        let path = self.path(i);
        match read_text(path, true) {
            Ok(Contents::Text(text)) => Ok(text),
            Ok(Contents::Binary) => unreachable!("binary files are read as text here"),
            Err(source) => Err(Error::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    fn name(&self, i: usize) -> String {
        self.path(i).display().to_string()
    }
}
