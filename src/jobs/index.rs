//! Index jobs: build a persistent index from files, add files to it, and query it with
//! new files ([`crate::index`] stores, [`crate::ops::incremental`] decides). Paths already
//! in the index are the caller's to leave out (the command line notes them).

use std::path::Path;

use crate::error::{Error, Report};
use crate::index::{Builder, Index};
use crate::input::PathList;
use crate::ops::dedup::{DedupOptions, Grouping, KeepOrder, NewPairs};
use crate::ops::incremental;
use crate::progress::Progress;
use crate::search::SearchOptions;
use crate::text::corpus::{Corpus, band_shape, fingerprint_files};
use crate::text::minhash::BandParams;
use crate::text::simhash::{CityHash, TextConfig};

/// What [`build`] and [`add`] wrote.
#[derive(Debug)]
pub struct Written<F> {
    /// The documents fingerprinted by this run (binary files skipped are counted in it).
    pub corpus: Corpus<F>,
    /// Documents in the index now.
    pub total: usize,
}

/// Fingerprints `files` with band keys shaped for `bar` at `recall` (from a sampled
/// background, as the plain run shapes them) and writes a new index to `out`.
#[allow(clippy::too_many_arguments)]
pub fn build<F: CityHash>(
    files: PathList,
    text: &TextConfig,
    bar: f64,
    recall: f64,
    allow_binary: bool,
    out: &Path,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Result<(Written<F>, BandParams), Error> {
    let bands = band_shape(&files, text, bar, recall);
    let corpus = fingerprint_files::<F>(files, text, Some(bands), allow_binary, progress, report);
    let mut builder = Builder::<F>::new(*text, Some(bands));
    builder.extend(&corpus);
    builder.save(out)?;
    let total = builder.len();
    Ok((Written { corpus, total }, bands))
}

/// Fingerprints `files` with the index's settings and rewrites the index with them added.
pub fn add<F: CityHash>(
    index: &Index,
    files: PathList,
    allow_binary: bool,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Result<Written<F>, Error> {
    let view = index.view();
    let settings = view.settings();
    let corpus = fingerprint_files::<F>(
        files,
        &settings.text,
        settings.bands,
        allow_binary,
        progress,
        report,
    );
    let mut builder = Builder::<F>::from_view(&view).ok_or_else(|| Error::Incompatible {
        path: index.file().to_path_buf(),
        message: format!(
            "the index holds {}-bit fingerprints, not {}-bit",
            settings.bits,
            F::BITS
        ),
    })?;
    builder.extend(&corpus);
    builder.save(index.file())?;
    let total = builder.len();
    Ok(Written { corpus, total })
}

/// New files against the index at Jaccard `bar`: every pair one run over the indexed and
/// the new documents would report that involves a new document. `bands` is the index's
/// band shape when its keys serve this bar (then the band search runs), `None` for the
/// exact Hamming search within `search`'s radius. Returns the new documents and the pairs.
#[allow(clippy::too_many_arguments)]
pub fn query<F: CityHash>(
    index: &Index,
    files: PathList,
    bar: f64,
    bands: Option<BandParams>,
    search: SearchOptions,
    allow_binary: bool,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Result<(Corpus<F>, NewPairs), Error> {
    let text = index.view().settings().text;
    let corpus = fingerprint_files::<F>(files, &text, bands, allow_binary, progress, report);
    let opts = DedupOptions {
        search,
        min_similarity: bar,
        keep: KeepOrder::First,
        grouping: Grouping::Greedy,
    };
    let pairs = incremental::query(index, &corpus, &opts, progress, report)?;
    Ok((corpus, pairs))
}
