//! Embedding jobs: text files or dataset rows turned into vectors by a static-embedding
//! model ([`crate::vectors::embed::StaticModel`]), in parallel batches. `simdedup embed` streams
//! them to a `.npy` file; `dedup --model` and the other semantic commands hold them as
//! [`crate::vectors::npy::Vectors`] ([`crate::vectors::npy::Vectors::from_values`]) and run the vector jobs on them.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Report};
use crate::input::{Contents, PathList, read_text};
use crate::progress::Progress;
use crate::text::simhash::FIELD_SEPARATOR;
use crate::text::texts::TextSource;
use crate::vectors::embed::StaticModel;

/// Files read and embedded per parallel batch.
pub const BATCH: usize = 4096;

/// What [`embed_files`] skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EmbedStats {
    /// Rows written (files embedded).
    pub rows: usize,
    /// Files left out because they hold a NUL byte (without `allow_binary`).
    pub binary: usize,
    /// Files that could not be read (each reported).
    pub unreadable: usize,
}

/// Embeds every file of `files` (one text each), in order, handing each file's path and
/// vector to `sink`. Files that cannot be read are reported and left out; binary files are
/// counted and left out unless `allow_binary`. Stops at the first error of `sink`.
pub fn embed_files<E>(
    model: &StaticModel,
    files: &PathList,
    allow_binary: bool,
    progress: &dyn Progress,
    report: &dyn Report,
    sink: &mut impl FnMut(&Path, &[f32]) -> Result<(), E>,
) -> Result<EmbedStats, E> {
    let dim = model.dim();
    let binary = AtomicUsize::new(0);
    let unreadable = AtomicUsize::new(0);
    let mut rows = 0;
    progress.start("embedding", files.len() as u64, "files");
    let paths: Vec<&Path> = files.iter().collect();
    for batch in paths.chunks(BATCH) {
        let texts: Vec<Option<String>> = batch
            .par_iter()
            .map(|path| match read_text(path, allow_binary) {
                Ok(Contents::Text(text)) => Some(text),
                Ok(Contents::Binary) => {
                    binary.fetch_add(1, Ordering::Relaxed);
                    None
                }
                Err(e) => {
                    unreadable.fetch_add(1, Ordering::Relaxed);
                    report.report(e);
                    None
                }
            })
            .collect();
        let kept: Vec<&str> = texts.iter().flatten().map(String::as_str).collect();
        let vectors = model.encode(&kept);
        let mut vectors = vectors.chunks_exact(dim);
        for (path, text) in batch.iter().zip(&texts) {
            if text.is_some() {
                sink(path, vectors.next().expect("one row per text"))?;
                rows += 1;
            }
        }
        progress.inc(batch.len() as u64);
    }
    progress.finish();
    Ok(EmbedStats {
        rows,
        binary: binary.into_inner(),
        unreadable: unreadable.into_inner(),
    })
}

/// Embeds the `n` texts of `source` (files or dataset rows, read again). A record of several
/// fields has each field embedded on its own and the vectors concatenated, as SemHash does,
/// so rows are `fields × dim` wide; `fields` is the number of fields of every record (1 for
/// plain texts). A text that cannot be read again is an error.
pub fn embed_source(
    model: &StaticModel,
    source: &dyn TextSource,
    n: usize,
    fields: usize,
    progress: &dyn Progress,
) -> Result<Vec<f32>, Error> {
    let dim = model.dim();
    let width = dim * fields.max(1);
    let mut out = vec![0f32; n * width];
    progress.start("embedding", n as u64, "records");
    for (b, chunk) in out.chunks_mut(BATCH * width).enumerate() {
        let start = b * BATCH;
        chunk
            .par_chunks_mut(width)
            .enumerate()
            .try_for_each(|(j, row)| -> Result<(), Error> {
                let text = source.text(start + j)?;
                if fields <= 1 {
                    model.encode_one(&text, row);
                } else {
                    for (k, field) in text.split(FIELD_SEPARATOR).take(fields).enumerate() {
                        model.encode_one(field, &mut row[k * dim..(k + 1) * dim]);
                    }
                }
                Ok(())
            })?;
        progress.inc(chunk.len() as u64 / width as u64);
    }
    progress.finish();
    Ok(out)
}
