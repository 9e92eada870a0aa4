//! Datasets of records (rows with named columns): JSON Lines, optionally gzip-compressed,
//! CSV and TSV with a header, and Parquet. A [`RecordSet`] is built in one streaming pass:
//! the chosen text columns of each row become one fingerprint, and only the fingerprints,
//! a few counts and each row's location are kept, never the texts.
//!
//! Columns are combined as one text with [`FIELD_SEPARATOR`] between the fields: each field
//! is normalised and shingled on its own and its shingles tagged with the field
//! ([`crate::text::simhash::fingerprint_fields`]), so no shingle spans two fields. The verified score is the
//! smallest per-field Jaccard ([`crate::text::texts::field_jaccard`]): rows are duplicates when
//! every column is similar, and a long shared context cannot hide different questions. The
//! one SimHash over all tagged shingles is a sound candidate filter for that rule, since
//! every field at Jaccard >= J puts the union at >= J.
//!
//! Rows are read again for verification by their location: a byte range of the file for
//! JSONL and CSV, and of a temporary spill file for gzip-compressed JSONL (the decompressed
//! stream) and Parquet (the combined texts), whose rows cannot be reached at random.

mod csv_file;
mod jsonl;
pub use jsonl::{TextAndId, line_fields, line_fields_each};
pub(crate) mod parquet_file;

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rayon::prelude::*;

use crate::error::{Error, Report};
use crate::progress::Progress;
use crate::text::minhash::{BandGoal, BandParams, KeyStore, Sketcher};
use crate::text::simhash::{CityHash, FIELD_SEPARATOR, TextConfig, fingerprint_fields_with};
use crate::text::texts::{SAMPLE_DOCS, background, shingle_set};

/// The kind of a dataset file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    Jsonl,
    /// JSON Lines compressed with gzip (`.jsonl.gz`, `.ndjson.gz`).
    JsonlGz,
    /// Comma-separated values with a header line (RFC 4180 quoting).
    Csv,
    /// Tab-separated values with a header line (same quoting as CSV).
    Tsv,
    /// Apache Parquet (any of snappy, zstd, gzip, lz4 or no compression).
    Parquet,
}

impl Format {
    /// The format a file name announces, by its extension (case-insensitive).
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_string_lossy().to_lowercase();
        let formats = [
            (".jsonl.gz", Format::JsonlGz),
            (".ndjson.gz", Format::JsonlGz),
            (".jsonl", Format::Jsonl),
            (".ndjson", Format::Jsonl),
            (".csv", Format::Csv),
            (".tsv", Format::Tsv),
            (".parquet", Format::Parquet),
        ];
        formats
            .iter()
            .find(|(ext, _)| name.ends_with(ext))
            .map(|&(_, f)| f)
    }

    /// Whether this is one of the JSON Lines formats.
    pub fn is_jsonl(self) -> bool {
        matches!(self, Format::Jsonl | Format::JsonlGz)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Jsonl => "jsonl",
            Format::JsonlGz => "jsonl.gz",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Parquet => "parquet",
        })
    }
}

impl FromStr for Format {
    type Err = String;

    /// `jsonl`, `jsonl.gz`, `csv`, `tsv` or `parquet` (the `--format` values).
    fn from_str(s: &str) -> Result<Format, String> {
        Format::from_path(Path::new(&format!("x.{s}"))).ok_or_else(|| {
            format!("unknown format '{s}' (use jsonl, jsonl.gz, csv, tsv or parquet)")
        })
    }
}

/// What to read from a dataset.
#[derive(Clone, Debug, Default)]
pub struct RecordOptions {
    /// The text columns, combined in this order (at least one).
    pub columns: Vec<String>,
    /// A column holding a vector per row (a list of numbers; in CSV a JSON array).
    pub embedding_column: Option<String>,
    /// A column naming each row in the outputs; without it rows are named by index.
    pub id_column: Option<String>,
    /// Skip (report and count) rows that are malformed or lack a column, instead of failing.
    pub skip_bad_rows: bool,
    /// The format, when the file name does not tell it.
    pub format: Option<Format>,
    /// Also compute each row's MinHash band keys in the same pass, for the band search
    /// ([`RecordSet::bands`]), in the shape solved for this goal from the first rows read
    /// ([`RecordSet::shape`]).
    pub bands: Option<BandGoal>,
    /// With `bands`, this shape instead of one solved from the first rows: a reference
    /// file keyed like its queries, so that the two can be searched together.
    pub shape: Option<BandParams>,
}

