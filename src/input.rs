//! Where documents come from: paths on the command line, directory walks, and file lists
//! read from standard input (one path per line, or NUL-separated).
//!
//! Problems are reported per item and the item skipped; the rest of the input goes on.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use bitvec::slice::BitSlice;
use hashbrown::HashTable;
use walkdir::WalkDir;

use crate::error::{Error, Report};

/// How input paths are expanded.
#[derive(Clone, Copy, Debug, Default)]
pub struct WalkOptions {
    /// Follow symbolic links inside walked directories (`-L`). Paths named on the command
    /// line or in a list are always followed.
    pub follow_links: bool,
    /// File lists on standard input are NUL-separated (`-0`) rather than one per line.
    pub null_separated: bool,
}

/// Paths stored back to back in one buffer. Millions of paths cost their bytes plus 4 bytes
/// each, where `Vec<PathBuf>` adds 24 bytes and a heap block (16 bytes or more) per path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathList {
    bytes: Vec<u8>,
    /// Where path `i` ends in `bytes` (it starts where path `i - 1` ends), modulo [`WRAP`].
    ends: Vec<u32>,
    /// `wraps[k]` is the first path that ends at `(k + 1) * WRAP` or later: the high part of
    /// the ends, for lists of more than 4 GiB of paths (empty below that).
    wraps: Vec<usize>,
}

/// The ends of paths are stored modulo this (2^32; small in unit tests, to test the wraps).
const WRAP: usize = if cfg!(test) { 1 << 8 } else { 1 << 32 };

