//! New documents against an index: the pairs one deduplication run over the indexed
//! documents and the new ones would report, restricted to pairs that touch a new document.
//! The index supplies the stored fingerprints, counts and band keys; indexed files in
//! candidate pairs are read again for verification.

use std::borrow::Cow;
use std::path::Path;

use crate::corpus::Corpus;
use crate::error::{Error, Report};
use crate::fingerprint::Fingerprint;
use crate::index::{DocRecord, Index, IndexView};
use crate::input::{CHUNK_BYTES, Contents, read_chunks, read_text};
use crate::ops::dedup::{Candidates, DedupOptions, NewPairs, pairs_with_new};
use crate::progress::Progress;
use crate::simhash::TextConfig;
use crate::texts::TextSource;

/// The indexed documents, then the new ones, numbered as one run over both would number
/// them; files are read again for verification.
struct Union<'a, F> {
    index: IndexView<'a>,
    corpus: &'a Corpus<F>,
}

impl<F> Union<'_, F> {
    fn path(&self, i: usize) -> Cow<'_, Path> {
        match i.checked_sub(self.index.len()) {
            None => self.index.path(i),
            Some(j) => Cow::Borrowed(self.corpus.path(j)),
        }
    }
}

/// Files are read again as the plain run reads them (streamed; a file that turned binary
/// counts as changed: its digest no longer matches).
impl<F: Sync> TextSource for Union<'_, F> {
    fn text(&self, i: usize) -> Result<String, Error> {
        match read_text(&self.path(i), true)? {
            Contents::Text(text) => Ok(text),
            Contents::Binary => unreachable!("binary files are read as text here"),
        }
    }

    fn name(&self, i: usize) -> String {
        self.path(i).display().to_string()
    }

    fn shingle_set(&self, i: usize, config: &TextConfig) -> Result<(Vec<u64>, u128), Error> {
        crate::texts::stream_shingle_set(config, |push| {
            read_chunks(&self.path(i), true, CHUNK_BYTES, push).map(|_| ())
        })
    }
}

/// New documents against an index: every pair a single deduplication run over the indexed
/// documents followed by `corpus` would report ([`crate::ops::dedup::dedup`] with `opts`)
/// that involves a document of `corpus`. Documents are numbered as in that run: indexed
/// ones `0..index.len()`, then `corpus`'s. `corpus` must be fingerprinted with the index's
/// settings (an error otherwise); indexed files in candidate pairs are read again for
/// verification, and one that changed or vanished is reported and its pairs left out.
pub fn query<F: Fingerprint>(
    index: &Index,
    corpus: &Corpus<F>,
    opts: &DedupOptions,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Result<NewPairs, Error> {
    let view = index.view();
    let Some(mut fingerprints) = view.fingerprints::<F>() else {
        return Err(Error::Incompatible {
            path: index.file().to_path_buf(),
            message: format!(
                "the index holds {}-bit fingerprints, not {}-bit",
                view.settings().bits,
                F::BITS
            ),
        });
    };
    fingerprints.extend_from_slice(&corpus.fingerprints);
    let mut docs: Vec<DocRecord> = (0..view.len()).map(|i| view.doc(i)).collect();
    docs.extend(corpus.docs.iter().map(|d| DocRecord {
        chars: d.chars,
        shingles: d.shingles,
        digest: d.digest,
    }));
    let source = Union {
        index: view,
        corpus,
    };
    // The band search when both sides have keys of the same shape.
    let keys = match (view.band_keys(), &corpus.bands) {
        (Some(mut keys), Some(new)) if new.bands() == keys.bands() => {
            keys.extend(new);
            Some(keys)
        }
        _ => None,
    };
    let candidates = match &keys {
        Some(keys) => Candidates::Bands(keys),
        None => Candidates::Hamming,
    };
    Ok(pairs_with_new(
        &fingerprints,
        &docs,
        view.len(),
        candidates,
        &source,
        &view.settings().text,
        opts,
        progress,
        report,
    ))
}
