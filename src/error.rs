//! Typed errors, each carrying the path, line or row it concerns.
//!
//! Most input problems are not fatal: the library reports them through a [`Report`]
//! callback, skips the item and goes on; the binary prints them and exits with code 2.

use std::path::PathBuf;

/// Something that went wrong with one input item.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.as_ref().map_or("<walk>".into(), |p| p.display().to_string()))]
    Walk {
        path: Option<PathBuf>,
        #[source]
        source: walkdir::Error,
    },
    #[error("{}: dangling symbolic link", path.display())]
    DanglingLink { path: PathBuf },
    #[error("{}: no such file or directory", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: not a regular file, skipped", path.display())]
    NotAFile { path: PathBuf },
    #[error("{}: changed while it was read ({read} bytes read, {size} expected), skipped", path.display())]
    ChangedWhileRead { path: PathBuf, size: u64, read: u64 },
    #[error("{name}: changed since it was fingerprinted; its pairs are left out")]
    Changed { name: String },
    #[error("{source_name}, line {line}: blank line in the file list, skipped")]
    BlankLine { source_name: String, line: u64 },
    #[error("{source_name}, line {line}: {message}")]
    BadLine {
        source_name: String,
        line: u64,
        message: String,
    },
    #[error("{}: not a .npy file: {message}", path.display())]
    NpyHeader { path: PathBuf, message: String },
    #[error("{}: dtype '{descr}' is not supported (use float16, float32 or float64)", path.display())]
    NpyDtype { path: PathBuf, descr: String },
    #[error("{}: Fortran-order array; save it in C order (numpy.ascontiguousarray)", path.display())]
    NpyFortran { path: PathBuf },
    #[error("{}: shape {shape} is not 2-D (rows, dimensions)", path.display())]
    NpyShape { path: PathBuf, shape: String },
    #[error("{}: truncated: the header promises {expected} bytes of data, the file holds {found}", path.display())]
    NpyTruncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("{}: {ids} ids for {rows} rows", path.display())]
    IdCount {
        path: PathBuf,
        ids: usize,
        rows: usize,
    },
    #[error("{}, row {row} ({id}): {what}, row skipped", path.display())]
    BadRow {
        path: PathBuf,
        row: usize,
        id: String,
        what: &'static str,
    },
    #[error("{}: {message}", path.display())]
    Incompatible { path: PathBuf, message: String },
    /// A row of a columnar file (Parquet) that cannot be used; `row` counts from 0.
    #[error("{}, row {row}: {message}", path.display())]
    BadRecord {
        path: PathBuf,
        row: u64,
        message: String,
    },
    /// An index file that cannot be used: not an index, damaged, or from a newer version.
    #[error("{}: {source}", path.display())]
    Index {
        path: PathBuf,
        #[source]
        source: FormatError,
    },
    /// A saved file (a [`crate::bundle`]) that cannot be used: damaged, truncated or newer.
    #[error("{}: {source}", path.display())]
    Bundle {
        path: PathBuf,
        #[source]
        source: crate::bundle::BundleError,
    },
    /// A setting that cannot be used (a fingerprint width, a threshold, a column list).
    #[error("{message}")]
    Setting { message: String },
    /// A problem with a whole dataset file: its format, header or schema.
    #[error("{}: {message}", path.display())]
    BadFile { path: PathBuf, message: String },
}

/// Receives the non-fatal errors of a run, from any thread.
pub trait Report: Sync {
    fn report(&self, error: Error);
}

impl<T: Fn(Error) + Sync> Report for T {
    fn report(&self, error: Error) {
        self(error)
    }
}

/// Why bytes are not a usable index.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("not a simdedup index (it does not start with the index magic bytes)")]
    Magic,
    #[error(
        "index format version {found} is newer than this simdedup reads (up to {newest}); use a newer simdedup"
    )]
    NewerVersion { found: u32, newest: u32 },
    #[error("unknown index format version {found}")]
    UnknownVersion { found: u32 },
    #[error("truncated index: {expected} bytes expected, {found} found")]
    Truncated { expected: u64, found: u64 },
    #[error("corrupt index: checksum {computed:08x} does not match the stored {stored:08x}")]
    Checksum { stored: u32, computed: u32 },
    #[error("corrupt index: {0}")]
    Corrupt(String),
}