impl PathList {
    pub fn new() -> PathList {
        PathList::default()
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn push(&mut self, path: &Path) {
        self.bytes
            .extend_from_slice(path.as_os_str().as_encoded_bytes());
        self.push_end(self.bytes.len());
    }

    /// Records that the next path ends at `end` in `bytes`.
    fn push_end(&mut self, end: usize) {
        while (self.wraps.len() + 1) * WRAP <= end {
            self.wraps.push(self.ends.len());
        }
        self.ends.push((end % WRAP) as u32);
    }

    /// Where path `i` ends in `bytes`.
    fn end(&self, i: usize) -> usize {
        self.wraps.partition_point(|&w| w <= i) * WRAP + self.ends[i] as usize
    }

    /// Path `i`. Panics if `i >= len()`.
    pub fn get(&self, i: usize) -> &Path {
        Path::new(os_str(self.raw(i)))
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Path> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Adds `other`'s paths after this list's.
    pub fn append(&mut self, other: &PathList) {
        let base = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        for i in 0..other.len() {
            self.push_end(base + other.end(i));
        }
    }

    /// Keeps the paths whose bit is set in `keep` (one bit per path), in order, in place.
    pub fn retain(&mut self, keep: &BitSlice) {
        assert_eq!(keep.len(), self.len(), "one bit per path");
        let (mut write, mut start, mut kept) = (0usize, 0usize, 0usize);
        let mut wraps = Vec::new();
        for i in 0..self.ends.len() {
            let end = self.end(i);
            if keep[i] {
                self.bytes.copy_within(start..end, write);
                write += end - start;
                while (wraps.len() + 1) * WRAP <= write {
                    wraps.push(kept);
                }
                self.ends[kept] = (write % WRAP) as u32;
                kept += 1;
            }
            start = end;
        }
        self.bytes.truncate(write);
        self.ends.truncate(kept);
        self.wraps = wraps;
    }

    /// Frees spare capacity (after the list stops growing).
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    fn raw(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        &self.bytes[start..self.end(i)]
    }
}

impl<P: AsRef<Path>> FromIterator<P> for PathList {
    fn from_iter<I: IntoIterator<Item = P>>(iter: I) -> PathList {
        let mut list = PathList::new();
        for p in iter {
            list.push(p.as_ref());
        }
        list
    }
}

#[cfg(unix)]
fn os_str(bytes: &[u8]) -> &OsStr {
    use std::os::unix::ffi::OsStrExt;
    OsStr::from_bytes(bytes)
}

#[cfg(not(unix))]
fn os_str(bytes: &[u8]) -> &OsStr {
    // SAFETY: `bytes` is exactly what `as_encoded_bytes` gave for one whole `OsStr` in `push`.
    unsafe { OsStr::from_encoded_bytes_unchecked(bytes) }
}

/// The files to read, in input order: each argument in turn, directories walked
/// recursively in file-name order, `-` replaced by the list read from `stdin`. A path met
/// twice is kept once, at its first place; `repeated` counts the others.
#[derive(Debug, Default)]
pub struct FileList {
    pub files: PathList,
    pub repeated: usize,
}

/// Builds a [`FileList`], dropping repeated paths. The set of paths seen is a table of
/// indexes into the list (4 bytes and a control byte per path), not a copy of the paths.
struct Collector {
    list: FileList,
    seen: HashTable<u32>,
}

impl Collector {
    fn add(&mut self, path: &Path) {
        let bytes = path.as_os_str().as_encoded_bytes();
        let hash = cityhasher::hash::<u64>(bytes);
        let files = &self.list.files;
        let hasher = |&i: &u32| cityhasher::hash::<u64>(files.raw(i as usize));
        match self
            .seen
            .entry(hash, |&i| files.raw(i as usize) == bytes, hasher)
        {
            hashbrown::hash_table::Entry::Occupied(_) => self.list.repeated += 1,
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(files.len() as u32);
                self.list.files.push(path);
            }
        }
    }
}

/// Expands `args` into the files to read. Unreadable or missing items are reported and skipped.
pub fn collect_files(
    args: &[PathBuf],
    options: &WalkOptions,
    stdin: &mut dyn Read,
    report: &dyn Report,
) -> FileList {
    let mut collector = Collector {
        list: FileList::default(),
        seen: HashTable::new(),
    };
    let mut stdin_read = false;
    for arg in args {
        if arg.as_os_str() == "-" {
            if stdin_read {
                continue;
            }
            stdin_read = true;
            read_list(stdin, options.null_separated, report, &mut |path| {
                expand(&path, options, report, &mut |p| collector.add(&p));
            });
        } else {
            expand(arg, options, report, &mut |p| collector.add(&p));
        }
    }
    let mut list = collector.list;
    list.files.shrink_to_fit();
    list
}

/// Reads a list of paths: lines (a trailing `\r` is kept, as it may be part of a name) or
/// NUL-separated entries, each passed to `each` as it is read. Blank entries are reported,
/// except a final empty one.
fn read_list(
    stdin: &mut dyn Read,
    null_separated: bool,
    report: &dyn Report,
    each: &mut dyn FnMut(PathBuf),
) {
    let sep = if null_separated { b'\0' } else { b'\n' };
    let mut reader = std::io::BufReader::new(stdin);
    let mut line = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(sep, &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                report.report(Error::Io {
                    path: PathBuf::from("<stdin>"),
                    source: e,
                });
                break;
            }
        }
        line += 1;
        if buf.last() == Some(&sep) {
            buf.pop();
        }
        if buf.is_empty() {
            report.report(Error::BlankLine {
                source_name: "<stdin>".into(),
                line,
            });
            continue;
        }
        each(path_from_bytes(std::mem::take(&mut buf)));
    }
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// One named path: a file is taken as given, a directory walked.
fn expand(path: &Path, options: &WalkOptions, report: &dyn Report, add: &mut dyn FnMut(PathBuf)) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            report.report(match e.kind() {
                std::io::ErrorKind::NotFound if is_link => Error::DanglingLink {
                    path: path.to_path_buf(),
                },
                std::io::ErrorKind::NotFound => Error::NotFound {
                    path: path.to_path_buf(),
                },
                _ => Error::Io {
                    path: path.to_path_buf(),
                    source: e,
                },
            });
            return;
        }
    };
    if !meta.is_dir() {
        // Named explicitly: read it, even if it is a FIFO (process substitution).
        add(path.to_path_buf());
        return;
    }
    let walk = WalkDir::new(path)
        .follow_links(options.follow_links)
        .sort_by_file_name();
    for entry in walk {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                report.report(Error::Walk {
                    path: e.path().map(Path::to_path_buf),
                    source: e,
                });
                continue;
            }
        };
        let ft = entry.file_type();
        if ft.is_file() {
            add(entry.into_path());
        } else if ft.is_symlink() {
            // Not followed (no -L): say so only when the link leads nowhere (or in a loop).
            match std::fs::metadata(entry.path()) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    report.report(Error::DanglingLink {
                        path: entry.into_path(),
                    })
                }
                Err(source) => report.report(Error::Io {
                    path: entry.into_path(),
                    source,
                }),
            }
        } else if !ft.is_dir() {
            report.report(Error::NotAFile {
                path: entry.into_path(),
            });
        }
    }
}