impl RecordOptions {
    /// Options reading the text columns `columns`, everything else at its default.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> RecordOptions {
        RecordOptions {
            columns: columns.into_iter().map(Into::into).collect(),
            ..RecordOptions::default()
        }
    }
}

/// One fingerprinted row (its fingerprint lives in [`RecordSet::fingerprints`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// Index of the row in the file, from 0, counting skipped rows (not blank lines).
    pub row: u64,
    /// The line the row starts on, from 1 (JSONL, CSV); the row index again for Parquet.
    pub line: u64,
    /// Where the row is read again: its bytes in the file (JSONL, CSV), in the decompressed
    /// stream (gzip) or in the spill file of combined texts (Parquet).
    pub offset: u64,
    /// Length in bytes at `offset` (a JSONL line or CSV record with its line ending).
    pub len: u32,
    /// Characters in the chosen fields.
    pub chars: u64,
    /// Shingle occurrences; 0 = too short to fingerprint.
    pub shingles: u64,
    /// Digest of the normalised fields, the exact-duplicate key.
    pub digest: u128,
}

impl crate::text::texts::DocStats for Row {
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

/// The vectors of the embedding column, row by row: `values[i * dim..(i + 1) * dim]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Embeddings {
    pub dim: usize,
    pub values: Vec<f32>,
}

impl Embeddings {
    /// Writes the vectors as a 2-D float32 `.npy` file (C order, little-endian), so that
    /// the embedding mode can memory-map them like any other vector file.
    pub fn write_npy(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        crate::vectors::npy::write_npy(out, self.dim, &self.values)
    }

    /// The vector of row `i` (an index into [`RecordSet::rows`]).
    pub fn get(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }
}

/// A fingerprinted dataset, rows in file order, `rows[i]` with `fingerprints[i]`. Skipped
/// rows are absent: `rows[i].row` says which row of the file each one is.
#[derive(Debug)]
pub struct RecordSet<F> {
    pub path: PathBuf,
    pub format: Format,
    pub rows: Vec<Row>,
    pub fingerprints: Vec<F>,
    /// The `id_column` value of each row (as JSON text for JSONL, the field for CSV).
    pub ids: Option<Ids>,
    pub embeddings: Option<Embeddings>,
    /// MinHash band keys of each row, with [`RecordOptions::bands`]; above
    /// [`crate::text::minhash::SPILL_KEYS`] keys (as estimated when the shape is solved) written
    /// to a temporary file as they are computed, since a dataset may hold tens of millions
    /// of rows.
    pub bands: Option<KeyStore>,
    /// The shape of those keys: solved for the row count the file's size and its first
    /// rows predict, and the background of a sample of those rows.
    pub shape: Option<BandParams>,
    /// Rows read from the file, skipped ones included.
    pub rows_read: u64,
    /// Bad rows skipped (each reported), with `skip_bad_rows`.
    pub skipped: usize,
    /// Rows whose text was not valid UTF-8, decoded with U+FFFD replacements.
    pub lossy: usize,
    pub(crate) reread: Reread,
}

/// Strings stored one after another ([`RecordSet::ids`]): 8 bytes a string besides its
/// text, where a `String` each would cost 24 bytes and a heap block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ids {
    text: String,
    /// Where string `i` ends in `text` (it starts where string `i - 1` ends).
    ends: Vec<u64>,
}

impl Ids {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// String `i`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u64);
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// How rows are read again.
#[derive(Debug)]
pub(crate) struct Reread {
    /// The input file, or the spill file for gzip and Parquet.
    pub(crate) file: File,
    pub(crate) extractor: Extractor,
    /// End of the CSV header record (its bytes are `0..header_end`).
    pub(crate) header_end: u64,
}

/// Turns a row's raw content into its fields.
#[derive(Debug)]
pub(crate) enum Extractor {
    Json(jsonl::Columns),
    Csv(csv_file::Columns),
    /// The content is the combined text itself (the Parquet spill).
    Text,
}

/// A row's fields as read.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Fields {
    /// The text columns joined by [`FIELD_SEPARATOR`].
    pub text: String,
    pub embedding: Option<Vec<f32>>,
    pub id: Option<String>,
    /// Some text was not valid UTF-8.
    pub lossy: bool,
}

