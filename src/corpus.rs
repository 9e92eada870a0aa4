//! Reading and fingerprinting a set of files in parallel, keeping only what later stages
//! need: the path, a few counts and the fingerprint. No document text is kept.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Report};
use crate::input::{Contents, read_text};
use crate::progress::Progress;
use crate::simhash::{CityHash, TextConfig, fingerprint_text};

/// One fingerprinted document (its fingerprint lives in [`Corpus::fingerprints`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub path: PathBuf,
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

/// Fingerprinted documents in input order, `docs[i]` with `fingerprints[i]`.
#[derive(Debug)]
pub struct Corpus<F> {
    pub docs: Vec<Document>,
    pub fingerprints: Vec<F>,
    /// Files skipped because they hold a NUL byte.
    pub binary_skipped: usize,
    /// Files that could not be read (each reported).
    pub unreadable: usize,
}

/// Reads and fingerprints `files` in parallel; the result keeps their order. Files that
/// cannot be read are reported and left out; binary files are counted and left out.
pub fn fingerprint_files<F: CityHash>(
    files: Vec<PathBuf>,
    config: &TextConfig,
    allow_binary: bool,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Corpus<F> {
    progress.start("fingerprinting", files.len() as u64, "files");
    let binary = AtomicUsize::new(0);
    let unreadable = AtomicUsize::new(0);
    let results: Vec<Option<(Document, F)>> = files
        .into_par_iter()
        .map(|path| {
            let outcome = match read_text(&path, allow_binary) {
                Ok(Contents::Text(text)) => {
                    let sig = fingerprint_text::<F>(&text, config);
                    let doc = Document {
                        path,
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
                    report.report(Error::Io { path, source });
                    None
                }
            };
            progress.inc(1);
            outcome
        })
        .collect();
    progress.finish();
    let (docs, fingerprints) = results.into_iter().flatten().unzip();
    Corpus {
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
    pub fn path(&self, i: usize) -> &std::path::Path {
        &self.docs[i].path
    }
}

/// Files are read again for verification. A file that turned binary counts as changed.
impl<F: Sync> crate::verify::TextSource for Corpus<F> {
    fn text(&self, i: usize) -> Result<String, Error> {
        let path = &self.docs[i].path;
        match read_text(path, true) {
            Ok(Contents::Text(text)) => Ok(text),
            Ok(Contents::Binary) => unreachable!("binary files are read as text here"),
            Err(source) => Err(Error::Io {
                path: path.clone(),
                source,
            }),
        }
    }

    fn name(&self, i: usize) -> String {
        self.docs[i].path.display().to_string()
    }
}