/// A file's contents as text.
#[derive(Debug)]
pub enum Contents {
    /// The text, invalid UTF-8 replaced by U+FFFD.
    Text(String),
    /// The file holds a NUL byte: treated as binary and not fingerprinted.
    Binary,
}

/// Reads a whole file into memory (see [`read_chunks`]).
pub fn read_text(path: &Path, allow_binary: bool) -> Result<Contents, Error> {
    let mut text = String::new();
    let kind = read_chunks(path, allow_binary, CHUNK_BYTES, &mut |piece, _| {
        text.push_str(piece)
    })?;
    Ok(match kind {
        FileKind::Text => Contents::Text(text),
        FileKind::Binary => Contents::Binary,
    })
}

/// Bytes read at a time by [`read_chunks`]: most files are one piece.
pub const CHUNK_BYTES: usize = 1 << 20;

/// What [`read_chunks`] found in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Text,
    /// A NUL byte was met: reading stopped there.
    Binary,
}

/// Reads a file in pieces of about `chunk_bytes`, decoded as UTF-8 and passed to
/// `f(text, last)`: the last call has `last` set, and the pieces joined are the whole file
/// decoded at once (invalid UTF-8 replaced by U+FFFD; a character split between two reads
/// is carried over). Memory stays at a few times `chunk_bytes`, whatever the file size.
///
/// A NUL byte ends the reading with [`FileKind::Binary`] (after some pieces may have been
/// passed) unless `allow_binary`. A regular file whose size or modification time changes
/// while it is read, or that gives more or fewer bytes than its size, is an
/// [`Error::ChangedWhileRead`] (files that report size 0, as in /proc, are not checked).
pub fn read_chunks(
    path: &Path,
    allow_binary: bool,
    chunk_bytes: usize,
    f: &mut dyn FnMut(&str, bool),
) -> Result<FileKind, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let before = file.metadata().map_err(io)?;
    let size = (before.is_file() && before.len() > 0).then_some(before.len());
    // Room for the whole file and the read that sees its end, up to `chunk_bytes`.
    let capacity = size.map_or(chunk_bytes, |n| {
        (n as usize).saturating_add(1).min(chunk_bytes)
    });
    let mut buf = vec![0u8; capacity.max(4)];
    let (mut filled, mut total) = (0usize, 0u64);
    loop {
        let start = filled;
        let mut eof = false;
        while filled < buf.len() {
            match file.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
        total += (filled - start) as u64;
        if !allow_binary && memchr::memchr(0, &buf[start..filled]).is_some() {
            return Ok(FileKind::Binary);
        }
        let cut = if eof {
            filled
        } else {
            utf8_cut(&buf[..filled])
        };
        // Valid UTF-8 (nearly all text) is checked by the fast validator; only invalid
        // bytes take the slower lossy decoder. Both give the same text.
        match std::str::from_utf8(&buf[..cut]) {
            Ok(text) => f(text, eof),
            Err(_) => f(&String::from_utf8_lossy(&buf[..cut]), eof),
        }
        if eof {
            break;
        }
        buf.copy_within(cut..filled, 0);
        filled -= cut;
    }
    if let Some(size) = size {
        let after = file.metadata().map_err(io)?;
        if total != size || after.len() != size || after.modified().ok() != before.modified().ok() {
            return Err(Error::ChangedWhileRead {
                path: path.to_path_buf(),
                size,
                read: total,
            });
        }
    }
    Ok(FileKind::Text)
}

