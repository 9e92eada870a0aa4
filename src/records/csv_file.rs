//! CSV and TSV with a header line, quoted fields and embedded newlines as RFC 4180 has them
//! (the `csv` crate's parser). Each record's byte range in the file is kept, so that it can
//! be parsed again for verification and copied unchanged to the outputs.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use csv::ByteRecord;

use super::{Content, Fields, RawRow, RecordOptions, RowReader, decode, push_field};
use crate::error::Error;

/// Reads the records after the header, one ahead: a record's bytes end where the next
/// one starts (or at the end of the file), line ending and any blank lines included.
pub(crate) struct Reader {
    csv: csv::Reader<BufReader<File>>,
    ahead: Option<(ByteRecord, csv::Position)>,
    /// The same file read alongside, to place each record's start exactly: the parser puts
    /// it just after the previous terminator (before a `\n` of `\r\n` and blank lines).
    raw: BufReader<File>,
    raw_pos: u64,
    file_len: u64,
    row: u64,
    name: String,
}

/// The columns read from each record, as field indexes.
#[derive(Clone, Debug)]
pub(crate) struct Columns {
    delimiter: u8,
    /// (index, name) of each text column, in the chosen order.
    text: Vec<(usize, String)>,
    embedding: Option<(usize, String)>,
    id: Option<(usize, String)>,
}

fn builder(delimiter: u8, headers: bool) -> csv::ReaderBuilder {
    let mut b = csv::ReaderBuilder::new();
    b.delimiter(delimiter).has_headers(headers).flexible(true);
    b
}

/// Opens a file: reads its header, finds the columns. Returns the reader, the columns and
/// where the header record ends (its bytes, line ending included, are `0..header_end`).
pub(crate) fn open(
    path: &Path,
    file: File,
    delimiter: u8,
    opts: &RecordOptions,
) -> Result<(Reader, Columns, u64), Error> {
    let name = path.display().to_string();
    let mut csv = builder(delimiter, true).from_reader(BufReader::with_capacity(1 << 20, file));
    let header: Vec<String> = csv
        .byte_headers()
        .map_err(|e| csv_error(&name, e))?
        .iter()
        .map(|h| decode(h).0.into_owned())
        .collect();
    let file_len = csv.get_ref().get_ref().metadata().map_or(0, |m| m.len());
    let raw = File::open(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut reader = Reader {
        csv,
        ahead: None,
        raw: BufReader::with_capacity(1 << 16, raw),
        raw_pos: 0,
        file_len,
        row: 0,
        name: name.clone(),
    };
    reader.ahead = reader.read()?;
    let header_end = reader.ahead.as_ref().map_or(file_len, |(_, p)| p.byte());
    let find = |column: &str| {
        header
            .iter()
            .position(|h| h == column)
            .map(|i| (i, column.to_string()))
            .ok_or_else(|| Error::BadLine {
                source_name: name.clone(),
                line: 1,
                message: format!(
                    "no column '{column}' in the header (it has: {})",
                    header.join(", ")
                ),
            })
    };
    let columns = Columns {
        delimiter,
        text: opts
            .columns
            .iter()
            .map(|c| find(c))
            .collect::<Result<_, _>>()?,
        embedding: opts.embedding_column.as_deref().map(find).transpose()?,
        id: opts.id_column.as_deref().map(find).transpose()?,
    };
    Ok((reader, columns, header_end))
}

fn csv_error(name: &str, e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    Error::BadLine {
        source_name: name.to_string(),
        line,
        message: e.to_string(),
    }
}

impl Reader {
    fn read(&mut self) -> Result<Option<(ByteRecord, csv::Position)>, Error> {
        let mut record = ByteRecord::new();
        if !self
            .csv
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(&self.name, e))?
        {
            return Ok(None);
        }
        let start = record.position().expect("records have positions").clone();
        Ok(Some((record, start)))
    }
}

impl Reader {
    /// How many line-ending bytes begin the span `start..end`, and how many are `\n`.
    fn leading_endings(&mut self, start: u64, end: u64) -> Result<(u64, u64), Error> {
        let io = |e| Error::Io {
            path: self.name.clone().into(),
            source: e,
        };
        std::io::copy(
            &mut (&mut self.raw).take(start - self.raw_pos),
            &mut std::io::sink(),
        )
        .map_err(io)?;
        let (mut skip, mut newlines) = (0, 0);
        let mut byte = [0u8];
        while start + skip < end {
            self.raw.read_exact(&mut byte).map_err(io)?;
            match byte[0] {
                b'\n' => newlines += 1,
                b'\r' => {}
                _ => break,
            }
            skip += 1;
        }
        // The byte that ended the loop (if any) was consumed too.
        self.raw_pos = start + skip + u64::from(start + skip < end);
        Ok((skip, newlines))
    }
}

