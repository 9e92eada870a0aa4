//! Writing the outcome of a deduplication: the kept rows, and the removed rows with the
//! row each duplicates (`duplicate_of`: its id, or its row index) and the `score`.
//!
//! Rows are written in input order with every original field unchanged: JSONL lines and
//! CSV records are copied byte for byte (a removed row gets the two fields appended), and
//! Parquet batches are filtered with their original schema. Each output is an
//! [`AtomicFile`]: written beside its final name and renamed when complete, so a failed or
//! interrupted run never leaves a half-written file under that name. Skipped bad rows go to neither output.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use flate2::write::GzEncoder;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::atomic_file::AtomicFile;
use crate::error::Error;
use crate::records::parquet_file::{BATCH_SIZE, file_error};
use crate::records::{Format, RecordSet};

/// A removed row's link to the kept row it duplicates: that row's index in the set, and the
/// score the output gives (`score`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RemovedAs {
    pub kept: u32,
    pub score: f64,
}

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub kept: usize,
    pub removed: usize,
}

/// An output being written: a temporary file that becomes `dest` on [`Target::commit`].
struct Target {
    tmp: AtomicFile,
    dest: PathBuf,
    format: Format,
}

/// The byte stream of a text output.
enum Sink {
    Plain(BufWriter<File>),
    Gzip(Box<GzEncoder<BufWriter<File>>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
        }
    }
}