/// Reads a file's raw bytes in pieces of at most `chunk_bytes`, passed to `f(bytes, last)`
/// (the last call has `last` set, possibly with no bytes): for callers that need byte
/// offsets into the file as it is, such as the paragraph and line units. The checks are
/// those of [`read_chunks`]: a NUL byte ends the reading with [`FileKind::Binary`] unless
/// `allow_binary`, and a file that changes while read is an [`Error::ChangedWhileRead`].
pub fn read_byte_chunks(
    path: &Path,
    allow_binary: bool,
    chunk_bytes: usize,
    f: &mut dyn FnMut(&[u8], bool),
) -> Result<FileKind, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let before = file.metadata().map_err(io)?;
    let size = (before.is_file() && before.len() > 0).then_some(before.len());
    let capacity = size.map_or(chunk_bytes, |n| {
        (n as usize).saturating_add(1).min(chunk_bytes)
    });
    let mut buf = vec![0u8; capacity.max(1)];
    let mut total = 0u64;
    loop {
        let mut filled = 0;
        let mut eof = false;
        while filled < buf.len() {
            match file.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
        total += filled as u64;
        if !allow_binary && memchr::memchr(0, &buf[..filled]).is_some() {
            return Ok(FileKind::Binary);
        }
        f(&buf[..filled], eof);
        if eof {
            break;
        }
    }
    if let Some(size) = size {
        let after = file.metadata().map_err(io)?;
        if total != size || after.len() != size || after.modified().ok() != before.modified().ok() {
            return Err(Error::ChangedWhileRead {
                path: path.to_path_buf(),
                size,
                read: total,
            });
        }
    }
    Ok(FileKind::Text)
}

/// Where to cut `bytes` so that a character begun in its last three bytes, if incomplete,
/// goes to the next piece. The prefix then decodes as it does within the whole file: the
/// cut is at a lead byte, where a decoder always starts a new character.
fn utf8_cut(bytes: &[u8]) -> usize {
    let n = bytes.len();
    for back in 1..=n.min(3) {
        match bytes[n - back] {
            0x00..=0x7f => return n,
            0x80..=0xbf => continue,
            _ => {
                return match std::str::from_utf8(&bytes[n - back..]) {
                    Err(e) if e.error_len().is_none() => n - back,
                    _ => n,
                };
            }
        }
    }
    n
}

/// The bytes of `path` as the OS holds them (outside Unix: its encoded bytes).
#[cfg(unix)]
pub fn path_bytes(path: &Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes()
}