/// A row as a reader hands it over, before its fields are extracted.
pub(crate) struct RawRow {
    pub row: u64,
    pub line: u64,
    pub offset: u64,
    pub len: u64,
    pub content: Content,
}

#[derive(Clone)]
pub(crate) enum Content {
    Json(Vec<u8>),
    Csv(::csv::ByteRecord),
    /// Already extracted (Parquet), or the reason the row is bad.
    Fields(Result<Fields, String>),
}

/// A streaming source of rows.
pub(crate) trait RowReader: Send {
    /// The next rows (at most about `max`); empty at the end of the file.
    fn next_batch(&mut self, max: usize) -> Result<Vec<RawRow>, Error>;
}

impl Extractor {
    fn extract(&self, content: Content) -> Result<Fields, String> {
        match (self, content) {
            (_, Content::Fields(fields)) => fields,
            (Extractor::Json(columns), Content::Json(bytes)) => columns.extract(&bytes),
            (Extractor::Csv(columns), Content::Csv(record)) => columns.extract(&record),
            (Extractor::Text, Content::Json(bytes)) => Ok(Fields {
                text: String::from_utf8(bytes).map_err(|_| "spilled text is not UTF-8")?,
                ..Fields::default()
            }),
            _ => unreachable!("each reader goes with its extractor"),
        }
    }
}

/// Decodes text, replacing invalid UTF-8 with U+FFFD; the flag says whether it had to.
pub(crate) fn decode(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), false),
        Err(_) => (String::from_utf8_lossy(bytes), true),
    }
}

/// Appends one field to a combined text. A separator inside the field would split it, so
/// it becomes a space (normalisation treats it as punctuation anyway).
pub(crate) fn push_field(text: &mut String, field: &str, first: bool) {
    if !first {
        text.push(FIELD_SEPARATOR);
    }
    if field.contains(FIELD_SEPARATOR) {
        text.push_str(&field.replace(FIELD_SEPARATOR, " "));
    } else {
        text.push_str(field);
    }
}