impl Sink {
    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Plain(mut w) => w.flush(),
            Sink::Gzip(w) => w.finish()?.flush(),
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Target {
    /// A temporary file in `dest`'s directory. The output keeps the input's format (JSONL
    /// may gain or lose gzip compression by the name's extension).
    fn create(dest: &Path, input: Format) -> Result<Target, Error> {
        let format = Format::from_path(dest).unwrap_or(input);
        if format != input && !(format.is_jsonl() && input.is_jsonl()) {
            return Err(Error::BadFile {
                path: dest.to_path_buf(),
                message: format!(
                    "cannot write {input} rows as {format}: outputs keep the input's format"
                ),
            });
        }
        let tmp = AtomicFile::create(dest)?;
        Ok(Target {
            tmp,
            dest: dest.to_path_buf(),
            format,
        })
    }

    fn file(&self) -> Result<File, Error> {
        self.tmp
            .as_file()
            .try_clone()
            .map_err(|e| io_error(&self.dest, e))
    }

    fn sink(&self) -> Result<Sink, Error> {
        let w = BufWriter::with_capacity(1 << 20, self.file()?);
        Ok(match self.format {
            Format::JsonlGz => {
                Sink::Gzip(Box::new(GzEncoder::new(w, flate2::Compression::default())))
            }
            _ => Sink::Plain(w),
        })
    }

    /// Renames the complete file to its final name.
    fn commit(self) -> Result<(), Error> {
        self.tmp.commit()
    }
}

/// Writes the kept rows of `set` to `kept` and the removed ones to `removed` (either may be
/// left out), by `duplicate_of` (for each row of the set, `None` when kept). The input is
/// read once more, sequentially.
pub fn write_records<F>(
    set: &RecordSet<F>,
    duplicate_of: impl Fn(usize) -> Option<RemovedAs>,
    kept: Option<&Path>,
    removed: Option<&Path>,
) -> Result<WriteStats, Error> {
    let kept = kept.map(|p| Target::create(p, set.format)).transpose()?;
    let removed = removed.map(|p| Target::create(p, set.format)).transpose()?;
    let removed_rows = (0..set.rows.len())
        .filter(|&i| duplicate_of(i).is_some())
        .count();
    let stats = WriteStats {
        kept: set.rows.len() - removed_rows,
        removed: removed_rows,
    };
    match set.format {
        Format::Parquet => write_parquet(set, &duplicate_of, kept.as_ref(), removed.as_ref())?,
        _ => write_text(set, &duplicate_of, kept.as_ref(), removed.as_ref())?,
    }
    for target in [kept, removed].into_iter().flatten() {
        target.commit()?;
    }
    Ok(stats)
}

/// Splits a record's bytes into its content and its line ending (`\r\n` or `\n`, and `\n`
/// when it has none). Blank lines after the record are dropped.
fn split_ending(bytes: &[u8]) -> (&[u8], &[u8]) {
    let end = bytes
        .iter()
        .rposition(|&b| b != b'\n' && b != b'\r')
        .map_or(0, |i| i + 1);
    let (content, rest) = bytes.split_at(end);
    let ending: &[u8] = if rest.starts_with(b"\r") {
        b"\r\n"
    } else {
        b"\n"
    };
    (content, ending)
}

/// A record's bytes without line-ending bytes in front. The CSV parser places a record's
/// start just after the `\r` of a `\r\n`, so a span may begin with the `\n` that ends the
/// record before (a record itself never begins with a line ending).
fn record_bytes(span: &[u8]) -> &[u8] {
    let start = span
        .iter()
        .position(|&b| b != b'\n' && b != b'\r')
        .unwrap_or(span.len());
    &span[start..]
}

/// A CSV field, quoted when it must be.
fn csv_field(value: &str, delimiter: u8) -> String {
    if value
        .bytes()
        .any(|b| b == delimiter || b"\"\r\n".contains(&b))
    {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// A CSV record's bytes to which fields can be appended: the bytes as they are, unless they
/// end inside a quoted field (a quote left open at the end of the file), which would swallow
/// the new fields; such a record is written anew from its parsed fields.
fn csv_extendable<'a, F>(set: &RecordSet<F>, content: &'a [u8], delimiter: u8) -> Cow<'a, [u8]> {
    let crate::records::Extractor::Csv(columns) = &set.reread.extractor else {
        return Cow::Borrowed(content);
    };
    let fields = columns.parse_one(content);
    let mut probe = content.to_vec();
    probe.extend_from_slice(&[delimiter, b'x']);
    let extended = columns.parse_one(&probe);
    if extended.len() == fields.len() + 1 && extended.iter().zip(&fields).all(|(a, b)| a == b) {
        return Cow::Borrowed(content);
    }
    let mut out = Vec::new();
    for (k, field) in fields.iter().enumerate() {
        if k > 0 {
            out.push(delimiter);
        }
        out.extend_from_slice(csv_field(&String::from_utf8_lossy(field), delimiter).as_bytes());
    }
    Cow::Owned(out)
}

/// A removed JSON Lines record as the removed rows' file holds it: the object `content`
/// (without its line ending) with `duplicate_of` (JSON text: the kept row's id, or its
/// row number) and `score` (four decimals) added as its last members.
pub fn removed_json(content: &[u8], duplicate_of: &str, score: f64) -> Vec<u8> {
    let object = content.trim_ascii_end();
    let inner = object.strip_suffix(b"}").unwrap_or(object).trim_ascii_end();
    let comma = if inner.ends_with(b"{") { "" } else { "," };
    let mut out = inner.to_vec();
    out.extend_from_slice(
        format!("{comma}\"duplicate_of\":{duplicate_of},\"score\":{score:.4}}}").as_bytes(),
    );
    out
}

/// JSONL and CSV: the records' bytes, copied from the file (or the gzip spill).
fn write_text<F>(
    set: &RecordSet<F>,
    duplicate_of: &dyn Fn(usize) -> Option<RemovedAs>,
    kept: Option<&Target>,
    removed: Option<&Target>,
) -> Result<(), Error> {
    let source = &set.path;
    let mut file = set
        .reread
        .file
        .try_clone()
        .map_err(|e| io_error(source, e))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| io_error(source, e))?;
    let mut input = BufReader::with_capacity(1 << 20, file);
    let mut kept_out = kept.map(Target::sink).transpose()?;
    let mut removed_out = removed.map(Target::sink).transpose()?;
    let delimiter = if set.format == Format::Tsv {
        b'\t'
    } else {
        b','
    };
    let sep = [delimiter];
    let out_error = |t: Option<&Target>, e| io_error(t.map_or(source, |t| &t.dest), e);