#[cfg(not(unix))]
pub fn path_bytes(path: &Path) -> &[u8] {
    path.as_os_str().as_encoded_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn collect(args: &[PathBuf], stdin: &str, null: bool) -> (FileList, Vec<String>) {
        let errors = Mutex::new(Vec::new());
        let report = |e: Error| errors.lock().unwrap().push(e.to_string());
        let opts = WalkOptions {
            follow_links: false,
            null_separated: null,
        };
        let list = collect_files(args, &opts, &mut stdin.as_bytes(), &report);
        (list, errors.into_inner().unwrap())
    }

    #[test]
    fn walks_sorted_and_reads_lists() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.txt", "a.txt", "sub/c.txt"] {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "x").unwrap();
        }
        let (list, errors) = collect(&[dir.path().to_path_buf()], "", false);
        let names: Vec<_> = list
            .files
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a.txt", "b.txt", "sub/c.txt"]);
        assert!(errors.is_empty());

        let a = dir.path().join("a.txt");
        let missing = dir.path().join("nope.txt");
        let stdin = format!(
            "{}\n\n{}\n{}\n",
            a.display(),
            missing.display(),
            a.display()
        );
        let (list, errors) = collect(&[PathBuf::from("-")], &stdin, false);
        assert_eq!(list.files, PathList::from_iter([&a]));
        assert_eq!(list.repeated, 1);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("line 2: blank line"));
        assert!(errors[1].contains("nope.txt: no such file"));

        let stdin = format!("{}\0{}\0", a.display(), dir.path().join("b.txt").display());
        let (list, errors) = collect(&[PathBuf::from("-")], &stdin, true);
        assert_eq!(list.files.len(), 2);
        assert!(errors.is_empty());
    }

    proptest::proptest! {
        /// Pieces of any size decode to the whole file's lossy decoding.
        #[test]
        fn chunks_decode_like_the_whole_file(
            bytes in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b' ', 0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0x82, 0xac,
                    0xf0, 0x9f, 0x98, 0x80, 0xe0, 0xed, 0xa0, 0xc0, 0xff, 0xf4, 0x90]),
                0..60),
            chunk in 1usize..12,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f");
            std::fs::write(&path, &bytes).unwrap();
            let mut text = String::new();
            let mut lasts = 0;
            let kind = read_chunks(&path, false, chunk, &mut |piece, last| {
                text.push_str(piece);
                lasts += last as usize;
            }).unwrap();
            proptest::prop_assert_eq!(kind, FileKind::Text);
            proptest::prop_assert_eq!(lasts, 1);
            proptest::prop_assert_eq!(text, String::from_utf8_lossy(&bytes).into_owned());
        }
    }

    #[test]
    fn path_list_keeps_bytes_and_order() {
        let names = ["a", "", "dir/b c", "tab\there", "ünï"];
        let mut list: PathList = names.iter().collect();
        assert_eq!(list.len(), 5);
        assert!(list.iter().map(|p| p.to_str().unwrap()).eq(names));
        let keep = bitvec::bitvec![usize, bitvec::order::Lsb0; 1, 0, 1, 0, 1];
        list.retain(&keep);
        assert!(
            list.iter()
                .map(|p| p.to_str().unwrap())
                .eq(["a", "dir/b c", "ünï"])
        );
        list.retain(&bitvec::bitvec![usize, bitvec::order::Lsb0; 0, 0, 0]);
        assert!(list.is_empty());
    }

    /// Lists longer than [`WRAP`] bytes (256 in the tests, 4 GiB otherwise): pushing,
    /// appending and keeping across the wraps, paths as long as a wrap or longer included.
    #[test]
    fn path_list_past_the_wrap() {
        let names: Vec<String> = (0..300)
            .map(|i| "p".repeat(i % 7 + if i % 50 == 0 { 600 } else { 0 }) + &i.to_string())
            .collect();
        let mut list: PathList = names.iter().collect();
        assert!(list.bytes.len() > 20 * WRAP && !list.wraps.is_empty());
        assert!(list.iter().map(|p| p.to_str().unwrap()).eq(&names));
        let mut twice = list.clone();
        twice.append(&list);
        assert!(
            twice
                .iter()
                .map(|p| p.to_str().unwrap())
                .eq(names.iter().chain(&names))
        );
        let keep: bitvec::vec::BitVec = (0..300).map(|i| i % 3 != 1).collect();
        list.retain(&keep);
        let kept: Vec<&String> = names
            .iter()
            .step_by(1)
            .enumerate()
            .filter(|(i, _)| i % 3 != 1)
            .map(|(_, n)| n)
            .collect();
        assert!(
            list.iter()
                .map(|p| p.to_str().unwrap())
                .eq(kept.iter().map(|n| n.as_str()))
        );
        assert_eq!(list, kept.iter().collect::<PathList>());
    }

    #[cfg(unix)]
    #[test]
    fn path_list_keeps_non_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let odd = Path::new(OsStr::from_bytes(b"x\xff\ny"));
        let list: PathList = [odd, Path::new("z")].into_iter().collect();
        assert_eq!(list.get(0), odd);
        assert_eq!(list.get(1), Path::new("z"));
    }

    #[test]
    fn binary_and_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::write(&bin, b"ab\0cd").unwrap();
        assert!(matches!(read_text(&bin, false).unwrap(), Contents::Binary));
        let bad = dir.path().join("bad");
        std::fs::write(&bad, b"ab\xffcd").unwrap();
        match read_text(&bad, false).unwrap() {
            Contents::Text(t) => assert_eq!(t, "ab\u{fffd}cd"),
            Contents::Binary => panic!("not binary"),
        }
    }
}
