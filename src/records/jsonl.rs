//! JSON Lines: one JSON object per line; blank lines are not rows. Gzip-compressed files
//! are decompressed as they stream and the decompressed bytes copied to a spill file, so
//! that rows can be read again (and written out) by offset as in a plain file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};

use flate2::read::MultiGzDecoder;
use serde_json::Value;

use super::{Content, Fields, RawRow, RecordOptions, RowReader, decode, push_field};
use crate::error::Error;

/// Reads lines of a (decompressed) stream, counting bytes and lines.
pub(crate) struct Reader {
    input: Box<dyn BufRead + Send>,
    offset: u64,
    line: u64,
    row: u64,
    name: String,
}

/// Copies everything read from `inner` to `copy` (the gzip spill file).
struct Tee<R> {
    inner: R,
    copy: File,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

impl Reader {
    pub(crate) fn plain(file: File, name: String) -> Reader {
        Reader::new(Box::new(BufReader::with_capacity(1 << 20, file)), name)
    }

    /// A gzip file (several members allowed), its decompressed bytes copied to `spill`.
    pub(crate) fn gzip(file: File, spill: File, name: String) -> Reader {
        let decoder = MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file));
        let tee = Tee {
            inner: decoder,
            copy: spill,
        };
        Reader::new(Box::new(BufReader::with_capacity(1 << 20, tee)), name)
    }

    fn new(input: Box<dyn BufRead + Send>, name: String) -> Reader {
        Reader {
            input,
            offset: 0,
            line: 0,
            row: 0,
            name,
        }
    }
}

impl RowReader for Reader {
    fn next_batch(&mut self, max: usize) -> Result<Vec<RawRow>, Error> {
        let mut rows = Vec::with_capacity(max);
        while rows.len() < max {
            let mut buf = Vec::new();
            let n = self
                .input
                .read_until(b'\n', &mut buf)
                .map_err(|e| Error::BadLine {
                    source_name: self.name.clone(),
                    line: self.line + 1,
                    message: format!("cannot read: {e}"),
                })?;
            if n == 0 {
                break;
            }
            let offset = self.offset;
            self.offset += n as u64;
            self.line += 1;
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            rows.push(RawRow {
                row: self.row,
                line: self.line,
                offset,
                len: n as u64,
                content: Content::Json(buf),
            });
            self.row += 1;
        }
        Ok(rows)
    }
}

/// The columns read from each JSON object.
#[derive(Clone, Debug)]
pub(crate) struct Columns {
    text: Vec<String>,
    embedding: Option<String>,
    id: Option<String>,
}

/// What kind of JSON value `v` is, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Columns {
    pub(crate) fn new(opts: &RecordOptions) -> Columns {
        Columns {
            text: opts.columns.clone(),
            embedding: opts.embedding_column.clone(),
            id: opts.id_column.clone(),
        }
    }

    /// The fields of one line. Invalid UTF-8 is replaced (and flagged) before parsing.
    pub(crate) fn extract(&self, bytes: &[u8]) -> Result<Fields, String> {
        let (json, lossy) = decode(bytes);
        let value: Value = serde_json::from_str(&json).map_err(|e| {
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m);
            format!("invalid JSON at column {}: {message}", e.column())
        })?;
        let Value::Object(object) = value else {
            return Err(format!("expected a JSON object, found {}", kind(&value)));
        };
        let get = |name: &str| {
            object
                .get(name)
                .ok_or_else(|| format!("no column '{name}'"))
        };
        let mut fields = Fields {
            lossy,
            ..Fields::default()
        };
        for (k, name) in self.text.iter().enumerate() {
            match get(name)? {
                Value::String(s) => push_field(&mut fields.text, s, k == 0),
                other => return Err(format!("column '{name}' is {}, not text", kind(other))),
            }
        }
        if let Some(name) = &self.embedding {
            let not_vector = |v: &Value| format!("column '{name}' is {}, not a vector", kind(v));
            match get(name)? {
                Value::Array(items) => {
                    let vector = items
                        .iter()
                        .map(|x| x.as_f64().map(|x| x as f32).ok_or_else(|| not_vector(x)))
                        .collect::<Result<Vec<f32>, String>>()?;
                    fields.embedding = Some(vector);
                }
                other => return Err(not_vector(other)),
            }
        }
        if let Some(name) = &self.id {
            fields.id = Some(get(name)?.to_string());
        }
        Ok(fields)
    }
}