    let mut buf = vec![0u8; set.reread.header_end as usize];
    input
        .read_exact(&mut buf)
        .map_err(|e| io_error(source, e))?;
    let mut pos = set.reread.header_end;
    if let Some(out) = kept_out.as_mut() {
        (|| {
            out.write_all(&buf)?;
            if !buf.is_empty() && !buf.ends_with(b"\n") {
                out.write_all(b"\n")?;
            }
            Ok(())
        })()
        .map_err(|e| out_error(kept, e))?;
    }
    if let (Some(out), false) = (removed_out.as_mut(), buf.is_empty()) {
        let (header, ending) = split_ending(&buf);
        (|| {
            out.write_all(header)?;
            for name in ["duplicate_of", "score"] {
                out.write_all(&sep)?;
                out.write_all(name.as_bytes())?;
            }
            out.write_all(ending)
        })()
        .map_err(|e| out_error(removed, e))?;
    }

    for (i, row) in set.rows.iter().enumerate() {
        let gap = row.offset - pos;
        std::io::copy(&mut (&mut input).take(gap), &mut std::io::sink())
            .map_err(|e| io_error(source, e))?;
        buf.resize(row.len as usize, 0);
        input
            .read_exact(&mut buf)
            .map_err(|e| io_error(source, e))?;
        pos = row.offset + row.len as u64;
        let whole = record_bytes(&buf);
        let (content, ending) = split_ending(whole);
        match (duplicate_of(i), kept_out.as_mut(), removed_out.as_mut()) {
            (None, Some(out), _) => (|| {
                out.write_all(whole)?;
                // A record cut before the `\n` of its `\r\n`, or the file's last line.
                if whole.ends_with(b"\r") {
                    out.write_all(b"\n")?;
                } else if !whole.ends_with(b"\n") {
                    out.write_all(ending)?;
                }
                Ok(())
            })()
            .map_err(|e| out_error(kept, e))?,
            (Some(d), _, Some(out)) => {
                let id = set.ids.as_ref().map(|ids| ids.get(d.kept as usize));
                let index = set.rows[d.kept as usize].row.to_string();
                let score = format!("{:.4}", d.score);
                if set.format.is_jsonl() {
                    let dup = id.unwrap_or(&index);
                    (|| {
                        out.write_all(&removed_json(content, dup, d.score))?;
                        out.write_all(ending)
                    })()
                } else {
                    let dup = id.map_or(index, |id| csv_field(id, delimiter));
                    let content = csv_extendable(set, content, delimiter);
                    (|| {
                        out.write_all(&content)?;
                        for value in [dup.as_bytes(), score.as_bytes()] {
                            out.write_all(&sep)?;
                            out.write_all(value)?;
                        }
                        out.write_all(ending)
                    })()
                }
                .map_err(|e| out_error(removed, e))?;
            }
            _ => {}
        }
    }
    for (out, target) in [(kept_out, kept), (removed_out, removed)] {
        if let Some(out) = out {
            out.finish().map_err(|e| out_error(target, e))?;
        }
    }
    Ok(())
}

