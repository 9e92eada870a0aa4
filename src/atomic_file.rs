//! Output files that appear whole or not at all. An [`AtomicFile`] is written as a
//! temporary file in its destination's directory and renamed over the destination only by
//! [`AtomicFile::commit`]; on an error (a full disk, a file-size limit) or when dropped
//! uncommitted, the temporary file is removed. A [`TempFile`] is scratch space that is
//! always removed.
//!
//! Every such temporary file is listed in one process-wide registry, so that an interrupt
//! handler can remove them all ([`interrupt`]) before the process exits.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::error::Error;

/// The temporary files that exist now, by registration number.
struct Registry {
    next: u64,
    files: Vec<(u64, PathBuf)>,
    /// Set by [`interrupt`]: no file is created or committed any more.
    interrupted: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next: 0,
    files: Vec::new(),
    interrupted: false,
});

/// The registry, even if a thread panicked while holding it (its state stays consistent:
/// every change is one push or one removal).
fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

fn interrupted_error() -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, "interrupted")
}

/// Removes every registered temporary file and refuses to create or commit any more, for
/// the rest of the process. Called by an interrupt (Ctrl-C) handler just before it exits:
/// since creation, commit and this function all hold the registry's lock, a file is
/// either committed whole before the interrupt or removed by it, and none is left over.
/// Returns the number of files removed.
pub fn interrupt() -> usize {
    let mut reg = registry();
    reg.interrupted = true;
    let files = std::mem::take(&mut reg.files);
    for (_, path) in &files {
        let _ = std::fs::remove_file(path);
    }
    files.len()
}

/// A registered temporary file, removed (and unregistered) when dropped.
#[derive(Debug)]
struct Pending {
    file: File,
    path: PathBuf,
    id: u64,
}

impl Pending {
    /// A new file in `dir` named `.{stem}.XXXXXX.tmp`, created and registered under the
    /// registry's lock (so an interrupt never misses it).
    fn create(dir: &Path, stem: &str) -> io::Result<Pending> {
        let mut reg = registry();
        if reg.interrupted {
            return Err(interrupted_error());
        }
        let prefix = format!(".{stem}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Like any file the user creates (the umask applies), not tempfile's private 0600.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let (file, path) = builder.tempfile_in(dir)?.keep().map_err(|e| e.error)?;
        let id = reg.next;
        reg.next += 1;
        reg.files.push((id, path.clone()));
        Ok(Pending { file, path, id })
    }

    /// Unregisters the file; the caller holds the lock.
    fn forget(&self, reg: &mut Registry) {
        if let Some(k) = reg.files.iter().position(|(id, _)| *id == self.id) {
            reg.files.swap_remove(k);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let mut reg = registry();
        // After an interrupt the file is gone already; never remove a committed one (it
        // was unregistered, and `path` then names nothing).
        if reg.files.iter().any(|(id, _)| *id == self.id) {
            let _ = std::fs::remove_file(&self.path);
            self.forget(&mut reg);
        }
    }
}

/// An output file being written; it becomes `dest` on [`AtomicFile::commit`] and
/// disappears if dropped before. Writes go to the temporary file (unbuffered: wrap it in a
/// `BufWriter`, and flush that before committing).
///
/// A destination that exists and is not a regular file (`/dev/null`, `/dev/stdout`, a
/// FIFO) cannot be replaced by a rename: it is written directly.
#[derive(Debug)]
pub struct AtomicFile {
    target: Target,
    dest: PathBuf,
}

#[derive(Debug)]
enum Target {
    Temp(Pending),
    Direct(File),
}

impl AtomicFile {
    /// A temporary file beside `dest` (same directory, so the rename is atomic); `dest`
    /// itself is not touched until [`AtomicFile::commit`]. Errors name `dest`.
    pub fn create(dest: &Path) -> Result<AtomicFile, Error> {
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let stem = dest
            .file_name()
            .map_or("out".into(), |n| n.to_string_lossy());
        let special = std::fs::metadata(dest).is_ok_and(|m| !m.is_file());
        let target = if special {
            let file = std::fs::OpenOptions::new().write(true).open(dest);
            Target::Direct(file.map_err(|e| io_error(dest, e))?)
        } else {
            Target::Temp(Pending::create(dir, &stem).map_err(|e| io_error(dest, e))?)
        };
        Ok(AtomicFile {
            target,
            dest: dest.to_path_buf(),
        })
    }

    /// The file to write (also usable through `try_clone`).
    pub fn as_file(&self) -> &File {
        match &self.target {
            Target::Temp(pending) => &pending.file,
            Target::Direct(file) => file,
        }
    }

    /// The final name.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Where the content is until the commit (`dest` itself when it is not a regular file).
    pub fn temp_path(&self) -> &Path {
        match &self.target {
            Target::Temp(pending) => &pending.path,
            Target::Direct(_) => &self.dest,
        }
    }

    /// An I/O error about this output, naming its final name.
    pub fn error(&self, source: io::Error) -> Error {
        io_error(&self.dest, source)
    }

    /// Renames the complete file to its final name, replacing any file there. On failure
    /// (or after an interrupt) the temporary file is removed and the error names `dest`.
    pub fn commit(self) -> Result<(), Error> {
        let Target::Temp(pending) = &self.target else {
            return Ok(());
        };
        let mut reg = registry();
        if reg.interrupted {
            return Err(self.error(interrupted_error()));
        }
        std::fs::rename(&pending.path, &self.dest).map_err(|e| self.error(e))?;
        pending.forget(&mut reg);
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.as_file().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.as_file().flush()
    }
}

/// Scratch space: a file in the system's temporary directory, removed when dropped (and by
/// [`interrupt`]).
#[derive(Debug)]
pub struct TempFile {
    pending: Pending,
}

impl TempFile {
    /// A new empty file in [`std::env::temp_dir`].
    pub fn new() -> Result<TempFile, Error> {
        let dir = std::env::temp_dir();
        let pending = Pending::create(&dir, "simdedup").map_err(|e| io_error(&dir, e))?;
        Ok(TempFile { pending })
    }

    /// The file to write.
    pub fn as_file(&self) -> &File {
        &self.pending.file
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.pending.path
    }
}

fn io_error(path: &Path, source: io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.jsonl");
        std::fs::write(&dest, "old").unwrap();
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"new").unwrap();
        assert!(names(dir.path())[0].starts_with(".out.jsonl."));
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old");
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "new");
        assert_eq!(names(dir.path()), ["out.jsonl"]);
    }

    #[test]
    fn dropped_uncommitted_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"partial").unwrap();
        drop(f);
        let t = TempFile::new().unwrap();
        let p = t.path().to_path_buf();
        assert!(p.exists());
        drop(t);
        assert!(!p.exists());
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn special_files_are_written_directly() {
        let mut f = AtomicFile::create(Path::new("/dev/null")).unwrap();
        f.write_all(b"gone").unwrap();
        assert_eq!(f.temp_path(), Path::new("/dev/null"));
        f.commit().unwrap();
        assert!(Path::new("/dev/null").exists());
    }

    #[test]
    fn errors_name_the_destination() {
        let dest = Path::new("/nonexistent-dir-simdedup/out.csv");
        let e = AtomicFile::create(dest).unwrap_err().to_string();
        assert!(e.starts_with("/nonexistent-dir-simdedup/out.csv: "), "{e}");
    }
}
