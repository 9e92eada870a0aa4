//! Parquet through the `arrow`/`parquet` crates: only the chosen columns are decoded, batch
//! by batch. Rows cannot be reached at random cheaply (a page decodes as a whole), so the
//! combined text of each row goes to a spill file as it is read (see [`super::read_records`]).

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Schema};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::{Content, Fields, RawRow, RecordOptions, RowReader, push_field};
use crate::error::Error;

/// Rows decoded at a time.
pub(crate) const BATCH_SIZE: usize = 4096;

/// Reads the chosen columns, batch by batch.
pub(crate) struct Reader {
    batches: ParquetRecordBatchReader,
    path: PathBuf,
    columns: Vec<String>,
    embedding: Option<String>,
    id: Option<String>,
    row: u64,
}

pub(crate) fn file_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The next batch of `batches`, with a panic of the parquet crate (it asserts on some
/// corrupt metadata, such as negative column offsets, instead of returning an error) turned
/// into an error about `path` at `row`.
pub(crate) fn next_caught<I: Iterator>(
    batches: &mut I,
    path: &Path,
    row: u64,
) -> Result<Option<I::Item>, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| batches.next())).map_err(|panic| {
        Error::BadRecord {
            path: path.to_path_buf(),
            row,
            message: format!("corrupt file: {}", panic_message(&*panic)),
        }
    })
}

/// The text of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the Parquet reader failed".into())
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_vector(t: &DataType) -> bool {
    let floats = |t: &DataType| matches!(t, DataType::Float32 | DataType::Float64);
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            floats(f.data_type())
        }
        _ => false,
    }
}

fn is_id(t: &DataType) -> bool {
    is_text(t) || t.is_integer()
}

/// The index of column `name` in `schema`, if its type passes `ok` (`what` it must be).
fn column(
    path: &Path,
    schema: &Schema,
    name: &str,
    ok: fn(&DataType) -> bool,
    what: &str,
) -> Result<usize, Error> {
    let i = schema.index_of(name).map_err(|_| {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        file_error(
            path,
            format!("no column '{name}' (it has: {})", names.join(", ")),
        )
    })?;
    let t = schema.field(i).data_type();
    if !ok(t) {
        return Err(file_error(
            path,
            format!("column '{name}' is {t}, not {what}"),
        ));
    }
    Ok(i)
}

impl Reader {
    /// Opens a file, checks the columns' types and returns the reader and the row count.
    pub(crate) fn open(
        path: &Path,
        file: File,
        opts: &RecordOptions,
    ) -> Result<(Reader, u64), Error> {
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| file_error(path, e))?;
        let schema = builder.schema().clone();
        let mut roots = Vec::new();
        for name in &opts.columns {
            roots.push(column(path, &schema, name, is_text, "text")?);
        }
        if let Some(name) = &opts.embedding_column {
            roots.push(column(path, &schema, name, is_vector, "a list of floats")?);
        }
        if let Some(name) = &opts.id_column {
            roots.push(column(path, &schema, name, is_id, "text or an integer")?);
        }
        let total = builder.metadata().file_metadata().num_rows() as u64;
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        let batches = builder
            .with_projection(mask)
            .with_batch_size(BATCH_SIZE)
            .build()
            .map_err(|e| file_error(path, e))?;
        let reader = Reader {
            batches,
            path: path.to_path_buf(),
            columns: opts.columns.clone(),
            embedding: opts.embedding_column.clone(),
            id: opts.id_column.clone(),
            row: 0,
        };
        Ok((reader, total))
    }

    /// The fields of row `i` of `batch` (whose columns were checked at opening).
    fn fields(&self, batch: &RecordBatch, i: usize) -> Result<Fields, String> {
        let get = |name: &str| {
            let array = batch.column_by_name(name).expect("projected column");
            if array.is_null(i) {
                Err(format!("column '{name}' is null"))
            } else {
                Ok(array)
            }
        };
        let mut fields = Fields::default();
        for (k, name) in self.columns.iter().enumerate() {
            push_field(&mut fields.text, text_at(get(name)?, i), k == 0);
        }
        if let Some(name) = &self.embedding {
            fields.embedding = Some(vector_at(get(name)?, i));
        }
        if let Some(name) = &self.id {
            let array = get(name)?;
            fields.id = Some(if is_text(array.data_type()) {
                text_at(array, i).to_string()
            } else {
                integer_at(array, i)
            });
        }
        Ok(fields)
    }
}

/// Value `i` of a string array (any of the three layouts).
fn text_at(array: &dyn Array, i: usize) -> &str {
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(i),
        DataType::LargeUtf8 => array.as_string::<i64>().value(i),
        DataType::Utf8View => array.as_string_view().value(i),
        t => unreachable!("checked text type, got {t}"),
    }
}

/// Value `i` of a list-of-floats array, as f32.
fn vector_at(array: &dyn Array, i: usize) -> Vec<f32> {
    let items = match array.data_type() {
        DataType::List(_) => array.as_list::<i32>().value(i),
        DataType::LargeList(_) => array.as_list::<i64>().value(i),
        DataType::FixedSizeList(_, _) => array.as_fixed_size_list().value(i),
        t => unreachable!("checked list type, got {t}"),
    };
    match items.data_type() {
        DataType::Float32 => items.as_primitive::<Float32Type>().values().to_vec(),
        DataType::Float64 => (items.as_primitive::<Float64Type>().values().iter())
            .map(|&x| x as f32)
            .collect(),
        t => unreachable!("checked float type, got {t}"),
    }
}

/// Value `i` of an integer array, in decimal.
fn integer_at(array: &dyn Array, i: usize) -> String {
    use arrow_array::types::*;
    macro_rules! int {
        ($($t:ident => $p:ty),*) => {
            match array.data_type() {
                $(DataType::$t => array.as_primitive::<$p>().value(i).to_string(),)*
                t => unreachable!("checked integer type, got {t}"),
            }
        };
    }
    int!(Int8 => Int8Type, Int16 => Int16Type, Int32 => Int32Type, Int64 => Int64Type,
         UInt8 => UInt8Type, UInt16 => UInt16Type, UInt32 => UInt32Type, UInt64 => UInt64Type)
}

impl RowReader for Reader {
    fn next_batch(&mut self, _max: usize) -> Result<Vec<RawRow>, Error> {
        let Some(batch) = next_caught(&mut self.batches, &self.path, self.row)? else {
            return Ok(Vec::new());
        };
        let batch = batch.map_err(|e| Error::BadRecord {
            path: self.path.clone(),
            row: self.row,
            message: e.to_string(),
        })?;
        let rows = (0..batch.num_rows())
            .map(|i| RawRow {
                row: self.row + i as u64,
                line: self.row + i as u64,
                offset: 0,
                len: 0,
                content: Content::Fields(self.fields(&batch, i)),
            })
            .collect();
        self.row += batch.num_rows() as u64;
        Ok(rows)
    }
}
