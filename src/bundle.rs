//! A bundle: named byte sections in one versioned, checksummed file, written atomically
//! ([`AtomicFile`]). The Python package saves an instance in one (its settings, records and
//! vectors, each a section it encodes); this module only guarantees that what is read back
//! is exactly what was written, or says why not (not a bundle, truncated, corrupt, newer).
//!
//! # File format (version 1)
//!
//! All integers little-endian.
//!
//! | offset | bytes | content |
//! |---|---|---|
//! | 0 | 8 | magic `\x89SDB\r\n\x1a\n` |
//! | 8 | 4 | format version (`u32`, 1) |
//! | 12 | 4 | section count `s` (`u32`) |
//! | 16 | 8 | file length (`u64`), trailer included |
//! | 24 | 8 | reserved, 0 |
//! | 32 | s·24 | per section: name length (`u32`, 1..=255), reserved `u32` 0, offset (`u64`), length (`u64`) |
//! | | | the names, one after another (UTF-8) |
//! | | | the sections, each starting at a multiple of 16 (zero padding before it) |
//! | end − 8 | 4 | CRC-32 (IEEE) of every byte before it |
//! | end − 4 | 4 | reserved, 0 |

use std::io::{self, BufWriter, Write};
use std::ops::Range;
use std::path::Path;

use crate::atomic_file::AtomicFile;
use crate::error::Error;

/// The first eight bytes of every bundle.
pub const MAGIC: [u8; 8] = *b"\x89SDB\r\n\x1a\n";

/// The format version this build writes and the newest it reads.
pub const VERSION: u32 = 1;

const HEADER_LEN: usize = 32;
const ENTRY_LEN: usize = 24;
const TRAILER_LEN: usize = 8;

/// Why bytes are not a usable bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("not a saved simdedup file (it does not start with the magic bytes)")]
    Magic,
    #[error(
        "saved file format version {found} is newer than this simdedup reads (up to {newest}); use a newer simdedup"
    )]
    NewerVersion { found: u32, newest: u32 },
    #[error("truncated saved file: {expected} bytes expected, {found} found")]
    Truncated { expected: u64, found: u64 },
    #[error("corrupt saved file: checksum {computed:08x} does not match the stored {stored:08x}")]
    Checksum { stored: u32, computed: u32 },
    #[error("corrupt saved file: {0}")]
    Corrupt(String),
}

/// A bundle read whole into memory: its bytes and where each named section lies.
#[derive(Debug)]
pub struct Bundle {
    bytes: Vec<u8>,
    sections: Vec<(String, Range<usize>)>,
}

impl Bundle {
    /// The sections in the order they were written.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.sections
            .iter()
            .map(|(name, range)| (name.as_str(), &self.bytes[range.clone()]))
    }

    /// The bytes of section `name`, if the bundle has it.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, range)| &self.bytes[range.clone()])
    }

    /// Checks and parses `bytes` (a whole file).
    pub fn parse(bytes: Vec<u8>) -> Result<Bundle, BundleError> {
        let found = bytes.len() as u64;
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            return Err(BundleError::Magic);
        }
        if bytes.len() < HEADER_LEN + TRAILER_LEN {
            return Err(BundleError::Truncated {
                expected: (HEADER_LEN + TRAILER_LEN) as u64,
                found,
            });
        }
        let version = u32_at(&bytes, 8);
        if version > VERSION {
            return Err(BundleError::NewerVersion {
                found: version,
                newest: VERSION,
            });
        }
        if version == 0 {
            return Err(BundleError::Corrupt("format version 0".into()));
        }
        let expected = u64_at(&bytes, 16);
        if found < expected {
            return Err(BundleError::Truncated { expected, found });
        }
        if found > expected {
            return Err(BundleError::Corrupt(format!(
                "{} bytes after the end the header gives ({expected})",
                found - expected
            )));
        }
        let end = bytes.len() - TRAILER_LEN;
        let stored = u32_at(&bytes, end);
        let computed = crc32fast::hash(&bytes[..end]);
        if stored != computed {
            return Err(BundleError::Checksum { stored, computed });
        }
        let corrupt = |what: &str| BundleError::Corrupt(what.to_string());
        let count = u32_at(&bytes, 12) as usize;
        let mut names_at = count
            .checked_mul(ENTRY_LEN)
            .and_then(|t| t.checked_add(HEADER_LEN))
            .filter(|&t| t <= end)
            .ok_or_else(|| corrupt("section table past the end"))?;
        let mut sections = Vec::with_capacity(count);
        for k in 0..count {
            let e = HEADER_LEN + k * ENTRY_LEN;
            let name_len = u32_at(&bytes, e) as usize;
            let (offset, len) = (u64_at(&bytes, e + 8), u64_at(&bytes, e + 16));
            let name = bytes
                .get(names_at..names_at + name_len)
                .ok_or_else(|| corrupt("section name past the end"))?;
            let name = std::str::from_utf8(name)
                .map_err(|_| corrupt("section name not UTF-8"))?
                .to_string();
            names_at += name_len;
            let start = usize::try_from(offset).map_err(|_| corrupt("offset"))?;
            let stop = usize::try_from(len)
                .ok()
                .and_then(|l| start.checked_add(l))
                .filter(|&s| s <= end)
                .ok_or_else(|| BundleError::Corrupt(format!("section {name:?} past the end")))?;
            sections.push((name, start..stop));
        }
        Ok(Bundle { bytes, sections })
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