/// A line's combined text columns and its id column's JSON text.
pub type TextAndId = (String, Option<String>);

/// The fields of JSON Lines records read by an engine that splits the lines itself (the
/// Spark job): for each line, its text `columns` joined as a dataset row's fields are and,
/// with `id_column`, that column's JSON text, as [`super::read_records`] would give them.
/// A bad line is `Err((index, message))`, the first one in `lines`.
pub fn line_fields(
    lines: &[&[u8]],
    columns: &[String],
    id_column: Option<&str>,
) -> Result<Vec<TextAndId>, (usize, String)> {
    let fields = line_fields_each(lines, columns, id_column);
    // In order: the first bad line is the one named.
    fields
        .into_iter()
        .enumerate()
        .map(|(i, f)| f.map_err(|message| (i, message)))
        .collect()
}

/// [`line_fields`] line by line: each line's fields, or its message.
pub fn line_fields_each(
    lines: &[&[u8]],
    columns: &[String],
    id_column: Option<&str>,
) -> Vec<Result<TextAndId, String>> {
    use rayon::prelude::*;
    let extractor = Columns {
        text: columns.to_vec(),
        embedding: None,
        id: id_column.map(str::to_string),
    };
    lines
        .par_iter()
        .map(|line| extractor.extract(line).map(|f| (f.text, f.id)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(text: &[&str]) -> Columns {
        let mut opts = RecordOptions::new(text.iter().copied());
        opts.id_column = Some("id".into());
        Columns::new(&opts)
    }

    #[test]
    fn line_fields_name_the_first_bad_line() {
        let cols = ["q".to_string(), "c".to_string()];
        let lines: [&[u8]; 3] = [
            br#"{"c": "ctx", "id": "a", "q": "why?"}"#,
            br#"{"q": "x", "c": "y"}"#,
            br#"{"q": "x"}"#,
        ];
        let got = line_fields(&lines[..2], &cols, None).unwrap();
        assert_eq!(got[0].1, None);
        assert_eq!(
            got[0].0,
            columns(&["q", "c"]).extract(lines[0]).unwrap().text
        );
        let ids = line_fields(&lines[..1], &cols, Some("id")).unwrap();
        assert_eq!(ids[0].1.as_deref(), Some("\"a\""));
        assert_eq!(line_fields(&lines, &cols, None).unwrap_err().0, 2);
    }

    #[test]
    fn extracts_columns_in_order() {
        let c = columns(&["q", "c"]);
        let f = c.extract(br#"{"c": "ctx", "id": 7, "q": "why?"}"#).unwrap();
        assert_eq!(f.text, "why?\u{1e}ctx");
        assert_eq!(f.id.as_deref(), Some("7"));
        assert!(!f.lossy);
        let f = c.extract(br#"{"c": "x", "id": "a\"b", "q": "y"}"#).unwrap();
        assert_eq!(f.id.as_deref(), Some(r#""a\"b""#));
    }

    #[test]
    fn bad_rows_say_why() {
        let c = columns(&["q"]);
        assert_eq!(c.extract(br#"{"id": 1}"#).unwrap_err(), "no column 'q'");
        assert_eq!(
            c.extract(br#"{"q": 3, "id": 1}"#).unwrap_err(),
            "column 'q' is a number, not text"
        );
        assert_eq!(
            c.extract(br#"[1]"#).unwrap_err(),
            "expected a JSON object, found an array"
        );
        let e = c.extract(br#"{"q": "a", "#).unwrap_err();
        assert!(e.starts_with("invalid JSON at column"), "{e}");
        assert!(!e.contains("line"), "{e}");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let f = columns(&["q"])
            .extract(b"{\"q\": \"caf\xe9\", \"id\": 0}")
            .unwrap();
        assert_eq!(f.text, "caf\u{fffd}");
        assert!(f.lossy);
    }

    #[test]
    fn embeddings_are_number_lists() {
        let mut opts = RecordOptions::new(["q"]);
        opts.embedding_column = Some("v".into());
        let c = Columns::new(&opts);
        let f = c.extract(br#"{"q": "a", "v": [1, 0.5]}"#).unwrap();
        assert_eq!(f.embedding, Some(vec![1.0, 0.5]));
        assert!(c.extract(br#"{"q": "a", "v": [1, "x"]}"#).is_err());
    }
}