impl RowReader for Reader {
    fn next_batch(&mut self, max: usize) -> Result<Vec<RawRow>, Error> {
        let mut rows = Vec::with_capacity(max);
        while rows.len() < max {
            let Some((record, start)) = self.ahead.take() else {
                break;
            };
            self.ahead = self.read()?;
            let end = self.ahead.as_ref().map_or(self.file_len, |(_, p)| p.byte());
            let (skip, newlines) = self.leading_endings(start.byte(), end)?;
            rows.push(RawRow {
                row: self.row,
                line: start.line() + newlines,
                offset: start.byte() + skip,
                len: end - start.byte() - skip,
                content: Content::Csv(record),
            });
            self.row += 1;
        }
        Ok(rows)
    }
}

impl Columns {
    /// Parses the bytes of one record (as kept by its location) again.
    pub(crate) fn parse_one(&self, bytes: &[u8]) -> ByteRecord {
        let mut record = ByteRecord::new();
        // Reading from memory cannot fail; a record that no longer parses comes back empty
        // and is reported as a missing column.
        let _ = builder(self.delimiter, false)
            .from_reader(bytes)
            .read_byte_record(&mut record);
        record
    }

    /// The fields of one record. Invalid UTF-8 is replaced (and flagged).
    pub(crate) fn extract(&self, record: &ByteRecord) -> Result<Fields, String> {
        let mut fields = Fields::default();
        let get = |(i, name): &(usize, String)| {
            record.get(*i).ok_or_else(|| {
                format!(
                    "no column '{name}': the record has only {} field(s)",
                    record.len()
                )
            })
        };
        for (k, column) in self.text.iter().enumerate() {
            let (text, lossy) = decode(get(column)?);
            fields.lossy |= lossy;
            push_field(&mut fields.text, &text, k == 0);
        }
        if let Some(column) = &self.embedding {
            let vector: Vec<f32> = serde_json::from_slice(get(column)?).map_err(|_| {
                format!(
                    "column '{}' is not a vector (a JSON list of numbers)",
                    column.1
                )
            })?;
            fields.embedding = Some(vector);
        }
        if let Some(column) = &self.id {
            fields.id = Some(decode(get(column)?).0.into_owned());
        }
        Ok(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &[u8], opts: &RecordOptions) -> (Vec<RawRow>, Columns, u64) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let (mut reader, columns, header_end) =
            open(&path, File::open(&path).unwrap(), b',', opts).unwrap();
        (reader.next_batch(100).unwrap(), columns, header_end)
    }

    #[test]
    fn records_keep_their_bytes_and_lines() {
        let text = b"id,q\r\n1,\"a, \"\"quoted\"\"\nline\"\r\n2,b\r\n3,c";
        let (rows, columns, header_end) = read_all(text, &RecordOptions::new(["q"]));
        // Spans tile the file: each ends where the next begins (the parser places a start
        // just after the \r of a \r\n; the writer accounts for it).
        let mut end = header_end;
        for r in &rows {
            assert!(r.offset - end <= 1, "{} {end}", r.offset);
            end = r.offset + r.len;
        }
        assert_eq!(end, text.len() as u64);
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4, 5]);
        assert_eq!(&text[rows[1].offset as usize..][..2], b"2,");
        let bytes = &text[rows[0].offset as usize..][..rows[0].len as usize];
        let record = columns.parse_one(bytes);
        assert_eq!(
            columns.extract(&record).unwrap().text,
            "a, \"quoted\"\nline"
        );
    }

    #[test]
    fn lf_positions() {
        let text = b"id,q\n1,a\n\n2,b\n";
        let (rows, _, header_end) = read_all(text, &RecordOptions::new(["q"]));
        let spans: Vec<(u64, u64, u64)> = rows.iter().map(|r| (r.line, r.offset, r.len)).collect();
        assert_eq!((header_end, spans), (5, vec![(2, 5, 4), (4, 10, 4)]));
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_name() {
        let (rows, columns, header_end) = read_all(
            "\u{feff}id,q\n1,a\n".as_bytes(),
            &RecordOptions::new(["id"]),
        );
        assert_eq!(header_end, 8);
        let Content::Csv(record) = &rows[0].content else {
            panic!()
        };
        assert_eq!(columns.extract(record).unwrap().text, "1");
    }

    #[test]
    fn missing_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "a,b\n1,2\n").unwrap();
        let err = open(
            &path,
            File::open(&path).unwrap(),
            b',',
            &RecordOptions::new(["c"]),
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "{}, line 1: no column 'c' in the header (it has: a, b)",
                path.display()
            )
        );
        let (rows, columns, _) = read_all(b"a,b\n1,2\n3\n", &RecordOptions::new(["b"]));
        let Content::Csv(short) = &rows[1].content else {
            panic!()
        };
        assert!(
            columns
                .extract(short)
                .unwrap_err()
                .starts_with("no column 'b'")
        );
    }
}