/// Rows handed to the workers at a time.
const BATCH_ROWS: usize = 4096;

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads and fingerprints the dataset at `path` in one streaming pass: the reader fills
/// the next batch while the workers fingerprint the current one. A bad row fails the read
/// with an error naming its line (or row), unless `skip_bad_rows`, which reports it and
/// goes on. Memory: the fingerprints and [`Row`]s (plus ids and vectors when asked for).
pub fn read_records<F: CityHash>(
    path: &Path,
    opts: &RecordOptions,
    config: &TextConfig,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Result<RecordSet<F>, Error> {
    let format = opts
        .format
        .or_else(|| Format::from_path(path))
        .ok_or_else(|| Error::BadFile {
            path: path.to_path_buf(),
            message: "unknown dataset format (name it: jsonl, jsonl.gz, csv, tsv or parquet)"
                .into(),
        })?;
    if opts.columns.is_empty() {
        return Err(Error::BadFile {
            path: path.to_path_buf(),
            message: "no text column chosen".into(),
        });
    }
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let file_len = file.metadata().map_or(0, |m| m.len());
    let spill = match format {
        Format::JsonlGz | Format::Parquet => {
            Some(tempfile::tempfile().map_err(|e| io_error(Path::new("<spill file>"), e))?)
        }
        _ => None,
    };
    let (mut reader, extractor, header_end, total): (Box<dyn RowReader>, _, _, _) = match format {
        Format::Jsonl => (
            Box::new(jsonl::Reader::plain(file, path.display().to_string())),
            Extractor::Json(jsonl::Columns::new(opts)),
            0,
            0,
        ),
        Format::JsonlGz => {
            let copy = spill.as_ref().expect("spill").try_clone();
            let copy = copy.map_err(|e| io_error(path, e))?;
            (
                Box::new(jsonl::Reader::gzip(file, copy, path.display().to_string())),
                Extractor::Json(jsonl::Columns::new(opts)),
                0,
                0,
            )
        }
        Format::Csv | Format::Tsv => {
            let delimiter = if format == Format::Csv { b',' } else { b'\t' };
            let (reader, columns, header_end) = csv_file::open(path, file, delimiter, opts)?;
            (Box::new(reader), Extractor::Csv(columns), header_end, 0)
        }
        Format::Parquet => {
            let (reader, total) = parquet_file::Reader::open(path, file, opts)?;
            (Box::new(reader), Extractor::Text, 0, total)
        }
    };
    progress.start("fingerprinting", total, "rows");
    let mut spill_out = match (format, &spill) {
        (Format::Parquet, Some(f)) => Some(std::io::BufWriter::with_capacity(
            1 << 20,
            f.try_clone().map_err(|e| io_error(path, e))?,
        )),
        _ => None,
    };
    let mut spill_pos = 0u64;
    let reread_extractor = match &extractor {
        Extractor::Json(c) => Extractor::Json(c.clone()),
        Extractor::Csv(c) => Extractor::Csv(c.clone()),
        Extractor::Text => Extractor::Text,
    };
    let mut set = RecordSet {
        path: path.to_path_buf(),
        format,
        rows: Vec::new(),
        fingerprints: Vec::new(),
        ids: opts.id_column.as_ref().map(|_| Ids::default()),
        embeddings: opts
            .embedding_column
            .as_ref()
            .map(|_| Embeddings::default()),
        bands: None,
        shape: None,
        rows_read: 0,
        skipped: 0,
        lossy: 0,
        reread: Reread {
            file: match spill {
                Some(f) => f,
                None => File::open(path).map_err(|e| io_error(path, e))?,
            },
            extractor: reread_extractor,
            header_end,
        },
    };
    let mut batch = reader.next_batch(BATCH_ROWS)?;
    if let Some(goal) = opts.bands {
        let n = estimate_rows(format, file_len, total, &batch);
        let text = |i: usize| {
            let fields = extractor.extract(batch[i].content.clone());
            fields.ok().map(|f| f.text)
        };
        let first = batch.len().min(FIRST_ROWS);
        let shape = (opts.shape).unwrap_or_else(|| dataset_shape(first, &text, n, goal, config));
        let store = KeyStore::for_documents(shape.bands as usize, n)?;
        (set.shape, set.bands) = (Some(shape), Some(store));
    }
    let sketcher = set.shape.map(Sketcher::new);
    let width = set.shape.map_or(0, |b| b.bands as usize);
    while !batch.is_empty() {
        let work = std::mem::take(&mut batch);
        let (next, done) = rayon::join(
            || reader.next_batch(BATCH_ROWS),
            || {
                work.into_par_iter()
                    .map_init(
                        || sketcher.clone(),
                        |sketcher, raw| {
                            let fields = extractor.extract(raw.content);
                            let mut keys = vec![0; width];
                            let sig = fields.as_ref().ok().map(|f| {
                                let sig = fingerprint_fields_with::<F>(
                                    &f.text,
                                    config,
                                    sketcher.as_mut(),
                                );
                                if let Some(s) = sketcher.as_mut() {
                                    s.finish(&mut keys);
                                }
                                sig
                            });
                            (raw.row, raw.line, raw.offset, raw.len, fields, sig, keys)
                        },
                    )
                    .collect::<Vec<_>>()
            },
        );
        progress.inc(done.len() as u64);
        for (row, line, mut offset, mut len, fields, sig, keys) in done {
            set.rows_read += 1;
            let fields = match fields.and_then(|f| set.check_embedding(f)) {
                Ok(f) => f,
                Err(message) => {
                    let error = set.row_error(row, line, message);
                    if !opts.skip_bad_rows {
                        return Err(error);
                    }
                    report.report(error);
                    set.skipped += 1;
                    continue;
                }
            };
            let sig = sig.expect("fields were read");
            if let Some(out) = spill_out.as_mut() {
                out.write_all(fields.text.as_bytes())
                    .map_err(|e| io_error(Path::new("<spill file>"), e))?;
                (offset, len) = (spill_pos, fields.text.len() as u64);
                spill_pos += len;
            }
            let len = u32::try_from(len).map_err(|_| Error::BadLine {
                source_name: path.display().to_string(),
                line,
                message: "row longer than 4 GiB".into(),
            })?;
            set.lossy += fields.lossy as usize;
            if let (Some(ids), Some(id)) = (set.ids.as_mut(), fields.id) {
                ids.push(&id);
            }
            if let (Some(emb), Some(v)) = (set.embeddings.as_mut(), fields.embedding) {
                emb.values.extend_from_slice(&v);
            }
            set.rows.push(Row {
                row,
                line,
                offset,
                len,
                chars: sig.chars,
                shingles: sig.shingles,
                digest: sig.digest,
            });
            set.fingerprints.push(sig.fingerprint);
            if let Some(bands) = set.bands.as_mut() {
                bands.push(&keys)?;
            }
        }
        batch = next?;
    }
    if let Some(bands) = set.bands.as_mut() {
        bands.finish()?;
    }
    if let Some(mut out) = spill_out {
        out.flush()
            .map_err(|e| io_error(Path::new("<spill file>"), e))?;
    }
    progress.finish();
    Ok(set)
}

/// Decompressed bytes per byte of a gzip file, for [`estimate_rows`] (text shrinks about
/// 3 to 5 times; the band shape changes slowly with the count).
const GZIP_RATIO: u64 = 4;

/// About how many rows a dataset holds, for its band shape: the count a Parquet footer
/// gives (`total`), or the file's size over the mean size of its `first` rows.
fn estimate_rows(format: Format, file_len: u64, total: u64, first: &[RawRow]) -> usize {
    if total > 0 {
        return total as usize;
    }
    let bytes: u64 = first.iter().map(|r| r.len).sum();
    let len = read_len(file_len, format == Format::JsonlGz);
    estimate_text_rows(len, first.len(), bytes)
}

/// The bytes of a JSON Lines or CSV file of `file_len` bytes for [`estimate_text_rows`]:
/// a gzip file's about [`GZIP_RATIO`] times its size.
pub fn read_len(file_len: u64, gzip: bool) -> u64 {
    if gzip {
        file_len.saturating_mul(GZIP_RATIO)
    } else {
        file_len
    }
}

/// About how many rows `len` bytes of JSON Lines or CSV ([`read_len`]) hold, as the
/// command line estimates it for the band shape: `len` over the mean size of the first
/// `rows` rows, `bytes` in all (each row's bytes with its line end; blank lines are not rows);
/// at least `rows`. The command line takes up to [`FIRST_ROWS`] rows, the Spark job the
/// same ones.
pub fn estimate_text_rows(len: u64, rows: usize, bytes: u64) -> usize {
    if bytes == 0 {
        return rows;
    }
    let n = len as f64 * rows as f64 / bytes as f64;
    (n as usize).max(rows)
}

/// Rows of a dataset whose background decides its band shape ([`dataset_shape`]): the
/// first ones read.
pub const FIRST_ROWS: usize = BATCH_ROWS;

/// The band shape of a dataset of about `n` rows at `goal`, from its `first` rows
/// (`text(i)`: row `i`'s combined text, `None` for a bad row): the background
/// ([`background`]) of up to [`SAMPLE_DOCS`] of them, evenly spaced, when `n` is above
/// [`SAMPLE_DOCS`]; the assumed background below. A file's order is not random, but a
/// skewed background only costs speed: the recall at the bar does not depend on it. The
/// Spark job calls this with the same rows, so both pick the same shape.
pub fn dataset_shape(
    first: usize,
    text: &(dyn Fn(usize) -> Option<String> + Sync),
    n: usize,
    goal: BandGoal,
    config: &TextConfig,
) -> BandParams {
    let m = SAMPLE_DOCS.min(first);
    let sets: Vec<Vec<u64>> = if n > SAMPLE_DOCS {
        (0..m)
            .into_par_iter()
            .filter_map(|s| {
                let (set, _) = shingle_set(&text(s * first / m)?, Some(FIELD_SEPARATOR), config);
                (!set.is_empty()).then_some(set)
            })
            .collect()
    } else {
        Vec::new()
    };
    BandParams::solve_sampled(goal.bar, goal.recall, n, &background(&sets))
}

impl<F> RecordSet<F> {
    /// Number of rows kept in the set (read minus skipped).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row was read.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How row `row` (line `line`) is named in messages.
    fn row_error(&self, row: u64, line: u64, message: String) -> Error {
        match self.format {
            Format::Parquet => Error::BadRecord {
                path: self.path.clone(),
                row,
                message,
            },
            _ => Error::BadLine {
                source_name: self.path.display().to_string(),
                line,
                message,
            },
        }
    }

    /// All vectors must have the first one's length.
    fn check_embedding(&mut self, fields: Fields) -> Result<Fields, String> {
        if let (Some(emb), Some(v)) = (self.embeddings.as_mut(), fields.embedding.as_ref()) {
            if emb.dim == 0 && self.rows.is_empty() {
                emb.dim = v.len();
            }
            if v.len() != emb.dim || v.is_empty() {
                return Err(format!(
                    "the embedding has {} values, the first row's has {}",
                    v.len(),
                    emb.dim
                ));
            }
        }
        Ok(fields)
    }

    /// The raw bytes of row `i` at its location.
    fn raw(&self, i: usize) -> std::io::Result<Vec<u8>> {
        let row = &self.rows[i];
        let mut buf = vec![0; row.len as usize];
        read_exact_at(&self.reread.file, &mut buf, row.offset)?;
        Ok(buf)
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// Rows are read again at their location; the verification's digest check catches a file
/// that changed in between.
impl<F: Sync> crate::text::texts::TextSource for RecordSet<F> {
    fn text(&self, i: usize) -> Result<String, Error> {
        let bytes = self.raw(i).map_err(|e| io_error(&self.path, e))?;
        let content = match &self.reread.extractor {
            Extractor::Csv(columns) => Content::Csv(columns.parse_one(&bytes)),
            _ => Content::Json(bytes),
        };
        let row = &self.rows[i];
        self.reread
            .extractor
            .extract(content)
            .map(|f| f.text)
            .map_err(|message| self.row_error(row.row, row.line, message))
    }

    fn name(&self, i: usize) -> String {
        let row = &self.rows[i];
        match self.format {
            Format::Parquet => format!("{}, row {}", self.path.display(), row.row),
            _ => format!("{}, line {}", self.path.display(), row.line),
        }
    }

    fn separator(&self) -> Option<char> {
        Some(FIELD_SEPARATOR)
    }
}

impl<'a, F: Sync> From<&'a RecordSet<F>> for crate::text::texts::Texts<'a, F, Row> {
    fn from(s: &'a RecordSet<F>) -> Self {
        crate::text::texts::Texts {
            fingerprints: &s.fingerprints,
            docs: &s.rows,
            // Spilled keys are taken by the self-deduplication ([`RecordSet::bands`]).
            bands: None,
            source: s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_hold_their_strings_in_order() {
        let mut ids = Ids::default();
        for s in ["\"a\"", "", "7", "é ü"] {
            ids.push(s);
        }
        assert_eq!(ids.len(), 4);
        assert_eq!(ids.iter().collect::<Vec<_>>(), ["\"a\"", "", "7", "é ü"]);
        assert_eq!(ids.get(3), "é ü");
    }

    #[test]
    fn formats_from_names() {
        let f = |s: &str| Format::from_path(Path::new(s));
        assert_eq!(f("a/data.jsonl"), Some(Format::Jsonl));
        assert_eq!(f("DATA.JSONL.GZ"), Some(Format::JsonlGz));
        assert_eq!(f("x.ndjson"), Some(Format::Jsonl));
        assert_eq!(f("x.csv"), Some(Format::Csv));
        assert_eq!(f("x.tsv"), Some(Format::Tsv));
        assert_eq!(f("x.parquet"), Some(Format::Parquet));
        assert_eq!(f("x.gz"), None);
        assert_eq!(f("x.txt"), None);
        assert_eq!("jsonl.gz".parse::<Format>(), Ok(Format::JsonlGz));
        assert!("xml".parse::<Format>().is_err());
        for format in [Format::Jsonl, Format::JsonlGz, Format::Csv, Format::Parquet] {
            assert_eq!(format.to_string().parse::<Format>(), Ok(format));
        }
    }

    #[test]
    fn text_rows_from_the_first_rows_size() {
        // 1,000 rows of 100 bytes: a 1 MB file holds about 10,000, gzip about four times more.
        assert_eq!(
            estimate_text_rows(read_len(1_000_000, false), 1000, 100_000),
            10_000
        );
        assert_eq!(
            estimate_text_rows(read_len(1_000_000, true), 1000, 100_000),
            40_000
        );
        // Never fewer than the rows seen (a short last line), none when empty.
        assert_eq!(estimate_text_rows(150, 3, 200), 3);
        assert_eq!(estimate_text_rows(0, 0, 0), 0);
        assert_eq!(estimate_text_rows(10, 2, 0), 2);
    }

    #[test]
    fn fields_keep_their_boundaries() {
        let mut text = String::new();
        push_field(&mut text, "a b", true);
        push_field(&mut text, "c\u{1e}d", false);
        assert_eq!(text, "a b\u{1e}c d");
        assert!(decode(b"caf\xe9").1);
        assert_eq!(decode("café".as_bytes()), (Cow::Borrowed("café"), false));
    }
}