fn pad16(x: usize) -> usize {
    (x + 15) & !15
}

/// A writer that keeps the CRC-32 of what passed and counts it, for padding.
struct Summed<'a> {
    out: &'a mut dyn Write,
    crc: crc32fast::Hasher,
    written: usize,
}

impl Summed<'_> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.crc.update(bytes);
        self.written += bytes.len();
        Ok(())
    }

    /// Zero bytes up to the next multiple of 16.
    fn pad(&mut self) -> io::Result<()> {
        let zeros = [0u8; 16];
        self.put(&zeros[..pad16(self.written) - self.written])
    }
}

/// The bytes of a bundle of `sections` (names 1 to 255 bytes, distinct).
pub fn encode(sections: &[(&str, &[u8])], out: &mut dyn Write) -> io::Result<()> {
    let names: usize = sections.iter().map(|(n, _)| n.len()).sum();
    let mut at = pad16(HEADER_LEN + sections.len() * ENTRY_LEN + names);
    let mut table = Vec::with_capacity(sections.len() * ENTRY_LEN + names);
    for (name, bytes) in sections {
        table.extend_from_slice(&(name.len() as u32).to_le_bytes());
        table.extend_from_slice(&0u32.to_le_bytes());
        table.extend_from_slice(&(at as u64).to_le_bytes());
        table.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        at = pad16(at + bytes.len());
    }
    for (name, _) in sections {
        table.extend_from_slice(name.as_bytes());
    }
    let len = at + TRAILER_LEN;
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(&MAGIC);
    header[8..12].copy_from_slice(&VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&(sections.len() as u32).to_le_bytes());
    header[16..24].copy_from_slice(&(len as u64).to_le_bytes());
    let mut out = Summed {
        out,
        crc: crc32fast::Hasher::new(),
        written: 0,
    };
    out.put(&header)?;
    out.put(&table)?;
    for (_, bytes) in sections {
        out.pad()?;
        out.put(bytes)?;
    }
    out.pad()?;
    let crc = out.crc.finalize();
    let out = out.out;
    out.write_all(&crc.to_le_bytes())?;
    out.write_all(&0u32.to_le_bytes())
}

/// Writes `sections` to `path` through a temporary file in the same directory, flushed to
/// disk and renamed over `path`: a reader or a crash sees the old file or the new one.
pub fn save(path: &Path, sections: &[(&str, &[u8])]) -> Result<(), Error> {
    for (k, (name, _)) in sections.iter().enumerate() {
        if name.is_empty() || name.len() > 255 || sections[..k].iter().any(|(n, _)| n == name) {
            return Err(Error::Setting {
                message: format!("section name {name:?}: 1 to 255 bytes, each name once"),
            });
        }
    }
    let file = AtomicFile::create(path)?;
    {
        let mut out = BufWriter::with_capacity(1 << 20, file.as_file());
        encode(sections, &mut out).map_err(|e| file.error(e))?;
        out.flush().map_err(|e| file.error(e))?;
    }
    file.as_file().sync_all().map_err(|e| file.error(e))?;
    file.commit()
}

/// Reads and checks the bundle at `path`.
pub fn load(path: &Path) -> Result<Bundle, Error> {
    let bytes = std::fs::read(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => Error::NotFound {
            path: path.to_path_buf(),
        },
        _ => Error::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    Bundle::parse(bytes).map_err(|source| Error::Bundle {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(sections: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        encode(sections, &mut out).unwrap();
        out
    }

    #[test]
    fn sections_round_trip_aligned() {
        let b =
            Bundle::parse(bytes(&[("meta", b"{}"), ("v", &[1, 2, 3]), ("empty", b"")])).unwrap();
        let got: Vec<_> = b.sections().collect();
        assert_eq!(
            got,
            [
                ("meta", &b"{}"[..]),
                ("v", &[1, 2, 3][..]),
                ("empty", &[][..])
            ]
        );
        assert_eq!(b.get("v"), Some(&[1u8, 2, 3][..]));
        assert_eq!(b.get("none"), None);
        assert!(b.sections.iter().all(|(_, r)| r.start % 16 == 0));
    }

    #[test]
    fn damage_is_named() {
        let good = bytes(&[("meta", b"settings"), ("v", &[7; 100])]);
        let cut = good[..good.len() - 30].to_vec();
        assert!(matches!(
            Bundle::parse(cut),
            Err(BundleError::Truncated { .. })
        ));
        let mut flipped = good.clone();
        flipped[70] ^= 1;
        assert!(matches!(
            Bundle::parse(flipped),
            Err(BundleError::Checksum { .. })
        ));
        let mut newer = good.clone();
        newer[8] = 2;
        assert!(matches!(
            Bundle::parse(newer),
            Err(BundleError::NewerVersion {
                found: 2,
                newest: 1
            })
        ));
        assert!(matches!(
            Bundle::parse(b"PK\x03\x04".to_vec()),
            Err(BundleError::Magic)
        ));
        let mut longer = good;
        longer.push(0);
        assert!(matches!(
            Bundle::parse(longer),
            Err(BundleError::Corrupt(_))
        ));
    }
}