/// Parquet: the input's batches, all columns, filtered; removed rows gain two columns.
fn write_parquet<F>(
    set: &RecordSet<F>,
    duplicate_of: &dyn Fn(usize) -> Option<RemovedAs>,
    kept: Option<&Target>,
    removed: Option<&Target>,
) -> Result<(), Error> {
    let path = &set.path;
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| file_error(path, e))?;
    let schema = builder.schema().clone();
    // The input's codec, where we can write it.
    let compression = builder
        .metadata()
        .row_groups()
        .first()
        .and_then(|g| g.columns().first())
        .map(|c| c.compression())
        .filter(|c| {
            matches!(
                c,
                Compression::UNCOMPRESSED
                    | Compression::SNAPPY
                    | Compression::ZSTD(_)
                    | Compression::GZIP(_)
                    | Compression::LZ4_RAW
            )
        })
        .unwrap_or(Compression::SNAPPY);
    let props = WriterProperties::builder()
        .set_compression(compression)
        .build();
    let batches = builder
        .with_batch_size(BATCH_SIZE)
        .build()
        .map_err(|e| file_error(path, e))?;

    let id_type = if set.ids.is_some() {
        DataType::Utf8
    } else {
        DataType::Int64
    };
    let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new("duplicate_of", id_type, false)));
    fields.push(Arc::new(Field::new("score", DataType::Float64, false)));
    let removed_schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));

    let writer = |t: &Target, schema| {
        ArrowWriter::try_new(t.file()?, schema, Some(props.clone()))
            .map_err(|e| file_error(&t.dest, e))
    };
    let mut kept_out = kept.map(|t| writer(t, schema.clone())).transpose()?;
    let mut removed_out = removed
        .map(|t| writer(t, removed_schema.clone()))
        .transpose()?;

    let mut next = 0usize;
    let mut start = 0u64;
    let mut batches = batches;
    while let Some(batch) = crate::records::parquet_file::next_caught(&mut batches, path, start)? {
        let batch = batch.map_err(|e| Error::BadRecord {
            path: path.clone(),
            row: start,
            message: e.to_string(),
        })?;
        let n = batch.num_rows();
        let (mut keep, mut remove) = (vec![false; n], vec![false; n]);
        let (mut ids, mut indexes, mut scores) = (Vec::new(), Vec::new(), Vec::new());
        while next < set.rows.len() && set.rows[next].row < start + n as u64 {
            let r = (set.rows[next].row - start) as usize;
            match duplicate_of(next) {
                None => keep[r] = true,
                Some(d) => {
                    remove[r] = true;
                    match &set.ids {
                        Some(all) => ids.push(all.get(d.kept as usize).to_string()),
                        None => indexes.push(set.rows[d.kept as usize].row as i64),
                    }
                    scores.push(d.score);
                }
            }
            next += 1;
        }
        let filter = |mask: Vec<bool>| {
            arrow_select::filter::filter_record_batch(&batch, &BooleanArray::from(mask))
                .map_err(|e| file_error(path, e))
        };
        if let (Some(out), Some(t)) = (kept_out.as_mut(), kept) {
            let rows = filter(keep)?;
            if rows.num_rows() > 0 {
                out.write(&rows).map_err(|e| file_error(&t.dest, e))?;
            }
        }
        if let (Some(out), Some(t)) = (removed_out.as_mut(), removed) {
            let rows = filter(remove)?;
            if rows.num_rows() > 0 {
                let mut columns: Vec<ArrayRef> = rows.columns().to_vec();
                columns.push(match &set.ids {
                    Some(_) => Arc::new(StringArray::from(ids)),
                    None => Arc::new(Int64Array::from(indexes)),
                });
                columns.push(Arc::new(Float64Array::from(scores)));
                let rows = RecordBatch::try_new(removed_schema.clone(), columns)
                    .map_err(|e| file_error(&t.dest, e))?;
                out.write(&rows).map_err(|e| file_error(&t.dest, e))?;
            }
        }
        start += n as u64;
    }
    for (out, t) in [(kept_out, kept), (removed_out, removed)] {
        if let (Some(out), Some(t)) = (out, t) {
            out.close().map_err(|e| file_error(&t.dest, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endings_and_quoting() {
        assert_eq!(split_ending(b"a\r\n"), (&b"a"[..], &b"\r\n"[..]));
        assert_eq!(split_ending(b"a\n"), (&b"a"[..], &b"\n"[..]));
        assert_eq!(split_ending(b"a"), (&b"a"[..], &b"\n"[..]));
        assert_eq!(split_ending(b"a\r\n\r\n"), (&b"a"[..], &b"\r\n"[..]));
        assert_eq!(split_ending(b"a\r"), (&b"a"[..], &b"\r\n"[..]));
        assert_eq!(record_bytes(b"\nq,1\r"), b"q,1\r");
        assert_eq!(csv_field("plain", b','), "plain");
        assert_eq!(csv_field("a,b", b','), "\"a,b\"");
        assert_eq!(csv_field("a\"b", b'\t'), "\"a\"\"b\"");
        assert_eq!(csv_field("a,b", b'\t'), "a,b");
    }

    #[test]
    fn outputs_keep_the_input_format() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        assert!(Target::create(&p("a.jsonl.gz"), Format::Jsonl).is_ok());
        assert!(Target::create(&p("a.out"), Format::Csv).is_ok());
        let err = Target::create(&p("a.csv"), Format::Parquet).err().unwrap();
        assert!(err.to_string().contains("cannot write parquet rows as csv"));
    }
}
