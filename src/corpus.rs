//! Reading and fingerprinting a set of files in parallel, keeping only what later stages
//! need: the path, a few counts and the fingerprint. No document text is kept.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Report};
use crate::input::{CHUNK_BYTES, Contents, FileKind, read_chunks, read_text};
use crate::progress::Progress;
use crate::simhash::{CityHash, Fingerprinter, TextConfig};

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
            let mut fp = Fingerprinter::<F>::new(config);
            let read = read_chunks(&path, allow_binary, CHUNK_BYTES, &mut |piece, last| {
                fp.push(piece, last)
            });
            let outcome = match read {
                Ok(FileKind::Text) => {
                    let sig = fp.finish();
                    let doc = Document {
                        path,
                        chars: sig.chars,
                        shingles: sig.shingles,
                        digest: sig.digest,
                    };
                    Some((doc, sig.fingerprint))
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

/// Files are read again for verification, streamed (a file that turned binary counts as
/// changed: its NUL bytes are read as text and the digest differs).
impl<F: Sync> crate::verify::TextSource for Corpus<F> {
    fn text(&self, i: usize) -> Result<String, Error> {
        match read_text(&self.docs[i].path, true)? {
            Contents::Text(text) => Ok(text),
            Contents::Binary => unreachable!("binary files are read as text here"),
        }
    }

    fn name(&self, i: usize) -> String {
        self.docs[i].path.display().to_string()
    }

    fn shingle_set(&self, i: usize, config: &TextConfig) -> Result<(Vec<u64>, u128), Error> {
        crate::verify::stream_shingle_set(config, |push| {
            read_chunks(&self.docs[i].path, true, CHUNK_BYTES, push).map(|_| ())
        })
    }
}
